/* core/clock: startup stages and latency histograms (percentiles against
 * exactly known distributions, concurrent recording). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void test_monotonic(void **state)
{
    (void)state;
    uint64_t a = ptim_clock_ns();
    sleep_ms(2);
    uint64_t b = ptim_clock_ns();
    assert_true(b - a >= 2000000);
    assert_true(ptim_clock_since_start_ms() > 0);
}

static void test_startup_stages(void **state)
{
    (void)state;
    ptim_startup_reset();
    assert_true(ptim_startup_ms(PTIM_STARTUP_MODELS) < 0);
    ptim_startup_begin(PTIM_STARTUP_MODELS);
    sleep_ms(20);
    ptim_startup_end(PTIM_STARTUP_MODELS);
    double ms = ptim_startup_ms(PTIM_STARTUP_MODELS);
    assert_true(ms >= 20 && ms < 1000);
    assert_string_equal(ptim_startup_stage_name(PTIM_STARTUP_FIRST_FRAME), "first_frame");
    assert_string_equal(ptim_startup_stage_name(PTIM_STARTUP_CONFIG), "config");
    char buf[512] = "";
    FILE *f = fmemopen(buf, sizeof buf, "w");
    ptim_startup_print(f);
    fclose(f);
    assert_non_null(strstr(buf, "startup: models "));
    assert_null(strstr(buf, "backend"));
    ptim_startup_begin(PTIM_STARTUP__COUNT); /* ignored, no crash */
    ptim_startup_end((ptim_startup_stage)-1);
}

static void test_percentiles_uniform(void **state)
{
    (void)state;
    ptim_histogram *h = ptim_histogram_get("uniform");
    assert_ptr_equal(h, ptim_histogram_get("uniform"));
    ptim_latency l;
    ptim_histogram_summary(h, &l);
    assert_int_equal(l.count, 0);
    /* 1..1000 ms: p50 = 500, p95 = 950, p99 = 990 (within a bucket, ~3 %) */
    for (int i = 1000; i >= 1; i--)
        ptim_histogram_record_ms(h, i);
    ptim_histogram_summary(h, &l);
    assert_int_equal(l.count, 1000);
    assert_true(fabs(l.p50_ms - 500) / 500 < 0.035);
    assert_true(fabs(l.p95_ms - 950) / 950 < 0.035);
    assert_true(fabs(l.p99_ms - 990) / 990 < 0.035);
    assert_true(l.min_ms == 1 && l.max_ms == 1000);
    assert_true(fabs(l.mean_ms - 500.5) < 0.01);
    assert_true(ptim_histogram_percentile(h, 100) == 1000);
    assert_true(ptim_histogram_percentile(h, 0) == 1);
    ptim_histogram_reset(h);
    ptim_histogram_summary(h, &l);
    assert_int_equal(l.count, 0);
}

static void test_percentiles_tail(void **state)
{
    (void)state;
    /* 98 fast frames at 2 ms and 2 slow ones at 300 ms: p50 and p95 fast, p99 slow. */
    ptim_histogram *h = ptim_histogram_get("tail");
    for (int i = 0; i < 98; i++)
        ptim_histogram_record_us(h, 2000);
    ptim_histogram_record_us(h, 300000);
    ptim_histogram_record_us(h, 300000);
    ptim_latency l;
    ptim_histogram_summary(h, &l);
    assert_true(fabs(l.p50_ms - 2) < 0.07);
    assert_true(fabs(l.p95_ms - 2) < 0.07);
    assert_true(fabs(l.p99_ms - 300) / 300 < 0.035);
    /* tiny and huge values land in the ends, not out of bounds */
    ptim_histogram *e = ptim_histogram_get("extremes");
    ptim_histogram_record_us(e, 0);
    ptim_histogram_record_us(e, UINT64_MAX);
    ptim_histogram_record_ms(e, -5);
    ptim_histogram_record_ms(e, NAN);
    ptim_histogram_summary(e, &l);
    assert_int_equal(l.count, 4);
}

static void *recorder(void *arg)
{
    ptim_histogram *h = arg;
    for (int i = 0; i < 100000; i++)
        ptim_histogram_record_us(h, (uint64_t)(i % 100) * 100);
    return NULL;
}

static void test_concurrent_recording(void **state)
{
    (void)state;
    ptim_histogram *h = ptim_histogram_get("concurrent");
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, recorder, h);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    ptim_latency l;
    ptim_histogram_summary(h, &l);
    assert_int_equal(l.count, 400000);
    assert_true(l.max_ms == 9.9 && l.min_ms == 0);
    assert_true(fabs(l.p50_ms - 4.9) / 4.9 < 0.035);
    int found = 0;
    for (int i = 0; i < ptim_histogram_count(); i++)
        found += !strcmp(ptim_histogram_name(ptim_histogram_at(i)), "concurrent");
    assert_int_equal(found, 1);
    assert_null(ptim_histogram_at(ptim_histogram_count()));
}

/* Prometheus-style cumulative counts: exact at bucket boundaries, never an
 * over-count in between, non-decreasing, the last bound's count <= total. */
static void test_cumulative(void **state)
{
    (void)state;
    ptim_histogram *h = ptim_histogram_get("cumulative");
    ptim_histogram_reset(h);
    /* 1000 values: 1..1000 us once each, plus 5 at 10 s */
    for (uint64_t us = 1; us <= 1000; us++)
        ptim_histogram_record_us(h, us);
    for (int i = 0; i < 5; i++)
        ptim_histogram_record_us(h, 10000000);
    const double le[] = {0, 15, 16, 512, 1000, 1024, 5e6, 2e7};
    uint64_t out[8], sum = 0;
    uint64_t total = ptim_histogram_cumulative(h, le, 8, out, &sum);
    assert_int_equal(total, 1005);
    assert_int_equal(sum, 500500 + 5 * 10000000ULL);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 15);   /* below 16 every microsecond has its own bucket */
    assert_int_equal(out[2], 16);
    assert_int_equal(out[3], 511); /* 512 opens the bucket [512, 544): only 1..511 are surely <= 512 */
    assert_true(out[4] <= 1000 && out[4] >= 1000 - 1000 / 16); /* straddling bucket left out: within 1/16 */
    assert_int_equal(out[5], 1000); /* 1024 closes the bucket [992, 1024) */
    assert_int_equal(out[6], 1000);
    assert_int_equal(out[7], 1005);
    for (int i = 1; i < 8; i++)
        assert_true(out[i] >= out[i - 1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monotonic),           cmocka_unit_test(test_startup_stages),
        cmocka_unit_test(test_percentiles_uniform), cmocka_unit_test(test_percentiles_tail),
        cmocka_unit_test(test_concurrent_recording), cmocka_unit_test(test_cumulative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
