/* face/tile_still: a window is passed by only while it looks as it did when
 * scanned: a small face-sized change, a slow fade and a new frame size all
 * bring it back, and so does the bound on passes in a row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "face/tile_still.h"

#define W 640
#define H 360

static uint8_t luma[W * H];

static img_view frame(void)
{
    img_view v = {.format = IMG_FMT_GRAY8, .width = W, .height = H};
    v.data[0] = luma;
    v.stride[0] = W;
    return v;
}

/* a textured, noisy background: values vary by +-1 from frame to frame */
static void background(unsigned seed)
{
    srand(seed);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            luma[y * W + x] = (uint8_t)(90 + ((x / 16 + y / 16) % 2) * 40 + rand() % 3);
}

static void patch(int x0, int y0, int side, int value)
{
    for (int y = y0; y < y0 + side; y++)
        for (int x = x0; x < x0 + side; x++)
            luma[y * W + x] = (uint8_t)value;
}

static void test_still_window_passes_then_is_rescanned(void **state)
{
    (void)state;
    tile_still *s = tile_still_create();
    assert_non_null(s);
    img_view v = frame();
    const float r[4] = {300.5f, 100.25f, 256, 200};
    background(1);
    assert_false(tile_still_unchanged(s, &v, 3, r)); /* never scanned */
    tile_still_scanned(s, &v, 3, r, false);
    /* noise only: passed by TILE_STILL_MAX_SKIPS times, then scanned again */
    for (int i = 0; i < TILE_STILL_MAX_SKIPS; i++) {
        background(10 + i);
        assert_true(tile_still_unchanged(s, &v, 3, r));
    }
    background(20);
    assert_false(tile_still_unchanged(s, &v, 3, r));
    tile_still_scanned(s, &v, 3, r, false);
    background(21);
    assert_true(tile_still_unchanged(s, &v, 3, r));
    /* another window has its own snapshot */
    const float r2[4] = {0, 0, 200, 200};
    assert_false(tile_still_unchanged(s, &v, 4, r2));
    tile_still_destroy(s);
}

static void test_a_small_face_sized_change_is_seen(void **state)
{
    (void)state;
    tile_still *s = tile_still_create();
    img_view v = frame();
    const float r[4] = {300, 100, 256, 200};
    /* a 12 px patch only a little darker or lighter than what it covers, at
     * the window's edge (a face walking in), or wholly outside it */
    struct {
        int x, y, side, delta;
        bool seen;
    } cases[] = {
        {310, 150, 12, 12, true},  /* inside */
        {550, 290, 12, -12, true}, /* the window's corner cells */
        {290, 150, 12, 30, true},  /* half in, half out */
        {100, 150, 40, 80, false}, /* elsewhere in the frame */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        background(1);
        tile_still_scanned(s, &v, 1, r, true);
        background(2);
        patch(cases[i].x, cases[i].y, cases[i].side, luma[cases[i].y * W + cases[i].x] + cases[i].delta);
        assert_int_equal(!tile_still_unchanged(s, &v, 1, r), cases[i].seen);
    }
    tile_still_destroy(s);
}

static void test_a_slow_fade_adds_up(void **state)
{
    (void)state;
    tile_still *s = tile_still_create();
    img_view v = frame();
    const float r[4] = {0, 0, 320, 180};
    background(1);
    tile_still_scanned(s, &v, 1, r, true);
    /* a patch darkening by 2 levels a frame: within the threshold of the
     * previous frame each time, but not of the scanned snapshot for long */
    bool seen = false;
    int frames = 0;
    for (int k = 1; k <= 10 && !seen; k++, frames++) {
        background(1);
        patch(40, 40, 32, 110 - 2 * k);
        seen = !tile_still_unchanged(s, &v, 1, r);
    }
    assert_true(seen);
    assert_true(frames <= TILE_STILL_MAX_SKIPS + 1);
    tile_still_destroy(s);
}

static void test_reset_and_new_sizes_rescan(void **state)
{
    (void)state;
    tile_still *s = tile_still_create();
    img_view v = frame();
    const float r[4] = {64, 64, 128, 128};
    background(1);
    tile_still_scanned(s, &v, 2, r, true);
    assert_true(tile_still_unchanged(s, &v, 2, r));
    tile_still_reset(s);
    assert_false(tile_still_unchanged(s, &v, 2, r));
    tile_still_scanned(s, &v, 2, r, false);
    const float moved[4] = {72, 64, 128, 128}; /* the window moved: not the same look */
    assert_false(tile_still_unchanged(s, &v, 2, moved));
    /* out of range windows and windows outside the frame are never passed */
    assert_false(tile_still_unchanged(s, &v, TILE_STILL_WINDOWS, r));
    assert_false(tile_still_unchanged(s, &v, -1, r));
    const float outside[4] = {W + 10, 0, 50, 50};
    tile_still_scanned(s, &v, 5, outside, true);
    assert_false(tile_still_unchanged(s, &v, 5, outside));
    tile_still_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_still_window_passes_then_is_rescanned),
        cmocka_unit_test(test_a_small_face_sized_change_is_seen),
        cmocka_unit_test(test_a_slow_fade_adds_up),
        cmocka_unit_test(test_reset_and_new_sizes_rescan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
