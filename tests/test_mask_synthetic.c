/* face/masker on synthetic frames and hand-made faces, in every native
 * format: each mode changes the face, leaves everything outside the grown
 * mask bit-identical, and never writes out of bounds (run it under ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face/masker.h"
#include "face/swap.h"
#include "img/color.h"

static uint32_t rng = 777;
static uint32_t rnd(void)
{
    rng = rng * 1664525u + 1013904223u;
    return rng >> 8;
}
static float frand(void) { return (rnd() & 0xffff) / 65536.f; }

static ptim_config *config(const char *a, const char *b, const char *c, const char *d)
{
    const char *kv[4];
    int n = 0;
    if (a) kv[n++] = a;
    if (b) kv[n++] = b;
    if (c) kv[n++] = c;
    if (d) kv[n++] = d;
    ptim_config *cfg;
    ptim_error err;
    assert_int_equal(ptim_config_new(kv, n, &cfg, &err), 0);
    return cfg;
}

static void noise_frame(img_image *img, img_format fmt, int w, int h)
{
    assert_int_equal(img_image_alloc(img, fmt, w, h), 0);
    img_plane p[3];
    int n = img_view_planes(&img->view, p);
    for (int i = 0; i < n; i++)
        for (int y = 0; y < p[i].height; y++)
            for (int x = 0; x < p[i].width * p[i].channels; x++)
                p[i].data[(size_t)y * p[i].stride + x] = (uint8_t)(rnd() & 255);
}

static void copy_frame(img_image *dst, const img_image *src)
{
    assert_int_equal(img_image_alloc(dst, src->view.format, src->view.width, src->view.height), 0);
    img_plane a[3], b[3];
    int n = img_view_planes(&src->view, a);
    img_view_planes(&dst->view, b);
    for (int i = 0; i < n; i++)
        for (int y = 0; y < a[i].height; y++)
            memcpy(b[i].data + (size_t)y * b[i].stride, a[i].data + (size_t)y * a[i].stride,
                   (size_t)a[i].width * a[i].channels);
}

/* A face: box centred at (cx, cy), landmarks spread over the inscribed
 * ellipse (36 on its outline), inner lips as a small ring around the mouth. */
static face synth_face(float cx, float cy, float fw, float fh, float mouth_open)
{
    face f;
    memset(&f, 0, sizeof f);
    f.id = 1;
    f.flags = FACE_DETECTED | FACE_HAS_LANDMARKS;
    f.score = 0.9f;
    f.box[0] = cx - fw / 2, f.box[1] = cy - fh / 2, f.box[2] = fw, f.box[3] = fh;
    for (int i = 0; i < FACE_LANDMARKS; i++) {
        float a = frand() * 2 * (float)M_PI, r = i < 36 ? 1.f : 0.92f * sqrtf(frand());
        if (i < 36)
            a = i * 2 * (float)M_PI / 36;
        f.landmarks[i][0] = cx + r * fw / 2 * cosf(a);
        f.landmarks[i][1] = cy + r * fh / 2 * sinf(a);
    }
    for (int k = 0; k < 20; k++) {
        float a = k * 2 * (float)M_PI / 20;
        int idx = face_inner_lips[k];
        f.landmarks[idx][0] = cx + 0.2f * fw * cosf(a);
        f.landmarks[idx][1] = cy + 0.25f * fh + (mouth_open * fh / 2 + 0.5f) * sinf(a);
    }
    /* 13 / 14 are the inner lips' upper and lower middles. */
    f.landmarks[13][0] = f.landmarks[14][0] = cx;
    f.landmarks[13][1] = cy + 0.25f * fh - (mouth_open * fh / 2 + 0.5f);
    f.landmarks[14][1] = cy + 0.25f * fh + (mouth_open * fh / 2 + 0.5f);
    for (int k = 0; k < FACE_KEYPOINTS; k++)
        f.keypoints[k][0] = cx, f.keypoints[k][1] = cy;
    return f;
}

