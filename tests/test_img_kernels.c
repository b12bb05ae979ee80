/* img/ kernels: blur, pixelate, fill, masks, colour, triangulation, warps —
 * each checked against a plain reference computed here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img/alpha.h"
#include "img/color.h"
#include "img/filter.h"
#include "img/triangulate.h"
#include "img/warp.h"

static uint32_t rng = 12345;
static uint32_t rnd(void)
{
    rng = rng * 1664525u + 1013904223u;
    return rng >> 8;
}

static void fill_noise(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rnd() & 255);
}

/* Three passes of a radius-r box in x then y, in doubles, edges replicated. */
static void ref_blur(const uint8_t *src, int w, int h, int c, int r, double *out)
{
    double *a = malloc(sizeof *a * w * h * c), *b = malloc(sizeof *b * w * h * c);
    for (int i = 0; i < w * h * c; i++)
        a[i] = src[i];
    for (int dir = 0; dir < 2; dir++)
        for (int pass = 0; pass < 3; pass++) {
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int ch = 0; ch < c; ch++) {
                        double s = 0;
                        for (int k = -r; k <= r; k++) {
                            int xx = dir ? x : x + k, yy = dir ? y + k : y;
                            xx = xx < 0 ? 0 : xx >= w ? w - 1 : xx;
                            yy = yy < 0 ? 0 : yy >= h ? h - 1 : yy;
                            s += a[(yy * w + xx) * c + ch];
                        }
                        b[(y * w + x) * c + ch] = s / (2 * r + 1);
                    }
            memcpy(a, b, sizeof *a * w * h * c);
        }
    memcpy(out, a, sizeof *a * w * h * c);
    free(a), free(b);
}

static void test_box_blur_matches_reference(void **state)
{
    (void)state;
    const int sizes[][4] = {{37, 23, 1, 3}, {40, 31, 2, 5}, {19, 17, 3, 2}, {5, 4, 1, 7}, {1, 1, 3, 4}};
    img_scratch work = {0};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        int w = sizes[t][0], h = sizes[t][1], c = sizes[t][2], r = sizes[t][3];
        uint8_t *src = malloc(w * h * c), *dst = malloc(w * h * c);
        double *ref = malloc(sizeof *ref * w * h * c);
        fill_noise(src, w * h * c);
        assert_int_equal(img_box_blur3(src, w * c, dst, w * c, w, h, c, r, &work), 0);
        ref_blur(src, w, h, c, r, ref);
        for (int i = 0; i < w * h * c; i++)
            if (fabs(dst[i] - ref[i]) > 2.0)
                fail_msg("case %zu sample %d: %d vs %.2f", t, i, dst[i], ref[i]);
        free(src), free(dst), free(ref);
    }
    img_scratch_free(&work);
}

static void test_box_radius_gives_sigma(void **state)
{
    (void)state;
    for (float s = 1; s < 60; s += 3.7f) {
        int r = img_box_radius(s);
        assert_true(fabs(sqrt((double)r * (r + 1)) - s) <= 0.75);
    }
}

/* The masked blur equals the full blur of the grown block where the mask is
 * 255, and leaves every pixel with mask 0 bit-identical. */
static void test_blur_masked_inside_and_outside(void **state)
{
    (void)state;
    int W = 120, H = 90, r = 4;
    uint8_t *img = malloc(W * H), *orig = malloc(W * H), *ref = malloc(W * H);
    fill_noise(img, W * H);
    memcpy(orig, img, W * H);
    img_plane p = {img, W, W, H, 1, 0};
    img_alpha m = {0};
    assert_int_equal(img_alpha_begin(&m, 40, 30, 80, 60, W, H), 0);
    img_alpha_ellipse(&m, 60, 45, 18, 13, 3);
    img_scratch work = {0};
    assert_int_equal(img_blur_masked(&p, &m, r, &work), 0);
    /* Grown block: mask region +- 3r, fully inside the plane here. */
    int gx = m.x - 3 * r, gy = m.y - 3 * r, gw = m.width + 6 * r, gh = m.height + 6 * r;
    assert_int_equal(img_box_blur3(orig + gy * W + gx, W, ref + gy * W + gx, W, gw, gh, 1, r, &work), 0);
    int inside = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int a = 0;
            if (x >= m.x && x < m.x + m.width && y >= m.y && y < m.y + m.height)
                a = m.a[(y - m.y) * m.stride + x - m.x];
            if (a == 0)
                assert_int_equal(img[y * W + x], orig[y * W + x]);
            else if (a == 255) {
                assert_int_equal(img[y * W + x], ref[y * W + x]);
                inside++;
            }
        }
    assert_true(inside > 300);
    free(img), free(orig), free(ref);
    img_alpha_free(&m);
    img_scratch_free(&work);
}

