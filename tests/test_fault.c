/* core/fault: the debug.faults grammar, event windows, rates, determinism,
 * counters under threads, and the build without fault injection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/fault.h"
#include "core/log.h"

static int teardown(void **state)
{
    (void)state;
    ptim_fault_configure("", 1, NULL);
    return 0;
}

static void test_point_names_round_trip(void **state)
{
    (void)state;
    for (int i = 0; i < PTIM_FAULT__COUNT; i++) {
        const char *name = ptim_fault_point_name((ptim_fault_point)i);
        assert_string_not_equal(name, "unknown");
        assert_int_equal(ptim_fault_point_from_name(name), i);
    }
    assert_string_equal(ptim_fault_point_name(PTIM_FAULT__COUNT), "unknown");
    assert_int_equal(ptim_fault_point_from_name("nope"), -1);
    assert_string_equal(ptim_fault_point_name(PTIM_FAULT_DECODE), "decode");
    assert_string_equal(ptim_fault_point_name(PTIM_FAULT_SOURCE_GONE), "source_gone");
}

#ifdef PTIM_FAULT_INJECTION

static void arm(const char *spec, uint64_t seed)
{
    ptim_error err = {0};
    int rc = ptim_fault_configure(spec, seed, &err);
    if (rc)
        fail_msg("configure '%s' failed: %s", spec, err.message);
}

/* Reaches `point` n times; returns how many of those fired. */
static uint64_t reach(ptim_fault_point point, int n)
{
    uint64_t fired = 0;
    for (int i = 0; i < n; i++)
        fired += ptim_fault_hit(point);
    return fired;
}

static void expect_error(const char *spec, const char *needle)
{
    ptim_error err = {0};
    assert_int_equal(ptim_fault_validate(spec, &err), -1);
    assert_int_equal(err.category, PTIM_ERR_CONFIG);
    if (!strstr(err.message, needle))
        fail_msg("spec '%s': message '%s' lacks '%s'", spec, err.message, needle);
    /* configure fails the same way and leaves the current arming alone. */
    err.message[0] = 0;
    assert_int_equal(ptim_fault_configure(spec, 1, &err), -1);
    assert_non_null(strstr(err.message, needle));
}

static void test_empty_spec_disarms(void **state)
{
    (void)state;
    arm("decode=1", 1);
    assert_true(ptim_fault_hit(PTIM_FAULT_DECODE));
    arm("", 1);
    assert_false(ptim_fault_armed(PTIM_FAULT__COUNT));
    assert_int_equal(reach(PTIM_FAULT_DECODE, 100), 0);
    assert_int_equal(ptim_fault_events(PTIM_FAULT_DECODE), 0); /* not counted while disarmed */
    assert_int_equal(ptim_fault_fired(PTIM_FAULT_DECODE), 0);
    arm("   ", 1);
    assert_false(ptim_fault_armed(PTIM_FAULT__COUNT));
    assert_int_equal(ptim_fault_configure(NULL, 1, NULL), 0);
}

static void test_event_range_fires_exactly_there(void **state)
{
    (void)state;
    arm("detect@10-20", 1);
    assert_true(ptim_fault_armed(PTIM_FAULT_DETECT));
    assert_false(ptim_fault_armed(PTIM_FAULT_DECODE));
    for (int n = 1; n <= 40; n++)
        assert_int_equal(ptim_fault_hit(PTIM_FAULT_DETECT), n >= 10 && n <= 20);
    assert_int_equal(ptim_fault_events(PTIM_FAULT_DETECT), 40);
    assert_int_equal(ptim_fault_fired(PTIM_FAULT_DETECT), 11);
    /* Other points are untouched and uncounted. */
    assert_int_equal(reach(PTIM_FAULT_DECODE, 50), 0);
    assert_int_equal(ptim_fault_events(PTIM_FAULT_DECODE), 0);
}

static void test_single_event_and_open_range(void **state)
{
    (void)state;
    arm("encode@100, source_gone@50+", 1);
    for (int n = 1; n <= 200; n++)
        assert_int_equal(ptim_fault_hit(PTIM_FAULT_ENCODE), n == 100);
    for (int n = 1; n <= 200; n++)
        assert_int_equal(ptim_fault_hit(PTIM_FAULT_SOURCE_GONE), n >= 50);
    assert_int_equal(ptim_fault_fired(PTIM_FAULT_ENCODE), 1);
    assert_int_equal(ptim_fault_fired(PTIM_FAULT_SOURCE_GONE), 151);
}

static void test_configure_resets_counters(void **state)
{
    (void)state;
    arm("encode@3", 1);
    assert_int_equal(reach(PTIM_FAULT_ENCODE, 5), 1);
    arm("encode@3", 1);
    assert_int_equal(ptim_fault_events(PTIM_FAULT_ENCODE), 0);
    assert_int_equal(ptim_fault_fired(PTIM_FAULT_ENCODE), 0);
    assert_int_equal(reach(PTIM_FAULT_ENCODE, 2), 0);
    assert_true(ptim_fault_hit(PTIM_FAULT_ENCODE)); /* counted again from 1 */
}

