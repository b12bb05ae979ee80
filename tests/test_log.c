/* core/log: levels, the log file, one line per message from many threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

static char path[4096];

static char *slurp(void)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 22);
    size_t n = fread(buf, 1, (1 << 22) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static int setup(void **state)
{
    (void)state;
    const char *t = getenv("PTIM_TEST_TMP");
    snprintf(path, sizeof path, "%s/test_log_%d.log", t ? t : "/tmp", (int)getpid());
    unlink(path);
    ptim_log_set_stderr_level(PTIM_LOG_ERROR);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ptim_log_close();
    unlink(path);
    return 0;
}

static void test_levels_and_file(void **state)
{
    (void)state;
    ptim_error err;
    assert_int_equal(ptim_log_open(path, &err), 0);
    ptim_log_set_file_level(PTIM_LOG_INFO);
    ptim_log_set_stderr_level(PTIM_LOG_ERROR - 1 < 0 ? PTIM_LOG_ERROR : PTIM_LOG_ERROR);
    ptim_log_debug("test", "hidden %d", 1);
    ptim_log_info("test", "shown %d", 2);
    ptim_log_warn("test", "careful\nsecond line");
    assert_false(ptim_log_enabled(PTIM_LOG_DEBUG));
    assert_true(ptim_log_enabled(PTIM_LOG_INFO));
    ptim_log_set_file_level(PTIM_LOG_DEBUG);
    ptim_log_debug("test", "now shown");
    ptim_log_close();
    ptim_log_info("test", "after close"); /* no file: goes nowhere, no crash */
    char *text = slurp();
    assert_null(strstr(text, "hidden"));
    assert_non_null(strstr(text, "info  [test] shown 2\n"));
    assert_non_null(strstr(text, "warn  [test] careful second line\n"));
    assert_non_null(strstr(text, "debug [test] now shown\n"));
    assert_null(strstr(text, "after close"));
    assert_true(text[4] == '-' && strstr(text, "Z info"));
    free(text);
    assert_int_equal(ptim_log_level_parse("DEBUG"), PTIM_LOG_DEBUG);
    assert_int_equal(ptim_log_level_parse("loud"), -1);
    assert_string_equal(ptim_log_level_name(PTIM_LOG_WARN), "warn");
    assert_int_equal(ptim_log_open("/nonexistent/x/ptim.log", &err), -1);
    assert_string_equal(err.message, "cannot open log file /nonexistent/x/ptim.log: No such file or directory");
}

static void *writer(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < 2000; i++)
        ptim_log_info("thread", "writer %ld line %d %s", id, i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    return NULL;
}

static void test_threads_whole_lines(void **state)
{
    (void)state;
    unlink(path);
    ptim_error err;
    assert_int_equal(ptim_log_open(path, &err), 0);
    ptim_log_set_file_level(PTIM_LOG_INFO);
    pthread_t th[4];
    for (long i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, writer, (void *)i);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    ptim_log_close();
    char *text = slurp();
    int lines = 0;
    for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n"), lines++)
        assert_non_null(strstr(l, "[thread] writer ") && strstr(l, " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx") ? l : NULL);
    assert_int_equal(lines, 8000);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_and_file),
        cmocka_unit_test(test_threads_whole_lines),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
