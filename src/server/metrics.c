/* server/metrics — statistics samples as JSON and Prometheus text. */
#include "server/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* From a fast stage (a sink write, ~1 ms) to a stalled one (seconds). */
const double server_latency_bounds_s[SERVER_LATENCY_BOUNDS] = {0.001, 0.0025, 0.005, 0.01, 0.02,  0.035, 0.05,
                                                               0.075, 0.1,    0.15,  0.25, 0.5,   1,     2.5};

static long long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long pages = 0, rss = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%lld %lld", &pages, &rss) != 2)
        rss = 0;
    fclose(f);
    return rss * sysconf(_SC_PAGESIZE);
}

void server_sample_take(server_sample *s, const server_sample *prev, const ptim_pipeline_stats *st,
                        double t_s)
{
    if (prev && prev != s)
        *s = *prev;
    s->t_s = t_s;
    s->rss_bytes = rss_bytes();
    if (!st) {
        s->running = false;
        s->fps_in = s->fps_out = 0;
    } else {
        s->running = true;
        s->frames_in = atomic_load(&st->frames_in);
        s->frames_out = atomic_load(&st->frames_out);
        s->frames_masked = atomic_load(&st->frames_masked);
        s->frames_covered = atomic_load(&st->frames_covered);
        s->faces = atomic_load(&st->faces);
        s->dropped_guard = atomic_load(&st->frames_dropped_guard);
        s->dropped_live = atomic_load(&st->frames_dropped_live);
        s->dropped_rate = atomic_load(&st->frames_dropped_rate);
        s->dropped_alloc = atomic_load(&st->frames_dropped_alloc);
        s->filler = atomic_load(&st->frames_filler);
        s->passthrough = atomic_load(&st->frames_passthrough);
        for (int i = 0; i < PTIM_GUARD_REASON__COUNT; i++)
            s->covered_by_reason[i] = atomic_load(&st->covered_by_reason[i]);
        for (int i = 0; i < PTIM_ERR__COUNT; i++)
            s->errors[i] = atomic_load(&st->errors[i]);
        s->recoveries = atomic_load(&st->recoveries);
        s->reconfigures = atomic_load(&st->reconfigures);
        s->pool_in_use = atomic_load(&st->pool_in_use);
        s->pool_peak = atomic_load(&st->pool_peak);
        s->pool_allocs = atomic_load(&st->pool_allocs);
        s->frames_expected = atomic_load(&st->frames_expected);
        s->mem_budget = atomic_load(&st->mem_budget);
        s->mem_in_use = atomic_load(&st->mem_in_use);
        s->mem_peak = atomic_load(&st->mem_peak);
        s->mem_cached_free = atomic_load(&st->mem_cached_free);
        s->mem_requests = atomic_load(&st->mem_requests);
        s->mem_reused = atomic_load(&st->mem_reused);
        s->mem_failures = atomic_load(&st->mem_failures);
        s->asset_reloads = atomic_load(&st->asset_reloads);
        s->asset_rejects = atomic_load(&st->asset_rejects);
        double dt = prev ? t_s - prev->t_s : 0;
        bool same_run = prev && prev->running && prev->frames_in <= s->frames_in;
        s->fps_in = dt > 0 && same_run ? (s->frames_in - prev->frames_in) / dt : 0;
        s->fps_out = dt > 0 && same_run ? (s->frames_out - prev->frames_out) / dt : 0;
    }
    /* The pipeline's histograms are per run and live in core/clock. */
    for (int i = 0; i < PTIM_STAGE__COUNT; i++) {
        char name[64];
        snprintf(name, sizeof name, "pipeline.%s", ptim_stage_name(i));
        ptim_histogram *h = ptim_histogram_get(name);
        if (!h)
            continue;
        ptim_histogram_summary(h, &s->stage[i]);
        double le_us[SERVER_LATENCY_BOUNDS];
        for (int j = 0; j < SERVER_LATENCY_BOUNDS; j++)
            le_us[j] = server_latency_bounds_s[j] * 1e6;
        uint64_t sum_us = 0;
        s->stage_total[i] = ptim_histogram_cumulative(h, le_us, SERVER_LATENCY_BOUNDS, s->stage_le[i], &sum_us);
        s->stage_sum_s[i] = (double)sum_us / 1e6;
    }
    if (s->history_count == SERVER_HISTORY) {
        memmove(s->history_latency_ms, s->history_latency_ms + 1, sizeof(double) * (SERVER_HISTORY - 1));
        memmove(s->history_fps, s->history_fps + 1, sizeof(double) * (SERVER_HISTORY - 1));
        s->history_count--;
    }
    s->history_latency_ms[s->history_count] = s->stage[PTIM_STAGE_LATENCY].p50_ms;
    s->history_fps[s->history_count] = s->fps_out;
    s->history_count++;
}

