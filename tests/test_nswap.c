/* face/nswap: the alignment and its inverse (a face turned, scaled and moved
 * by a known similarity lands where the model's template says, and frame →
 * crop → frame returns every point), the DFM framing (coverage scales the
 * square about a fixed centre), the inswapper identity latent (unit length,
 * computed once, the same for the same photo, different for another), and
 * the refusals of models that are not a .dfm or an inswapper, each one
 * sentence naming what the file has. Fixtures: tests/fixtures/onnx. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face/crop.h"
#include "face/masker.h"
#include "face/nswap.h"

static const char *fixture(const char *name)
{
    static char path[4][4096];
    static int k;
    k = (k + 1) % 4;
    const char *samples = getenv("PTIM_SAMPLES_DIR");
    char root[3000];
    snprintf(root, sizeof root, "%s", samples ? samples : "samples");
    char *slash = strrchr(root, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(root, sizeof root, ".");
    snprintf(path[k], sizeof path[k], "%s/tests/fixtures/onnx/%s", root, name);
    return path[k];
}

/* ArcFace 112 template: eyes, nose, mouth centre (the 4 BlazeFace points). */
static const float tmpl4[4][2] = {{38.2946f, 51.6963f}, {73.5318f, 51.5014f}, {56.0252f, 71.7366f},
                                  {56.1396f, 92.2848f}};

/* A face whose keypoints are the template turned by `deg`, scaled by k and moved to (ox, oy). */
static face face_at(float deg, float k, float ox, float oy, float sim[6])
{
    face f;
    memset(&f, 0, sizeof f);
    float c = cosf(deg * (float)M_PI / 180) * k, s = sinf(deg * (float)M_PI / 180) * k;
    float m[6] = {c, -s, ox, s, c, oy};
    memcpy(sim, m, sizeof m);
    for (int i = 0; i < 4; i++) {
        f.keypoints[i][0] = m[0] * tmpl4[i][0] + m[1] * tmpl4[i][1] + m[2];
        f.keypoints[i][1] = m[3] * tmpl4[i][0] + m[4] * tmpl4[i][1] + m[5];
    }
    f.box[0] = ox, f.box[1] = oy, f.box[2] = 112 * k, f.box[3] = 112 * k;
    f.score = 0.9f;
    return f;
}

static void test_inswapper_alignment(void **state)
{
    (void)state;
    float sim[6], m[6], inv[6];
    face f = face_at(23, 2.5f, 400, 180, sim);
    assert_true(face_nswap_crop_map(&f, FACE_NSWAP_INSWAPPER, 128, 2.2f, 0, 0, m));
    /* In the 128 crop each point sits at the template + 8 px in x: the crop
     * map takes that spot to the face's point in the frame. */
    for (int i = 0; i < 4; i++) {
        float x, y;
        crop_apply(m, tmpl4[i][0] + 8, tmpl4[i][1], &x, &y);
        assert_float_equal(x, f.keypoints[i][0], 0.05);
        assert_float_equal(y, f.keypoints[i][1], 0.05);
    }
    /* Round trip frame → crop → frame over the whole crop. */
    assert_true(crop_invert(m, inv));
    for (float u = 0; u <= 128; u += 16)
        for (float v = 0; v <= 128; v += 16) {
            float x, y, u2, v2;
            crop_apply(m, u, v, &x, &y);
            crop_apply(inv, x, y, &u2, &v2);
            assert_float_equal(u2, u, 1e-3);
            assert_float_equal(v2, v, 1e-3);
        }
    /* A crop pixel is 1/ratio template pixels: 2.5 frame pixels here. */
    assert_float_equal(hypotf(m[0], m[3]), 2.5f, 1e-3);
}

