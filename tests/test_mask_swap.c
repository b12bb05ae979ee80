/* Swap on the real samples: the identity comes from messi5.jpg (found by the
 * masker itself with the still-image detector), the target is astronaut.png.
 * Judged on the output image: landmarks found on it lie where the input's
 * were (pose and expression kept), the aligned face texture correlates more
 * with the identity than with the original, and LAB statistics inside the
 * mask match the target's own skin (rct); without rct they do not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "img/color.h"
#include "img/warp.h"
#include "mask_real.h"

typedef struct fixture {
    img_image target, identity;
    ptim_config *cfg;
    face_detector *d;
    face_landmarker *lm;
    face_list *faces, *id_faces;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    ptim_error err;
    if (io_image_load(sample_path("astronaut.png"), IMG_FMT_RGB24, &f->target, &err) ||
        io_image_load(sample_path("messi5.jpg"), IMG_FMT_RGB24, &f->identity, &err))
        return -1;
    f->cfg = real_config(NULL, NULL);
    f->faces = malloc(sizeof *f->faces);
    f->id_faces = malloc(sizeof *f->id_faces);
    if (face_detector_create(f->cfg, &f->d, &err) || face_landmarker_create(f->cfg, &f->lm, &err) ||
        find_faces(f->d, f->lm, &f->target.view, f->faces) || f->faces->count != 1 ||
        find_faces(f->d, f->lm, &f->identity.view, f->id_faces) || f->id_faces->count != 1)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    face_landmarker_destroy(f->lm);
    face_detector_destroy(f->d);
    ptim_config_release(f->cfg);
    img_image_free(&f->target), img_image_free(&f->identity);
    free(f->faces), free(f->id_faces);
    free(f);
    return 0;
}

static void swap_onto(fixture *f, const char *extra, img_image *out)
{
    ptim_config *cfg = real_config("mask.mode=swap", extra);
    face_masker_assets assets = {.identity = &f->identity.view, .identity_name = sample_path("messi5.jpg")};
    face_masker *m;
    ptim_error err = {0};
    if (face_masker_create(cfg, &assets, &m, &err))
        fail_msg("masker: %s", err.message);
    image_copy(out, &f->target.view);
    assert_int_equal(face_masker_render(m, &out->view, f->faces, &err), 0);
    face_masker_destroy(m);
    ptim_config_release(cfg);
}

static float face_width_of(const face *fc)
{
    float x0 = 1e9f, x1 = -1e9f;
    for (int i = 0; i < FACE_LANDMARKS; i++)
        x0 = fminf(x0, fc->landmarks[i][0]), x1 = fmaxf(x1, fc->landmarks[i][0]);
    return x1 - x0;
}

static void test_landmarks_kept(void **state)
{
    fixture *f = *state;
    img_image out;
    swap_onto(f, NULL, &out);
    ptim_error err;
    char path[4096];
    snprintf(path, sizeof path, "%s/swap_astronaut.png", getenv("PTIM_TEST_TMP"));
    io_image_save(path, &out.view, &err);
    face_list *after = malloc(sizeof *after);
    assert_int_equal(find_faces(f->d, f->lm, &out.view, after), 0);
    assert_int_equal(after->count, 1);
    const face *a = &f->faces->faces[0], *b = &after->faces[0];
    float fw = face_width_of(a), sum = 0, worst = 0;
    for (int i = 0; i < FACE_LANDMARKS; i++) {
        float d = hypotf(a->landmarks[i][0] - b->landmarks[i][0], a->landmarks[i][1] - b->landmarks[i][1]);
        sum += d;
        worst = fmaxf(worst, d);
    }
    printf("swap landmarks: mean shift %.2f px = %.2f %% of face width %.0f px (worst %.1f px), score %.2f\n",
           sum / FACE_LANDMARKS, 100 * sum / FACE_LANDMARKS / fw, fw, worst, b->score);
    assert_true(sum / FACE_LANDMARKS < 0.03f * fw);
    free(after);
    img_image_free(&out);
}

/* Gray aligned crop (96 x 96) through the similarity that takes the face's
 * landmarks onto the reference layout `ref` (the identity's, normalised). */
#define CROP 96
static void aligned_gray(const img_view *img, const face *fc, const float (*ref)[2], float *out)
{
    float src[FACE_LANDMARKS][2], m[6], inv[6];
    for (int i = 0; i < FACE_LANDMARKS; i++)
        src[i][0] = fc->landmarks[i][0], src[i][1] = fc->landmarks[i][1];
    assert_int_equal(img_similarity_fit((const float(*)[2])src, ref, FACE_LANDMARKS, m), 0);
    assert_int_equal(img_affine_invert(m, inv), 0);
    uint8_t *rgb = malloc(CROP * CROP * 3);
    img_warp_affine_u8(img->data[0], img->width, img->height, img->stride[0], 3, inv, rgb, CROP, CROP, CROP * 3, NULL);
    for (int i = 0; i < CROP * CROP; i++)
        out[i] = 0.299f * rgb[3 * i] + 0.587f * rgb[3 * i + 1] + 0.114f * rgb[3 * i + 2];
    free(rgb);
}