cJSON *server_sample_json(const server_sample *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddBoolToObject(o, "running", s->running);
    cJSON_AddStringToObject(o, "input", s->input);
    cJSON_AddStringToObject(o, "output", s->output);
    cJSON_AddNumberToObject(o, "item", s->item);
    cJSON_AddNumberToObject(o, "items", s->items);
    cJSON_AddNumberToObject(o, "uptime_s", s->t_s);
    cJSON_AddNumberToObject(o, "fps_in", s->fps_in);
    cJSON_AddNumberToObject(o, "fps_out", s->fps_out);
    cJSON *fr = cJSON_AddObjectToObject(o, "frames");
    cJSON_AddNumberToObject(fr, "in", (double)s->frames_in);
    cJSON_AddNumberToObject(fr, "out", (double)s->frames_out);
    cJSON_AddNumberToObject(fr, "expected", (double)s->frames_expected);
    cJSON_AddNumberToObject(fr, "masked", (double)s->frames_masked);
    cJSON_AddNumberToObject(fr, "covered", (double)s->frames_covered);
    cJSON_AddNumberToObject(fr, "filler", (double)s->filler);
    cJSON_AddNumberToObject(fr, "passthrough", (double)s->passthrough);
    cJSON *dr = cJSON_AddObjectToObject(fr, "dropped");
    cJSON_AddNumberToObject(dr, "guard", (double)s->dropped_guard);
    cJSON_AddNumberToObject(dr, "live", (double)s->dropped_live);
    cJSON_AddNumberToObject(dr, "rate", (double)s->dropped_rate);
    cJSON_AddNumberToObject(dr, "alloc", (double)s->dropped_alloc);
    cJSON *cv = cJSON_AddObjectToObject(fr, "covered_by_reason");
    for (int i = 0; i < PTIM_GUARD_REASON__COUNT; i++)
        if (s->covered_by_reason[i])
            cJSON_AddNumberToObject(cv, ptim_guard_reason_name(i), (double)s->covered_by_reason[i]);
    cJSON_AddNumberToObject(o, "faces", (double)s->faces);
    cJSON *er = cJSON_AddObjectToObject(o, "errors");
    for (int i = 0; i < PTIM_ERR__COUNT; i++)
        cJSON_AddNumberToObject(er, ptim_err_category_name(i), (double)s->errors[i]);
    cJSON_AddNumberToObject(o, "recoveries", (double)s->recoveries);
    cJSON_AddNumberToObject(o, "reconfigures", (double)s->reconfigures);
    cJSON *lat = cJSON_AddObjectToObject(o, "latency_ms");
    for (int i = 0; i < PTIM_STAGE__COUNT; i++) {
        cJSON *l = cJSON_AddObjectToObject(lat, ptim_stage_name(i));
        cJSON_AddNumberToObject(l, "p50", s->stage[i].p50_ms);
        cJSON_AddNumberToObject(l, "p99", s->stage[i].p99_ms);
        cJSON_AddNumberToObject(l, "count", (double)s->stage[i].count);
    }
    cJSON *mem = cJSON_AddObjectToObject(o, "memory");
    cJSON_AddNumberToObject(mem, "frame_records_in_use", (double)s->pool_in_use);
    cJSON_AddNumberToObject(mem, "frame_records_peak", (double)s->pool_peak);
    cJSON_AddNumberToObject(mem, "frame_records_allocated", (double)s->pool_allocs);
    cJSON_AddNumberToObject(mem, "rss_bytes", (double)s->rss_bytes);
    cJSON *pool = cJSON_AddObjectToObject(mem, "pool");
    cJSON_AddNumberToObject(pool, "budget_bytes", (double)s->mem_budget);
    cJSON_AddNumberToObject(pool, "in_use_bytes", (double)s->mem_in_use);
    cJSON_AddNumberToObject(pool, "peak_bytes", (double)s->mem_peak);
    cJSON_AddNumberToObject(pool, "cached_free_bytes", (double)s->mem_cached_free);
    cJSON_AddNumberToObject(pool, "requests", (double)s->mem_requests);
    cJSON_AddNumberToObject(pool, "reused", (double)s->mem_reused);
    cJSON_AddNumberToObject(pool, "reuse_rate", s->mem_requests ? (double)s->mem_reused / (double)s->mem_requests : 0);
    cJSON_AddNumberToObject(pool, "failures", (double)s->mem_failures);
    cJSON *as = cJSON_AddObjectToObject(o, "assets");
    cJSON_AddNumberToObject(as, "reloads", (double)s->asset_reloads);
    cJSON_AddNumberToObject(as, "refused", (double)s->asset_rejects);
    cJSON *hl = cJSON_AddArrayToObject(o, "history_latency_ms");
    cJSON *hf = cJSON_AddArrayToObject(o, "history_fps");
    for (int i = 0; i < s->history_count; i++) {
        cJSON_AddItemToArray(hl, cJSON_CreateNumber(s->history_latency_ms[i]));
        cJSON_AddItemToArray(hf, cJSON_CreateNumber(s->history_fps[i]));
    }
    return o;
}

typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 8192) + (size_t)n;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
}

static void counter(sbuf *b, const char *name, const char *help, long long v)
{
    put(b, "# HELP %s %s\n# TYPE %s counter\n%s %lld\n", name, help, name, name, v);
}

static void gauge(sbuf *b, const char *name, const char *help, double v)
{
    put(b, "# HELP %s %s\n# TYPE %s gauge\n%s %.6g\n", name, help, name, name, v);
}

/* Byte counts as whole numbers (%g would round a 2 GiB budget to 6 digits). */
static void gauge_int(sbuf *b, const char *name, const char *help, long long v)
{
    put(b, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name, name, v);
}

char *server_metrics_text(const server_sample *s, const server_counters *c, size_t *len)
{
    sbuf b = {0};
    counter(&b, "ptim_frames_in_total", "Decoded frames handed to the pipeline.", s->frames_in);
    counter(&b, "ptim_frames_out_total", "Frames written.", s->frames_out);
    counter(&b, "ptim_frames_masked_total", "Frames written after masking succeeded.", s->frames_masked);
    counter(&b, "ptim_frames_covered_total", "Frames covered by the fail-closed guard.", s->frames_covered);
    put(&b, "# HELP ptim_frames_dropped_total Frames not written, by reason.\n"
            "# TYPE ptim_frames_dropped_total counter\n");
    put(&b, "ptim_frames_dropped_total{reason=\"guard\"} %lld\n", s->dropped_guard);
    put(&b, "ptim_frames_dropped_total{reason=\"live\"} %lld\n", s->dropped_live);
    put(&b, "ptim_frames_dropped_total{reason=\"rate\"} %lld\n", s->dropped_rate);
    put(&b, "ptim_frames_dropped_total{reason=\"alloc\"} %lld\n", s->dropped_alloc);
    counter(&b, "ptim_faces_masked_total", "Faces masked, summed over frames.", s->faces);
    put(&b, "# HELP ptim_errors_total Errors reported, by category.\n# TYPE ptim_errors_total counter\n");
    for (int i = 0; i < PTIM_ERR__COUNT; i++)
        put(&b, "ptim_errors_total{category=\"%s\"} %lld\n", ptim_err_category_name(i), s->errors[i]);
    counter(&b, "ptim_recoveries_total", "Errors recovered from.", s->recoveries);
    counter(&b, "ptim_config_reloads_total", "Settings changes applied between frames.", s->reconfigures);
    /* A histogram, not a summary: Prometheus can aggregate and re-quantile
     * buckets across scrapes and instances; the bucket counts come from one
     * snapshot, so they never fall as le rises and +Inf equals _count. */
    put(&b, "# HELP ptim_stage_latency_seconds Per-stage time per frame since the run started.\n"
            "# TYPE ptim_stage_latency_seconds histogram\n");
    for (int i = 0; i < PTIM_STAGE__COUNT; i++) {
        const char *n = ptim_stage_name(i);
        for (int j = 0; j < SERVER_LATENCY_BOUNDS; j++)
            put(&b, "ptim_stage_latency_seconds_bucket{stage=\"%s\",le=\"%g\"} %llu\n", n,
                server_latency_bounds_s[j], (unsigned long long)s->stage_le[i][j]);
        put(&b, "ptim_stage_latency_seconds_bucket{stage=\"%s\",le=\"+Inf\"} %llu\n", n,
            (unsigned long long)s->stage_total[i]);
        put(&b, "ptim_stage_latency_seconds_sum{stage=\"%s\"} %.9f\n", n, s->stage_sum_s[i]);
        put(&b, "ptim_stage_latency_seconds_count{stage=\"%s\"} %llu\n", n, (unsigned long long)s->stage_total[i]);
    }
    gauge(&b, "ptim_frame_records_in_use", "Frame records held by the pipeline.", (double)s->pool_in_use);
    gauge_int(&b, "ptim_pool_in_use_bytes", "Bytes of the frame pool held (core/mem).", s->mem_in_use);
    gauge_int(&b, "ptim_pool_peak_bytes", "Highest bytes of the frame pool held in this run.", s->mem_peak);
    gauge_int(&b, "ptim_pool_budget_bytes", "Budget of the frame pool.", s->mem_budget);
    counter(&b, "ptim_pool_requests_total", "Allocations asked of the frame pool.", s->mem_requests);
    counter(&b, "ptim_pool_reused_total", "Of those, served from a cached buffer.", s->mem_reused);
    counter(&b, "ptim_pool_failures_total", "Allocations the frame pool refused.", s->mem_failures);
    gauge(&b, "ptim_resident_memory_bytes", "Resident memory of the process.", (double)s->rss_bytes);
    gauge(&b, "ptim_output_frames_per_second", "Frames written per second over the last second.", s->fps_out);
    gauge(&b, "ptim_running", "1 while a pipeline run is going.", s->running ? 1 : 0);
    counter(&b, "ptim_http_requests_total", "Control panel requests served.", c->requests);
    put(&b, "# HELP ptim_http_refused_total Control panel requests refused, by reason.\n"
            "# TYPE ptim_http_refused_total counter\n");
    put(&b, "ptim_http_refused_total{reason=\"auth\"} %lld\n", c->refused_auth);
    put(&b, "ptim_http_refused_total{reason=\"origin\"} %lld\n", c->refused_origin);
    put(&b, "ptim_http_refused_total{reason=\"body\"} %lld\n", c->refused_body);
    put(&b, "ptim_http_refused_total{reason=\"other\"} %lld\n", c->refused_other);
    gauge(&b, "ptim_preview_clients", "Preview streams being watched.", (double)c->preview_clients);
    counter(&b, "ptim_preview_frames_total", "Preview pictures encoded.", c->preview_frames);
    counter(&b, "ptim_http_live_changes_total", "Settings changed through the API.", c->live_changes);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}