static void test_dfm_alignment(void **state)
{
    (void)state;
    float sim[6], m[6], m2[6], inv[6];
    face f = face_at(-40, 1.7f, 300, 260, sim);
    assert_true(face_nswap_crop_map(&f, FACE_NSWAP_DFM, 224, 2.2f, 0, 0, m));
    assert_true(face_nswap_crop_map(&f, FACE_NSWAP_DFM, 224, 1.1f, 0, 0, m2));
    /* The crop's centre is the same face point for any coverage: template
     * (0.511, 0.594) x 112, mapped by the face's similarity. */
    const float tx = 0.511f * 112, ty = 0.594f * 112;
    float cx, cy, cx2, cy2, ex = sim[0] * tx + sim[1] * ty + sim[2], ey = sim[3] * tx + sim[4] * ty + sim[5];
    crop_apply(m, 112, 112, &cx, &cy);
    crop_apply(m2, 112, 112, &cx2, &cy2);
    assert_float_equal(cx, ex, 0.05);
    assert_float_equal(cy, ey, 0.05);
    assert_float_equal(cx2, ex, 0.05);
    assert_float_equal(cy2, ey, 0.05);
    /* Side: coverage x 0.600 x 112 template px x 1.7 frame px; half the coverage, half the side. */
    assert_float_equal(224 * hypotf(m[0], m[3]), 2.2f * 0.600f * 112 * 1.7f, 0.01);
    assert_float_equal(hypotf(m2[0], m2[3]) * 2, hypotf(m[0], m[3]), 1e-4);
    /* The crop is upright: the eye line runs along the crop's x axis. */
    assert_true(crop_invert(m, inv));
    float u0, v0, u1, v1;
    crop_apply(inv, f.keypoints[0][0], f.keypoints[0][1], &u0, &v0);
    crop_apply(inv, f.keypoints[1][0], f.keypoints[1][1], &u1, &v1);
    assert_true(fabsf(v1 - v0) < 0.05f * (u1 - u0));
    assert_true(u1 > u0);
    /* Round trip of frame points. */
    for (int i = 0; i < 4; i++) {
        float u, v, x, y;
        crop_apply(inv, f.keypoints[i][0], f.keypoints[i][1], &u, &v);
        crop_apply(m, u, v, &x, &y);
        assert_float_equal(x, f.keypoints[i][0], 1e-2);
        assert_float_equal(y, f.keypoints[i][1], 1e-2);
    }
    /* x/y offsets move the centre along the face's own axes (it is turned
     * by -40 degrees here) by offset x 0.600 x 112 template px, the side at
     * coverage 1, and leave the side as it is. */
    float mo[6], ox, oy;
    assert_true(face_nswap_crop_map(&f, FACE_NSWAP_DFM, 224, 2.2f, 0.25f, -0.1f, mo));
    crop_apply(mo, 112, 112, &ox, &oy);
    const float dx = 0.25f * 0.600f * 112, dy = -0.1f * 0.600f * 112;
    assert_float_equal(ox, ex + sim[0] * dx + sim[1] * dy, 0.05);
    assert_float_equal(oy, ey + sim[3] * dx + sim[4] * dy, 0.05);
    assert_float_equal(hypotf(mo[0], mo[3]), hypotf(m[0], m[3]), 1e-5);
    /* A face without points has no alignment. */
    face none;
    memset(&none, 0, sizeof none);
    assert_false(face_nswap_crop_map(&none, FACE_NSWAP_DFM, 224, 2.2f, 0, 0, m));
}

/* A textured RGB "photo" with a face at the template x scale k. */
static void photo(img_image *img, unsigned seed)
{
    assert_int_equal(img_image_alloc(img, IMG_FMT_RGB24, 320, 320), 0);
    srand(seed);
    for (int y = 0; y < 320; y++)
        for (int x = 0; x < 320; x++)
            for (int c = 0; c < 3; c++)
                img->view.data[0][(size_t)y * img->view.stride[0] + 3 * x + c] =
                    (uint8_t)((x * (c + 1) + y * (3 - c)) / 3 + rand() % 64);
}