/* May luma pixel (x, y) change? Inside the grown shape plus one pixel. */
static int may_change(const char *shape, const face *f, float scale, int x, int y)
{
    float cx = f->box[0] + f->box[2] / 2, cy = f->box[1] + f->box[3] / 2;
    float px = x + 0.5f, py = y + 0.5f;
    if (!strcmp(shape, "box")) {
        float g = 2 * scale - 1;
        return fabsf(px - cx) <= f->box[2] * g / 2 + 1 && fabsf(py - cy) <= f->box[3] * g / 2 + 1;
    }
    float g = !strcmp(shape, "ellipse") ? 2 * scale - 1 : scale;
    float rx = f->box[2] * g / 2 + 1, ry = f->box[3] * g / 2 + 1;
    return (px - cx) * (px - cx) / (rx * rx) + (py - cy) * (py - cy) / (ry * ry) <= 1;
}

/* Checks every plane outside the may-change area is bit-identical. */
static void assert_outside_unchanged(const img_image *a, const img_image *b, const char *shape,
                                     const face *f, float scale)
{
    img_plane pa[3], pb[3];
    int n = img_view_planes(&a->view, pa);
    img_view_planes(&b->view, pb);
    for (int i = 0; i < n; i++)
        for (int y = 0; y < pa[i].height; y++)
            for (int x = 0; x < pa[i].width; x++) {
                int m = 0;
                for (int dy = 0; dy <= pa[i].shift; dy++)
                    for (int dx = 0; dx <= pa[i].shift; dx++)
                        m |= may_change(shape, f, scale, (x << pa[i].shift) + dx, (y << pa[i].shift) + dy);
                if (m)
                    continue;
                const uint8_t *u = pa[i].data + (size_t)y * pa[i].stride + (size_t)x * pa[i].channels;
                const uint8_t *v = pb[i].data + (size_t)y * pb[i].stride + (size_t)x * pb[i].channels;
                if (memcmp(u, v, pa[i].channels))
                    fail_msg("%s: plane %d pixel (%d, %d) changed outside the mask", shape, i, x, y);
            }
}

/* Standard deviation of plane 0's first channel over the inner half of the face box. */
static double inner_std(const img_image *img, const face *f)
{
    img_plane p[3];
    img_view_planes(&img->view, p);
    double s = 0, s2 = 0;
    int n = 0;
    for (int y = (int)(f->box[1] + f->box[3] * 0.3f); y < (int)(f->box[1] + f->box[3] * 0.7f); y++)
        for (int x = (int)(f->box[0] + f->box[2] * 0.3f); x < (int)(f->box[0] + f->box[2] * 0.7f); x++) {
            double v = p[0].data[(size_t)y * p[0].stride + (size_t)x * p[0].channels];
            s += v, s2 += v * v, n++;
        }
    return sqrt(s2 / n - (s / n) * (s / n));
}

static const img_format formats[] = {IMG_FMT_YUV420P, IMG_FMT_NV12, IMG_FMT_RGB24, IMG_FMT_BGR24};

