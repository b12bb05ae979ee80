/* pipeline/stats — what a pipeline run did: frame counts, guard actions,
 * errors by category, per-stage latency percentiles, startup stages. Written
 * by the stage threads (each owns its own histogram; counters are atomic)
 * and read once at the end for --stats-json. */
#ifndef PTIM_PIPELINE_STATS_H
#define PTIM_PIPELINE_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/error.h"
#include "pipeline/guard.h"

/* Latency histogram: log-spaced buckets 5 % apart from 1 µs to ~10 min;
 * percentiles are accurate to a bucket. Fixed size, no allocation. */
#define PTIM_HIST_BUCKETS 420
typedef struct ptim_hist {
    uint64_t count;
    double sum_ms, max_ms;
    uint32_t buckets[PTIM_HIST_BUCKETS];
} ptim_hist;

void ptim_hist_add(ptim_hist *h, double ms);
double ptim_hist_percentile(const ptim_hist *h, double p); /* ms; 0 when empty */

typedef enum ptim_stage {
    PTIM_STAGE_SOURCE,  /* demux + decode */
    PTIM_STAGE_ANALYZE, /* detect / track / landmarks */
    PTIM_STAGE_RENDER,  /* mask or cover */
    PTIM_STAGE_SINK,    /* encode + mux */
    PTIM_STAGE_LATENCY, /* source out -> sink done, per frame */
    PTIM_STAGE__COUNT
} ptim_stage;

typedef enum ptim_startup {
    PTIM_STARTUP_SOURCE_OPEN,
    PTIM_STARTUP_SINK_OPEN,
    PTIM_STARTUP_TRACKER,
    PTIM_STARTUP_MASKER,
    PTIM_STARTUP_FIRST_FRAME, /* from run start to the first frame written */
    PTIM_STARTUP__COUNT
} ptim_startup;

typedef struct ptim_pipeline_stats {
    atomic_llong frames_in;       /* decoded frames handed to the pipeline */
    atomic_llong frames_out;      /* frames written */
    atomic_llong frames_masked;   /* written after masking succeeded */
    atomic_llong frames_covered;  /* written covered by the guard */
    atomic_llong frames_dropped_guard; /* on_failure=drop */
    atomic_llong frames_dropped_live;  /* stale frames replaced by newer ones (live) */
    atomic_llong frames_dropped_rate;  /* over performance.target_fps (live) */
    atomic_llong frames_dropped_alloc; /* no memory for the frame */
    atomic_llong frames_filler;   /* covered frames sent while the source was away */
    atomic_llong frames_passthrough; /* --unsafe-passthrough, unmasked */
    atomic_llong covered_by_reason[PTIM_GUARD_REASON__COUNT];
    atomic_llong faces;           /* faces masked, summed over frames */
    atomic_llong frame_copies;    /* copy-on-write of decoder-held frames before masking */
    atomic_llong cover_buffers;   /* new buffers for covers of decoder-held frames */
    atomic_llong errors[PTIM_ERR__COUNT];
    atomic_llong recoveries;      /* errors recovered (reopens that worked, retries that passed) */
    atomic_llong reconfigures;    /* hot reloads applied */
    /* frame pool */
    atomic_llong pool_allocs, pool_reuses, pool_in_use, pool_peak;
    ptim_hist stage[PTIM_STAGE__COUNT];
    double startup_ms[PTIM_STARTUP__COUNT];
    double wall_s;
} ptim_pipeline_stats;

const char *ptim_stage_name(ptim_stage s);
const char *ptim_startup_name(ptim_startup s);

#endif
