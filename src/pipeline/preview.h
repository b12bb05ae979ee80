/* pipeline/preview — the latest-frame slot a viewer (the control panel)
 * copies preview pictures from, without ever slowing the pipeline.
 *
 * The pipeline offers each finished frame: when nobody watches, or the slot
 * is busy, or the previous offer is newer than 1/max_fps ago, the offer is a
 * no-op; otherwise the slot keeps a reference (av_frame_ref, no pixel copy) to
 * the output frame and, when a viewer asked for it, to the source frame as it
 * was before masking, replacing what it held. A viewer takes the newest pair
 * on its own thread. Offer never blocks (trylock) and never allocates beyond
 * FFmpeg's refcount entries.
 *
 * Ownership: the slot owns its references; ptim_preview_take() hands the
 * caller new references it must av_frame_free(). */
#ifndef PTIM_PIPELINE_PREVIEW_H
#define PTIM_PIPELINE_PREVIEW_H

#include <stdbool.h>
#include <stdint.h>

#include <libavutil/frame.h>

#define PTIM_PREVIEW_MAX_BOXES 8

typedef struct ptim_preview ptim_preview;

typedef struct ptim_preview_frame {
    AVFrame *output;  /* masked (or covered) frame as written; never NULL when taken */
    AVFrame *source;  /* the same frame before masking, or NULL when not wanted / not available */
    int box_count;    /* faces found on the frame (first PTIM_PREVIEW_MAX_BOXES) */
    float boxes[PTIM_PREVIEW_MAX_BOXES][4]; /* x, y, w, h in source pixels */
    float eyes[PTIM_PREVIEW_MAX_BOXES][4];  /* each face's right then left eye centre (x, y), source pixels */
    uint64_t seq;     /* rises with every offer kept */
} ptim_preview_frame;

ptim_preview *ptim_preview_new(void);
void ptim_preview_free(ptim_preview *p);

/* Viewer side: how many viewers watch (0 = offers are skipped), whether the
 * source frame is wanted too, and the most frames per second kept. */
void ptim_preview_set_viewers(ptim_preview *p, int viewers, bool want_source, int max_fps);

/* Pipeline side. */
bool ptim_preview_wants_source(const ptim_preview *p);
bool ptim_preview_active(const ptim_preview *p);
/* Whether an offer now would be kept (a viewer watches, 1/max_fps passed). */
bool ptim_preview_due(const ptim_preview *p);
/* boxes and eyes: box_count faces (see ptim_preview_frame), copied. */
void ptim_preview_offer(ptim_preview *p, const AVFrame *output, const AVFrame *source,
                        const float (*boxes)[4], const float (*eyes)[4], int box_count);

/* Viewer side: wait up to timeout_ms for a frame newer than `after_seq`.
 * Returns 1 with *out filled (new references, give them back with
 * ptim_preview_release soon), 0 on timeout, -1 when out of memory. */
int ptim_preview_take(ptim_preview *p, uint64_t after_seq, int timeout_ms, ptim_preview_frame *out);
void ptim_preview_release(ptim_preview *p, ptim_preview_frame *f);

/* Pipeline side, at the end of a run before its buffer pool goes: drop the
 * slot's references and wait until every taken frame is released (frames
 * may hold pool buffers). */
void ptim_preview_clear(ptim_preview *p);

void ptim_preview_frame_unref(ptim_preview_frame *f);

#endif