/* Strong blurs run at half resolution: within a few levels of the full
 * filter on a structured picture, and still exact outside the mask. */
static void test_strong_blur_matches_full_resolution(void **state)
{
    (void)state;
    for (int c = 1; c <= 3; c++) {
        int W = 301, H = 257, r = 12;
        uint8_t *img = malloc(W * H * c), *orig = malloc(W * H * c), *ref = malloc(W * H * c);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int k = 0; k < c; k++)
                    img[(y * W + x) * c + k] = (uint8_t)(((x / 23 + y / 17) & 1) * 120 + x / 3 + k * 20 + (rnd() & 15));
        memcpy(orig, img, W * H * c);
        img_plane p = {img, W * c, W, H, c, 0};
        img_alpha m = {0};
        assert_int_equal(img_alpha_begin(&m, 90, 70, 211, 191, W, H), 0);
        img_alpha_ellipse(&m, 150, 130, 55, 55, 6);
        img_scratch work = {0};
        assert_int_equal(img_blur_masked(&p, &m, r, &work), 0);
        int gx = m.x - 3 * r, gy = m.y - 3 * r, gw = m.width + 6 * r, gh = m.height + 6 * r;
        assert_int_equal(img_box_blur3(orig + (gy * W + gx) * c, W * c, ref + (gy * W + gx) * c, W * c, gw, gh, c, r, &work), 0);
        double sum = 0;
        int n = 0, worst = 0;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int a = 0;
                if (x >= m.x && x < m.x + m.width && y >= m.y && y < m.y + m.height)
                    a = m.a[(y - m.y) * m.stride + x - m.x];
                for (int k = 0; k < c; k++) {
                    int i = (y * W + x) * c + k;
                    if (a == 0)
                        assert_int_equal(img[i], orig[i]);
                    else if (a == 255) {
                        int d = abs(img[i] - ref[i]);
                        worst = d > worst ? d : worst;
                        sum += d, n++;
                    }
                }
            }
        if (!(worst <= 4 && sum / n < 1.0))
            fail_msg("channels %d: worst %d, mean %.2f", c, worst, sum / n);
        free(img), free(orig), free(ref);
        img_alpha_free(&m);
        img_scratch_free(&work);
    }
}

static void test_pixelate_cells_are_means(void **state)
{
    (void)state;
    int W = 64, H = 48, c = 3, cell = 8;
    uint8_t *img = malloc(W * H * c), *orig = malloc(W * H * c);
    fill_noise(img, W * H * c);
    memcpy(orig, img, W * H * c);
    img_plane p = {img, W * c, W, H, c, 0};
    img_alpha m = {0};
    assert_int_equal(img_alpha_begin(&m, 8, 8, 57, 41, W, H), 0);
    float box[4][2] = {{8, 8}, {56, 8}, {56, 40}, {8, 40}};
    img_alpha_polygon(&m, (const float(*)[2])box, 4, 0, 0);
    img_scratch work = {0};
    assert_int_equal(img_pixelate_masked(&p, &m, cell, 8, 8, &work), 0);
    for (int cy = 1; cy < 5; cy++)
        for (int cx = 1; cx < 7; cx++)
            for (int ch = 0; ch < c; ch++) {
                int s = 0;
                for (int y = cy * cell; y < (cy + 1) * cell; y++)
                    for (int x = cx * cell; x < (cx + 1) * cell; x++)
                        s += orig[(y * W + x) * c + ch];
                int mean = (s + cell * cell / 2) / (cell * cell);
                for (int y = cy * cell; y < (cy + 1) * cell; y++)
                    for (int x = cx * cell; x < (cx + 1) * cell; x++)
                        assert_int_equal(img[(y * W + x) * c + ch], mean);
            }
    /* Outside the box: untouched. */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if (x < 8 || x >= 56 || y < 8 || y >= 40)
                assert_memory_equal(img + (y * W + x) * c, orig + (y * W + x) * c, c);
    free(img), free(orig);
    img_alpha_free(&m);
    img_scratch_free(&work);
}

