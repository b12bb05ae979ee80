/* face/ arithmetic without models: BlazeFace anchors, decoding and weighted
 * NMS; crops from every pixel format; One Euro; Umeyama alignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "face/align.h"
#include "face/blazeface.h"
#include "face/crop.h"
#include "face/one_euro.h"

static float anchors[2 * BF_MAX_ANCHORS];

static void test_anchor_counts_and_layout(void **state)
{
    (void)state;
    int n = bf_anchors(BF_SHORT_RANGE, anchors, BF_MAX_ANCHORS);
    assert_int_equal(n, 896);
    /* First grid 16x16, 2 per cell: anchors 0 and 1 share cell (0,0). */
    assert_float_equal(anchors[0], 0.5f / 16, 1e-6);
    assert_float_equal(anchors[2], 0.5f / 16, 1e-6);
    assert_float_equal(anchors[4], 1.5f / 16, 1e-6);
    /* Anchor 512 starts the 8x8 grid with 6 per cell. */
    assert_float_equal(anchors[2 * 512], 0.5f / 8, 1e-6);
    assert_float_equal(anchors[2 * 517], 0.5f / 8, 1e-6);
    assert_float_equal(anchors[2 * 518], 1.5f / 8, 1e-6);
    assert_float_equal(anchors[2 * 895 + 1], 7.5f / 8, 1e-6);
    n = bf_anchors(BF_FULL_RANGE, anchors, BF_MAX_ANCHORS);
    assert_int_equal(n, 2304);
    assert_float_equal(anchors[2 * 48 + 1], 1.5f / 48, 1e-6); /* row 1 */
    assert_int_equal(bf_anchors(BF_FULL_RANGE, anchors, 100), -1);
}

static void test_decode_relative_to_anchor(void **state)
{
    (void)state;
    int n = bf_anchors(BF_SHORT_RANGE, anchors, BF_MAX_ANCHORS);
    static float reg[896 * 16], logit[896];
    for (int i = 0; i < n; i++)
        logit[i] = -5.0f;
    int a = 600; /* some anchor of the 8x8 grid */
    logit[a] = 2.0f;
    float *r = reg + a * 16;
    r[0] = 12.8f;  /* +0.1 of the input */
    r[1] = -6.4f;  /* -0.05 */
    r[2] = 32.0f;  /* w 0.25 */
    r[3] = 64.0f;  /* h 0.5 */
    for (int k = 0; k < 6; k++) {
        r[4 + 2 * k] = k;
        r[5 + 2 * k] = -k;
    }
    bf_det d[4];
    assert_int_equal(bf_decode(reg, logit, anchors, n, 128, 0.5f, d, 4), 1);
    float ax = anchors[2 * a], ay = anchors[2 * a + 1];
    assert_float_equal(d[0].score, 1.0f / (1.0f + expf(-2.0f)), 1e-6);
    assert_float_equal(d[0].box[0], ax + 0.1f - 0.125f, 1e-5);
    assert_float_equal(d[0].box[2], ax + 0.1f + 0.125f, 1e-5);
    assert_float_equal(d[0].box[1], ay - 0.05f - 0.25f, 1e-5);
    assert_float_equal(d[0].box[3], ay - 0.05f + 0.25f, 1e-5);
    assert_float_equal(d[0].kp[3][0], ax + 3 / 128.0f, 1e-5);
    assert_float_equal(d[0].kp[3][1], ay - 3 / 128.0f, 1e-5);
    /* Logit clipping: a huge logit is score 1, not NaN. */
    logit[a] = 1e9f;
    assert_int_equal(bf_decode(reg, logit, anchors, n, 128, 0.5f, d, 4), 1);
    assert_float_equal(d[0].score, 1.0f, 1e-6);
}

static void test_decode_keeps_best_when_full(void **state)
{
    (void)state;
    int n = bf_anchors(BF_SHORT_RANGE, anchors, BF_MAX_ANCHORS);
    static float reg[896 * 16], logit[896];
    for (int i = 0; i < n; i++)
        logit[i] = (float)i / 100.0f; /* increasing */
    bf_det d[3];
    assert_int_equal(bf_decode(reg, logit, anchors, n, 128, 0.5f, d, 3), 3);
    float lo = 1.0f;
    for (int i = 0; i < 3; i++)
        lo = fminf(lo, d[i].score);
    assert_float_equal(lo, 1.0f / (1.0f + expf(-8.93f)), 1e-5);
}

static bf_det det_at(float x, float y, float s, float score)
{
    bf_det d;
    memset(&d, 0, sizeof d);
    d.score = score;
    d.box[0] = x;
    d.box[1] = y;
    d.box[2] = x + s;
    d.box[3] = y + s;
    for (int k = 0; k < 6; k++) {
        d.kp[k][0] = x + k;
        d.kp[k][1] = y;
    }
    return d;
}