/* Pearson correlation over the part of the crop deep inside the face (the
 * reference layout's hull eroded by 15 % of its width: the fully swapped
 * area, away from the feathered edge where the original shows through). */
static float (*corr_hull)[2];
static int corr_n;
static double correlation(const float *a, const float *b)
{
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    int n = 0;
    for (int y = 0; y < CROP; y++)
        for (int x = 0; x < CROP; x++) {
            if (convex_depth((const float(*)[2])corr_hull, corr_n, x + 0.5f, y + 0.5f) < 0.15f * CROP * 0.8f)
                continue;
            double u = a[y * CROP + x], v = b[y * CROP + x];
            sa += u, sb += v, saa += u * u, sbb += v * v, sab += u * v, n++;
        }
    double cov = sab / n - sa / n * sb / n, va = saa / n - sa / n * sa / n, vb = sbb / n - sb / n * sb / n;
    return cov / sqrt(va * vb);
}

static void test_texture_is_the_identity(void **state)
{
    fixture *f = *state;
    img_image out;
    swap_onto(f, NULL, &out);
    /* Reference layout: the identity's landmarks scaled into the crop. */
    const face *idf = &f->id_faces->faces[0];
    float ref[FACE_LANDMARKS][2], x0 = 1e9f, x1 = -1e9f, y0 = 1e9f, y1 = -1e9f;
    for (int i = 0; i < FACE_LANDMARKS; i++) {
        x0 = fminf(x0, idf->landmarks[i][0]), x1 = fmaxf(x1, idf->landmarks[i][0]);
        y0 = fminf(y0, idf->landmarks[i][1]), y1 = fmaxf(y1, idf->landmarks[i][1]);
    }
    float s = CROP * 0.8f / fmaxf(x1 - x0, y1 - y0);
    for (int i = 0; i < FACE_LANDMARKS; i++) {
        ref[i][0] = CROP / 2.f + (idf->landmarks[i][0] - (x0 + x1) / 2) * s;
        ref[i][1] = CROP / 2.f + (idf->landmarks[i][1] - (y0 + y1) / 2) * s;
    }
    face reff;
    for (int i = 0; i < FACE_LANDMARKS; i++)
        reff.landmarks[i][0] = ref[i][0], reff.landmarks[i][1] = ref[i][1];
    float hull[FACE_LANDMARKS][2];
    corr_n = landmark_hull(&reff, hull);
    corr_hull = hull;
    float *co = malloc(sizeof(float) * CROP * CROP * 3), *ci = co + CROP * CROP, *cg = ci + CROP * CROP;
    aligned_gray(&out.view, &f->faces->faces[0], (const float(*)[2])ref, co);
    aligned_gray(&f->identity.view, idf, (const float(*)[2])ref, ci);
    aligned_gray(&f->target.view, &f->faces->faces[0], (const float(*)[2])ref, cg);
    {
        /* The three crops side by side, for a person to look at. */
        img_image sheet;
        assert_int_equal(img_image_alloc(&sheet, IMG_FMT_RGB24, 3 * CROP, CROP), 0);
        const float *crops[3] = {cg, co, ci};
        for (int k = 0; k < 3; k++)
            for (int y = 0; y < CROP; y++)
                for (int x = 0; x < CROP; x++)
                    memset(sheet.view.data[0] + (size_t)y * sheet.view.stride[0] + 3 * (k * CROP + x),
                           (int)crops[k][y * CROP + x], 3);
        char path[4096];
        ptim_error err;
        snprintf(path, sizeof path, "%s/swap_aligned_crops.png", getenv("PTIM_TEST_TMP"));
        io_image_save(path, &sheet.view, &err);
        img_image_free(&sheet);
    }
    double with_id = correlation(co, ci), with_orig = correlation(co, cg), id_orig = correlation(ci, cg);
    printf("aligned crop correlation: output~identity %.3f, output~original %.3f (identity~original %.3f)\n",
           with_id, with_orig, id_orig);
    assert_true(with_id > with_orig);
    free(co);
    img_image_free(&out);
}

/* LAB mean and deviation inside the blended face (hull eroded past the
 * feather) against the target's own skin there before the swap. */