static void test_polygon_area_and_feather(void **state)
{
    (void)state;
    img_alpha m = {0};
    assert_int_equal(img_alpha_begin(&m, 0, 0, 100, 100, 100, 100), 0);
    float sq[4][2] = {{10, 20}, {60, 20}, {60, 50}, {10, 50}};
    img_alpha_polygon(&m, (const float(*)[2])sq, 4, 0, 0);
    assert_int_equal(img_alpha_count(&m), 50 * 30);
    /* Reversed winding, feathered: outside still 0, deep inside 255, ramp monotone. */
    float rs[4][2] = {{10, 50}, {60, 50}, {60, 20}, {10, 20}};
    img_alpha_polygon(&m, (const float(*)[2])rs, 4, 2, 6);
    for (int y = 0; y < 100; y++)
        for (int x = 0; x < 100; x++) {
            int a = m.a[y * m.stride + x];
            if (x < 10 || x >= 60 || y < 20 || y >= 50)
                assert_int_equal(a, 0);
        }
    assert_int_equal(m.a[35 * m.stride + 35], 255);
    int prev = -1;
    for (int x = 10; x < 35; x++) {
        int a = m.a[35 * m.stride + x];
        assert_true(a >= prev);
        prev = a;
    }
    assert_int_equal(m.a[35 * m.stride + 11], 0);   /* depth 1.5 < inset 2 */
    assert_true(m.a[35 * m.stride + 14] > 0 && m.a[35 * m.stride + 14] < 255);
    img_alpha_free(&m);
}

static void test_ellipse_area_and_clipping(void **state)
{
    (void)state;
    img_alpha m = {0};
    assert_int_equal(img_alpha_begin(&m, 0, 0, 200, 200, 200, 200), 0);
    img_alpha_ellipse(&m, 100, 90, 60, 40, 0);
    double area = M_PI * 60 * 40;
    assert_true(fabs(img_alpha_count(&m) - area) < 0.01 * area);
    /* Partly outside a small odd plane: the region is clipped, values stay in it. */
    assert_int_equal(img_alpha_begin(&m, -30, -20, 10, 12, 7, 5), 0);
    assert_true(m.width <= 7 && m.height <= 5);
    img_alpha_ellipse(&m, -10, -4, 20, 16, 3);
    assert_true(img_alpha_count(&m) > 0);
    assert_int_equal(img_alpha_begin(&m, 50, 50, 60, 60, 20, 20), 1);
    img_alpha_free(&m);
}

static void test_chroma_mask_covers_touched_blocks(void **state)
{
    (void)state;
    img_alpha l = {0}, c = {0};
    int W = 33, H = 27;
    assert_int_equal(img_alpha_begin(&l, 3, 5, 33, 27, W, H), 0);
    img_alpha_ellipse(&l, 20, 17, 12, 9, 2);
    assert_int_equal(img_alpha_chroma(&l, W, H, &c), 0);
    for (int cy = 0; cy < (H + 1) / 2; cy++)
        for (int cx = 0; cx < (W + 1) / 2; cx++) {
            int any = 0;
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++) {
                    int x = 2 * cx + dx - l.x, y = 2 * cy + dy - l.y;
                    if (x >= 0 && y >= 0 && x < l.width && y < l.height)
                        any |= l.a[y * l.stride + x];
                }
            int a = 0;
            if (cx >= c.x && cy >= c.y && cx < c.x + c.width && cy < c.y + c.height)
                a = c.a[(cy - c.y) * c.stride + cx - c.x];
            assert_int_equal(a != 0, any != 0);
        }
    img_alpha_free(&l), img_alpha_free(&c);
}

static void test_convex_hull(void **state)
{
    (void)state;
    float pts[60][2], hull[60][2];
    for (int i = 0; i < 24; i++)
        pts[i][0] = 50 + 30 * cosf(i * 2 * (float)M_PI / 24), pts[i][1] = 50 + 30 * sinf(i * 2 * (float)M_PI / 24);
    for (int i = 24; i < 60; i++)
        pts[i][0] = 40 + (rnd() % 200) / 10.f, pts[i][1] = 40 + (rnd() % 200) / 10.f;
    assert_int_equal(img_convex_hull((const float(*)[2])pts, 60, hull), 24);
}

static void test_yuv_and_lab(void **state)
{
    (void)state;
    for (int r = 0; r < 256; r += 15)
        for (int g = 0; g < 256; g += 15)
            for (int b = 0; b < 256; b += 15) {
                uint8_t y, u, v, o[3], in[3] = {(uint8_t)r, (uint8_t)g, (uint8_t)b};
                img_rgb_to_yuv(r, g, b, &y, &u, &v);
                img_yuv_to_rgb(y, u, v, &o[0], &o[1], &o[2]);
                for (int k = 0; k < 3; k++)
                    assert_true(abs(o[k] - in[k]) <= 3);
                float lab[3];
                img_rgb_to_lab(in, lab);
                img_lab_to_rgb(lab, o);
                for (int k = 0; k < 3; k++)
                    assert_true(abs(o[k] - in[k]) <= 1);
            }
    float lab[3];
    img_rgb_to_lab((const uint8_t[]){255, 255, 255}, lab);
    assert_true(fabsf(lab[0] - 100) < 0.2f && fabsf(lab[1]) < 0.2f && fabsf(lab[2]) < 0.2f);
    img_rgb_to_lab((const uint8_t[]){255, 0, 0}, lab);
    assert_true(fabsf(lab[0] - 53.24f) < 0.3f && fabsf(lab[1] - 80.09f) < 0.5f && fabsf(lab[2] - 67.20f) < 0.5f);
}

