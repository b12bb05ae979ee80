/* core/error: policies, retries with backoff, statistics, errors.log lines,
 * critical reports and their contents, exit statuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"

static char dir[4096], logs[4200], reports[4200];

static int setup(void **state)
{
    (void)state;
    const char *t = getenv("PTIM_TEST_TMP");
    snprintf(dir, sizeof dir, "%s/test_error_%d", t ? t : "/tmp", (int)getpid());
    snprintf(logs, sizeof logs, "%s/logs", dir);
    snprintf(reports, sizeof reports, "%s/reports", dir);
    mkdir(dir, 0777);
    mkdir(logs, 0777);
    mkdir(reports, 0777);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int before_each(void **state)
{
    (void)state;
    ptim_error_reset();
    ptim_error_sink_close();
    ptim_log_set_stderr_level(PTIM_LOG_ERROR);
    return 0;
}

static ptim_error make(ptim_err_category c, ptim_severity s, const char *msg)
{
    ptim_error e;
    ptim_error_set(&e, c, s, "%s", msg);
    return e;
}

static void test_messages_and_exit_status(void **state)
{
    (void)state;
    ptim_error e;
    assert_int_equal(ptim_error_set(&e, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot open %s", "a.mp4"), -1);
    assert_string_equal(e.message, "cannot open a.mp4");
    assert_int_equal(ptim_error_exit_status(&e), 1);
    ptim_error_prefix(&e, "source %d: ", 2);
    assert_string_equal(e.message, "source 2: cannot open a.mp4");
    assert_int_equal(ptim_error_mark_input(&e), -1);
    assert_int_equal(ptim_error_exit_status(&e), 2);
    ptim_error_set(&e, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "x");
    assert_int_equal(ptim_error_exit_status(&e), 2);
    ptim_error_clear(&e);
    assert_int_equal(ptim_error_exit_status(&e), 0);
    assert_int_equal(ptim_error_exit_status(NULL), 0);
    /* a prefix never overflows the sentence */
    char big[600];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ptim_error_set(&e, PTIM_ERR_IO, PTIM_SEV_LOW, "%s", big);
    ptim_error_prefix(&e, "%s", big);
    assert_int_equal(strlen(e.message), PTIM_ERROR_MESSAGE_MAX - 1);
    assert_string_equal(ptim_err_category_name(PTIM_ERR_INFERENCE), "inference");
    assert_string_equal(ptim_severity_name(PTIM_SEV_CRITICAL), "critical");
    assert_string_equal(ptim_recovery_name(PTIM_RECOVER_FALLBACK), "fallback");
}

static void test_policy_table(void **state)
{
    (void)state;
    /* every critical error aborts; config errors always abort */
    for (int c = 1; c < PTIM_ERR__COUNT; c++) {
        assert_int_equal(ptim_error_policy(c, PTIM_SEV_CRITICAL).action, PTIM_RECOVER_ABORT);
        for (int s = 0; s < PTIM_SEV__COUNT; s++) {
            ptim_policy p = ptim_error_policy(c, s);
            if (p.action == PTIM_RECOVER_RETRY)
                assert_true(p.attempts > 0 && p.then != PTIM_RECOVER_RETRY);
        }
    }
    for (int s = 0; s < PTIM_SEV__COUNT; s++)
        assert_int_equal(ptim_error_policy(PTIM_ERR_CONFIG, s).action, PTIM_RECOVER_ABORT);
    assert_int_equal(ptim_error_policy(PTIM_ERR_DECODE, PTIM_SEV_MEDIUM).action, PTIM_RECOVER_SKIP);
    assert_int_equal(ptim_error_policy(PTIM_ERR_MODEL, PTIM_SEV_HIGH).action, PTIM_RECOVER_FALLBACK);
    assert_int_equal(ptim_error_policy(PTIM_ERR_MEMORY, PTIM_SEV_LOW).action, PTIM_RECOVER_DEGRADE);
    assert_int_equal(ptim_error_policy(PTIM_ERR_DEVICE, PTIM_SEV_HIGH).action, PTIM_RECOVER_RESTART);
    /* out-of-range rows abort */
    assert_int_equal(ptim_error_policy(PTIM_ERR__COUNT, 0).action, PTIM_RECOVER_ABORT);
    ptim_error_policy_set(PTIM_ERR_DECODE, PTIM_SEV_LOW, (ptim_policy){PTIM_RECOVER_DEGRADE, 0, 0, 0});
    assert_int_equal(ptim_error_policy(PTIM_ERR_DECODE, PTIM_SEV_LOW).action, PTIM_RECOVER_DEGRADE);
    ptim_error_reset();
    assert_int_equal(ptim_error_policy(PTIM_ERR_DECODE, PTIM_SEV_LOW).action, PTIM_RECOVER_SKIP);
}

