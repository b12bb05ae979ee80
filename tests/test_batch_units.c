/* batch/: output keys, manifest lines, shards, duplicate and colliding
 * inputs, sidecar records (round trip, what invalidates them), fingerprints,
 * the settings digest, and the output lock between processes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch/lock.h"
#include "batch/manifest.h"
#include "batch/sidecar.h"

static char *key_of(const char *path)
{
    static char buf[4200];
    if (batch_output_key(path, buf, sizeof buf) < 0)
        return NULL;
    return buf;
}

static void test_output_keys(void **state)
{
    (void)state;
    assert_string_equal(key_of("clips/a.mp4"), "clips/a.mp4");
    assert_string_equal(key_of("./clips//a.mp4"), "clips/a.mp4");
    assert_string_equal(key_of("/data/cam1/b.avi"), "data/cam1/b.avi");
    assert_string_equal(key_of("../up/c.mkv"), "__parent__/up/c.mkv");
    assert_string_equal(key_of("a/../../b.mp4"), "a/__parent__/__parent__/b.mp4");
    assert_string_equal(key_of("https://cdn.example/v/x.mp4?token=1"), "url/cdn.example/v/x.mp4");
    assert_string_equal(key_of("rtsp://cam.local/stream"), "url/cam.local/stream.mp4");
    assert_string_equal(key_of("rtsp://cam.local"), "url/cam.local.mp4");
    assert_null(key_of("/"));
    assert_null(key_of("."));
    char small[8];
    assert_int_equal(batch_output_key("abcdefgh/ijk.mp4", small, sizeof small), -1);
}

static int collect(void *ctx, const char *entry, ptim_error *err)
{
    (void)err;
    char *out = ctx;
    strcat(out, entry);
    strcat(out, "|");
    return 0;
}

static void test_manifest_lines(void **state)
{
    (void)state;
    const char text[] = "# archive\n\n  a.mp4  \r\nb dir/c.avi\n\t# indented comment\nlast.mp4";
    char out[256] = "";
    ptim_error err = {0};
    assert_int_equal(batch_manifest_lines(text, sizeof text - 1, "m.txt", collect, out, &err), 0);
    assert_string_equal(out, "a.mp4|b dir/c.avi|last.mp4|");
    const char nul[] = "ok.mp4\nbad\0line\n";
    out[0] = 0;
    assert_int_equal(batch_manifest_lines(nul, sizeof nul - 1, "m.txt", collect, out, &err), -1);
    assert_non_null(strstr(err.message, "m.txt:2"));
    char *longline = malloc(5000);
    memset(longline, 'x', 5000);
    assert_int_equal(batch_manifest_lines(longline, 5000, "m.txt", collect, out, &err), -1);
    assert_non_null(strstr(err.message, "m.txt:1"));
    free(longline);
}

static void test_shards_partition(void **state)
{
    (void)state;
    enum { N = 4, INPUTS = 400 };
    int seen[INPUTS] = {0}, per[N] = {0};
    for (int s = 0; s < N; s++) {
        batch_plan plan = {0};
        ptim_error err = {0};
        for (int i = 0; i < INPUTS; i++) {
            char name[64];
            snprintf(name, sizeof name, "/no/such/dir/clip%03d.mp4", i);
            assert_int_equal(batch_plan_add_entry(&plan, name, NULL, &err), 0);
        }
        assert_int_equal(batch_plan_check(&plan, &err), 0);
        batch_plan_shard(&plan, s, N);
        per[s] = plan.count;
        for (int i = 0; i < plan.count; i++)
            seen[atoi(strstr(plan.items[i].path, "clip") + 4)]++;
        batch_plan_free(&plan);
    }
    for (int i = 0; i < INPUTS; i++)
        assert_int_equal(seen[i], 1); /* every input in exactly one shard */
    for (int s = 0; s < N; s++)   /* and about a quarter each */
        assert_in_range(per[s], INPUTS / N * 7 / 10, INPUTS / N * 13 / 10);
    int i, n;
    ptim_error err = {0};
    assert_int_equal(batch_parse_shard("2/3", &i, &n, &err), 0);
    assert_int_equal(i * 10 + n, 23);
    assert_int_equal(batch_parse_shard("3/3", &i, &n, &err), -1);
    assert_int_equal(batch_parse_shard("-1/3", &i, &n, &err), -1);
    assert_int_equal(batch_parse_shard("1", &i, &n, &err), -1);
    assert_int_equal(batch_parse_shard("1/3x", &i, &n, &err), -1);
}

