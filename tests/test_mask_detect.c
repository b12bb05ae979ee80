/* After blur, pixelate and solid, ptim's own detector finds no face where
 * astronaut.png and messi5.jpg had one, and every pixel outside the grown
 * mask is bit-identical. One inference thread, one detection per case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "img/filter.h"
#include "mask_real.h"

static float iou(const float *a, const float *b)
{
    float x0 = fmaxf(a[0], b[0]), y0 = fmaxf(a[1], b[1]);
    float x1 = fminf(a[0] + a[2], b[0] + b[2]), y1 = fminf(a[1] + a[3], b[1] + b[3]);
    float in = fmaxf(0, x1 - x0) * fmaxf(0, y1 - y0);
    return in / (a[2] * a[3] + b[2] * b[3] - in);
}

static void check_masked(const char *name, img_format fmt, const char *mode)
{
    img_image img, out;
    ptim_error err;
    assert_int_equal(io_image_load(sample_path(name), fmt, &img, &err), 0);
    char kv[64];
    snprintf(kv, sizeof kv, "mask.mode=%s", mode);
    ptim_config *cfg = real_config(kv, getenv("MASK_EXTRA"));
    face_detector *d;
    face_landmarker *lm;
    assert_int_equal(face_detector_create(cfg, &d, &err), 0);
    assert_int_equal(face_landmarker_create(cfg, &lm, &err), 0);
    face_list *before = malloc(sizeof *before), *after = malloc(sizeof *after);
    assert_int_equal(find_faces(d, lm, &img.view, before), 0);
    assert_true(before->count >= 1);
    for (int i = 0; i < before->count; i++)
        assert_true(before->faces[i].flags & FACE_HAS_LANDMARKS);
    face_masker *m;
    assert_int_equal(face_masker_create(cfg, NULL, &m, &err), 0);
    image_copy(&out, &img.view);
    assert_int_equal(face_masker_render(m, &out.view, before, &err), 0);
    char path[4096];
    snprintf(path, sizeof path, "%s/mask_%s_%s.png", getenv("PTIM_TEST_TMP"), mode, name);
    if (fmt == IMG_FMT_RGB24)
        io_image_save(path, &out.view, &err); /* for a person to look at */

    /* No face left where one was (at the configured threshold, 0.5). */
    assert_int_equal(face_detector_detect(d, &out.view, after, &err), 0);
    float worst = 0;
    for (int j = 0; j < after->count; j++)
        for (int i = 0; i < before->count; i++)
            if (iou(after->faces[j].box, before->faces[i].box) > 0.1f)
                worst = fmaxf(worst, after->faces[j].score);
    printf("%s %s %s: %d face(s) before (score %.2f), best score left on them %.2f\n", name,
           img_format_name(fmt), mode, before->count, before->faces[0].score, worst);
    assert_true(worst < 0.5f);

    /* Blur cannot be undone by sharpening: a strong unsharp mask (amount 4,
     * box radius 2, x3) over the whole output brings no face back. */
    if (!strcmp(mode, "blur") && fmt == IMG_FMT_RGB24) {
        img_image soft, sharp;
        img_scratch work = {0};
        image_copy(&soft, &out.view);
        image_copy(&sharp, &out.view);
        assert_int_equal(img_box_blur3(out.view.data[0], out.view.stride[0], soft.view.data[0], soft.view.stride[0],
                                       out.view.width, out.view.height, 3, 2, &work), 0);
        for (int y = 0; y < out.view.height; y++)
            for (int x = 0; x < 3 * out.view.width; x++) {
                int o = out.view.data[0][(size_t)y * out.view.stride[0] + x];
                int b = soft.view.data[0][(size_t)y * soft.view.stride[0] + x];
                int v = o + 4 * (o - b);
                sharp.view.data[0][(size_t)y * sharp.view.stride[0] + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        assert_int_equal(face_detector_detect(d, &sharp.view, after, &err), 0);
        float back = 0;
        for (int j = 0; j < after->count; j++)
            for (int i = 0; i < before->count; i++)
                if (iou(after->faces[j].box, before->faces[i].box) > 0.1f)
                    back = fmaxf(back, after->faces[j].score);
        printf("%s blur then sharpened: best score on the faces %.2f\n", name, back);
        assert_true(back < 0.5f);
        img_image_free(&soft), img_image_free(&sharp);
        img_scratch_free(&work);
    }

    /* Outside the grown contour (landmark hull x mask.scale about its box
     * centre, plus one pixel for chroma and rounding): bit-identical. */
    img_plane pa[3], pb[3];
    int np = img_view_planes(&img.view, pa);
    img_view_planes(&out.view, pb);
    float hull[FACE_LIST_MAX][FACE_LANDMARKS][2];
    int nh[FACE_LIST_MAX];
    for (int i = 0; i < before->count; i++) {
        nh[i] = landmark_hull(&before->faces[i], hull[i]);
        float x0 = 1e9f, x1 = -1e9f, y0 = 1e9f, y1 = -1e9f;
        for (int k = 0; k < nh[i]; k++) {
            x0 = fminf(x0, hull[i][k][0]), x1 = fmaxf(x1, hull[i][k][0]);
            y0 = fminf(y0, hull[i][k][1]), y1 = fmaxf(y1, hull[i][k][1]);
        }
        for (int k = 0; k < nh[i]; k++) {
            hull[i][k][0] = (x0 + x1) / 2 + (hull[i][k][0] - (x0 + x1) / 2) * 1.3f;
            hull[i][k][1] = (y0 + y1) / 2 + (hull[i][k][1] - (y0 + y1) / 2) * 1.3f;
        }
    }
    long outside = 0, changed_inside = 0;
    for (int p = 0; p < np; p++)
        for (int y = 0; y < pa[p].height; y++)
            for (int x = 0; x < pa[p].width; x++) {
                int s = pa[p].shift, inside = 0;
                float px = ((x << s) + (s ? 1.f : 0.5f)), py = ((y << s) + (s ? 1.f : 0.5f));
                for (int i = 0; i < before->count && !inside; i++)
                    inside = convex_depth((const float(*)[2])hull[i], nh[i], px, py) > -1.0f - s;
                const uint8_t *u = pa[p].data + (size_t)y * pa[p].stride + (size_t)x * pa[p].channels;
                const uint8_t *v = pb[p].data + (size_t)y * pb[p].stride + (size_t)x * pb[p].channels;
                int diff = memcmp(u, v, pa[p].channels) != 0;
                if (!inside) {
                    if (diff)
                        fail_msg("%s %s: plane %d pixel (%d, %d) changed outside the mask", name, mode, p, x, y);
                    outside++;
                } else
                    changed_inside += diff;
            }
    assert_true(outside > 0 && changed_inside > 1000);

    face_masker_destroy(m);
    face_landmarker_destroy(lm);
    face_detector_destroy(d);
    ptim_config_release(cfg);
    free(before), free(after);
    img_image_free(&img), img_image_free(&out);
}

static void test_astronaut_blur(void **s) { (void)s; check_masked("astronaut.png", IMG_FMT_RGB24, "blur"); }
static void test_astronaut_pixelate(void **s) { (void)s; check_masked("astronaut.png", IMG_FMT_RGB24, "pixelate"); }
static void test_astronaut_solid(void **s) { (void)s; check_masked("astronaut.png", IMG_FMT_RGB24, "solid"); }
static void test_messi_blur(void **s) { (void)s; check_masked("messi5.jpg", IMG_FMT_RGB24, "blur"); }
static void test_messi_pixelate(void **s) { (void)s; check_masked("messi5.jpg", IMG_FMT_RGB24, "pixelate"); }
static void test_messi_solid(void **s) { (void)s; check_masked("messi5.jpg", IMG_FMT_RGB24, "solid"); }
static void test_astronaut_yuv_blur(void **s) { (void)s; check_masked("astronaut.png", IMG_FMT_YUV420P, "blur"); }
static void test_messi_yuv_pixelate(void **s) { (void)s; check_masked("messi5.jpg", IMG_FMT_YUV420P, "pixelate"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_astronaut_blur),   cmocka_unit_test(test_astronaut_pixelate),
        cmocka_unit_test(test_astronaut_solid),  cmocka_unit_test(test_messi_blur),
        cmocka_unit_test(test_messi_pixelate),   cmocka_unit_test(test_messi_solid),
        cmocka_unit_test(test_astronaut_yuv_blur), cmocka_unit_test(test_messi_yuv_pixelate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