static void test_retry_backoff_then_escalate(void **state)
{
    (void)state;
    ptim_error_policy_set(PTIM_ERR_NETWORK, PTIM_SEV_MEDIUM,
                          (ptim_policy){PTIM_RECOVER_RETRY, 3, 100, PTIM_RECOVER_RESTART});
    ptim_error e = make(PTIM_ERR_NETWORK, PTIM_SEV_MEDIUM, "rtmp://x: connection refused");
    ptim_recovery_state rs = {0};
    int delay;
    assert_int_equal(ptim_error_handle("sink", &e, &rs, &delay), PTIM_RECOVER_RETRY);
    assert_int_equal(delay, 100);
    assert_int_equal(ptim_error_handle("sink", &e, &rs, &delay), PTIM_RECOVER_RETRY);
    assert_int_equal(delay, 200);
    assert_int_equal(ptim_error_handle("sink", &e, &rs, &delay), PTIM_RECOVER_RETRY);
    assert_int_equal(delay, 400);
    assert_int_equal(ptim_error_handle("sink", &e, &rs, &delay), PTIM_RECOVER_RESTART);
    assert_int_equal(delay, 0);
    ptim_error_resolved(&rs, 1);
    ptim_error_stats s;
    ptim_error_get_stats(&s);
    assert_int_equal(s.count[PTIM_ERR_NETWORK][PTIM_SEV_MEDIUM], 4);
    assert_int_equal(s.total, 4);
    assert_int_equal(s.by_action[PTIM_RECOVER_RETRY], 3);
    assert_int_equal(s.by_action[PTIM_RECOVER_RESTART], 1);
    assert_int_equal(s.recovery_attempts, 4);
    assert_int_equal(s.recoveries, 1);
    assert_int_equal(s.recovery_successes, 1);
    assert_true(s.recovery_rate == 1.0);
    /* backoff is capped at 10 s */
    ptim_error_policy_set(PTIM_ERR_IO, PTIM_SEV_LOW, (ptim_policy){PTIM_RECOVER_RETRY, 40, 1000, PTIM_RECOVER_SKIP});
    ptim_error io = make(PTIM_ERR_IO, PTIM_SEV_LOW, "slow disk");
    for (int i = 0; i < 10; i++)
        ptim_error_handle("io", &io, &rs, &delay);
    assert_int_equal(delay, 10000);
    ptim_error_resolved(&rs, 0);
}