static void test_duplicates_and_collisions(void **state)
{
    (void)state;
    batch_plan plan = {0};
    ptim_error err = {0};
    assert_int_equal(batch_plan_add_entry(&plan, "x/a.mp4", NULL, &err), 0);
    assert_int_equal(batch_plan_add_entry(&plan, "x/b.mp4", NULL, &err), 0);
    assert_int_equal(batch_plan_add_entry(&plan, "x/a.mp4", NULL, &err), 0);
    assert_int_equal(batch_plan_add_entry(&plan, "x/a.mp4", NULL, &err), 0);
    assert_int_equal(batch_plan_check(&plan, &err), 0);
    assert_int_equal(plan.count, 2); /* the repeats are one input, order kept */
    assert_string_equal(plan.items[0].path, "x/a.mp4");
    assert_string_equal(plan.items[1].path, "x/b.mp4");
    /* Different inputs on one key are refused, naming both. */
    assert_int_equal(batch_plan_add_entry(&plan, "./x/a.mp4", NULL, &err), 0);
    assert_int_equal(batch_plan_check(&plan, &err), -1);
    assert_non_null(strstr(err.message, "./x/a.mp4"));
    batch_plan_free(&plan);
}

static const char *tmpdir(void)
{
    static char dir[4096];
    if (!dir[0]) {
        const char *base = getenv("PTIM_TEST_TMP") ? getenv("PTIM_TEST_TMP") : "/tmp";
        snprintf(dir, sizeof dir, "%s/batch_units.XXXXXX", base);
        assert_non_null(mkdtemp(dir));
    }
    return dir;
}

static void write_file(const char *path, size_t size, unsigned char fill)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < size; i++)
        fputc((int)((fill + i * 7) & 0xff), f);
    fclose(f);
}

static void test_fingerprint(void **state)
{
    (void)state;
    char path[4200];
    snprintf(path, sizeof path, "%s/in.bin", tmpdir());
    write_file(path, 3 << 20, 1); /* 3 MiB: the middle MiB is not read */
    batch_fingerprint a, b;
    ptim_error err = {0};
    assert_int_equal(batch_fingerprint_input(path, false, &a, &err), 0);
    assert_int_equal(a.size, 3 << 20);
    assert_int_equal(strlen(a.checksum), 64);
    /* a byte changed in the last MiB changes the checksum */
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "Z", 1, (3 << 20) - 10), 1);
    close(fd);
    assert_int_equal(batch_fingerprint_input(path, false, &b, &err), 0);
    assert_string_not_equal(a.checksum, b.checksum);
    snprintf(path, sizeof path, "%s/none.bin", tmpdir());
    assert_int_equal(batch_fingerprint_input(path, false, &b, &err), -1);
    assert_non_null(strstr(err.message, "none.bin"));
    assert_int_equal(batch_fingerprint_input("http://h/x.mp4", true, &b, &err), 0);
    assert_int_equal(b.size, -1);
}

static void digest_of(const char *const *sets, int n, char out[65])
{
    ptim_config *cfg = NULL;
    ptim_error err = {0};
    assert_int_equal(ptim_config_new(sets, n, &cfg, &err), 0);
    assert_int_equal(batch_settings_digest(cfg, out, &err), 0);
    ptim_config_release(cfg);
}

static void test_settings_digest(void **state)
{
    (void)state;
    char base[65], d[65];
    digest_of(NULL, 0, base);
    const char *cosmetic[] = {"system.log_level=debug", "performance.max_processing_workers=1",
                              "performance.frame_buffer_size=9", "output.write_retries=7"};
    digest_of(cosmetic, 4, d);
    assert_string_equal(base, d);
    const char *same[] = {"mask.mode=blur"}; /* the default, written out */
    digest_of(same, 1, d);
    assert_string_equal(base, d);
    const char *pixel[][1] = {{"mask.mode=pixelate"}, {"detector.threshold=0.6"}, {"output.crf=30"},
                              {"track.hold_ms=500"}, {"privacy.on_failure=black_frame"}};
    for (size_t i = 0; i < sizeof pixel / sizeof pixel[0]; i++) {
        digest_of(pixel[i], 1, d);
        assert_string_not_equal(base, d);
    }
    assert_true(batch_setting_is_cosmetic("system.log_level"));
    assert_true(batch_setting_is_cosmetic("source.reconnect_attempts"));
    assert_false(batch_setting_is_cosmetic("mask.scale"));
    assert_false(batch_setting_is_cosmetic("source.loop"));
}