static void test_rate_is_close_and_reproducible(void **state)
{
    (void)state;
    const int n = 200000;
    bool first[2000];
    arm("decode=0.05", 7);
    for (int i = 0; i < 2000; i++)
        first[i] = ptim_fault_hit(PTIM_FAULT_DECODE);
    uint64_t fired = ptim_fault_fired(PTIM_FAULT_DECODE) + reach(PTIM_FAULT_DECODE, n - 2000);
    /* Binomial(200000, 0.05): sd ≈ 97; allow 5 sd. */
    double expect = 0.05 * n, sd = sqrt(n * 0.05 * 0.95);
    if (fabs((double)fired - expect) > 5 * sd)
        fail_msg("fired %llu of %d at rate 0.05", (unsigned long long)fired, n);
    assert_int_equal(ptim_fault_fired(PTIM_FAULT_DECODE), fired);

    /* Same seed: the same events fail. */
    arm("decode=5%", 7);
    for (int i = 0; i < 2000; i++)
        assert_int_equal(ptim_fault_hit(PTIM_FAULT_DECODE), first[i]);
    /* Another seed: a different pattern. */
    arm("decode=0.05", 8);
    int differ = 0;
    for (int i = 0; i < 2000; i++)
        differ += ptim_fault_hit(PTIM_FAULT_DECODE) != first[i];
    assert_true(differ > 20);
    /* The points draw independently: decode and detect do not fail in lockstep. */
    arm("decode=0.5,detect=0.5", 7);
    int same = 0;
    for (int i = 0; i < 1000; i++)
        same += ptim_fault_hit(PTIM_FAULT_DECODE) == ptim_fault_hit(PTIM_FAULT_DETECT);
    assert_true(same > 400 && same < 600);
}

static void test_rate_edges(void **state)
{
    (void)state;
    arm("render=0", 1);
    assert_int_equal(reach(PTIM_FAULT_RENDER, 1000), 0);
    assert_int_equal(ptim_fault_events(PTIM_FAULT_RENDER), 1000);
    arm("render=1", 1);
    assert_int_equal(reach(PTIM_FAULT_RENDER, 1000), 1000);
    arm("render=100%", 1);
    assert_int_equal(reach(PTIM_FAULT_RENDER, 10), 10);
}

static void test_range_with_rate(void **state)
{
    (void)state;
    arm("decode@101-200=50%", 3);
    assert_int_equal(reach(PTIM_FAULT_DECODE, 100), 0);
    uint64_t mid = reach(PTIM_FAULT_DECODE, 100);
    assert_true(mid > 25 && mid < 75);
    assert_int_equal(reach(PTIM_FAULT_DECODE, 100), 0);
}

static void test_rules_combine_and_all(void **state)
{
    (void)state;
    arm("alloc@2,alloc@5-6", 1);
    const bool want[8] = {false, true, false, false, true, true, false, false};
    for (int i = 0; i < 8; i++)
        assert_int_equal(ptim_fault_hit(PTIM_FAULT_ALLOC), want[i]);

    arm("all@1", 1);
    for (int p = 0; p < PTIM_FAULT__COUNT; p++) {
        assert_true(ptim_fault_armed((ptim_fault_point)p));
        assert_true(ptim_fault_hit((ptim_fault_point)p));
        assert_false(ptim_fault_hit((ptim_fault_point)p));
        assert_int_equal(ptim_fault_fired((ptim_fault_point)p), 1);
    }
    /* Out-of-range points never fire. */
    assert_false(ptim_fault_hit(PTIM_FAULT__COUNT));
    assert_false(ptim_fault_hit((ptim_fault_point)-1));
}

static void test_param(void **state)
{
    (void)state;
    arm("source_stall@30:1500,analyze_timeout=0.1", 1);
    assert_int_equal(ptim_fault_param(PTIM_FAULT_SOURCE_STALL, 200), 1500);
    assert_int_equal(ptim_fault_param(PTIM_FAULT_ANALYZE_TIMEOUT, 200), 200);
    assert_int_equal(ptim_fault_param(PTIM_FAULT_DECODE, 9), 9);
    arm("source_stall : 0 @ 4", 1); /* any order, spaces allowed */
    assert_int_equal(ptim_fault_param(PTIM_FAULT_SOURCE_STALL, 200), 0);
    assert_int_equal(reach(PTIM_FAULT_SOURCE_STALL, 5), 1);
}

