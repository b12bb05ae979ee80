/* check/verify's own logic — decoding, frame matching by time, the three leak
 * checks, the report — on real videos made with ffmpeg from a sample
 * picture, with a stand-in detector that "sees" a face wherever a fixed box
 * still has fine detail. (The real detector is judged by test_verify.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libavutil/log.h>

#include "check/verify.h"

/* The face area of the stand-in, and the area the "masked" videos blur. */
static const float FACE_BOX[4] = {180, 60, 160, 160};
#define BLUR_AREA "crop=200:200:160:40"
#define BLUR_AT "overlay=160:40"

static char tmpdir[1024];

static const char *tmp(const char *name)
{
    static char path[8][1200];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    return p;
}

static void sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

/* Stand-in detector: a face at FACE_BOX when the luma there has detail. */
typedef struct fake_ctx {
    int calls;
} fake_ctx;

static int fake_detect(void *ctx, const img_view *frame, face_list *out, ptim_error *err)
{
    (void)err;
    ((fake_ctx *)ctx)->calls++;
    out->count = 0;
    double s = 0, ss = 0;
    long n = 0;
    const uint8_t *y = frame->data[0];
    for (int r = (int)FACE_BOX[1] + 1; r < FACE_BOX[1] + FACE_BOX[3] - 1; r++)
        for (int c = (int)FACE_BOX[0] + 1; c < FACE_BOX[0] + FACE_BOX[2] - 1; c++) {
            const uint8_t *p = y + (size_t)r * frame->stride[0] + c;
            int l = 4 * p[0] - p[-1] - p[1] - p[-frame->stride[0]] - p[frame->stride[0]];
            s += l;
            ss += (double)l * l;
            n++;
        }
    double var = ss / n - (s / n) * (s / n);
    face *f = &out->faces[out->count++];
    memset(f, 0, sizeof *f);
    memcpy(f->box, FACE_BOX, sizeof f->box);
    f->score = var > 20.0 ? 0.9f : 0.2f;
    return 0;
}

/* Stand-in FaceMesh: sure of a face when the face area has detail. */
static int fake_presence(void *ctx, const img_view *frame, const float box[4], const float (*kp)[2],
                         float *presence, ptim_error *err)
{
    (void)ctx, (void)err;
    assert_non_null(kp);
    (void)box;
    face_list l;
    fake_detect(&(fake_ctx){0}, frame, &l, NULL);
    *presence = l.faces[0].score >= 0.5f ? 0.99f : 0.3f;
    return 0;
}

static int failing_detect(void *ctx, const img_view *frame, face_list *out, ptim_error *err)
{
    (void)ctx, (void)frame, (void)out;
    return ptim_error_set(err, PTIM_ERR_INFERENCE, PTIM_SEV_HIGH, "detector broke");
}

static int setup_group(void **state)
{
    (void)state;
    av_log_set_level(AV_LOG_QUIET);
    const char *base = getenv("PTIM_TEST_TMP") ? getenv("PTIM_TEST_TMP") : "/tmp";
    const char *samples = getenv("PTIM_SAMPLES_DIR");
    if (!samples)
        return -1;
    snprintf(tmpdir, sizeof tmpdir, "%s/verify_unit.%d", base, (int)getpid());
    char img[1200];
    snprintf(img, sizeof img, "%s/astronaut.png", samples);
    sh("mkdir -p '%s'", tmpdir);
    const char *ff = "ffmpeg -nostdin -v error -y";
    /* 20 frames at 10 fps; the picture drifts a little so frames differ. */
    sh("%s -loop 1 -i '%s' -vf \"crop=480:480:'16+8*sin(n/3)':16,scale=512:512,format=yuv420p\" "
       "-frames:v 20 -r 10 -c:v mpeg4 -q:v 2 '%s'", ff, img, tmp("orig.avi"));
    sh("%s -i '%s' -c:v mpeg4 -q:v 4 '%s'", ff, tmp("orig.avi"), tmp("copy.avi"));
    sh("%s -i '%s' -filter_complex \"[0]split[a][b];[b]" BLUR_AREA ",boxblur=12:3[f];[a][f]" BLUR_AT "\" "
       "-c:v mpeg4 -q:v 2 '%s'", ff, tmp("orig.avi"), tmp("blurred.avi"));
    /* Blurred except frames 5..7 (a masking gap). */
    sh("%s -i '%s' -filter_complex \"[0]split[a][b];[b]" BLUR_AREA ",boxblur=12:3[f];[a][f]" BLUR_AT
       ":enable='not(between(n,5,7))'\" -c:v mpeg4 -q:v 2 '%s'", ff, tmp("orig.avi"), tmp("gap.avi"));
    /* The gap video with frames 2 and 3 dropped (timestamps kept). */
    sh("%s -i '%s' -vf \"select='not(between(n,2,3))'\" -fps_mode passthrough -c:v mpeg4 -q:v 2 '%s'",
       ff, tmp("gap.avi"), tmp("gap_dropped.mkv"));
    /* Half size, unmasked: compared at the detail grid's scale all the same. */
    sh("%s -i '%s' -vf scale=256:256 -c:v mpeg4 -q:v 2 '%s'", ff, tmp("orig.avi"), tmp("half.avi"));
    sh("echo 'not a video' > '%s'", tmp("text.avi"));
    sh("head -c 3000 '%s' > '%s'", tmp("orig.avi"), tmp("truncated.avi"));
    return 0;
}