static void test_anonymizers_every_format_and_shape(void **state)
{
    (void)state;
    const char *modes[] = {"blur", "pixelate", "solid"};
    const char *shapes[] = {"contour", "ellipse", "box"};
    for (size_t fi = 0; fi < 4; fi++)
        for (int mi = 0; mi < 3; mi++)
            for (int si = 0; si < 3; si++) {
                char mode[64], shape[64];
                snprintf(mode, sizeof mode, "mask.mode=%s", modes[mi]);
                snprintf(shape, sizeof shape, "mask.shape=%s", shapes[si]);
                ptim_config *cfg = config(mode, shape, "mask.color=#10C040", NULL);
                face_masker *m;
                ptim_error err;
                assert_int_equal(face_masker_create(cfg, NULL, &m, &err), 0);
                img_image frame, orig;
                noise_frame(&frame, formats[fi], 321, 239);
                copy_frame(&orig, &frame);
                face_list faces = {.count = 1};
                faces.faces[0] = synth_face(150.3f, 120.7f, 100, 120, 0);
                assert_int_equal(face_masker_render(m, &frame.view, &faces, &err), 0);
                assert_outside_unchanged(&orig, &frame, shapes[si], &faces.faces[0], 1.3f);
                double before = inner_std(&orig, &faces.faces[0]), after = inner_std(&frame, &faces.faces[0]);
                if (mi == 0 && !(after < before / 8))
                    fail_msg("blur %s %s: std %.1f -> %.1f", img_format_name(formats[fi]), shapes[si], before, after);
                if (mi == 1 && !(after < before / 3))
                    fail_msg("pixelate %s %s: std %.1f -> %.1f", img_format_name(formats[fi]), shapes[si], before, after);
                if (mi == 2) {
                    uint8_t value[3][4];
                    img_color_planes(formats[fi], (const uint8_t[]){0x10, 0xC0, 0x40}, value);
                    img_plane p[3];
                    int n = img_view_planes(&frame.view, p);
                    for (int i = 0; i < n; i++) {
                        int x = (150 >> p[i].shift), y = (120 >> p[i].shift);
                        assert_memory_equal(p[i].data + (size_t)y * p[i].stride + (size_t)x * p[i].channels,
                                            value[i], p[i].channels);
                    }
                }
                img_image_free(&frame), img_image_free(&orig);
                face_masker_destroy(m);
                ptim_config_release(cfg);
            }
}

/* Pixelate: about mask.pixelate_cells cells across the face: luma values
 * along a row through the face change only at cell borders. */
static void test_pixelate_cell_count(void **state)
{
    (void)state;
    ptim_config *cfg = config("mask.mode=pixelate", "mask.shape=box", "mask.pixelate_cells=10", "mask.feather=0");
    face_masker *m;
    ptim_error err;
    assert_int_equal(face_masker_create(cfg, NULL, &m, &err), 0);
    img_image frame;
    noise_frame(&frame, IMG_FMT_RGB24, 400, 300);
    face_list faces = {.count = 1};
    faces.faces[0] = synth_face(200, 150, 120, 140, 0);
    assert_int_equal(face_masker_render(m, &frame.view, &faces, &err), 0);
    int changes = 0;
    const uint8_t *row = frame.view.data[0] + 150 * frame.view.stride[0];
    for (int x = 141; x < 260; x++)
        changes += memcmp(row + 3 * x, row + 3 * (x - 1), 3) != 0;
    assert_true(changes >= 8 && changes <= 11); /* 120 px / 12-px cells */
    img_image_free(&frame);
    face_masker_destroy(m);
    ptim_config_release(cfg);
}

static void test_none_and_debug_boxes(void **state)
{
    (void)state;
    ptim_config *cfg = config("mask.mode=none", "debug.draw=boxes", NULL, NULL);
    face_masker *m;
    ptim_error err;
    assert_int_equal(face_masker_create(cfg, NULL, &m, &err), 0);
    img_image frame, orig;
    noise_frame(&frame, IMG_FMT_YUV420P, 200, 160);
    copy_frame(&orig, &frame);
    face_list faces = {.count = 1};
    faces.faces[0] = synth_face(100, 80, 60, 70, 0);
    assert_int_equal(face_masker_render(m, &frame.view, &faces, &err), 0);
    int changed = 0;
    for (int y = 0; y < 160; y++)
        for (int x = 0; x < 200; x++) {
            int d = frame.view.data[0][y * frame.view.stride[0] + x] != orig.view.data[0][y * orig.view.stride[0] + x];
            int on_line = (x >= 70 && x < 131 && y >= 45 && y < 116) && !(x >= 71 && x < 129 && y >= 46 && y < 114);
            if (d && !on_line)
                fail_msg("pixel (%d, %d) changed off the box outline", x, y);
            changed += d;
        }
    assert_true(changed > 200);
    img_image_free(&frame), img_image_free(&orig);
    face_masker_destroy(m);
    ptim_config_release(cfg);
}

