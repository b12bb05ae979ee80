/* pipeline/stats — what a pipeline run did: frame counts, guard actions,
 * errors by category, per-stage latency percentiles (core/clock histograms
 * "pipeline.<stage>", summarised at the end), startup stages. Counters are
 * atomic, written by the stage threads, read once at the end for
 * --stats-json. */
#ifndef PTIM_PIPELINE_STATS_H
#define PTIM_PIPELINE_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/error.h"
#include "face/tracker.h"
#include "pipeline/guard.h"

typedef enum ptim_stage {
    PTIM_STAGE_SOURCE,  /* demux + decode */
    PTIM_STAGE_ANALYZE, /* detect / track / landmarks */
    PTIM_STAGE_RENDER,  /* mask or cover */
    PTIM_STAGE_SINK,    /* encode + mux */
    PTIM_STAGE_LATENCY, /* source out -> sink done, per frame */
    PTIM_STAGE__COUNT
} ptim_stage;

typedef enum ptim_job_startup {
    PTIM_JOB_STARTUP_SOURCE_OPEN,
    PTIM_JOB_STARTUP_SINK_OPEN,
    PTIM_JOB_STARTUP_TRACKER,
    PTIM_JOB_STARTUP_MASKER,
    PTIM_JOB_STARTUP_FIRST_FRAME, /* from run start to the first frame written */
    PTIM_JOB_STARTUP__COUNT
} ptim_job_startup;

typedef struct ptim_pipeline_stats {
    atomic_llong frames_in;       /* decoded frames handed to the pipeline */
    atomic_llong frames_expected; /* frames the input says it holds (0: unknown, live) */
    atomic_llong frames_out;      /* frames written */
    atomic_llong frames_masked;   /* written after masking succeeded */
    atomic_llong frames_covered;  /* written covered by the guard */
    atomic_llong frames_dropped_guard; /* on_failure=drop */
    atomic_llong frames_dropped_live;  /* stale frames replaced by newer ones (live) */
    atomic_llong frames_dropped_rate;  /* over performance.target_fps (live) */
    atomic_llong frames_dropped_alloc; /* no memory for the frame */
    atomic_llong frames_filler;   /* covered frames sent while the source was away */
    atomic_llong frames_passthrough; /* --unsafe-passthrough, unmasked */
    atomic_llong frames_mode_none;   /* written with mask.mode=none: nothing masked on purpose */
    atomic_llong frames_faces_unmasked_none; /* of those, frames with faces (written visible) */
    atomic_llong covered_by_reason[PTIM_GUARD_REASON__COUNT];
    atomic_llong faces;           /* faces masked, summed over frames */
    atomic_llong frame_copies;    /* copy-on-write of decoder-held frames before masking */
    atomic_llong cover_buffers;   /* new buffers for covers of decoder-held frames */
    atomic_llong errors[PTIM_ERR__COUNT];
    atomic_llong recoveries;      /* errors recovered (reopens that worked, retries that passed) */
    atomic_llong reconfigures;    /* hot reloads applied */
    /* frame pool */
    atomic_llong pool_allocs, pool_in_use, pool_peak; /* frame records (core/mem) */
    /* the byte pool behind frame records and buffers (core/mem), published
     * by the analyze stage about ten times a second so a live reader (the
     * control panel) sees it without touching the pool's lock */
    atomic_llong mem_budget, mem_in_use, mem_peak, mem_cached_free, mem_requests, mem_reused,
        mem_failures;
    /* assets (swap.identity, mask.image) loaded between frames after a live
     * change, and changes refused (bad picture: the previous one stays) */
    atomic_llong asset_reloads, asset_rejects;
    /* the rolling tiled scan: tiles run through the detector, and passed by
     * as unchanged since they were scanned (face/tile_still) */
    atomic_llong tiles_scanned, tiles_skipped;
    /* where the analysis time went (face_tracker_counters_get), microseconds
     * summed over the analysed frames */
    atomic_llong analysis_us[FACE_PART__COUNT], analysis_frames;
    /* why the last one was refused; written before asset_rejects rises.
     * Characters are atomic so a reader on another thread (the control
     * panel answering the upload) never races the writer; two refusals
     * in the same instant could interleave text, never corrupt memory. */
    _Atomic char asset_error[240];
    ptim_latency stage[PTIM_STAGE__COUNT]; /* filled at the end of the run */
    double startup_ms[PTIM_JOB_STARTUP__COUNT];
    double wall_s;
} ptim_pipeline_stats;

const char *ptim_stage_name(ptim_stage s);
/* Copy asset_error into buf (n bytes, NUL-terminated). */
void ptim_pipeline_stats_asset_error(const ptim_pipeline_stats *st, char *buf, size_t n);
const char *ptim_job_startup_name(ptim_job_startup s);

#endif