static void test_statistics_and_rate(void **state)
{
    (void)state;
    ptim_error dec = make(PTIM_ERR_DECODE, PTIM_SEV_MEDIUM, "frame 12: invalid data");
    ptim_error inf = make(PTIM_ERR_INFERENCE, PTIM_SEV_HIGH, "detector: NaN output");
    ptim_error cfg = make(PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "bad key");
    for (int i = 0; i < 3; i++) { /* three frames skipped and recovered */
        ptim_recovery_state rs = {0};
        assert_int_equal(ptim_error_handle("decode", &dec, &rs, NULL), PTIM_RECOVER_SKIP);
        ptim_error_resolved(&rs, 1);
    }
    ptim_recovery_state rs = {0}; /* fallback that did not help, then abort */
    assert_int_equal(ptim_error_handle("detect", &inf, &rs, NULL), PTIM_RECOVER_FALLBACK);
    assert_int_equal(ptim_error_handle("detect", &cfg, &rs, NULL), PTIM_RECOVER_ABORT);
    assert_int_equal(ptim_error_handle("config", &cfg, NULL, NULL), PTIM_RECOVER_ABORT);
    /* a one-off error (no state) cannot retry: it takes the `then` action */
    ptim_error io = make(PTIM_ERR_IO, PTIM_SEV_LOW, "x");
    assert_int_equal(ptim_error_handle("io", &io, NULL, NULL), PTIM_RECOVER_SKIP);
    /* garbage in the error itself is counted as internal */
    ptim_error junk = {.category = (ptim_err_category)99, .severity = PTIM_SEV_LOW};
    assert_int_equal(ptim_error_handle(NULL, &junk, NULL, NULL), PTIM_RECOVER_ABORT);
    assert_int_equal(ptim_error_handle("x", NULL, NULL, NULL), PTIM_RECOVER_ABORT);
    ptim_error_stats s;
    ptim_error_get_stats(&s);
    assert_int_equal(s.total, 9);
    assert_int_equal(s.count[PTIM_ERR_DECODE][PTIM_SEV_MEDIUM], 3);
    assert_int_equal(s.count[PTIM_ERR_INFERENCE][PTIM_SEV_HIGH], 1);
    assert_int_equal(s.count[PTIM_ERR_CONFIG][PTIM_SEV_HIGH], 2);
    assert_int_equal(s.count[PTIM_ERR_INTERNAL][PTIM_SEV_HIGH], 2);
    assert_int_equal(s.recoveries, 4);
    assert_int_equal(s.recovery_successes, 3);
    assert_int_equal(s.recovery_failures, 1);
    assert_true(s.recovery_rate > 0.749 && s.recovery_rate < 0.751);
    assert_int_equal(s.recovery_attempts, 5); /* 3 skips + fallback + one-off skip */
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_errors_log_lines(void **state)
{
    (void)state;
    char path[4300];
    snprintf(path, sizeof path, "%s/errors.log", logs);
    unlink(path);
    ptim_error err;
    assert_int_equal(ptim_error_sink_open(logs, NULL, NULL, &err), 0);
    ptim_error e = make(PTIM_ERR_DECODE, PTIM_SEV_LOW, "packet 7: \"quoted\"\nnewline");
    ptim_recovery_state rs = {0};
    ptim_error_handle("decode", &e, &rs, NULL);
    ptim_error e2 = make(PTIM_ERR_NETWORK, PTIM_SEV_MEDIUM, "udp://x: timeout");
    ptim_error_handle("sink", &e2, &rs, NULL);
    ptim_error_sink_close();
    char *text = slurp(path);
    assert_non_null(text);
    int lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        cJSON *o = cJSON_Parse(line);
        assert_non_null(o);
        const char *want_cat = lines == 0 ? "decode" : "network";
        assert_string_equal(cJSON_GetObjectItem(o, "category")->valuestring, want_cat);
        assert_non_null(cJSON_GetObjectItem(o, "time"));
        assert_non_null(cJSON_GetObjectItem(o, "severity"));
        assert_non_null(cJSON_GetObjectItem(o, "action"));
        if (lines == 0)
            assert_string_equal(cJSON_GetObjectItem(o, "message")->valuestring, "packet 7: \"quoted\"\nnewline");
        else {
            assert_string_equal(cJSON_GetObjectItem(o, "action")->valuestring, "retry");
            assert_int_equal(cJSON_GetObjectItem(o, "delay_ms")->valueint, 200);
            assert_int_equal(cJSON_GetObjectItem(o, "attempt")->valueint, 2);
        }
        cJSON_Delete(o);
    }
    assert_int_equal(lines, 2);
    free(text);
}

static int count_reports(char *found, size_t size)
{
    DIR *d = opendir(reports);
    int n = 0;
    struct dirent *ent;
    while ((ent = readdir(d)))
        if (!strncmp(ent->d_name, "error_report_", 13)) {
            n++;
            snprintf(found, size, "%s/%s", reports, ent->d_name);
        }
    closedir(d);
    return n;
}

static void stage_stats(void *user, cJSON *o)
{
    cJSON_AddNumberToObject(o, "frames", *(int *)user);
    cJSON_AddStringToObject(o, "state", "decoding");
}