static int teardown_group(void **state)
{
    (void)state;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void run_ok(const char *orig, const char *masked, verify_report *rep)
{
    fake_ctx ctx = {0};
    verify_detector det = {.ctx = &ctx, .detect = fake_detect};
    ptim_error err = {0};
    if (verify_run(orig, masked, NULL, &det, rep, &err))
        fail_msg("verify failed: %s", err.message);
}

static void test_unmasked_copy_leaks_every_frame(void **state)
{
    (void)state;
    verify_report rep;
    run_ok(tmp("orig.avi"), tmp("copy.avi"), &rep);
    assert_int_equal(rep.frames_decoded, 20);
    assert_int_equal(rep.frames_checked, 20);
    assert_int_equal(rep.frames_matched, 20);
    assert_int_equal(rep.original_face_frames, 20);
    assert_int_equal(rep.frames_leaked, 20);
    assert_true(rep.unchanged_check);
    for (int i = 0; i < 20; i++) {
        const verify_leak *l = &rep.leaks[i];
        assert_int_equal(l->frame, i);
        assert_int_equal(l->original_frame, i);
        assert_true(fabs(l->time - i * 0.1) < 1e-6);
        assert_int_equal(l->count, 1);
        assert_true(l->hits[0].reasons & VERIFY_DETECTED);
        assert_true(l->hits[0].reasons & VERIFY_UNCHANGED);
        assert_true(l->hits[0].detail_corr > 0.8f);
        assert_true(fabsf(l->hits[0].original_score - 0.9f) < 1e-6f);
        assert_true(fabsf(l->hits[0].box[0] - FACE_BOX[0]) < 1e-3f);
    }
    verify_report_free(&rep);
}

static void test_blurred_is_clean(void **state)
{
    (void)state;
    verify_report rep;
    run_ok(tmp("orig.avi"), tmp("blurred.avi"), &rep);
    assert_int_equal(rep.frames_checked, 20);
    assert_int_equal(rep.original_faces, 20);
    assert_int_equal(rep.frames_leaked, 0);
    char *json = verify_report_json(&rep);
    cJSON *doc = cJSON_Parse(json);
    assert_non_null(doc);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(doc, "clean")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "leaks")), 0);
    cJSON_Delete(doc);
    free(json);
    verify_report_free(&rep);
}

static void test_masking_gap_is_reported_at_its_frames(void **state)
{
    (void)state;
    verify_report rep;
    run_ok(tmp("orig.avi"), tmp("gap.avi"), &rep);
    assert_int_equal(rep.frames_leaked, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rep.leaks[i].frame, 5 + i);
        assert_true(fabs(rep.leaks[i].time - (5 + i) * 0.1) < 1e-6);
        assert_int_equal(rep.leaks[i].hits[0].reasons, VERIFY_DETECTED | VERIFY_UNCHANGED);
    }
    char *json = verify_report_json(&rep);
    cJSON *doc = cJSON_Parse(json);
    cJSON *leaks = cJSON_GetObjectItem(doc, "leaks");
    assert_int_equal(cJSON_GetArraySize(leaks), 3);
    cJSON *first = cJSON_GetArrayItem(leaks, 0);
    assert_int_equal(cJSON_GetObjectItem(first, "frame")->valueint, 5);
    assert_true(fabs(cJSON_GetObjectItem(first, "time")->valuedouble - 0.5) < 1e-9);
    cJSON *face0 = cJSON_GetArrayItem(cJSON_GetObjectItem(first, "faces"), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(face0, "box")), 4);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(face0, "reasons"), 0)->valuestring, "detected");
    cJSON_Delete(doc);
    free(json);
    verify_report_free(&rep);
}