/* Textured identity: smooth colour waves so bilinear sampling is exact enough. */
static void wave_image(img_image *img, int w, int h, float phase)
{
    assert_int_equal(img_image_alloc(img, IMG_FMT_RGB24, w, h), 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img->view.data[0] + (size_t)y * img->view.stride[0] + 3 * x;
            p[0] = (uint8_t)(128 + 90 * sinf(x * 0.07f + phase));
            p[1] = (uint8_t)(128 + 90 * sinf(y * 0.05f + 2 * phase));
            p[2] = (uint8_t)(128 + 90 * sinf((x + y) * 0.04f));
        }
}

static face transform_face(const face *f, float s, float th, float tx, float ty)
{
    face g = *f;
    float c = cosf(th) * s, sn = sinf(th) * s;
    for (int i = 0; i < FACE_LANDMARKS; i++) {
        float x = f->landmarks[i][0], y = f->landmarks[i][1];
        g.landmarks[i][0] = c * x - sn * y + tx;
        g.landmarks[i][1] = sn * x + c * y + ty;
    }
    float minx = 1e9f, maxx = -1e9f, miny = 1e9f, maxy = -1e9f;
    for (int i = 0; i < FACE_LANDMARKS; i++) {
        minx = fminf(minx, g.landmarks[i][0]), maxx = fmaxf(maxx, g.landmarks[i][0]);
        miny = fminf(miny, g.landmarks[i][1]), maxy = fmaxf(maxy, g.landmarks[i][1]);
    }
    g.box[0] = minx, g.box[1] = miny, g.box[2] = maxx - minx, g.box[3] = maxy - miny;
    return g;
}

/* The mesh warp of an affinely moved face is that affine map: deep inside
 * the mask the output equals the identity sampled through the inverse map. */
static void test_swap_warp_follows_landmarks(void **state)
{
    (void)state;
    img_image id, frame;
    wave_image(&id, 220, 240, 0);
    face idf = synth_face(110, 120, 140, 170, 0);
    const float s = 0.8f, th = 0.17f, tx = 90, ty = 10;
    face tgt = transform_face(&idf, s, th, tx, ty);
    for (size_t fi = 0; fi < 4; fi += 2) {
        ptim_config *cfg = config("mask.mode=swap", "merge.color_transfer=none", "merge.erode=0", "merge.blur=8");
        face_masker_assets assets = {.identity = &id.view, .identity_name = "synthetic.png", .identity_face = &idf};
        face_masker *m;
        ptim_error err;
        assert_int_equal(face_masker_create(cfg, &assets, &m, &err), 0);
        noise_frame(&frame, formats[fi], 360, 260);
        face_list faces = {.count = 1};
        faces.faces[0] = tgt;
        assert_int_equal(face_masker_render(m, &frame.view, &faces, &err), 0);
        float c = cosf(th) / s, sn = sinf(th) / s;
        int checked = 0, bad = 0;
        float cx = tgt.box[0] + tgt.box[2] / 2, cy = tgt.box[1] + tgt.box[3] / 2;
        for (int y = 0; y < 260; y++)
            for (int x = 0; x < 360; x++) {
                float px = x + 0.5f, py = y + 0.5f;
                float dx = (px - cx) / (tgt.box[2] * 0.4f), dy = (py - cy) / (tgt.box[3] * 0.4f);
                if (dx * dx + dy * dy > 1)
                    continue; /* only deep inside the mask */
                float u = c * (px - tx) + sn * (py - ty), v = -sn * (px - tx) + c * (py - ty);
                uint8_t e[3], o[3];
                int iu = (int)u, iv = (int)v;
                memcpy(e, id.view.data[0] + (size_t)iv * id.view.stride[0] + 3 * iu, 3);
                img_read_rgb(&frame.view, x, y, 1, 1, o, 3);
                int tol = fi == 0 ? 14 : 6; /* YUV 4:2:0 loses chroma detail */
                for (int k = 0; k < 3; k++)
                    bad += abs(o[k] - e[k]) > tol;
                checked++;
            }
        if (!(checked > 3000 && bad < checked / 50))
            fail_msg("%s: %d of %d samples off", img_format_name(formats[fi]), bad, checked);
        img_image_free(&frame);
        face_masker_destroy(m);
        ptim_config_release(cfg);
    }
    img_image_free(&id);
}

