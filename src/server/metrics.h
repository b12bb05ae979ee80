/* server/metrics — once-a-second samples of a pipeline run's statistics,
 * as the JSON of GET /api/stats and the Prometheus text exposition format
 * of GET /metrics (counters `_total`, times in `_seconds`, sizes in
 * `_bytes`; per-stage latency as histograms with `_bucket{le=...}`).
 * Written by the server's worker thread, read under the server's lock. */
#ifndef PTIM_SERVER_METRICS_H
#define PTIM_SERVER_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/clock.h"
#include "core/error.h"
#include "pipeline/guard.h"
#include "pipeline/stats.h"

#define SERVER_HISTORY 60 /* seconds of sparkline */
#define SERVER_LATENCY_BOUNDS 14 /* buckets of the /metrics latency histograms, +Inf apart */

/* Their upper bounds, seconds. */
extern const double server_latency_bounds_s[SERVER_LATENCY_BOUNDS];

typedef struct server_sample {
    double t_s;                 /* seconds since the server started */
    bool running;               /* a pipeline run is attached */
    char input[256], output[256];
    int item, items;            /* which pair of a job (1-based), of how many */
    long long frames_in, frames_out, frames_masked, frames_covered, faces;
    long long frames_expected;  /* 0 when unknown (live) */
    long long dropped_guard, dropped_live, dropped_rate, dropped_alloc, filler, passthrough;
    long long covered_by_reason[PTIM_GUARD_REASON__COUNT];
    long long errors[PTIM_ERR__COUNT];
    long long recoveries, reconfigures;
    long long pool_in_use, pool_peak, pool_allocs; /* frame records */
    long long rss_bytes;        /* process resident memory */
    /* the byte pool (core/mem) behind frames and buffers */
    long long mem_budget, mem_in_use, mem_peak, mem_cached_free, mem_requests, mem_reused, mem_failures;
    long long asset_reloads, asset_rejects; /* pictures changed live, refused */
    /* per stage: values at most each bound, total, sum (for /metrics) */
    uint64_t stage_le[PTIM_STAGE__COUNT][SERVER_LATENCY_BOUNDS], stage_total[PTIM_STAGE__COUNT];
    double stage_sum_s[PTIM_STAGE__COUNT];
    double fps_in, fps_out;     /* over the last sample interval */
    ptim_latency stage[PTIM_STAGE__COUNT];
    /* sparkline: latency p50 (ms) and output fps, oldest first */
    int history_count;
    double history_latency_ms[SERVER_HISTORY], history_fps[SERVER_HISTORY];
} server_sample;

/* Fill the counters of *s from a live run (NULL: none attached; counters
 * keep their last values) and rates from the previous sample. */
void server_sample_take(server_sample *s, const server_sample *prev, const ptim_pipeline_stats *st,
                        double t_s);

/* GET /api/stats; plus `extra` server-side counters the caller adds. */
cJSON *server_sample_json(const server_sample *s);

/* GET /metrics: appends to a malloc'd text (caller frees). Server counters:
 * requests served, refused by reason, preview clients. NULL when out of memory. */
typedef struct server_counters {
    long long requests, refused_auth, refused_origin, refused_body, refused_other, preview_clients,
        preview_frames, live_changes;
} server_counters;
char *server_metrics_text(const server_sample *s, const server_counters *c, size_t *len);

#endif
