/* core/clock — monotonic time, named startup stages, latency histograms.
 *
 * Startup stages: config, logging, models, backend, source, sink, first
 * frame. A stage is timed by begin/end (milliseconds); `--verbose` prints
 * them, and they stay for statistics and reports.
 *
 * Latency histograms: log-linear buckets of microseconds (16 per power of
 * two, so a percentile is within ~3 % of the truth), fed with relaxed atomic
 * increments: recording is lock-free and allocation-free, safe from any
 * thread, cheap enough for once per frame per stage. Get one by name once
 * (registry, takes a lock) and keep the pointer:
 *
 *     static ptim_histogram *h;  if (!h) h = ptim_histogram_get("detect");
 *     uint64_t t0 = ptim_clock_ns();  ...work...  ptim_histogram_record_since(h, t0);
 */
#ifndef PTIM_CORE_CLOCK_H
#define PTIM_CORE_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Monotonic nanoseconds (CLOCK_MONOTONIC). */
uint64_t ptim_clock_ns(void);
/* Milliseconds since the process started (since this module was loaded). */
double ptim_clock_since_start_ms(void);
/* A condition variable whose timed waits run on CLOCK_MONOTONIC (a change of
 * the wall clock does not move them), and the deadline timeout_ms from now
 * to pass to pthread_cond_timedwait on it. */
int ptim_cond_init_monotonic(pthread_cond_t *cond);
struct timespec ptim_deadline_after_ms(int timeout_ms);

typedef enum ptim_startup_stage {
    PTIM_STARTUP_CONFIG,
    PTIM_STARTUP_LOGGING,
    PTIM_STARTUP_MODELS,
    PTIM_STARTUP_BACKEND,
    PTIM_STARTUP_SOURCE,
    PTIM_STARTUP_SINK,
    PTIM_STARTUP_FIRST_FRAME,
    PTIM_STARTUP__COUNT
} ptim_startup_stage;

const char *ptim_startup_stage_name(ptim_startup_stage stage); /* "config", …, "first_frame" */
void ptim_startup_begin(ptim_startup_stage stage);
void ptim_startup_end(ptim_startup_stage stage);   /* logs "startup: <stage> X ms" at debug */
double ptim_startup_ms(ptim_startup_stage stage);  /* -1 when the stage has not ended */
/* "startup: config 0.3 ms, logging 0.1 ms, … (X ms since start)" */
void ptim_startup_print(FILE *f);
void ptim_startup_reset(void);

typedef struct ptim_histogram ptim_histogram;

typedef struct ptim_latency {
    uint64_t count;
    double min_ms, max_ms, mean_ms;
    double p50_ms, p95_ms, p99_ms;
} ptim_latency;

/* The histogram called `name`, created on first use; lives until exit. NULL
 * only when out of memory. */
ptim_histogram *ptim_histogram_get(const char *name);
const char *ptim_histogram_name(const ptim_histogram *h);
void ptim_histogram_record_us(ptim_histogram *h, uint64_t us);
void ptim_histogram_record_ms(ptim_histogram *h, double ms);
/* Record now - t0_ns (from ptim_clock_ns). */
void ptim_histogram_record_since(ptim_histogram *h, uint64_t t0_ns);
/* Percentiles from the buckets (each value reported as its bucket's middle,
 * clamped to the exact min and max). */
void ptim_histogram_summary(const ptim_histogram *h, ptim_latency *out);
double ptim_histogram_percentile(const ptim_histogram *h, double p); /* p in [0, 100], ms */
void ptim_histogram_reset(ptim_histogram *h);
/* For Prometheus-style histograms: out[j] = how many recorded values are at
 * most le_us[j] (le_us ascending; a bucket straddling a bound counts above
 * it), *sum_us the sum of all values (may be NULL); returns the total count,
 * from the same snapshot as out[]. */
uint64_t ptim_histogram_cumulative(const ptim_histogram *h, const double *le_us, int n, uint64_t *out,
                                   uint64_t *sum_us);
/* Every histogram created so far, for statistics: index 0..count-1. */
int ptim_histogram_count(void);
ptim_histogram *ptim_histogram_at(int index);

#endif
