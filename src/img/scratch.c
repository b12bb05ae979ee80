/* img/scratch — growable aligned work buffers. */
#include "img/scratch.h"

#include <stdlib.h>

void *img_scratch_get(img_scratch *s, size_t bytes)
{
    if (bytes <= s->size && s->data)
        return s->data;
    /* Grow by half again so a slowly growing face does not reallocate often. */
    size_t want = bytes + bytes / 2 + 64;
    want = (want + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, want);
    if (!p)
        return NULL;
    free(s->data);
    s->data = p;
    s->size = want;
    s->grows++;
    return p;
}

void img_scratch_free(img_scratch *s)
{
    if (!s)
        return;
    free(s->data);
    s->data = NULL;
    s->size = 0;
}