/* rct: the swapped face takes the target's LAB mean inside the mask. */
static void test_swap_rct_matches_target_colour(void **state)
{
    (void)state;
    img_image id, frame;
    wave_image(&id, 220, 240, 1);
    face idf = synth_face(110, 120, 140, 170, 0);
    face tgt = transform_face(&idf, 0.9f, -0.1f, 60, 20);
    ptim_config *cfg = config("mask.mode=swap", NULL, NULL, NULL);
    face_masker_assets assets = {.identity = &id.view, .identity_name = "synthetic.png", .identity_face = &idf};
    face_masker *m;
    ptim_error err;
    assert_int_equal(face_masker_create(cfg, &assets, &m, &err), 0);
    assert_int_equal(img_image_alloc(&frame, IMG_FMT_RGB24, 340, 280), 0);
    for (int y = 0; y < 280; y++)
        for (int x = 0; x < 340; x++) {
            uint8_t *p = frame.view.data[0] + (size_t)y * frame.view.stride[0] + 3 * x;
            p[0] = (uint8_t)(190 + rnd() % 30), p[1] = (uint8_t)(130 + rnd() % 20), p[2] = (uint8_t)(100 + rnd() % 20);
        }
    img_alpha inner = {0};
    float cx = tgt.box[0] + tgt.box[2] / 2, cy = tgt.box[1] + tgt.box[3] / 2;
    assert_int_equal(img_alpha_begin(&inner, 0, 0, 340, 280, 340, 280), 0);
    img_alpha_ellipse(&inner, cx, cy, tgt.box[2] * 0.35f, tgt.box[3] * 0.35f, 0);
    img_lab_stats before, after;
    img_rgb_lab_stats_masked(frame.view.data[0], frame.view.stride[0], &inner, 1, &before);
    face_list faces = {.count = 1};
    faces.faces[0] = tgt;
    assert_int_equal(face_masker_render(m, &frame.view, &faces, &err), 0);
    img_rgb_lab_stats_masked(frame.view.data[0], frame.view.stride[0], &inner, 1, &after);
    for (int k = 0; k < 3; k++)
        if (fabs(after.mean[k] - before.mean[k]) > 3)
            fail_msg("LAB channel %d mean %.1f -> %.1f", k, before.mean[k], after.mean[k]);
    img_alpha_free(&inner);
    img_image_free(&frame), img_image_free(&id);
    face_masker_destroy(m);
    ptim_config_release(cfg);
}

static int mouth_unchanged(int keep)
{
    img_image id, frame, orig;
    wave_image(&id, 220, 240, 2);
    face idf = synth_face(110, 120, 140, 170, 0);
    face tgt = synth_face(180, 130, 140, 170, 0.12f);
    ptim_config *cfg = config("mask.mode=swap", keep ? "swap.keep_mouth=true" : "swap.keep_mouth=false", NULL, NULL);
    face_masker_assets assets = {.identity = &id.view, .identity_name = "synthetic.png", .identity_face = &idf};
    face_masker *m;
    ptim_error err;
    assert_int_equal(face_masker_create(cfg, &assets, &m, &err), 0);
    noise_frame(&frame, IMG_FMT_RGB24, 360, 300);
    copy_frame(&orig, &frame);
    face_list faces = {.count = 1};
    faces.faces[0] = tgt;
    assert_int_equal(face_masker_render(m, &frame.view, &faces, &err), 0);
    int same = 1;
    for (int y = 130 + 42 - 4; y <= 130 + 42 + 4; y++)
        for (int x = 180 - 10; x <= 180 + 10; x++)
            same &= !memcmp(frame.view.data[0] + (size_t)y * frame.view.stride[0] + 3 * x,
                            orig.view.data[0] + (size_t)y * orig.view.stride[0] + 3 * x, 3);
    img_image_free(&frame), img_image_free(&orig), img_image_free(&id);
    face_masker_destroy(m);
    ptim_config_release(cfg);
    return same;
}