static void test_inswapper_latent(void **state)
{
    (void)state;
    img_image a, b;
    photo(&a, 1);
    photo(&b, 2);
    float sim[6];
    face f = face_at(5, 2.f, 50, 40, sim);
    face_nswap *s1, *s2, *s3;
    ptim_error err = {0};
    const char *model = fixture("inswapper_128_emap.onnx"), *enc = fixture("arcface_112.onnx");
    assert_int_equal(face_nswap_create(model, enc, &a.view, &f, 1, &s1, &err), 0);
    assert_int_equal(face_nswap_create(model, enc, &a.view, &f, 1, &s2, &err), 0);
    assert_int_equal(face_nswap_create(model, enc, &b.view, &f, 1, &s3, &err), 0);
    assert_int_equal(face_nswap_kind_of(s1), FACE_NSWAP_INSWAPPER);
    assert_int_equal(face_nswap_resolution(s1), 128);
    const float *l1 = face_nswap_latent(s1), *l2 = face_nswap_latent(s2), *l3 = face_nswap_latent(s3);
    double n = 0, d12 = 0, d13 = 0;
    for (int i = 0; i < 512; i++) {
        n += (double)l1[i] * l1[i];
        d12 += fabs(l1[i] - l2[i]);
        d13 += fabs(l1[i] - l3[i]);
    }
    assert_float_equal(n, 1.0, 1e-4);
    assert_true(d12 == 0);
    assert_true(d13 > 1e-3);
    face_nswap_destroy(s1);
    face_nswap_destroy(s2);
    face_nswap_destroy(s3);
    img_image_free(&a);
    img_image_free(&b);
}

static void expect_refusal(const char *model, const char *encoder, const char *want1, const char *want2)
{
    img_image a;
    photo(&a, 3);
    float sim[6];
    face f = face_at(0, 2.f, 50, 40, sim);
    face_nswap *s = NULL;
    ptim_error err = {0};
    assert_int_equal(face_nswap_create(model, encoder, &a.view, &f, 1, &s, &err), -1);
    assert_null(s);
    printf("refused: %s\n", err.message);
    assert_non_null(strstr(err.message, want1));
    assert_non_null(strstr(err.message, want2));
    assert_null(strchr(err.message, '\n'));
    img_image_free(&a);
}

static void test_refusals(void **state)
{
    (void)state;
    const char *enc = fixture("arcface_112.onnx");
    /* An encoder given as the swapper: says what it has. */
    expect_refusal(enc, NULL, "arcface_112.onnx is not", "input.1 [1x3x112x112]");
    /* inswapper without its emap. */
    expect_refusal(fixture("inswapper_128.onnx"), enc, "emap", "inswapper_128.onnx");
    /* inswapper without an encoder. */
    expect_refusal(fixture("inswapper_128_emap.onnx"), "", "swap.encoder", "w600k_r50");
    /* A DFM as the encoder. */
    expect_refusal(fixture("inswapper_128_emap.onnx"), fixture("dfm_224.onnx"), "not an ArcFace encoder", "dfm_224");
    /* Not a model at all / missing. */
    expect_refusal(fixture("dfm_224.in0.npy"), NULL, "dfm_224.in0.npy cannot be loaded", "swap.model");
    expect_refusal(fixture("no_such.dfm"), NULL, "no_such.dfm cannot be loaded", "cannot open");
}

static void test_dfm_loads(void **state)
{
    (void)state;
    const char *names[] = {"dfm_224.onnx", "dfm_224_morph.onnx"};
    for (int i = 0; i < 2; i++) {
        face_nswap *s = NULL;
        ptim_error err = {0};
        assert_int_equal(face_nswap_create(fixture(names[i]), NULL, NULL, NULL, 1, &s, &err), 0);
        assert_int_equal(face_nswap_kind_of(s), FACE_NSWAP_DFM);
        assert_int_equal(face_nswap_resolution(s), 224);
        assert_null(face_nswap_latent(s));
        face_nswap_destroy(s);
    }
}


/* swap.model changed under a running masker (what `ptim run` does between
 * frames on a hot reload): a model that fails to load leaves the old one in
 * use, a good one replaces it. */
