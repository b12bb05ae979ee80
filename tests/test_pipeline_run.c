/* pipeline/pipeline through its C interface on a generated clip: offline
 * keeps every frame and its time, the guard decides every frame (covered
 * while face analysis or masking is unavailable), policies and live mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/pipeline.h"

static char clip[4200], tmp[4000];

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "%.3900s", getenv("PTIM_TEST_TMP") ? getenv("PTIM_TEST_TMP") : "/tmp");
    snprintf(clip, sizeof clip, "%s/pipeline_run_src.mkv", tmp);
    char cmd[9000];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -v error -y -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine=f=440:r=48000 "
             "-t 2 -c:v libx264 -preset ultrafast -c:a aac '%s'", clip);
    return system(cmd) == 0 ? 0 : -1;
}

/* The real detector without tiling and landmarks (a tenth of the cost):
 * these checks are about the pipeline, not about finding faces. */
static ptim_config *config(const char *a, const char *b)
{
    const char *o[4] = {"detector.tiles=off", "landmarks.enabled=false", NULL, NULL};
    int n = 2;
    if (a)
        o[n++] = a;
    if (b)
        o[n++] = b;
    ptim_config *cfg = NULL;
    ptim_error err;
    assert_int_equal(ptim_config_new(o, n, &cfg, &err), 0);
    return cfg;
}

static int run(const char *out, ptim_config *cfg, bool live, ptim_pipeline_result *res)
{
    ptim_pipeline_desc d = {.input = clip, .output = out, .cfg = cfg, .live = live, .audio = true};
    return ptim_pipeline_run(&d, res);
}

static void test_offline_every_frame_decided(void **state)
{
    (void)state;
    ptim_config *cfg = config(NULL, NULL);
    ptim_pipeline_result *res = calloc(1, sizeof *res);
    char out[4200];
    snprintf(out, sizeof out, "%s/pipeline_run_out.mp4", tmp);
    assert_int_equal(run(out, cfg, false, res), 0);
    const ptim_pipeline_stats *s = &res->stats;
    assert_int_equal(s->frames_in, 50);
    assert_int_equal(s->frames_out, 50);
    assert_int_equal(s->frames_masked + s->frames_covered, 50); /* every frame decided */
    assert_int_equal(s->frames_passthrough, 0);
    assert_int_equal(s->frames_dropped_live + s->frames_dropped_rate, 0); /* offline never drops */
    assert_int_equal(res->stats.stage[PTIM_STAGE_SINK].count, 50);
    assert_true(access(out, F_OK) == 0);
    char partial[4300];
    snprintf(partial, sizeof partial, "%s.partial", out);
    assert_true(access(partial, F_OK) != 0);
    /* stats as JSON */
    char js[4300];
    snprintf(js, sizeof js, "%s/pipeline_run.json", tmp);
    FILE *f = fopen(js, "w");
    ptim_pipeline_desc d = {.input = clip, .output = out};
    ptim_pipeline_write_stats_json(f, &d, res);
    fclose(f);
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "python3 -c \"import json,sys; d=json.load(open('%s')); sys.exit(d['frames']['out']!=50)\"", js);
    assert_int_equal(system(cmd), 0);
    free(res);
    ptim_config_release(cfg);
}

static void test_drop_policy_and_black(void **state)
{
    (void)state;
    ptim_pipeline_result *res = calloc(1, sizeof *res);
    ptim_config *cfg = config("privacy.on_failure=drop", NULL);
    char out[4200];
    snprintf(out, sizeof out, "%s/pipeline_run_drop.mp4", tmp);
    int status = run(out, cfg, false, res);
    /* every covered frame is dropped: with nothing masked, nothing is written */
    assert_int_equal(res->stats.frames_out, res->stats.frames_masked);
    if (res->stats.frames_masked == 0) {
        assert_int_equal(status, 1);
        assert_true(access(out, F_OK) != 0);
    }
    ptim_config_release(cfg);
    cfg = config("privacy.on_failure=black_frame", NULL);
    snprintf(out, sizeof out, "%s/pipeline_run_black.mkv", tmp);
    assert_int_equal(run(out, cfg, false, res), 0);
    assert_int_equal(res->stats.frames_out, 50);
    ptim_config_release(cfg);
    free(res);
}

static void test_live_null_sink(void **state)
{
    (void)state;
    ptim_pipeline_result *res = calloc(1, sizeof *res);
    ptim_config *cfg = config("performance.target_fps=10", NULL);
    assert_int_equal(run("null", cfg, true, res), 0);
    /* a file decodes far faster than 10 fps: the cap drops most frames */
    assert_true(res->stats.frames_dropped_rate > 10);
    assert_int_equal(res->stats.frames_out + res->stats.frames_dropped_rate +
                         res->stats.frames_dropped_live + res->stats.frames_dropped_guard,
                     50);
    ptim_config_release(cfg);
    free(res);
}

static void test_bad_input_is_status_2(void **state)
{
    (void)state;
    ptim_pipeline_result *res = calloc(1, sizeof *res);
    ptim_config *cfg = config(NULL, NULL);
    ptim_pipeline_desc d = {.input = "/nonexistent/in.mp4", .output = "null", .cfg = cfg};
    assert_int_equal(ptim_pipeline_run(&d, res), 2);
    assert_non_null(strstr(res->error.message, "/nonexistent/in.mp4"));
    d.input = clip;
    d.output = "/nonexistent/dir/out.mp4";
    assert_int_equal(ptim_pipeline_run(&d, res), 2);
    assert_non_null(strstr(res->error.message, "/nonexistent/dir/out.mp4"));
    ptim_config_release(cfg);
    free(res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offline_every_frame_decided),
        cmocka_unit_test(test_drop_policy_and_black),
        cmocka_unit_test(test_live_null_sink),
        cmocka_unit_test(test_bad_input_is_status_2),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
