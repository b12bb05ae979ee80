/* io/source and io/sink: what a name means (the rules users rely on). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/job.h"
#include "io/sink.h"
#include "io/source.h"

static void test_source_kinds(void **state)
{
    (void)state;
    assert_int_equal(io_source_kind_of("-"), IO_SOURCE_STDIN);
    assert_int_equal(io_source_kind_of("camera"), IO_SOURCE_CAMERA);
    assert_int_equal(io_source_kind_of("/dev/video2"), IO_SOURCE_CAMERA);
    assert_int_equal(io_source_kind_of("rtsp://cam.local/stream"), IO_SOURCE_URL);
    assert_int_equal(io_source_kind_of("udp://127.0.0.1:1234"), IO_SOURCE_URL);
    /* a sequence only when asked for with a %d pattern; globs are app/job's */
    assert_int_equal(io_source_kind_of("shots/img_%04d.jpg"), IO_SOURCE_IMAGES);
    assert_int_equal(io_source_kind_of("shots/*.mp4"), IO_SOURCE_FILE);
    assert_int_equal(io_source_kind_of(getenv("PTIM_SAMPLES_DIR")), IO_SOURCE_IMAGES); /* a directory */
    assert_int_equal(io_source_kind_of("face.PNG"), IO_SOURCE_IMAGE);
    assert_int_equal(io_source_kind_of("clip.mp4"), IO_SOURCE_FILE);
}

static void test_sink_kinds(void **state)
{
    (void)state;
    assert_int_equal(io_sink_kind_of("null"), IO_SINK_NULL);
    assert_int_equal(io_sink_kind_of("-"), IO_SINK_STDOUT);
    assert_int_equal(io_sink_kind_of("v4l2:/dev/video9"), IO_SINK_V4L2);
    assert_int_equal(io_sink_kind_of("udp://127.0.0.1:5000"), IO_SINK_NETWORK);
    assert_int_equal(io_sink_kind_of("rtmp://live/app/key"), IO_SINK_NETWORK);
    assert_int_equal(io_sink_kind_of("srt://host:9000"), IO_SINK_NETWORK);
    assert_int_equal(io_sink_kind_of("out.jpg"), IO_SINK_IMAGE);
    assert_int_equal(io_sink_kind_of("out_%06d.png"), IO_SINK_IMAGES);
    assert_int_equal(io_sink_kind_of("out.webm"), IO_SINK_FILE);
}

static void test_default_output_names(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(ptim_job_default_output("dir/clip.mp4", out, sizeof out), 0);
    assert_string_equal(out, "dir/clip_masked.mp4");
    assert_int_equal(ptim_job_default_output("a.b/noext", out, sizeof out), 0);
    assert_string_equal(out, "a.b/noext_masked.mp4");
    assert_int_equal(ptim_job_default_output(".hidden", out, sizeof out), 0);
    assert_string_equal(out, ".hidden_masked.mp4");
    assert_int_equal(ptim_job_default_output("x.tar.mkv", out, sizeof out), 0);
    assert_string_equal(out, "x.tar_masked.mkv");
    assert_int_equal(ptim_job_default_output("long-name.mp4", out, 8), -1);
}

static void test_aliases_become_sets(void **state)
{
    (void)state;
    char *argv[] = {"mask", "--mode", "pixelate", "in.mp4", "--identity", "me.jpg", "--voice", "pitch", NULL};
    ptim_job_args a;
    ptim_error err;
    assert_int_equal(ptim_job_rewrite_aliases(8, argv, &a, &err), 0);
    const char *want[] = {"mask", "--set", "mask.mode=pixelate", "in.mp4", "--set", "mask.mode=swap",
                          "--set", "swap.identity=me.jpg", "--set", "audio.voice=pitch"};
    assert_int_equal(a.argc, 10);
    for (int i = 0; i < 10; i++)
        assert_string_equal(a.argv[i], want[i]);
    ptim_job_args_free(&a);
    char *bad[] = {"mask", "--mode", NULL};
    assert_int_equal(ptim_job_rewrite_aliases(2, bad, &a, &err), -1);
    assert_non_null(strstr(err.message, "--mode"));
    ptim_job_args_free(&a);
}

static void test_mask_arguments(void **state)
{
    (void)state;
    ptim_job job;
    ptim_error err;
    char *ok[] = {"mask", "a.mp4", "b.mp4", "-o", "outdir/", "--no-audio", "--audit", "x.jsonl", NULL};
    assert_int_equal(ptim_job_parse_mask(8, ok, &job, &err), 0);
    assert_int_equal(job.input_count, 2);
    assert_true(job.no_audio);
    assert_string_equal(job.audit, "x.jsonl");
    ptim_job_free(&job);
    char *several[] = {"mask", "a.mp4", "b.mp4", "-o", "single.mp4", NULL};
    assert_int_equal(ptim_job_parse_mask(5, several, &job, &err), 0);
    assert_int_equal(ptim_job_expand(&job, &err), -1); /* several inputs need a directory */
    assert_non_null(strstr(err.message, "directory"));
    ptim_job_free(&job);
    char *unknown[] = {"mask", "a.mp4", "--frobnicate", NULL};
    assert_int_equal(ptim_job_parse_mask(3, unknown, &job, &err), -1);
    assert_non_null(strstr(err.message, "--frobnicate"));
    ptim_job_free(&job);
    char *none[] = {"mask", NULL};
    assert_int_equal(ptim_job_parse_mask(1, none, &job, &err), -1);
    ptim_job_free(&job);
    char *run[] = {"run", "PlayaTewsIdentityMasker", "-i", "camera", "-o", "null", NULL};
    assert_int_equal(ptim_job_parse_run(6, run, &job, &err), 0);
    assert_int_equal(ptim_job_expand_run(&job, "", "", &err), 0);
    assert_string_equal(job.items[0].input, "camera");
    assert_string_equal(job.items[0].output, "null");
    ptim_job_free(&job);
    char *noout[] = {"run", NULL};
    assert_int_equal(ptim_job_parse_run(1, noout, &job, &err), 0);
    assert_int_equal(ptim_job_expand_run(&job, "", "", &err), -1); /* no output anywhere */
    assert_non_null(strstr(err.message, "output.target"));
    ptim_job_free(&job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_kinds),
        cmocka_unit_test(test_sink_kinds),
        cmocka_unit_test(test_default_output_names),
        cmocka_unit_test(test_aliases_become_sets),
        cmocka_unit_test(test_mask_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