static void test_critical_report(void **state)
{
    (void)state;
    char found[4600];
    int before = count_reports(found, sizeof found);
    const char *sets[] = {"mask.mode=pixelate"};
    ptim_config_sources src = {.sets = sets, .set_count = 1};
    ptim_config_store *store;
    ptim_error err;
    assert_int_equal(ptim_config_store_new(&src, &store, &err), 0);
    assert_int_equal(ptim_error_sink_open(logs, reports, store, &err), 0);
    int frames = 42;
    ptim_error_register_stats("decode", stage_stats, &frames);
    ptim_histogram *h = ptim_histogram_get("test_error.detect");
    for (int i = 1; i <= 100; i++)
        ptim_histogram_record_ms(h, i);

    ptim_error first = make(PTIM_ERR_DECODE, PTIM_SEV_MEDIUM, "frame 3: invalid data");
    ptim_error_handle("decode", &first, NULL, NULL);
    ptim_error crit = make(PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "frame pool: cannot allocate 8294400 bytes");
    assert_int_equal(ptim_error_handle("render", &crit, NULL, NULL), PTIM_RECOVER_ABORT);
    assert_int_equal(count_reports(found, sizeof found), before + 1);
    ptim_error_stats s;
    ptim_error_get_stats(&s);
    assert_int_equal(s.reports_written, 1);

    char *text = slurp(found);
    cJSON *r = cJSON_Parse(text);
    assert_non_null(r);
    assert_string_equal(cJSON_GetObjectItem(r, "version")->valuestring, PTIM_VERSION);
    assert_string_equal(cJSON_GetObjectItem(r, "build_flags")->valuestring, PTIM_BUILD_FLAGS);
    cJSON *cpu = cJSON_GetObjectItem(r, "cpu");
    assert_true(cJSON_GetObjectItem(cpu, "cores")->valueint >= 1);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(cpu, "model")));
    cJSON *cfg = cJSON_GetObjectItem(r, "configuration");
    assert_int_equal(cJSON_GetArraySize(cfg), ptim_option_count);
    cJSON *mode = cJSON_GetObjectItem(cfg, "mask.mode");
    assert_string_equal(cJSON_GetObjectItem(mode, "value")->valuestring, "pixelate");
    assert_string_equal(cJSON_GetObjectItem(mode, "origin")->valuestring, "--set");
    cJSON *dec = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "stages"), "decode");
    assert_int_equal(cJSON_GetObjectItem(dec, "frames")->valueint, 42);
    cJSON *lat = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "latency_ms"), "test_error.detect");
    assert_int_equal(cJSON_GetObjectItem(lat, "count")->valueint, 100);
    double p50 = cJSON_GetObjectItem(lat, "p50")->valuedouble;
    assert_true(p50 > 48 && p50 < 53);
    cJSON *cause = cJSON_GetObjectItem(r, "error");
    assert_string_equal(cJSON_GetObjectItem(cause, "severity")->valuestring, "critical");
    assert_string_equal(cJSON_GetObjectItem(cause, "stage")->valuestring, "render");
    cJSON *chain = cJSON_GetObjectItem(r, "error_chain");
    assert_int_equal(cJSON_GetArraySize(chain), 2);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(chain, 0), "message")->valuestring,
                        "frame 3: invalid data");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(chain, 1), "category")->valuestring, "memory");
    cJSON *st = cJSON_GetObjectItem(r, "error_statistics");
    assert_int_equal(cJSON_GetObjectItem(st, "total")->valueint, 2);
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "count"), "memory"), "critical")->valueint, 1);
    cJSON_Delete(r);
    free(text);

    /* two reports in the same millisecond get distinct names */
    assert_int_equal(ptim_error_write_report(&crit, "x", NULL, 0, &err), 0);
    assert_int_equal(ptim_error_write_report(&crit, "x", NULL, 0, &err), 0);
    assert_int_equal(count_reports(found, sizeof found), before + 3);
    ptim_error_register_stats("decode", NULL, NULL);
    ptim_error_sink_close();
    ptim_config_store_free(store);

    /* without a reports directory nothing is written and nothing fails loudly */
    assert_int_equal(ptim_error_write_report(&crit, "x", NULL, 0, &err), -1);
    assert_string_equal(err.message, "");
}

static void test_sink_open_fails_clearly(void **state)
{
    (void)state;
    ptim_error err;
    assert_int_equal(ptim_error_sink_open("/nonexistent/dir/logs", NULL, NULL, &err), -1);
    assert_string_equal(err.message, "cannot open /nonexistent/dir/logs/errors.log: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_messages_and_exit_status, before_each),
        cmocka_unit_test_setup(test_policy_table, before_each),
        cmocka_unit_test_setup(test_retry_backoff_then_escalate, before_each),
        cmocka_unit_test_setup(test_statistics_and_rate, before_each),
        cmocka_unit_test_setup(test_errors_log_lines, before_each),
        cmocka_unit_test_setup(test_critical_report, before_each),
        cmocka_unit_test_setup(test_sink_open_fails_clearly, before_each),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