static void test_weighted_nms_merges_by_score(void **state)
{
    (void)state;
    bf_det d[5];
    d[0] = det_at(10, 10, 10, 0.6f);
    d[1] = det_at(100, 100, 10, 0.7f); /* separate face */
    d[2] = det_at(12, 10, 10, 0.9f);   /* best of the first cluster */
    d[3] = det_at(50, 10, 10, 0.8f);   /* separate */
    d[4] = det_at(11, 11, 10, 0.3f);
    int n = bf_weighted_nms(d, 5, 0.3f);
    assert_int_equal(n, 3);
    assert_float_equal(d[0].score, 0.9f, 1e-6);
    float x = (10 * 0.6f + 12 * 0.9f + 11 * 0.3f) / 1.8f;
    float y = (10 * 0.6f + 10 * 0.9f + 11 * 0.3f) / 1.8f;
    assert_float_equal(d[0].box[0], x, 1e-4);
    assert_float_equal(d[0].box[1], y, 1e-4);
    assert_float_equal(d[0].kp[2][0], x + 2, 1e-4);
    assert_float_equal(d[1].score, 0.8f, 1e-6);
    assert_float_equal(d[1].box[0], 50.0f, 1e-6);
    assert_float_equal(d[2].score, 0.7f, 1e-6);
    assert_int_equal(bf_weighted_nms(d, 0, 0.3f), 0);
    assert_float_equal(bf_iou(d[0].box, d[0].box), 1.0f, 1e-6);
}

/* A frame with a known colour gradient in every format. */
static void rgb_at(int x, int y, uint8_t *r, uint8_t *g, uint8_t *b)
{
    *r = (uint8_t)(x * 4);
    *g = (uint8_t)(y * 4);
    *b = (uint8_t)(128);
}

static void fill_formats(img_image *rgb, img_image *bgr, img_image *yuv, img_image *nv12)
{
    int w = 48, h = 32;
    assert_int_equal(img_image_alloc(rgb, IMG_FMT_RGB24, w, h), 0);
    assert_int_equal(img_image_alloc(bgr, IMG_FMT_BGR24, w, h), 0);
    assert_int_equal(img_image_alloc(yuv, IMG_FMT_YUV420P, w, h), 0);
    assert_int_equal(img_image_alloc(nv12, IMG_FMT_NV12, w, h), 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t r, g, b;
            rgb_at(x, y, &r, &g, &b);
            uint8_t *p = rgb->view.data[0] + y * rgb->view.stride[0] + 3 * x;
            p[0] = r, p[1] = g, p[2] = b;
            p = bgr->view.data[0] + y * bgr->view.stride[0] + 3 * x;
            p[0] = b, p[1] = g, p[2] = r;
            float Y = 16 + 0.257f * r + 0.504f * g + 0.098f * b;
            yuv->view.data[0][y * yuv->view.stride[0] + x] = (uint8_t)lrintf(Y);
            nv12->view.data[0][y * nv12->view.stride[0] + x] = (uint8_t)lrintf(Y);
        }
    for (int y = 0; y < h / 2; y++)
        for (int x = 0; x < w / 2; x++) {
            float r = 0, g = 0, b = 0;
            for (int k = 0; k < 4; k++) {
                uint8_t rr, gg, bb;
                rgb_at(2 * x + (k & 1), 2 * y + (k >> 1), &rr, &gg, &bb);
                r += rr / 4.0f, g += gg / 4.0f, b += bb / 4.0f;
            }
            uint8_t U = (uint8_t)lrintf(128 - 0.148f * r - 0.291f * g + 0.439f * b);
            uint8_t V = (uint8_t)lrintf(128 + 0.439f * r - 0.368f * g - 0.071f * b);
            yuv->view.data[1][y * yuv->view.stride[1] + x] = U;
            yuv->view.data[2][y * yuv->view.stride[2] + x] = V;
            nv12->view.data[1][y * nv12->view.stride[1] + 2 * x] = U;
            nv12->view.data[1][y * nv12->view.stride[1] + 2 * x + 1] = V;
        }
}

static void test_crop_same_in_every_format(void **state)
{
    (void)state;
    img_image im[4];
    fill_formats(&im[0], &im[1], &im[2], &im[3]);
    float m[6];
    crop_rotated_square(24, 16, 20, 0.3f, 16, m);
    static float out[4][16 * 16 * 3];
    for (int i = 0; i < 4; i++)
        assert_int_equal(crop_to_tensor(&im[i].view, m, 16, 16, 1.0f, 0.0f, CROP_BORDER_REPLICATE, out[i]), 0);
    for (int k = 0; k < 16 * 16 * 3; k++) {
        assert_float_equal(out[0][k], out[1][k], 1e-3);
        /* YUV rounding and 4:2:0 chroma: a few levels at most. */
        assert_float_equal(out[0][k], out[2][k], 5.0);
        assert_float_equal(out[0][k], out[3][k], 5.0);
    }
    for (int i = 0; i < 4; i++)
        img_image_free(&im[i]);
}