static void test_bad_specs_are_clear(void **state)
{
    (void)state;
    arm("decode@1", 1);
    expect_error("decod=0.1", "did you mean 'decode'");
    expect_error("detct@3", "did you mean 'detect'");
    expect_error("landmark=0.1", "did you mean 'landmarks'");
    expect_error("sourcegone@4", "did you mean 'source_gone'");
    expect_error("encoder@4", "did you mean 'encode'");
    expect_error("xyzzy=0.1", "unknown fault point 'xyzzy' (known: source_open");
    expect_error("decode", "neither when");
    expect_error("decode=1.5", "outside 0..1");
    expect_error("decode=150%", "outside 0..1");
    expect_error("decode=-0.1", "needs a rate");
    expect_error("decode=abc", "needs a rate");
    expect_error("decode=nan", "needs a rate");
    expect_error("decode@0", "event number from 1");
    expect_error("decode@-3", "event number from 1");
    expect_error("decode@20-10", "before its first");
    expect_error("decode@5-", "last event number");
    expect_error("decode@5x", "unexpected text");
    expect_error("decode@5@6", "@EVENTS twice");
    expect_error("decode=0.1=0.2", "=RATE twice");
    expect_error("decode@1:5:6", ":PARAM twice");
    expect_error("decode@1:x", "non-negative integer");
    expect_error("=0.1", "no fault point name");
    expect_error("decode@1,,detect@2", "empty rule");
    expect_error("decode@1,", "empty rule");
    expect_error("decode@99999999999999999999999", "event number");
    expect_error("d@1,d@2,d@3", "unknown fault point 'd'");
    expect_error("alloc@1,alloc@2,alloc@3,alloc@4,alloc@5,alloc@6,alloc@7,alloc@8,alloc@9",
                 "more than 8 rules");
    /* A failed configure left the earlier arming alone. */
    assert_true(ptim_fault_armed(PTIM_FAULT_DECODE));
    assert_true(ptim_fault_hit(PTIM_FAULT_DECODE));
    /* And the error is safe with a NULL err. */
    assert_int_equal(ptim_fault_configure("nope@1", 1, NULL), -1);
}

typedef struct {
    int hits;
    uint64_t fired;
} thread_job;

static void *hammer(void *arg)
{
    thread_job *job = arg;
    job->fired = reach(PTIM_FAULT_PACKET_DROP, job->hits);
    return NULL;
}

static void test_threads_count_every_event_once(void **state)
{
    (void)state;
    arm("packet_drop@1000-1999", 1);
    enum { THREADS = 8, HITS = 50000 };
    pthread_t t[THREADS];
    thread_job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (thread_job){.hits = HITS};
        assert_int_equal(pthread_create(&t[i], NULL, hammer, &jobs[i]), 0);
    }
    uint64_t fired = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        fired += jobs[i].fired;
    }
    assert_int_equal(ptim_fault_events(PTIM_FAULT_PACKET_DROP), THREADS * HITS);
    assert_int_equal(ptim_fault_fired(PTIM_FAULT_PACKET_DROP), 1000);
    assert_int_equal(fired, 1000);
}

static void test_stats_json(void **state)
{
    (void)state;
    arm("detect@2,encode=0", 1);
    reach(PTIM_FAULT_DETECT, 3);
    reach(PTIM_FAULT_ENCODE, 4);
    char buf[256];
    size_t len = ptim_fault_stats_json(buf, sizeof buf);
    assert_string_equal(buf, "{\"detect\":{\"events\":3,\"fired\":1},\"encode\":{\"events\":4,\"fired\":0}}");
    assert_int_equal(len, strlen(buf));
    char small[10];
    assert_int_equal(ptim_fault_stats_json(small, sizeof small), len);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_int_equal(ptim_fault_stats_json(NULL, 0), len);
    arm("", 1);
    ptim_fault_stats_json(buf, sizeof buf);
    assert_string_equal(buf, "{}");
}

#else /* builds without fault injection */

static void test_spec_is_config_error_without_injection(void **state)
{
    (void)state;
    ptim_error err = {0};
    assert_false(ptim_fault_compiled_in());
    assert_int_equal(ptim_fault_configure("", 1, &err), 0);
    assert_int_equal(ptim_fault_configure("decode=0.1", 1, &err), -1);
    assert_int_equal(err.category, PTIM_ERR_CONFIG);
    assert_non_null(strstr(err.message, "PTIM_FAULT_INJECTION"));
    assert_false(ptim_fault_hit(PTIM_FAULT_DECODE));
}

#endif

int main(void)
{
    ptim_log_set_stderr_level(PTIM_LOG_ERROR); /* the "armed" warnings */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_point_names_round_trip, teardown),
#ifdef PTIM_FAULT_INJECTION
        cmocka_unit_test_teardown(test_empty_spec_disarms, teardown),
        cmocka_unit_test_teardown(test_event_range_fires_exactly_there, teardown),
        cmocka_unit_test_teardown(test_single_event_and_open_range, teardown),
        cmocka_unit_test_teardown(test_configure_resets_counters, teardown),
        cmocka_unit_test_teardown(test_rate_is_close_and_reproducible, teardown),
        cmocka_unit_test_teardown(test_rate_edges, teardown),
        cmocka_unit_test_teardown(test_range_with_rate, teardown),
        cmocka_unit_test_teardown(test_rules_combine_and_all, teardown),
        cmocka_unit_test_teardown(test_param, teardown),
        cmocka_unit_test_teardown(test_bad_specs_are_clear, teardown),
        cmocka_unit_test_teardown(test_threads_count_every_event_once, teardown),
        cmocka_unit_test_teardown(test_stats_json, teardown),
#else
        cmocka_unit_test(test_spec_is_config_error_without_injection),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