/* extra, extra2: further settings or NULL (extra2 only after extra). */
static ptim_config *swap_cfg_with(const char *model, const char *extra, const char *extra2)
{
    char set[4200];
    snprintf(set, sizeof set, "swap.model=%s", model);
    const char *sets[] = {"mask.mode=swap", "performance.max_processing_workers=1", set, extra, extra2};
    ptim_config *cfg = NULL;
    ptim_error err = {0};
    assert_int_equal(ptim_config_new(sets, extra2 ? 5 : extra ? 4 : 3, &cfg, &err), 0);
    return cfg;
}

static ptim_config *swap_cfg(const char *model) { return swap_cfg_with(model, NULL, NULL); }

static void render(face_masker *m, const img_image *src, img_image *dst, const face_list *faces)
{
    memcpy(dst->view.data[0], src->view.data[0], (size_t)src->view.stride[0] * src->view.height);
    ptim_error err = {0};
    assert_int_equal(face_masker_render(m, &dst->view, faces, &err), 0);
}

static void test_hot_reload(void **state)
{
    (void)state;
    img_image src, a, b, c;
    photo(&src, 4);
    photo(&a, 4);
    photo(&b, 4);
    photo(&c, 4);
    face_list *faces = calloc(1, sizeof *faces);
    assert_non_null(faces);
    float sim[6];
    faces->count = 1;
    faces->faces[0] = face_at(10, 1.2f, 90, 80, sim);
    face_masker *m = NULL;
    ptim_error err = {0};
    ptim_config *c1 = swap_cfg(fixture("dfm_224.onnx")), *c2 = swap_cfg(fixture("arcface_112.onnx")),
                *c3 = swap_cfg(fixture("dfm_224_morph.onnx"));
    assert_int_equal(face_masker_create(c1, NULL, &m, &err), 0);
    render(m, &src, &a, faces);
    size_t bytes = (size_t)src.view.stride[0] * src.view.height;
    assert_memory_not_equal(a.view.data[0], src.view.data[0], bytes);
    /* A bad model: refused with its sentence, the old model keeps swapping. */
    assert_int_equal(face_masker_reconfigure(m, c2, NULL, &err), -1);
    assert_non_null(strstr(err.message, "arcface_112.onnx is not"));
    render(m, &src, &b, faces);
    assert_memory_equal(a.view.data[0], b.view.data[0], bytes);
    /* A good one replaces it. */
    assert_int_equal(face_masker_reconfigure(m, c3, NULL, &err), 0);
    render(m, &src, &c, faces);
    assert_memory_not_equal(c.view.data[0], a.view.data[0], bytes);
    assert_memory_not_equal(c.view.data[0], src.view.data[0], bytes);
    face_masker_destroy(m);
    ptim_config_release(c1);
    ptim_config_release(c2);
    ptim_config_release(c3);
    free(faces);
    img_image_free(&src);
    img_image_free(&a);
    img_image_free(&b);
    img_image_free(&c);
}

/* swap.underlay blurs the face under the swapped one, but the network must
 * see the face itself: the swapped face's middle (where inswapper's mask is
 * whole) is the same with and without the underlay. (The underlay was once
 * drawn first, and the network swapped a blurred face.) */
static ptim_config *inswapper_cfg(bool underlay)
{
    char model[4200], enc[4200];
    snprintf(model, sizeof model, "swap.model=%s", fixture("inswapper_128_emap.onnx"));
    snprintf(enc, sizeof enc, "swap.encoder=%s", fixture("arcface_112.onnx"));
    const char *sets[] = {"mask.mode=swap", "performance.max_processing_workers=1", model, enc,
                          underlay ? "swap.underlay=true" : "swap.underlay=false"};
    ptim_config *cfg = NULL;
    ptim_error err = {0};
    assert_int_equal(ptim_config_new(sets, 5, &cfg, &err), 0);
    return cfg;
}