static void test_swap_keep_mouth(void **state)
{
    (void)state;
    assert_true(mouth_unchanged(1));
    assert_false(mouth_unchanged(0));
}

static void test_swap_fails_closed_without_landmarks(void **state)
{
    (void)state;
    img_image id, frame, orig;
    wave_image(&id, 220, 240, 0);
    face idf = synth_face(110, 120, 140, 170, 0);
    ptim_config *cfg = config("mask.mode=swap", NULL, NULL, NULL);
    face_masker_assets assets = {.identity = &id.view, .identity_name = "synthetic.png", .identity_face = &idf};
    face_masker *m;
    ptim_error err;
    assert_int_equal(face_masker_create(cfg, &assets, &m, &err), 0);
    noise_frame(&frame, IMG_FMT_NV12, 300, 200);
    copy_frame(&orig, &frame);
    face_list faces = {.count = 1};
    faces.faces[0] = synth_face(150, 100, 80, 90, 0);
    faces.faces[0].flags = FACE_HELD; /* no landmarks */
    assert_int_equal(face_masker_render(m, &frame.view, &faces, &err), 0);
    assert_true(inner_std(&frame, &faces.faces[0]) < inner_std(&orig, &faces.faces[0]) / 8);
    img_image_free(&frame), img_image_free(&orig), img_image_free(&id);
    face_masker_destroy(m);
    ptim_config_release(cfg);
}

static void test_configuration_errors_are_clear(void **state)
{
    (void)state;
    face_masker *m;
    ptim_error err = {0};
    ptim_config *cfg = config("mask.mode=swap", NULL, NULL, NULL);
    assert_int_equal(face_masker_create(cfg, NULL, &m, &err), -1);
    assert_non_null(strstr(err.message, "swap.identity"));
    img_image id;
    wave_image(&id, 64, 64, 0);
    face nolm = synth_face(32, 32, 30, 30, 0);
    nolm.flags = FACE_DETECTED;
    face_masker_assets assets = {.identity = &id.view, .identity_name = "nobody.png", .identity_face = &nolm};
    assert_int_equal(face_masker_create(cfg, &assets, &m, &err), -1);
    assert_non_null(strstr(err.message, "nobody.png"));
    ptim_config_release(cfg);
    /* a colour that is not #RRGGBB is refused by the option table itself */
    const char *green[] = {"mask.color=green"};
    assert_int_equal(ptim_config_new(green, 1, &cfg, &err), -1);
    assert_non_null(strstr(err.message, "mask.color"));
    cfg = config("mask.mode=image", NULL, NULL, NULL);
    assert_int_equal(face_masker_create(cfg, NULL, &m, &err), -1);
    assert_non_null(strstr(err.message, "mask.image"));
    ptim_config_release(cfg);
    img_image_free(&id);
}

static void test_image_overlay_follows_face(void **state)
{
    (void)state;
    img_image ov, frame, orig;
    assert_int_equal(img_image_alloc(&ov, IMG_FMT_RGBA, 64, 64), 0);
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++) {
            uint8_t *p = ov.view.data[0] + (size_t)y * ov.view.stride[0] + 4 * x;
            p[0] = 255, p[1] = 0, p[2] = 0, p[3] = (uint8_t)((x - 32) * (x - 32) + (y - 32) * (y - 32) < 900 ? 255 : 0);
        }
    ptim_config *cfg = config("mask.mode=image", NULL, NULL, NULL);
    face_masker_assets assets = {.overlay = &ov.view};
    face_masker *m;
    ptim_error err;
    assert_int_equal(face_masker_create(cfg, &assets, &m, &err), 0);
    noise_frame(&frame, IMG_FMT_YUV420P, 301, 201);
    copy_frame(&orig, &frame);
    face_list faces = {.count = 1};
    faces.faces[0] = synth_face(150, 100, 80, 80, 0);
    faces.faces[0].roll = 0.3f;
    assert_int_equal(face_masker_render(m, &frame.view, &faces, &err), 0);
    uint8_t y, u, v;
    img_rgb_to_yuv(255, 0, 0, &y, &u, &v);
    assert_true(abs(frame.view.data[0][100 * frame.view.stride[0] + 150] - y) <= 1);
    /* The disc: radius 30 overlay px (centre off by half a pixel) at 2 frame px each, plus the bilinear rim. */
    assert_outside_unchanged(&orig, &frame, "ellipse", &(face){.box = {150 - 65, 100 - 65, 130, 130}}, 1.0f);
    img_image_free(&frame), img_image_free(&orig), img_image_free(&ov);
    face_masker_destroy(m);
    ptim_config_release(cfg);
}

