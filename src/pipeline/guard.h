/* pipeline/guard — the fail-closed rule: a frame leaves ptim only if masking
 * ran on it with a face result no older than privacy.max_result_age_ms;
 * otherwise it is covered as privacy.on_failure says. Also the covers
 * themselves (whole-frame blur or black), drawn in the frame's own format. */
#ifndef PTIM_PIPELINE_GUARD_H
#define PTIM_PIPELINE_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "img/image.h"

typedef enum ptim_cover {
    PTIM_COVER_BLUR,  /* blur_frame: the whole frame blurred beyond recognition */
    PTIM_COVER_BLACK, /* black_frame */
    PTIM_COVER_DROP,  /* drop: the frame is not written at all */
} ptim_cover;

typedef enum ptim_guard_action {
    PTIM_GUARD_MASKED,       /* masking ran with a fresh result: write as rendered */
    PTIM_GUARD_COVER,        /* cover per policy */
    PTIM_GUARD_PASSTHROUGH,  /* --unsafe-passthrough: written without masking */
} ptim_guard_action;

/* Why a frame was covered (for statistics and the audit log). */
typedef enum ptim_guard_reason {
    PTIM_GUARD_REASON_NONE = 0,
    PTIM_GUARD_REASON_NOT_ANALYZED, /* analysis failed or never ran (filler frames) */
    PTIM_GUARD_REASON_STALE,        /* the result was older than max_result_age_ms */
    PTIM_GUARD_REASON_RENDER,       /* the masker failed on the frame */
    PTIM_GUARD_REASON__COUNT
} ptim_guard_reason;

typedef struct ptim_guard_policy {
    int64_t max_result_age_ms; /* < 0: no age limit (offline: every frame waits its turn) */
    ptim_cover on_failure;
    bool unsafe_passthrough;
} ptim_guard_policy;

/* result_age_ms of an analysis that ran past its deadline: stale under any policy. */
#define PTIM_GUARD_AGE_EXPIRED INT64_MAX

/* Before rendering: may the frame be masked and written? result_age_ms < 0
 * means unknown (treated as stale). */
ptim_guard_action ptim_guard_check(const ptim_guard_policy *policy, bool analyzed,
                                   int64_t result_age_ms, ptim_guard_reason *reason);

/* "blur_frame" / "black_frame" / "drop" -> enum; -1 when unknown. */
int ptim_cover_parse(const char *name);
const char *ptim_cover_name(ptim_cover cover);
const char *ptim_guard_reason_name(ptim_guard_reason reason);

/* Scratch memory for covers, sized once per frame size (no allocation per frame). */
typedef struct ptim_cover_scratch {
    int32_t *cells;   /* block sums of one plane */
    int32_t *xmap;    /* per output column: left cell index << 8 | weight */
    int32_t *row;     /* cell values interpolated to one output row (x256) */
    size_t cells_cap, xmap_cap, row_cap;
} ptim_cover_scratch;

void ptim_cover_scratch_free(ptim_cover_scratch *s);

/* Write a cover of `src` into `dst` (same format and size; dst may be src).
 * `full_range` picks black at 0 instead of 16 for YUV. `cells_across` is the
 * blur's coarseness: the frame is averaged into that many cells across and
 * smoothly interpolated back. Returns 0, -1 on an unsupported format or no
 * memory (the caller must then drop the frame). */
int ptim_cover_frame(const img_view *src, img_view *dst, ptim_cover cover, bool full_range,
                     int cells_across, ptim_cover_scratch *scratch);

#endif