static void test_network_sees_the_face_not_the_underlay(void **state)
{
    (void)state;
    img_image src, id, with, without;
    photo(&src, 5);
    photo(&id, 6);
    photo(&with, 5);
    photo(&without, 5);
    face_list *faces = calloc(1, sizeof *faces);
    assert_non_null(faces);
    float sim[6];
    faces->count = 1;
    faces->faces[0] = face_at(0, 1.5f, 70, 60, sim);
    face idf = face_at(0, 2.f, 50, 40, sim);
    face_masker_assets assets = {.identity = &id.view, .identity_name = "photo", .identity_face = &idf};
    face_masker *mw = NULL, *mo = NULL;
    ptim_error err = {0};
    ptim_config *cw = inswapper_cfg(true), *co = inswapper_cfg(false);
    if (face_masker_create(cw, &assets, &mw, &err) || face_masker_create(co, &assets, &mo, &err))
        fail_msg("masker: %s", err.message);
    render(mw, &src, &with, faces);
    render(mo, &src, &without, faces);
    const face *f = &faces->faces[0];
    int x0 = (int)(f->box[0] + 0.35f * f->box[2]), x1 = (int)(f->box[0] + 0.65f * f->box[2]);
    int y0 = (int)(f->box[1] + 0.35f * f->box[3]), y1 = (int)(f->box[1] + 0.65f * f->box[3]);
    assert_true(x1 - x0 >= 10 && y1 - y0 >= 10);
    long differ = 0, changed = 0;
    for (int y = y0; y < y1; y++) {
        size_t o = (size_t)y * src.view.stride[0] + 3 * (size_t)x0;
        differ += memcmp(with.view.data[0] + o, without.view.data[0] + o, 3 * (size_t)(x1 - x0)) != 0;
        changed += memcmp(with.view.data[0] + o, src.view.data[0] + o, 3 * (size_t)(x1 - x0)) != 0;
    }
    printf("face middle, %dx%d px: %ld rows differ with/without the underlay, %ld rows swapped\n", x1 - x0,
           y1 - y0, differ, changed);
    assert_int_equal(differ, 0);
    assert_int_equal(changed, y1 - y0);
    /* and the underlay did draw something (around the middle) */
    size_t bytes = (size_t)src.view.stride[0] * src.view.height;
    assert_memory_not_equal(with.view.data[0], without.view.data[0], bytes);
    face_masker_destroy(mw), face_masker_destroy(mo);
    ptim_config_release(cw), ptim_config_release(co);
    free(faces);
    img_image_free(&src), img_image_free(&id), img_image_free(&with), img_image_free(&without);
}

/* swap.keep_mouth with a model swap: the person's own open mouth is left
 * as it is (neither swapped nor blurred by the underlay); without it the
 * mouth is swapped like the rest of the face. The face carries FaceMesh
 * landmarks: the alignment points where face_at puts the keypoints and an
 * open inner-lip ring around the mouth centre. */
static face face_with_open_mouth(void)
{
    float sim[6];
    face f = face_at(0, 1.5f, 70, 60, sim);
    f.flags = FACE_DETECTED | FACE_HAS_LANDMARKS;
    const float w = f.box[2], cx = f.box[0] + w / 2, cy = f.box[1] + f.box[3] / 2;
    for (int i = 0; i < FACE_LANDMARKS; i++) { /* the outline: the face's width */
        float a = (float)i * 2 * (float)M_PI / FACE_LANDMARKS;
        f.landmarks[i][0] = cx + 0.45f * w * cosf(a), f.landmarks[i][1] = cy + 0.5f * w * sinf(a);
    }
    const float *mc = f.keypoints[3];
    static const int eye_l[2] = {33, 133}, eye_r[2] = {362, 263};
    for (int k = 0; k < 2; k++) {
        memcpy(f.landmarks[eye_l[k]], f.keypoints[0], 2 * sizeof(float));
        memcpy(f.landmarks[eye_r[k]], f.keypoints[1], 2 * sizeof(float));
    }
    memcpy(f.landmarks[1], f.keypoints[2], 2 * sizeof(float));
    f.landmarks[61][0] = mc[0] - 0.16f * w, f.landmarks[61][1] = mc[1];
    f.landmarks[291][0] = mc[0] + 0.16f * w, f.landmarks[291][1] = mc[1];
    for (int k = 0; k < 20; k++) {
        float a = k * 2 * (float)M_PI / 20;
        f.landmarks[face_inner_lips[k]][0] = mc[0] + 0.12f * w * cosf(a);
        f.landmarks[face_inner_lips[k]][1] = mc[1] + 0.08f * w * sinf(a);
    }
    f.landmarks[13][0] = f.landmarks[14][0] = mc[0]; /* inner lips' upper and lower middles */
    f.landmarks[13][1] = mc[1] - 0.08f * w, f.landmarks[14][1] = mc[1] + 0.08f * w;
    return f;
}