static void test_dropped_frames_match_by_time(void **state)
{
    (void)state;
    verify_report rep;
    run_ok(tmp("orig.avi"), tmp("gap_dropped.mkv"), &rep);
    assert_int_equal(rep.frames_decoded, 18);
    assert_int_equal(rep.frames_matched, 18);
    assert_int_equal(rep.frames_leaked, 3);
    /* Masked frames 3..5 (after two drops) are original frames 5..7. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rep.leaks[i].frame, 3 + i);
        assert_int_equal(rep.leaks[i].original_frame, 5 + i);
        assert_true(fabs(rep.leaks[i].time - (5 + i) * 0.1) < 1e-3);
        assert_true(rep.leaks[i].hits[0].reasons & VERIFY_UNCHANGED);
    }
    verify_report_free(&rep);
}

static void test_masked_alone_uses_detection_only(void **state)
{
    (void)state;
    verify_report rep;
    run_ok(NULL, tmp("gap.avi"), &rep);
    assert_string_equal(rep.original, "");
    assert_false(rep.unchanged_check);
    assert_int_equal(rep.frames_matched, 0);
    assert_int_equal(rep.frames_leaked, 3);
    assert_int_equal(rep.leaks[0].frame, 5);
    assert_int_equal(rep.leaks[0].original_frame, -1);
    assert_int_equal(rep.leaks[0].hits[0].reasons, VERIFY_DETECTED);
    verify_report_free(&rep);
    run_ok(NULL, tmp("blurred.avi"), &rep);
    assert_int_equal(rep.frames_leaked, 0);
    verify_report_free(&rep);
}

static void test_landmarks_never_decide_alone(void **state)
{
    (void)state;
    fake_ctx ctx = {0};
    verify_detector det = {.ctx = &ctx, .detect = fake_detect, .presence = fake_presence};
    verify_options opt;
    verify_options_default(&opt);
    opt.leak_threshold = 0.95f; /* the stand-in detector alone reports nothing */
    opt.unchanged_corr = 1.5f;  /* identity detail off: FaceMesh (0.99 on the gap) alone */
    verify_report rep;
    assert_int_equal(verify_run(tmp("orig.avi"), tmp("gap.avi"), &opt, &det, &rep, NULL), 0);
    assert_true(rep.landmarks_check);
    assert_int_equal(rep.frames_leaked, 0);
    verify_report_free(&rep);
    /* With identity detail on, FaceMesh is listed as evidence of the leak. */
    opt.unchanged_corr = 0.4f;
    assert_int_equal(verify_run(tmp("orig.avi"), tmp("gap.avi"), &opt, &det, &rep, NULL), 0);
    assert_int_equal(rep.frames_leaked, 3);
    assert_int_equal(rep.leaks[0].frame, 5);
    assert_int_equal(rep.leaks[0].hits[0].reasons, VERIFY_LANDMARKS | VERIFY_UNCHANGED);
    assert_true(fabsf(rep.leaks[0].hits[0].presence - 0.99f) < 1e-6f);
    assert_true(rep.leaks[0].hits[0].original_score > 0.5f);
    verify_report_free(&rep);
}

/* A detector fooled by face-shaped blur (always 0.9): FaceMesh must confirm. */
static int fooled_detect(void *ctx, const img_view *frame, face_list *out, ptim_error *err)
{
    fake_detect(ctx, frame, out, err);
    out->faces[0].score = 0.9f;
    return 0;
}