static void test_sidecar_round_trip(void **state)
{
    (void)state;
    char out[4200], side[4300];
    snprintf(out, sizeof out, "%s/o.mp4", tmpdir());
    snprintf(side, sizeof side, "%s%s", out, BATCH_SIDECAR_SUFFIX);
    write_file(out, 1234, 3);
    batch_record rec = {0}, back;
    rec.done = true;
    snprintf(rec.input, sizeof rec.input, "in/a.mp4");
    rec.fp.size = 99;
    rec.fp.mtime_ns = 1796234960497725701ll; /* more digits than a double keeps */
    snprintf(rec.fp.checksum, sizeof rec.fp.checksum, "%064d", 7);
    snprintf(rec.version, sizeof rec.version, "%s", PTIM_VERSION);
    snprintf(rec.digest, sizeof rec.digest, "abc");
    rec.frames = 50, rec.faces = 12, rec.frames_covered = 2, rec.covered_by_reason[2] = 2;
    rec.verify = BATCH_VERIFY_CLEAN, rec.verify_frames_checked = 50;
    rec.output_size = 1234;
    ptim_error err = {0};
    assert_int_equal(batch_sidecar_write(side, &rec, NULL, &err), 0);
    assert_int_equal(batch_sidecar_read(side, &back, &err), 0);
    assert_int_equal(back.fp.mtime_ns, rec.fp.mtime_ns);
    assert_int_equal(back.frames, 50);
    assert_int_equal(back.covered_by_reason[2], 2);
    assert_int_equal(back.verify, BATCH_VERIFY_CLEAN);
    char why[128];
    assert_true(batch_sidecar_matches(&back, &rec.fp, "abc", out, true, why, sizeof why));
    assert_false(batch_sidecar_matches(&back, &rec.fp, "abd", out, false, why, sizeof why));
    assert_non_null(strstr(why, "settings"));
    batch_fingerprint other = rec.fp;
    other.mtime_ns++;
    assert_false(batch_sidecar_matches(&back, &other, "abc", out, false, why, sizeof why));
    write_file(out, 1000, 3); /* an output of another size */
    assert_false(batch_sidecar_matches(&back, &rec.fp, "abc", out, false, why, sizeof why));
    back.done = false;
    assert_false(batch_sidecar_matches(&back, &rec.fp, "abc", out, false, why, sizeof why));
    /* not a record */
    assert_int_equal(batch_sidecar_parse("{\"a\":1}", 7, &back, &err), -1);
    assert_int_equal(batch_sidecar_parse("[", 1, &back, &err), -1);
    char partial[4400];
    snprintf(partial, sizeof partial, "%s.partial", side);
    assert_int_equal(access(partial, F_OK), -1);
}

static void test_lock_between_processes(void **state)
{
    (void)state;
    char out[4200];
    snprintf(out, sizeof out, "%s/locked.mp4", tmpdir());
    batch_lock a, b;
    ptim_error err = {0};
    assert_int_equal(batch_lock_take(out, false, &a, &err), 1);
    pid_t pid = fork();
    if (pid == 0) { /* another process: busy while the parent holds it */
        batch_lock c;
        ptim_error e = {0};
        _exit(batch_lock_take(out, false, &c, &e) == 0 ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    batch_lock_release(&a);
    assert_int_equal(access(a.path, F_OK), -1); /* nothing left behind */
    assert_int_equal(batch_lock_take(out, false, &b, &err), 1);
    batch_lock_release(&b);
    batch_lock_release(&b); /* twice is harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_keys),
        cmocka_unit_test(test_manifest_lines),
        cmocka_unit_test(test_shards_partition),
        cmocka_unit_test(test_duplicates_and_collisions),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_settings_digest),
        cmocka_unit_test(test_sidecar_round_trip),
        cmocka_unit_test(test_lock_between_processes),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[4200];
    if (snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir()) < (int)sizeof cmd && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir());
    return failed;
}