/* Odd sizes, 1-pixel faces at borders, faces partly or wholly outside,
 * nonsense boxes: every mode in every format renders without touching
 * memory it does not own (ASan) and returns 0. */
static void test_odd_sizes_and_borders(void **state)
{
    (void)state;
    img_image id;
    wave_image(&id, 120, 120, 0);
    face idf = synth_face(60, 60, 80, 90, 0);
    const char *modes[] = {"blur", "pixelate", "solid", "swap", "none"};
    const char *shapes[] = {"contour", "ellipse", "box"};
    const int sizes[][2] = {{1, 1}, {2, 3}, {3, 1}, {17, 9}, {33, 64}, {65, 31}};
    for (int mi = 0; mi < 5; mi++)
        for (int si = 0; si < 3; si++) {
            char mode[64], shape[64];
            snprintf(mode, sizeof mode, "mask.mode=%s", modes[mi]);
            snprintf(shape, sizeof shape, "mask.shape=%s", shapes[si]);
            ptim_config *cfg = config(mode, shape, "debug.draw=ids", "mask.scale=2.5");
            face_masker_assets assets = {.identity = &id.view, .identity_name = "id", .identity_face = &idf};
            face_masker *m;
            ptim_error err;
            assert_int_equal(face_masker_create(cfg, &assets, &m, &err), 0);
            for (size_t zi = 0; zi < sizeof sizes / sizeof sizes[0]; zi++)
                for (size_t fi = 0; fi < 4; fi++) {
                    int w = sizes[zi][0], h = sizes[zi][1];
                    img_image frame;
                    noise_frame(&frame, formats[fi], w, h);
                    face_list faces = {.count = 7};
                    faces.faces[0] = synth_face(0, 0, 10, 12, 0);
                    faces.faces[1] = synth_face(w - 0.5f, h / 2.f, 1, 1, 0);
                    faces.faces[2] = synth_face(w / 2.f, h - 0.2f, 1, 3, 0.1f);
                    faces.faces[3] = synth_face(w * 3.f, h * 3.f, 10, 10, 0);
                    faces.faces[4] = synth_face(w / 2.f, h / 2.f, w * 4.f, h * 4.f, 0.2f);
                    faces.faces[5] = synth_face(-20, h / 2.f, 30, 30, 0);
                    faces.faces[6] = synth_face(w / 2.f, h / 2.f, 0, 0, 0);
                    faces.faces[6].box[0] = NAN;
                    assert_int_equal(face_masker_render(m, &frame.view, &faces, &err), 0);
                    img_image_free(&frame);
                }
            face_masker_destroy(m);
            ptim_config_release(cfg);
        }
    img_image_free(&id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anonymizers_every_format_and_shape),
        cmocka_unit_test(test_pixelate_cell_count),
        cmocka_unit_test(test_none_and_debug_boxes),
        cmocka_unit_test(test_swap_warp_follows_landmarks),
        cmocka_unit_test(test_swap_rct_matches_target_colour),
        cmocka_unit_test(test_swap_keep_mouth),
        cmocka_unit_test(test_swap_fails_closed_without_landmarks),
        cmocka_unit_test(test_configuration_errors_are_clear),
        cmocka_unit_test(test_image_overlay_follows_face),
        cmocka_unit_test(test_odd_sizes_and_borders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
