/* core/config store: atomic snapshots, hot reload through inotify, invalid
 * edits keep the old settings, non-live keys need a restart, live changes,
 * and readers on other threads during reloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"

static char dir[4096], ini[4200];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Save the way editors do: write a temporary file, rename it over. */
static void save_by_rename(const char *text)
{
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s/.config.ini.swp", dir);
    write_file(tmp, text);
    assert_int_equal(rename(tmp, ini), 0);
}

/* Poll between "frames" until the store reacts (inotify is asynchronous). */
static int poll_until(ptim_config_store *s, ptim_config_changes *ch, ptim_error *err)
{
    for (int i = 0; i < 400; i++) {
        int rc = ptim_config_store_poll(s, ch, err);
        if (rc)
            return rc;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

static int setup(void **state)
{
    (void)state;
    const char *t = getenv("PTIM_TEST_TMP");
    snprintf(dir, sizeof dir, "%s/test_config_reload_%d", t ? t : "/tmp", (int)getpid());
    mkdir(dir, 0777);
    snprintf(ini, sizeof ini, "%s/config.ini", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(ini);
    rmdir(dir);
    return 0;
}

static ptim_config_store *open_store(const char *text)
{
    write_file(ini, text);
    ptim_config_sources src = {.file = ini, .file_required = true};
    ptim_config_store *s;
    ptim_error err;
    assert_int_equal(ptim_config_store_new(&src, &s, &err), 0);
    assert_true(ptim_config_store_watch(s, &err) >= 0);
    return s;
}

static void test_reload_live_and_restart_keys(void **state)
{
    (void)state;
    ptim_config_store *s = open_store("[detector]\nthreshold = 0.5\n[performance]\nmax_processing_workers = 2\n");
    ptim_config *before = ptim_config_store_acquire(s);
    ptim_config_changes ch;
    ptim_error err;
    assert_int_equal(ptim_config_store_poll(s, &ch, &err), 0); /* nothing yet */

    write_file(ini, "[detector]\nthreshold = 0.8\n[performance]\nmax_processing_workers = 6\n");
    assert_int_equal(poll_until(s, &ch, &err), 1);
    assert_int_equal(ch.count, 2);
    assert_int_equal(ch.restart_count, 1);
    for (int i = 0; i < ch.count; i++) {
        if (!strcmp(ch.keys[i], "detector.threshold"))
            assert_false(ch.needs_restart[i]);
        else {
            assert_string_equal(ch.keys[i], "performance.max_processing_workers");
            assert_true(ch.needs_restart[i]);
        }
    }
    ptim_config *after = ptim_config_store_acquire(s);
    assert_true(ptim_config_float(after, "detector.threshold") == 0.8);
    /* not live: the running value stays until restart */
    assert_int_equal(ptim_config_int(after, "performance.max_processing_workers"), 2);
    /* the old snapshot a reader still holds is untouched */
    assert_true(ptim_config_float(before, "detector.threshold") == 0.5);
    assert_int_equal(ptim_config_store_generation(s), 2);
    ptim_config_release(before);
    ptim_config_release(after);
    ptim_config_store_free(s);
}

static void test_invalid_edit_keeps_old(void **state)
{
    (void)state;
    ptim_config_store *s = open_store("[mask]\nmode = pixelate\n");
    ptim_config_changes ch;
    ptim_error err;
    save_by_rename("[mask]\nmode = pixelate\n[detector]\nthreshold = 1.7\n");
    assert_int_equal(poll_until(s, &ch, &err), -1);
    char msg[5000];
    snprintf(msg, sizeof msg, "%s:4: detector.threshold = 1.7 is out of range [0.01, 1]", ini);
    assert_string_equal(err.message, msg);
    ptim_config *c = ptim_config_store_acquire(s);
    assert_true(ptim_config_float(c, "detector.threshold") == 0.5);
    assert_string_equal(ptim_config_str(c, "mask.mode"), "pixelate");
    ptim_config_release(c);
    assert_int_equal(ptim_config_store_generation(s), 1);

    save_by_rename("[mask]\nmode = pixelate\nbroken line\n");
    assert_int_equal(poll_until(s, &ch, &err), -1);
    snprintf(msg, sizeof msg, "%s:3: malformed line (expected name = value or [section])", ini);
    assert_string_equal(err.message, msg);

    /* then a good edit goes through (saved by rename, as editors do) */
    save_by_rename("[mask]\nmode = solid\n");
    assert_int_equal(poll_until(s, &ch, &err), 1);
    c = ptim_config_store_acquire(s);
    assert_string_equal(ptim_config_str(c, "mask.mode"), "solid");
    ptim_config_release(c);

    /* deleting a required --config file is an invalid edit too */
    unlink(ini);
    assert_int_equal(poll_until(s, &ch, &err), -1);
    assert_non_null(strstr(err.message, "cannot read config file"));
    c = ptim_config_store_acquire(s);
    assert_string_equal(ptim_config_str(c, "mask.mode"), "solid");
    ptim_config_release(c);
    ptim_config_store_free(s);
}

static void test_optional_file_created_later(void **state)
{
    (void)state;
    unlink(ini);
    ptim_config_sources src = {.file = ini};
    ptim_config_store *s;
    ptim_error err;
    assert_int_equal(ptim_config_store_new(&src, &s, &err), 0);
    assert_true(ptim_config_store_watch(s, &err) >= 0);
    write_file(ini, "[track]\nhold_ms = 250\n");
    ptim_config_changes ch;
    assert_int_equal(poll_until(s, &ch, &err), 1);
    ptim_config *c = ptim_config_store_acquire(s);
    assert_int_equal(ptim_config_int(c, "track.hold_ms"), 250);
    ptim_config_release(c);
    ptim_config_store_free(s);
}

static void test_hot_reload_disabled(void **state)
{
    (void)state;
    write_file(ini, "[system]\nenable_hot_reload = false\n");
    ptim_config_sources src = {.file = ini};
    ptim_config_store *s;
    ptim_error err;
    assert_int_equal(ptim_config_store_new(&src, &s, &err), 0);
    assert_int_equal(ptim_config_store_watch(s, &err), -1);
    write_file(ini, "[system]\nenable_hot_reload = false\n[mask]\nmode = solid\n");
    ptim_config_changes ch;
    assert_int_equal(ptim_config_store_poll(s, &ch, &err), 0);
    ptim_config_store_free(s);
}

static void test_live_set(void **state)
{
    (void)state;
    char *env[] = {"PTIM_DETECTOR_THRESHOLD=0.6", NULL};
    ptim_config_sources src = {.environ = env};
    ptim_config_store *s;
    ptim_error err;
    ptim_config_changes ch;
    assert_int_equal(ptim_config_store_new(&src, &s, &err), 0);
    assert_int_equal(ptim_config_store_set(s, "detector.threshold", "0.9", &ch, &err), 1);
    assert_int_equal(ch.count, 1);
    ptim_config *c = ptim_config_store_acquire(s);
    assert_true(ptim_config_float(c, "detector.threshold") == 0.9);
    assert_int_equal(ptim_config_source_of(c, ptim_option_index("detector.threshold")), PTIM_CONFIG_LIVE);
    ptim_config_release(c);
    assert_int_equal(ptim_config_store_set(s, "detector.threshold", "0.9", &ch, &err), 0);
    assert_int_equal(ptim_config_store_set(s, "detector.threshold", "2", &ch, &err), -1);
    assert_string_equal(err.message, "live change detector.threshold='2' is out of range [0.01, 1]");
    assert_int_equal(ptim_config_store_set(s, "performance.max_processing_workers", "3", &ch, &err), -1);
    assert_string_equal(err.message,
                        "live change: performance.max_processing_workers cannot change while running; it needs a restart");
    assert_int_equal(ptim_config_store_set(s, "detector.treshold", "3", &ch, &err), -1);
    assert_string_equal(err.message, "live change: unknown key detector.treshold (did you mean detector.threshold?)");
    /* live changes survive a reload */
    assert_int_equal(ptim_config_store_reload(s, &ch, &err), 0);
    c = ptim_config_store_acquire(s);
    assert_true(ptim_config_float(c, "detector.threshold") == 0.9);
    ptim_config_release(c);
    ptim_config_store_free(s);
}

/* Readers on four threads acquire, check the snapshot is self-consistent
 * (two keys always written together), and release, while the main thread
 * rewrites the file and polls. */
static atomic_bool stop;
static atomic_long reads;
static void *reader(void *arg)
{
    ptim_config_store *s = arg;
    while (!atomic_load(&stop)) {
        ptim_config *c = ptim_config_store_acquire(s);
        int64_t hold = ptim_config_int(c, "track.hold_ms");
        int64_t fps = ptim_config_int(c, "track.detect_interval"); /* a live key */
        if (hold != fps * 10) {
            fprintf(stderr, "torn snapshot: hold %lld fps %lld\n", (long long)hold, (long long)fps);
            abort();
        }
        ptim_config_release(c);
        atomic_fetch_add(&reads, 1);
    }
    return NULL;
}

/* An API thread making live changes while the main thread reloads. */
static atomic_long live_sets;
static void *live_changer(void *arg)
{
    ptim_config_store *s = arg;
    ptim_error err;
    for (int i = 0; !atomic_load(&stop); i++) {
        char v[16];
        snprintf(v, sizeof v, "0.%d", 1 + i % 9);
        if (ptim_config_store_set(s, "detector.threshold", v, NULL, &err) < 0)
            abort();
        atomic_fetch_add(&live_sets, 1);
    }
    return NULL;
}

static void test_concurrent_readers(void **state)
{
    (void)state;
    ptim_config_store *s = open_store("[track]\nhold_ms = 10\ndetect_interval = 1\n");
    pthread_t th[5];
    atomic_store(&stop, false);
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, reader, s);
    pthread_create(&th[4], NULL, live_changer, s);
    ptim_config_changes ch;
    ptim_error err;
    int swaps = 0;
    for (int v = 2; v <= 60; v++) {
        char text[128];
        snprintf(text, sizeof text, "[track]\nhold_ms = %d\ndetect_interval = %d\n", v * 10, v);
        save_by_rename(text);
        if (poll_until(s, &ch, &err) == 1)
            swaps++;
        /* an invalid edit in between changes nothing */
        if (v % 10 == 0) {
            save_by_rename("[track]\nhold_ms = -5\n");
            assert_int_equal(poll_until(s, &ch, &err), -1);
        }
    }
    atomic_store(&stop, true);
    for (int i = 0; i < 5; i++)
        pthread_join(th[i], NULL);
    assert_true(atomic_load(&live_sets) > 0);
    assert_true(swaps >= 50); /* inotify may coalesce, but edits are seen */
    assert_true(atomic_load(&reads) > 100);
    ptim_config *c = ptim_config_store_acquire(s);
    assert_int_equal(ptim_config_int(c, "track.detect_interval"), 60);
    ptim_config_release(c);
    ptim_config_store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reload_live_and_restart_keys),
        cmocka_unit_test(test_invalid_edit_keeps_old),
        cmocka_unit_test(test_optional_file_created_later),
        cmocka_unit_test(test_hot_reload_disabled),
        cmocka_unit_test(test_live_set),
        cmocka_unit_test(test_concurrent_readers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