static void test_detection_needs_facemesh_confirmation(void **state)
{
    (void)state;
    fake_ctx ctx = {0};
    verify_detector det = {.ctx = &ctx, .detect = fooled_detect, .presence = fake_presence};
    verify_report rep;
    assert_int_equal(verify_run(NULL, tmp("blurred.avi"), NULL, &det, &rep, NULL), 0);
    assert_int_equal(rep.frames_leaked, 0);
    verify_report_free(&rep);
    assert_int_equal(verify_run(NULL, tmp("gap.avi"), NULL, &det, &rep, NULL), 0);
    assert_int_equal(rep.frames_leaked, 3);
    assert_int_equal(rep.leaks[0].hits[0].reasons, VERIFY_DETECTED);
    assert_true(fabsf(rep.leaks[0].hits[0].presence - 0.99f) < 1e-6f);
    verify_report_free(&rep);
    /* Faces too small for FaceMesh to judge count unconfirmed, but only
     * with open detail: the blurred frames are face shapes, not faces. */
    verify_options opt;
    verify_options_default(&opt);
    opt.confirm_min_px = 1000;
    assert_int_equal(verify_run(NULL, tmp("blurred.avi"), &opt, &det, &rep, NULL), 0);
    assert_int_equal(rep.frames_leaked, 0);
    verify_report_free(&rep);
    assert_int_equal(verify_run(NULL, tmp("gap.avi"), &opt, &det, &rep, NULL), 0);
    assert_int_equal(rep.frames_leaked, 3);
    assert_int_equal(rep.leaks[0].hits[0].reasons, VERIFY_DETECTED);
    assert_true(rep.leaks[0].hits[0].open_detail >= 0.3f);
    verify_report_free(&rep);
    opt.open_detail = 0.0f; /* open detail off: every fooled detection counts */
    assert_int_equal(verify_run(NULL, tmp("blurred.avi"), &opt, &det, &rep, NULL), 0);
    assert_int_equal(rep.frames_leaked, 20);
    verify_report_free(&rep);
    /* With the original, a face shape where a face was is not a person. */
    assert_int_equal(verify_run(tmp("orig.avi"), tmp("blurred.avi"), &opt, &det, &rep, NULL), 0);
    assert_int_equal(rep.frames_leaked, 0);
    verify_report_free(&rep);
}

static void test_other_size_compares_at_scale(void **state)
{
    (void)state;
    verify_report rep;
    run_ok(tmp("orig.avi"), tmp("half.avi"), &rep);
    assert_true(rep.unchanged_check);
    assert_int_equal(rep.width, 256);
    assert_int_equal(rep.frames_matched, 20);
    assert_int_equal(rep.frames_leaked, 20); /* an unmasked copy at half size */
    assert_true(rep.leaks[0].hits[0].reasons & VERIFY_UNCHANGED);
    assert_true(rep.leaks[0].hits[0].detail_corr > 0.8f);
    assert_true(fabsf(rep.leaks[0].hits[0].box[0] - FACE_BOX[0] / 2) < 1e-3f);
    verify_report_free(&rep);
}

static void test_every_and_max_frames(void **state)
{
    (void)state;
    fake_ctx ctx = {0};
    verify_detector det = {.ctx = &ctx, .detect = fake_detect};
    verify_options opt;
    verify_options_default(&opt);
    opt.every = 3;
    opt.max_frames = 10;
    verify_report rep;
    assert_int_equal(verify_run(tmp("orig.avi"), tmp("gap.avi"), &opt, &det, &rep, NULL), 0);
    assert_int_equal(rep.frames_checked, 4); /* frames 0, 3, 6, 9 */
    assert_int_equal(ctx.calls, 8);          /* masked + original each */
    assert_int_equal(rep.frames_leaked, 1);
    assert_int_equal(rep.leaks[0].frame, 6);
    verify_report_free(&rep);
}

static void expect_bad_input(const char *orig, const char *masked, ptim_err_category cat, const char *needle)
{
    fake_ctx ctx = {0};
    verify_detector det = {.ctx = &ctx, .detect = fake_detect};
    verify_report rep;
    ptim_error err = {0};
    assert_int_equal(verify_run(orig, masked, NULL, &det, &rep, &err), -1);
    assert_int_equal(err.category, cat);
    if (!strstr(err.message, needle))
        fail_msg("message '%s' lacks '%s'", err.message, needle);
    verify_report_free(&rep);
}

