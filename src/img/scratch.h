/* img/scratch — a growable work buffer for kernels. It is sized when a
 * stage is created or reconfigured and grows only when a bigger face than
 * ever before appears, so steady-state rendering allocates nothing. */
#ifndef PTIM_IMG_SCRATCH_H
#define PTIM_IMG_SCRATCH_H

#include <stddef.h>

typedef struct img_scratch {
    void *data;     /* 64-byte aligned, `size` bytes */
    size_t size;
    int grows;      /* how many times it had to grow (statistics, tests) */
} img_scratch;

/* Returns a buffer of at least `bytes` bytes (contents undefined), or NULL
 * when memory is exhausted (the old buffer is kept then). */
void *img_scratch_get(img_scratch *s, size_t bytes);
void img_scratch_free(img_scratch *s);

#endif
