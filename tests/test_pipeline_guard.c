/* pipeline/guard: the decision table and the covers in every native format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/guard.h"

static void test_decision_table(void **state)
{
    (void)state;
    ptim_guard_reason why;
    ptim_guard_policy live = {.max_result_age_ms = 250, .on_failure = PTIM_COVER_BLUR};
    assert_int_equal(ptim_guard_check(&live, true, 10, &why), PTIM_GUARD_MASKED);
    assert_int_equal(why, PTIM_GUARD_REASON_NONE);
    assert_int_equal(ptim_guard_check(&live, true, 250, &why), PTIM_GUARD_MASKED);
    assert_int_equal(ptim_guard_check(&live, true, 251, &why), PTIM_GUARD_COVER);
    assert_int_equal(why, PTIM_GUARD_REASON_STALE);
    assert_int_equal(ptim_guard_check(&live, false, 0, &why), PTIM_GUARD_COVER);
    assert_int_equal(why, PTIM_GUARD_REASON_NOT_ANALYZED);
    assert_int_equal(ptim_guard_check(&live, true, -1, &why), PTIM_GUARD_COVER); /* unknown age */
    ptim_guard_policy offline = {.max_result_age_ms = -1};
    assert_int_equal(ptim_guard_check(&offline, true, 100000, &why), PTIM_GUARD_MASKED);
    assert_int_equal(ptim_guard_check(&offline, true, PTIM_GUARD_AGE_EXPIRED, &why), PTIM_GUARD_COVER); /* timed out */
    assert_int_equal(ptim_guard_check(&offline, false, 0, &why), PTIM_GUARD_COVER);
    ptim_guard_policy unsafe = {.max_result_age_ms = 250, .unsafe_passthrough = true};
    assert_int_equal(ptim_guard_check(&unsafe, false, 0, &why), PTIM_GUARD_PASSTHROUGH);
    assert_int_equal(ptim_guard_check(&unsafe, true, 0, &why), PTIM_GUARD_MASKED);
}

static void test_cover_names(void **state)
{
    (void)state;
    assert_int_equal(ptim_cover_parse("blur_frame"), PTIM_COVER_BLUR);
    assert_int_equal(ptim_cover_parse("black_frame"), PTIM_COVER_BLACK);
    assert_int_equal(ptim_cover_parse("drop"), PTIM_COVER_DROP);
    assert_int_equal(ptim_cover_parse("none"), -1);
    assert_string_equal(ptim_cover_name(PTIM_COVER_BLACK), "black_frame");
}

/* A picture with fine detail: a 2-pixel checkerboard plus a gradient. */
static void fill_detail(img_view *v)
{
    for (int p = 0; p < img_format_planes(v->format); p++) {
        int h = p ? (v->height + 1) / 2 : v->height;
        int bytes = p ? (v->format == IMG_FMT_NV12 ? 2 * ((v->width + 1) / 2) : (v->width + 1) / 2)
                      : v->width * img_format_bytes_per_pixel(v->format);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < bytes; x++)
                v->data[p][y * v->stride[p] + x] = (uint8_t)((((x / 2) + (y / 2)) & 1) ? 230 : 20) ^ (uint8_t)(x + y);
    }
}

/* Mean absolute difference between horizontal neighbours: detail left. */
static double detail(const img_view *v)
{
    double sum = 0;
    int bpp = img_format_bytes_per_pixel(v->format), n = 0;
    for (int y = 0; y < v->height; y++)
        for (int x = bpp; x < v->width * bpp; x++, n++)
            sum += abs(v->data[0][y * v->stride[0] + x] - v->data[0][y * v->stride[0] + x - bpp]);
    return sum / n;
}