static void lab_inside(const img_view *img, const face *fc, img_lab_stats *st)
{
    float hull[FACE_LANDMARKS][2];
    int n = landmark_hull(fc, hull);
    float fw = face_width_of(fc);
    img_alpha m = {0};
    assert_int_equal(img_alpha_begin(&m, 0, 0, img->width, img->height, img->width, img->height), 0);
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++)
            m.a[(size_t)y * m.stride + x] = convex_depth((const float(*)[2])hull, n, x + 0.5f, y + 0.5f) > 0.15f * fw ? 255 : 0;
    img_alpha_update_spans(&m);
    img_rgb_lab_stats_masked(img->data[0], img->stride[0], &m, 1, st);
    img_alpha_free(&m);
}

static double lab_distance(const img_lab_stats *a, const img_lab_stats *b)
{
    return sqrt((a->mean[0] - b->mean[0]) * (a->mean[0] - b->mean[0]) + (a->mean[1] - b->mean[1]) * (a->mean[1] - b->mean[1]) +
                (a->mean[2] - b->mean[2]) * (a->mean[2] - b->mean[2]));
}

static void test_colour_matches_skin(void **state)
{
    fixture *f = *state;
    img_image rct, none;
    swap_onto(f, NULL, &rct);
    swap_onto(f, "merge.color_transfer=none", &none);
    const face *fc = &f->faces->faces[0];
    img_lab_stats skin, with, without;
    lab_inside(&f->target.view, fc, &skin);
    lab_inside(&rct.view, fc, &with);
    lab_inside(&none.view, fc, &without);
    double d_rct = lab_distance(&with, &skin), d_none = lab_distance(&without, &skin);
    printf("LAB mean inside mask: skin (%.1f %.1f %.1f) rct (%.1f %.1f %.1f) none (%.1f %.1f %.1f); "
           "distance rct %.2f, none %.2f; std L skin %.1f rct %.1f\n",
           skin.mean[0], skin.mean[1], skin.mean[2], with.mean[0], with.mean[1], with.mean[2], without.mean[0],
           without.mean[1], without.mean[2], d_rct, d_none, skin.std[0], with.std[0]);
    assert_true(d_rct < 3.0); /* Delta E; about 2.3 is a just noticeable difference */
    assert_true(d_none > 3 * d_rct);
    assert_true(fabs(with.std[0] - skin.std[0]) < 0.35 * skin.std[0]);
    img_image_free(&rct), img_image_free(&none);
}

static void test_identity_photo_must_have_one_face(void **state)
{
    fixture *f = *state;
    /* A blank picture: no face. */
    img_image blank;
    assert_int_equal(img_image_alloc(&blank, IMG_FMT_RGB24, 256, 256), 0);
    memset(blank.view.data[0], 200, (size_t)blank.view.stride[0] * 256);
    ptim_config *cfg = real_config("mask.mode=swap", NULL);
    face_masker_assets assets = {.identity = &blank.view, .identity_name = "blank.png"};
    face_masker *m;
    ptim_error err = {0};
    assert_int_equal(face_masker_create(cfg, &assets, &m, &err), -1);
    printf("no face: %s\n", err.message);
    assert_non_null(strstr(err.message, "blank.png"));
    assert_non_null(strstr(err.message, "no face"));
    /* Two faces: the astronaut twice side by side. */
    img_image two;
    const img_view *t = &f->target.view;
    assert_int_equal(img_image_alloc(&two, IMG_FMT_RGB24, 2 * t->width, t->height), 0);
    for (int y = 0; y < t->height; y++)
        for (int k = 0; k < 2; k++)
            memcpy(two.view.data[0] + (size_t)y * two.view.stride[0] + (size_t)k * 3 * t->width,
                   t->data[0] + (size_t)y * t->stride[0], (size_t)3 * t->width);
    assets.identity = &two.view;
    assets.identity_name = "twins.png";
    assert_int_equal(face_masker_create(cfg, &assets, &m, &err), -1);
    printf("two faces: %s\n", err.message);
    assert_non_null(strstr(err.message, "twins.png"));
    assert_non_null(strstr(err.message, "2 faces"));
    ptim_config_release(cfg);
    img_image_free(&blank), img_image_free(&two);
}

/* A window into a bigger picture (odd size, the face cut by its left and top
 * edges): masking it in every mode writes nothing outside the window. */
/* A held face (lost on this frame, kept at its old place) is blurred exactly
 * as mask.mode=blur does, not swapped: its landmarks are an old frame's, and
 * a face pasted there is a ghost beside the person. */