static void test_bad_inputs_are_errors(void **state)
{
    (void)state;
    expect_bad_input(NULL, "/nonexistent/masked.mp4", PTIM_ERR_IO, "/nonexistent/masked.mp4: cannot open");
    expect_bad_input("/nonexistent/orig.mp4", tmp("blurred.avi"), PTIM_ERR_IO, "/nonexistent/orig.mp4");
    expect_bad_input(tmp("orig.avi"), tmp("text.avi"), PTIM_ERR_DECODE, "text.avi: not a video");
    expect_bad_input(tmp("truncated.avi"), tmp("blurred.avi"), PTIM_ERR_DECODE, "truncated.avi");
    expect_bad_input(tmp("orig.avi"), tmpdir, PTIM_ERR_IO, "cannot open");

    fake_ctx ctx = {0};
    verify_detector det = {.ctx = &ctx, .detect = failing_detect};
    verify_report rep;
    ptim_error err = {0};
    assert_int_equal(verify_run(NULL, tmp("blurred.avi"), NULL, &det, &rep, &err), -1);
    assert_int_equal(err.category, PTIM_ERR_INFERENCE);
    assert_non_null(strstr(err.message, "frame 0: detector broke"));
    verify_report_free(&rep);
}

static void test_identity_detail(void **state)
{
    (void)state;
    enum { W = 64, H = 64 };
    static uint8_t a[W * H], b[W * H], flat[W * H], big[4 * W * H], soft[W * H];
    srand(3);
    for (int i = 0; i < W * H; i++) {
        a[i] = (uint8_t)(rand() % 200);
        b[i] = (uint8_t)(a[i] + 20); /* brighter, same detail */
        flat[i] = 90;
    }
    for (int y = 0; y < 2 * H; y++) /* the same picture at twice the size */
        for (int x = 0; x < 2 * W; x++)
            big[y * 2 * W + x] = a[(y / 2) * W + x / 2];
    for (int y = 0; y < H; y++) /* a 9x9 box blur */
        for (int x = 0; x < W; x++) {
            int s = 0, n = 0;
            for (int dy = -4; dy <= 4; dy++)
                for (int dx = -4; dx <= 4; dx++)
                    if (y + dy >= 0 && y + dy < H && x + dx >= 0 && x + dx < W)
                        s += a[(y + dy) * W + x + dx], n++;
            soft[y * W + x] = (uint8_t)(s / n);
        }
    const float box[4] = {4, 4, 48, 48}; /* 2 px per grid cell */
    const float box2[4] = {8, 8, 96, 96};
    assert_true(fabsf(verify_identity_detail(a, W, W, H, box, a, W, W, H, box) - 1.0f) < 1e-5f);
    assert_true(fabsf(verify_identity_detail(a, W, W, H, box, b, W, W, H, box) - 1.0f) < 1e-5f);
    assert_true(verify_identity_detail(a, W, W, H, box, flat, W, W, H, box) == 0.0f);
    assert_true(verify_identity_detail(a, W, W, H, box, big, 2 * W, 2 * W, 2 * H, box2) > 0.99f);
    assert_true(verify_identity_detail(a, W, W, H, box, soft, W, W, H, box) < 0.4f);
    const float empty[4] = {70, 4, 10, 10};
    assert_true(verify_identity_detail(a, W, W, H, empty, a, W, W, H, box) == -2.0f);
    const float edge[4] = {-10, -10, 100, 100}; /* clipped, no overrun */
    assert_true(verify_identity_detail(a, W, W, H, edge, a, W, W, H, edge) > 0.99f);
    /* Open detail: noise is all detail, a flat fill none, the blur little. */
    assert_true(verify_open_detail(a, W, W, H, box) > 1.0f);
    assert_true(verify_open_detail(flat, W, W, H, box) == 0.0f);
    assert_true(verify_open_detail(soft, W, W, H, box) < verify_open_detail(a, W, W, H, box) / 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_detail),
        cmocka_unit_test(test_unmasked_copy_leaks_every_frame),
        cmocka_unit_test(test_blurred_is_clean),
        cmocka_unit_test(test_masking_gap_is_reported_at_its_frames),
        cmocka_unit_test(test_dropped_frames_match_by_time),
        cmocka_unit_test(test_masked_alone_uses_detection_only),
        cmocka_unit_test(test_landmarks_never_decide_alone),
        cmocka_unit_test(test_detection_needs_facemesh_confirmation),
        cmocka_unit_test(test_other_size_compares_at_scale),
        cmocka_unit_test(test_every_and_max_frames),
        cmocka_unit_test(test_bad_inputs_are_errors),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
