/* pipeline/preview — latest-frame slot; see preview.h. */
#include "pipeline/preview.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"

struct ptim_preview {
    pthread_mutex_t lock;
    pthread_cond_t fresh;
    atomic_int viewers;
    atomic_bool want_source;
    atomic_int max_fps;
    atomic_llong last_offer_ns;
    ptim_preview_frame slot; /* under lock */
    int outstanding;         /* frames taken and not yet released; under lock */
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

ptim_preview *ptim_preview_new(void)
{
    ptim_preview *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->lock, NULL);
    ptim_cond_init_monotonic(&p->fresh);
    atomic_init(&p->max_fps, 10);
    return p;
}

void ptim_preview_free(ptim_preview *p)
{
    if (!p)
        return;
    ptim_preview_frame_unref(&p->slot);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->fresh);
    free(p);
}

void ptim_preview_set_viewers(ptim_preview *p, int viewers, bool want_source, int max_fps)
{
    atomic_store(&p->viewers, viewers);
    atomic_store(&p->want_source, want_source);
    atomic_store(&p->max_fps, max_fps > 0 ? max_fps : 1);
}

bool ptim_preview_active(const ptim_preview *p)
{
    return p && atomic_load(&((ptim_preview *)p)->viewers) > 0;
}

bool ptim_preview_wants_source(const ptim_preview *p)
{
    return ptim_preview_active(p) && atomic_load(&((ptim_preview *)p)->want_source);
}

bool ptim_preview_due(const ptim_preview *p)
{
    if (!ptim_preview_active(p))
        return false;
    ptim_preview *q = (ptim_preview *)p;
    return mono_ns() - atomic_load(&q->last_offer_ns) >= 1000000000LL / atomic_load(&q->max_fps);
}

void ptim_preview_frame_unref(ptim_preview_frame *f)
{
    av_frame_free(&f->output);
    av_frame_free(&f->source);
    f->box_count = 0;
}

void ptim_preview_offer(ptim_preview *p, const AVFrame *output, const AVFrame *source,
                        const float (*boxes)[4], const float (*eyes)[4], int box_count)
{
    if (!ptim_preview_active(p) || !output)
        return;
    /* Never wait for a viewer: a busy slot just misses this frame. */
    if (pthread_mutex_trylock(&p->lock) != 0)
        return;
    int64_t now = mono_ns();
    if (p->slot.output && now - atomic_load(&p->last_offer_ns) < 1000000000LL / atomic_load(&p->max_fps)) {
        pthread_mutex_unlock(&p->lock);
        return;
    }
    AVFrame *o = av_frame_clone(output);
    AVFrame *s = source ? av_frame_clone(source) : NULL;
    if (!o || (source && !s)) {
        av_frame_free(&o);
        av_frame_free(&s);
        pthread_mutex_unlock(&p->lock);
        return; /* no memory for a preview: the viewer misses a frame */
    }
    av_frame_free(&p->slot.output);
    av_frame_free(&p->slot.source);
    p->slot.output = o;
    p->slot.source = s;
    p->slot.box_count = box_count < PTIM_PREVIEW_MAX_BOXES ? box_count : PTIM_PREVIEW_MAX_BOXES;
    for (int i = 0; i < p->slot.box_count; i++) {
        memcpy(p->slot.boxes[i], boxes[i], sizeof p->slot.boxes[i]);
        memcpy(p->slot.eyes[i], eyes[i], sizeof p->slot.eyes[i]);
    }
    p->slot.seq++;
    atomic_store(&p->last_offer_ns, now);
    pthread_cond_broadcast(&p->fresh);
    pthread_mutex_unlock(&p->lock);
}

int ptim_preview_take(ptim_preview *p, uint64_t after_seq, int timeout_ms, ptim_preview_frame *out)
{
    memset(out, 0, sizeof *out);
    struct timespec until = ptim_deadline_after_ms(timeout_ms);
    pthread_mutex_lock(&p->lock);
    while (!p->slot.output || p->slot.seq <= after_seq) {
        if (pthread_cond_timedwait(&p->fresh, &p->lock, &until) == ETIMEDOUT) {
            pthread_mutex_unlock(&p->lock);
            return 0;
        }
    }
    out->output = av_frame_clone(p->slot.output);
    out->source = p->slot.source ? av_frame_clone(p->slot.source) : NULL;
    out->box_count = p->slot.box_count;
    memcpy(out->boxes, p->slot.boxes, sizeof out->boxes);
    memcpy(out->eyes, p->slot.eyes, sizeof out->eyes);
    out->seq = p->slot.seq;
    bool had_source = p->slot.source != NULL;
    bool ok = out->output && (!had_source || out->source);
    if (ok)
        p->outstanding++;
    pthread_mutex_unlock(&p->lock);
    if (!ok) {
        ptim_preview_frame_unref(out);
        return -1;
    }
    return 1;
}

void ptim_preview_release(ptim_preview *p, ptim_preview_frame *f)
{
    ptim_preview_frame_unref(f);
    pthread_mutex_lock(&p->lock);
    p->outstanding--;
    pthread_cond_broadcast(&p->fresh);
    pthread_mutex_unlock(&p->lock);
}

void ptim_preview_clear(ptim_preview *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    ptim_preview_frame_unref(&p->slot);
    while (p->outstanding > 0) /* a viewer is encoding one: milliseconds */
        pthread_cond_wait(&p->fresh, &p->lock);
    pthread_mutex_unlock(&p->lock);
}