static void test_held_face_is_blurred(void **state)
{
    fixture *f = *state;
    face_list *held = malloc(sizeof *held);
    memcpy(held, f->faces, sizeof *held);
    held->faces[0].flags |= FACE_HELD;
    ptim_config *swap_cfg = real_config("mask.mode=swap", NULL), *blur_cfg = real_config("mask.mode=blur", NULL);
    face_masker_assets assets = {.identity = &f->identity.view, .identity_name = sample_path("messi5.jpg")};
    face_masker *swap = NULL, *blur = NULL;
    ptim_error err = {0};
    if (face_masker_create(swap_cfg, &assets, &swap, &err) || face_masker_create(blur_cfg, NULL, &blur, &err))
        fail_msg("masker: %s", err.message);
    img_image a, b, c;
    image_copy(&a, &f->target.view);
    image_copy(&b, &f->target.view);
    image_copy(&c, &f->target.view);
    assert_int_equal(face_masker_render(swap, &a.view, held, &err), 0);
    assert_int_equal(face_masker_render(blur, &b.view, held, &err), 0);
    assert_int_equal(face_masker_render(swap, &c.view, f->faces, &err), 0); /* measured: swapped */
    size_t n = (size_t)a.view.stride[0] * a.view.height;
    assert_memory_equal(a.view.data[0], b.view.data[0], n);
    assert_true(memcmp(c.view.data[0], b.view.data[0], n) != 0);
    img_image_free(&a), img_image_free(&b), img_image_free(&c);
    face_masker_destroy(swap), face_masker_destroy(blur);
    ptim_config_release(swap_cfg), ptim_config_release(blur_cfg);
    free(held);
}

static void test_faces_cut_by_the_frame_edge(void **state)
{
    fixture *f = *state;
    const img_format fmts[] = {IMG_FMT_RGB24, IMG_FMT_BGR24, IMG_FMT_YUV420P};
    const char *modes[] = {"mask.mode=blur", "mask.mode=pixelate", "mask.mode=solid", "mask.mode=swap", "mask.mode=none"};
    const int X = 230, Y = 100, W = 201, H = 151;
    for (int fi = 0; fi < 3; fi++)
        for (int mi = 0; mi < 5; mi++) {
            img_image parent, copy;
            ptim_error err;
            assert_int_equal(io_image_load(sample_path("astronaut.png"), fmts[fi], &parent, &err), 0);
            image_copy(&copy, &parent.view);
            img_view win = parent.view;
            win.width = W, win.height = H;
            img_plane pl[3];
            int np = img_view_planes(&parent.view, pl);
            for (int i = 0; i < np; i++)
                win.data[i] = pl[i].data + (size_t)(Y >> pl[i].shift) * pl[i].stride + (size_t)(X >> pl[i].shift) * pl[i].channels;
            face_list faces = {.count = 1};
            faces.faces[0] = f->faces->faces[0];
            face *fc = &faces.faces[0];
            fc->box[0] -= X, fc->box[1] -= Y;
            for (int k = 0; k < FACE_LANDMARKS; k++)
                fc->landmarks[k][0] -= X, fc->landmarks[k][1] -= Y;
            for (int k = 0; k < FACE_KEYPOINTS; k++)
                fc->keypoints[k][0] -= X, fc->keypoints[k][1] -= Y;
            ptim_config *cfg = real_config(modes[mi], "debug.draw=ids");
            face_masker_assets assets = {.identity = &f->identity.view, .identity_name = "messi5.jpg",
                                         .identity_face = &f->id_faces->faces[0]};
            face_masker *m;
            assert_int_equal(face_masker_create(cfg, &assets, &m, &err), 0);
            assert_int_equal(face_masker_render(m, &win, &faces, &err), 0);
            long inside_changed = 0;
            img_plane pc[3];
            img_view_planes(&copy.view, pc);
            for (int i = 0; i < np; i++)
                for (int y = 0; y < pl[i].height; y++)
                    for (int x = 0; x < pl[i].width; x++) {
                        int s = pl[i].shift;
                        int in = x >= (X >> s) && x < ((X + W + s) >> s) && y >= (Y >> s) && y < ((Y + H + s) >> s);
                        int diff = memcmp(pl[i].data + (size_t)y * pl[i].stride + (size_t)x * pl[i].channels,
                                          pc[i].data + (size_t)y * pc[i].stride + (size_t)x * pc[i].channels, pl[i].channels) != 0;
                        if (diff && !in)
                            fail_msg("%s %s: plane %d (%d, %d) outside the window changed", modes[mi],
                                     img_format_name(fmts[fi]), i, x, y);
                        inside_changed += diff;
                    }
            if (inside_changed < (mi == 4 ? 20 : 1000))
                fail_msg("%s %s: only %ld values changed in the window", modes[mi], img_format_name(fmts[fi]), inside_changed);
            face_masker_destroy(m);
            ptim_config_release(cfg);
            img_image_free(&parent), img_image_free(&copy);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_landmarks_kept),
        cmocka_unit_test(test_texture_is_the_identity),
        cmocka_unit_test(test_colour_matches_skin),
        cmocka_unit_test(test_identity_photo_must_have_one_face),
        cmocka_unit_test(test_faces_cut_by_the_frame_edge),
        cmocka_unit_test(test_held_face_is_blurred),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