static void check_blur(img_format f, int w, int h)
{
    img_image src, dst;
    assert_int_equal(img_image_alloc(&src, f, w, h), 0);
    assert_int_equal(img_image_alloc(&dst, f, w, h), 0);
    fill_detail(&src.view);
    double before = detail(&src.view);
    ptim_cover_scratch s = {0};
    assert_int_equal(ptim_cover_frame(&src.view, &dst.view, PTIM_COVER_BLUR, false, 16, &s), 0);
    double after = detail(&dst.view);
    assert_true(before > 40);
    assert_true(after < before / 20); /* no fine detail survives */
    /* in place gives the same result */
    assert_int_equal(ptim_cover_frame(&src.view, &src.view, PTIM_COVER_BLUR, false, 16, &s), 0);
    for (int y = 0; y < h; y++)
        assert_memory_equal(src.view.data[0] + y * src.view.stride[0],
                            dst.view.data[0] + y * dst.view.stride[0],
                            (size_t)w * img_format_bytes_per_pixel(f));
    ptim_cover_scratch_free(&s);
    img_image_free(&src);
    img_image_free(&dst);
}

static void test_blur_removes_detail(void **state)
{
    (void)state;
    check_blur(IMG_FMT_YUV420P, 320, 180);
    check_blur(IMG_FMT_YUV420P, 321, 179); /* odd sizes */
    check_blur(IMG_FMT_NV12, 256, 144);
    check_blur(IMG_FMT_RGB24, 200, 120);
    check_blur(IMG_FMT_BGR24, 64, 64);
    check_blur(IMG_FMT_GRAY8, 33, 17);
}

static void test_blur_keeps_flat_colour(void **state)
{
    (void)state;
    img_image im;
    assert_int_equal(img_image_alloc(&im, IMG_FMT_YUV420P, 100, 60), 0);
    memset(im.memory, 77, (size_t)im.view.stride[0] * 60 + 2 * (size_t)im.view.stride[1] * 30);
    ptim_cover_scratch s = {0};
    assert_int_equal(ptim_cover_frame(&im.view, &im.view, PTIM_COVER_BLUR, false, 8, &s), 0);
    for (int y = 0; y < 60; y++)
        for (int x = 0; x < 100; x++)
            assert_int_equal(im.view.data[0][y * im.view.stride[0] + x], 77);
    ptim_cover_scratch_free(&s);
    img_image_free(&im);
}

static void test_black(void **state)
{
    (void)state;
    img_image im;
    ptim_cover_scratch s = {0};
    assert_int_equal(img_image_alloc(&im, IMG_FMT_NV12, 64, 36), 0);
    fill_detail(&im.view);
    assert_int_equal(ptim_cover_frame(&im.view, &im.view, PTIM_COVER_BLACK, false, 16, &s), 0);
    assert_int_equal(im.view.data[0][10 * im.view.stride[0] + 10], 16); /* limited-range black */
    assert_int_equal(im.view.data[1][5 * im.view.stride[1] + 11], 128);
    img_image_free(&im);
    assert_int_equal(img_image_alloc(&im, IMG_FMT_YUV420P, 64, 36), 0);
    fill_detail(&im.view);
    assert_int_equal(ptim_cover_frame(&im.view, &im.view, PTIM_COVER_BLACK, true, 16, &s), 0);
    assert_int_equal(im.view.data[0][35 * im.view.stride[0] + 63], 0); /* full range */
    assert_int_equal(im.view.data[2][17 * im.view.stride[2] + 31], 128);
    img_image_free(&im);
    assert_int_equal(img_image_alloc(&im, IMG_FMT_RGB24, 10, 10), 0);
    fill_detail(&im.view);
    assert_int_equal(ptim_cover_frame(&im.view, &im.view, PTIM_COVER_BLACK, true, 16, &s), 0);
    for (int i = 0; i < 30; i++)
        assert_int_equal(im.view.data[0][9 * im.view.stride[0] + i], 0);
    img_image_free(&im);
    /* drop is not a cover: the caller must not write the frame */
    assert_int_equal(img_image_alloc(&im, IMG_FMT_RGB24, 10, 10), 0);
    assert_int_equal(ptim_cover_frame(&im.view, &im.view, PTIM_COVER_DROP, true, 16, &s), -1);
    img_image_free(&im);
    ptim_cover_scratch_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decision_table),
        cmocka_unit_test(test_cover_names),
        cmocka_unit_test(test_blur_removes_detail),
        cmocka_unit_test(test_blur_keeps_flat_colour),
        cmocka_unit_test(test_black),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
