/* face/crop: the axis-aligned shortcut (taps once per column and row) gives
 * the tensor of the per-sample path to the bit, in every pixel format and
 * border mode, for windows inside, across and outside the frame; and the
 * sampled values are the frame's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "face/crop.h"

#define FW 333 /* odd sizes: the chroma planes round up */
#define FH 187

static uint8_t plane[3][FW * 4 * FH];

static img_view frame_of(img_format f)
{
    img_view v = {.format = f, .width = FW, .height = FH};
    int bpp = f == IMG_FMT_RGBA ? 4 : (f == IMG_FMT_RGB24 || f == IMG_FMT_BGR24) ? 3 : 1;
    v.data[0] = plane[0];
    v.stride[0] = FW * bpp + 7; /* padded rows, as decoders leave them */
    if (f == IMG_FMT_YUV420P) {
        v.data[1] = plane[1];
        v.data[2] = plane[2];
        v.stride[1] = v.stride[2] = (FW + 1) / 2 + 5;
    } else if (f == IMG_FMT_NV12) {
        v.data[1] = plane[1];
        v.stride[1] = 2 * ((FW + 1) / 2) + 3;
    }
    return v;
}

static void test_axis_aligned_matches_per_sample(void **state)
{
    (void)state;
    srand(7);
    for (size_t p = 0; p < 3; p++)
        for (size_t i = 0; i < sizeof plane[p]; i++)
            plane[p][i] = (uint8_t)(rand() & 0xff);
    const img_format formats[] = {IMG_FMT_GRAY8, IMG_FMT_YUV420P, IMG_FMT_NV12,
                                  IMG_FMT_RGB24, IMG_FMT_BGR24,   IMG_FMT_RGBA};
    /* (x, y, w, h) regions: inside, across each edge, larger than the frame,
     * a sliver, and one wholly outside */
    const float regions[][4] = {{10, 20, 100, 80},   {-40, -30, 128, 128}, {250, 120, 128, 128},
                                {0, 0, FW, FH},      {-100, -50, 600, 400}, {3.3f, 7.7f, 5, 190},
                                {400, 300, 50, 50},  {100.25f, 60.75f, 30.5f, 30.5f}};
    const int sizes[] = {128, 192, 7};
    static float fast[192 * 192 * 3], ref[192 * 192 * 3];
    int compared = 0;
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
        img_view v = frame_of(formats[f]);
        for (size_t r = 0; r < sizeof regions / sizeof regions[0]; r++)
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
                for (int b = 0; b < 2; b++) {
                    float m[6];
                    crop_letterbox(regions[r][0], regions[r][1], regions[r][2], regions[r][3], sizes[s], m);
                    size_t n = (size_t)sizes[s] * sizes[s] * 3;
                    memset(fast, 0x7f, sizeof fast);
                    memset(ref, 0x11, sizeof ref);
                    assert_int_equal(crop_to_tensor(&v, m, sizes[s], sizes[s], 2.0f / 255.0f, -1.0f, b, fast), 0);
                    assert_int_equal(crop_to_tensor_per_sample(&v, m, sizes[s], sizes[s], 2.0f / 255.0f,
                                                               -1.0f, b, ref), 0);
                    assert_memory_equal(fast, ref, n * sizeof(float));
                    compared++;
                }
    }
    assert_int_equal(compared, 6 * 8 * 3 * 2);
}

/* Not two identical mistakes: at pixel centres, scale 1 and a 1:1 map, a
 * gray frame reads back its own pixels, and black outside with ZERO. */
static void test_values_are_the_frames(void **state)
{
    (void)state;
    img_view v = frame_of(IMG_FMT_GRAY8);
    float m[6] = {1, 0, 40, 0, 1, 30}, out[16 * 16 * 3];
    assert_int_equal(crop_to_tensor(&v, m, 16, 16, 1.0f, 0.0f, CROP_BORDER_ZERO, out), 0);
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++)
            assert_float_equal(out[(y * 16 + x) * 3 + 1], plane[0][(30 + y) * v.stride[0] + 40 + x], 0.0f);
    float outside[6] = {1, 0, FW + 10, 0, 1, 0};
    assert_int_equal(crop_to_tensor(&v, outside, 16, 16, 1.0f, 0.0f, CROP_BORDER_ZERO, out), 0);
    for (int i = 0; i < 16 * 16 * 3; i++)
        assert_float_equal(out[i], 0.0f, 0.0f);
    /* REPLICATE: the last column repeats */
    assert_int_equal(crop_to_tensor(&v, outside, 16, 16, 1.0f, 0.0f, CROP_BORDER_REPLICATE, out), 0);
    assert_float_equal(out[0], plane[0][FW - 1], 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_axis_aligned_matches_per_sample),
        cmocka_unit_test(test_values_are_the_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