/* Rows of the mouth's middle (half the inner lips' size) unchanged from src. */
static int mouth_rows_unchanged(const img_image *src, const img_image *out, const face *f)
{
    const float w = f->box[2], *mc = f->keypoints[3];
    int x0 = (int)(mc[0] - 0.06f * w), x1 = (int)(mc[0] + 0.06f * w);
    int y0 = (int)(mc[1] - 0.04f * w), y1 = (int)(mc[1] + 0.04f * w);
    int same = 0;
    for (int y = y0; y <= y1; y++) {
        size_t o = (size_t)y * src->view.stride[0] + 3 * (size_t)x0;
        same += !memcmp(out->view.data[0] + o, src->view.data[0] + o, 3 * (size_t)(x1 - x0 + 1));
    }
    return same == y1 - y0 + 1 ? 1 : same == 0 ? 0 : -1;
}

static void test_keep_mouth(void **state)
{
    (void)state;
    const char *models[] = {"dfm_224.onnx", "inswapper_128_emap.onnx"};
    img_image src, id, out;
    photo(&src, 7);
    photo(&id, 8);
    photo(&out, 7);
    face_list *faces = calloc(1, sizeof *faces);
    assert_non_null(faces);
    faces->count = 1;
    faces->faces[0] = face_with_open_mouth();
    float sim[6];
    face idf = face_at(0, 2.f, 50, 40, sim);
    face_masker_assets assets = {.identity = &id.view, .identity_name = "photo", .identity_face = &idf};
    char enc[4200];
    snprintf(enc, sizeof enc, "swap.encoder=%s", fixture("arcface_112.onnx"));
    for (int mi = 0; mi < 2; mi++)
        for (int keep = 0; keep < 2; keep++) {
            char set[4300];
            snprintf(set, sizeof set, "swap.keep_mouth=%s", keep ? "true" : "false");
            /* the inswapper also needs its encoder */
            ptim_config *cfg = swap_cfg_with(fixture(models[mi]), set, mi == 1 ? enc : NULL);
            face_masker *m = NULL;
            ptim_error err = {0};
            if (face_masker_create(cfg, &assets, &m, &err))
                fail_msg("masker: %s", err.message);
            render(m, &src, &out, faces);
            int unchanged = mouth_rows_unchanged(&src, &out, &faces->faces[0]);
            printf("%s keep_mouth=%d: mouth middle %s\n", models[mi], keep,
                   unchanged == 1 ? "unchanged" : unchanged == 0 ? "changed on every row" : "partly changed");
            assert_int_equal(unchanged, keep ? 1 : 0);
            /* and the face around the mouth is swapped either way */
            size_t bytes = (size_t)src.view.stride[0] * src.view.height;
            assert_memory_not_equal(out.view.data[0], src.view.data[0], bytes);
            face_masker_destroy(m);
            ptim_config_release(cfg);
        }
    free(faces);
    img_image_free(&src), img_image_free(&id), img_image_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inswapper_alignment), cmocka_unit_test(test_dfm_alignment),
        cmocka_unit_test(test_inswapper_latent),    cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_dfm_loads),          cmocka_unit_test(test_hot_reload),
        cmocka_unit_test(test_network_sees_the_face_not_the_underlay), cmocka_unit_test(test_keep_mouth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