static void test_crop_letterbox_geometry(void **state)
{
    (void)state;
    img_image im[4];
    fill_formats(&im[0], &im[1], &im[2], &im[3]);
    /* 48x32 into 24x24: scale 0.5, 4 rows of padding above and below. */
    float m[6];
    crop_letterbox(0, 0, 48, 32, 24, m);
    static float out[24 * 24 * 3];
    assert_int_equal(crop_to_tensor(&im[0].view, m, 24, 24, 2.0f / 255, -1.0f, CROP_BORDER_ZERO, out), 0);
    assert_float_equal(out[(1 * 24 + 5) * 3], -1.0f, 1e-6); /* padding row: black */
    /* Tensor pixel (5, 10) centre = frame (11, 13): R = 4x at x = 10.5..11.5. */
    float x, y;
    crop_apply(m, 5.5f, 10.5f, &x, &y);
    assert_float_equal(x, 11.0f, 1e-5);
    assert_float_equal(y, 13.0f, 1e-5);
    float r = (out[(10 * 24 + 5) * 3] + 1.0f) * 127.5f;
    assert_float_equal(r, 4 * 10.5f, 1e-2);
    float inv[6], u, v;
    assert_true(crop_invert(m, inv));
    crop_apply(inv, x, y, &u, &v);
    assert_float_equal(u, 5.5f, 1e-4);
    assert_float_equal(v, 10.5f, 1e-4);
    for (int i = 0; i < 4; i++)
        img_image_free(&im[i]);
}

static void test_rotated_crop_maps_axes(void **state)
{
    (void)state;
    float m[6], x, y;
    crop_rotated_square(100, 50, 40, (float)M_PI / 2, 192, m);
    crop_apply(m, 96, 96, &x, &y);
    assert_float_equal(x, 100, 1e-4);
    assert_float_equal(y, 50, 1e-4);
    /* Tensor +x runs along frame +y when rotated by 90 degrees. */
    crop_apply(m, 192, 96, &x, &y);
    assert_float_equal(x, 100, 1e-3);
    assert_float_equal(y, 70, 1e-3);
}

static void test_one_euro_still_and_moving(void **state)
{
    (void)state;
    one_euro_params p = {1.0f, 0.05f, 1.0f};
    one_euro f = {0};
    srand(3);
    double raw = 0, filt = 0;
    float prev = 0;
    for (int i = 0; i < 300; i++) {
        float noise = ((float)rand() / (float)RAND_MAX - 0.5f) * 2.0f;
        float y = one_euro_step(&f, &p, 50 + noise, 1.0f / 30, 1.0f);
        if (i > 30) {
            raw += fabsf(noise);
            filt += fabsf(y - prev);
        }
        prev = y;
    }
    assert_true(filt < raw * 0.3); /* frame-to-frame jitter well under the noise */
    /* Moving at 300 px/s: lag stays small once the filter has caught on. */
    one_euro_reset(&f);
    float y = 0;
    for (int i = 0; i < 60; i++)
        y = one_euro_step(&f, &p, 10.0f * i, 1.0f / 30, 1.0f);
    assert_true(fabsf(y - 590.0f) < 30.0f);
}

static void test_umeyama_recovers_similarity(void **state)
{
    (void)state;
    float src[5][2] = {{10, 20}, {40, 22}, {25, 35}, {15, 50}, {38, 49}};
    float dst[5][2];
    float s = 0.02f, a = 0.4f, tx = 0.3f, ty = -0.2f;
    for (int i = 0; i < 5; i++) {
        dst[i][0] = s * (cosf(a) * src[i][0] - sinf(a) * src[i][1]) + tx;
        dst[i][1] = s * (sinf(a) * src[i][0] + cosf(a) * src[i][1]) + ty;
    }
    float m[6];
    assert_true(align_umeyama((const float(*)[2])src, (const float(*)[2])dst, 5, m));
    assert_float_equal(m[0], s * cosf(a), 1e-5);
    assert_float_equal(m[3], s * sinf(a), 1e-5);
    assert_float_equal(m[2], tx, 1e-4);
    assert_float_equal(m[5], ty, 1e-4);
    float same[2][2] = {{1, 1}, {1, 1}};
    assert_false(align_umeyama((const float(*)[2])same, (const float(*)[2])dst, 2, m));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anchor_counts_and_layout),
        cmocka_unit_test(test_decode_relative_to_anchor),
        cmocka_unit_test(test_decode_keeps_best_when_full),
        cmocka_unit_test(test_weighted_nms_merges_by_score),
        cmocka_unit_test(test_crop_same_in_every_format),
        cmocka_unit_test(test_crop_letterbox_geometry),
        cmocka_unit_test(test_rotated_crop_maps_axes),
        cmocka_unit_test(test_one_euro_still_and_moving),
        cmocka_unit_test(test_umeyama_recovers_similarity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