static void test_delaunay_empty_circles(void **state)
{
    (void)state;
    enum { N = 300 };
    float pts[N][2];
    int tris[2 * N][3];
    for (int i = 0; i < N; i++)
        pts[i][0] = (rnd() % 100000) / 100.f, pts[i][1] = (rnd() % 100000) / 100.f;
    int nt = img_delaunay((const float(*)[2])pts, N, tris, 2 * N);
    float hull[N][2];
    int h = img_convex_hull((const float(*)[2])pts, N, hull);
    assert_int_equal(nt, 2 * N - 2 - h);
    for (int t = 0; t < nt; t++) {
        double ax = pts[tris[t][0]][0], ay = pts[tris[t][0]][1], bx = pts[tris[t][1]][0], by = pts[tris[t][1]][1];
        double cx = pts[tris[t][2]][0], cy = pts[tris[t][2]][1];
        double d = 2 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by));
        double ux = ((ax * ax + ay * ay) * (by - cy) + (bx * bx + by * by) * (cy - ay) + (cx * cx + cy * cy) * (ay - by)) / d;
        double uy = ((ax * ax + ay * ay) * (cx - bx) + (bx * bx + by * by) * (ax - cx) + (cx * cx + cy * cy) * (bx - ax)) / d;
        double r2 = (ax - ux) * (ax - ux) + (ay - uy) * (ay - uy);
        for (int i = 0; i < N; i++) {
            double dx = pts[i][0] - ux, dy = pts[i][1] - uy;
            assert_true(dx * dx + dy * dy >= r2 * (1 - 1e-6));
        }
    }
}

static void test_triangle_warp_covers_without_gaps(void **state)
{
    (void)state;
    int W = 40, H = 30;
    float *src = malloc(sizeof *src * W * H * 3), *dst = calloc(W * H * 3, sizeof *dst);
    uint8_t *cov = calloc(W * H, 1);
    for (int i = 0; i < W * H * 3; i++)
        src[i] = (float)(rnd() % 1000);
    /* Two triangles covering the whole image, source = destination. */
    const float t1[3][2] = {{0, 0}, {40, 0}, {0, 30}}, t2[3][2] = {{40, 0}, {40, 30}, {0, 30}};
    img_warp_triangle_f3(src, W, H, 3 * W, t1, t1, dst, 3 * W, cov, W, 0, 0, W, H);
    img_warp_triangle_f3(src, W, H, 3 * W, t2, t2, dst, 3 * W, cov, W, 0, 0, W, H);
    for (int i = 0; i < W * H; i++) {
        assert_int_equal(cov[i], 255);
        for (int k = 0; k < 3; k++)
            assert_true(fabsf(dst[3 * i + k] - src[3 * i + k]) < 1e-2f);
    }
    free(src), free(dst), free(cov);
}

static void test_similarity_fit(void **state)
{
    (void)state;
    float a[10][2], b[10][2], m[6];
    float s = 1.7f, th = 0.4f, tx = 12, ty = -5;
    for (int i = 0; i < 10; i++) {
        a[i][0] = (float)(rnd() % 100), a[i][1] = (float)(rnd() % 100);
        b[i][0] = s * (cosf(th) * a[i][0] - sinf(th) * a[i][1]) + tx;
        b[i][1] = s * (sinf(th) * a[i][0] + cosf(th) * a[i][1]) + ty;
    }
    assert_int_equal(img_similarity_fit((const float(*)[2])a, (const float(*)[2])b, 10, m), 0);
    assert_true(fabsf(m[0] - s * cosf(th)) < 1e-3f && fabsf(m[3] - s * sinf(th)) < 1e-3f);
    assert_true(fabsf(m[2] - tx) < 1e-2f && fabsf(m[5] - ty) < 1e-2f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_box_blur_matches_reference),
        cmocka_unit_test(test_box_radius_gives_sigma),
        cmocka_unit_test(test_blur_masked_inside_and_outside),
        cmocka_unit_test(test_strong_blur_matches_full_resolution),
        cmocka_unit_test(test_pixelate_cells_are_means),
        cmocka_unit_test(test_polygon_area_and_feather),
        cmocka_unit_test(test_ellipse_area_and_clipping),
        cmocka_unit_test(test_chroma_mask_covers_touched_blocks),
        cmocka_unit_test(test_convex_hull),
        cmocka_unit_test(test_yuv_and_lab),
        cmocka_unit_test(test_delaunay_empty_circles),
        cmocka_unit_test(test_triangle_warp_covers_without_gaps),
        cmocka_unit_test(test_similarity_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
