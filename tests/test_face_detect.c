/* face/detector and face/landmarks on the real samples with the real models:
 * astronaut.png has exactly one face with its eyes where they are; messi5.jpg
 * has the player's face; every pixel format gives the same answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face/detector.h"
#include "face/landmarks.h"
#include "io/image_file.h"

/* Eye centres in astronaut.png, measured by hand on the picture (pixels). */
#define ASTRO_RIGHT_EYE_X 204.0f /* the subject's right eye: image left */
#define ASTRO_RIGHT_EYE_Y 102.0f
#define ASTRO_LEFT_EYE_X 247.0f
#define ASTRO_LEFT_EYE_Y 105.0f

static face_detector *det;
static face_landmarker *lm;
static face_list list;

static const char *sample(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", getenv("PTIM_SAMPLES_DIR"), name);
    return path;
}

static int setup(void **state)
{
    (void)state;
    const char *sets[] = {"performance.max_processing_workers=1"};
    ptim_config *cfg;
    ptim_error err;
    if (ptim_config_new(sets, 1, &cfg, &err) || face_detector_create(cfg, &det, &err) ||
        face_landmarker_create(cfg, &lm, &err)) {
        fprintf(stderr, "setup: %s\n", err.message);
        return -1;
    }
    ptim_config_release(cfg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    face_detector_destroy(det);
    face_landmarker_destroy(lm);
    return 0;
}

static bool inside(const float box[4], float x, float y)
{
    return x >= box[0] && x <= box[0] + box[2] && y >= box[1] && y <= box[1] + box[3];
}

static void assert_astronaut_face(const face *f)
{
    assert_true(f->score > 0.8f);
    /* The face is about 100 px wide; the box must hold both eyes and the mouth. */
    assert_true(f->box[2] > 70 && f->box[2] < 140);
    assert_true(inside(f->box, f->keypoints[0][0], f->keypoints[0][1]));
    assert_true(inside(f->box, f->keypoints[3][0], f->keypoints[3][1]));
    assert_true(inside(f->box, ASTRO_RIGHT_EYE_X, ASTRO_RIGHT_EYE_Y));
    assert_true(inside(f->box, ASTRO_LEFT_EYE_X, ASTRO_LEFT_EYE_Y));
    float tol = 0.08f * f->box[2];
    assert_float_equal(f->keypoints[0][0], ASTRO_RIGHT_EYE_X, tol);
    assert_float_equal(f->keypoints[0][1], ASTRO_RIGHT_EYE_Y, tol);
    assert_float_equal(f->keypoints[1][0], ASTRO_LEFT_EYE_X, tol);
    assert_float_equal(f->keypoints[1][1], ASTRO_LEFT_EYE_Y, tol);
    /* Nose below the eyes, mouth below the nose. */
    assert_true(f->keypoints[2][1] > f->keypoints[0][1] && f->keypoints[3][1] > f->keypoints[2][1]);
}

static void test_astronaut_has_one_face_with_eyes_on_eyes(void **state)
{
    (void)state;
    img_image img;
    ptim_error err;
    assert_int_equal(io_image_load(sample("astronaut.png"), IMG_FMT_RGB24, &img, &err), 0);
    assert_int_equal(face_detector_detect(det, &img.view, &list, &err), 0);
    assert_int_equal(list.count, 1);
    assert_astronaut_face(&list.faces[0]);
    assert_true(list.faces[0].flags & FACE_DETECTED);
    /* Both models agree. */
    assert_int_equal(face_detector_detect_ex(det, &img.view, FACE_DET_SHORT, 0, &list, &err), 0);
    assert_int_equal(list.count, 1);
    assert_astronaut_face(&list.faces[0]);
    img_image_free(&img);
}

static void test_messi_finds_the_players_face(void **state)
{
    (void)state;
    img_image img;
    ptim_error err;
    assert_int_equal(io_image_load(sample("messi5.jpg"), IMG_FMT_RGB24, &img, &err), 0);
    assert_int_equal(face_detector_detect(det, &img.view, &list, &err), 0);
    /* The player's head is at about (240, 112) in the 548x342 picture. */
    int found = 0;
    for (int i = 0; i < list.count; i++) {
        const face *f = &list.faces[i];
        if (inside(f->box, 240, 112) && f->box[2] > 15 && f->box[2] < 60)
            found++;
    }
    assert_int_equal(found, 1);
    img_image_free(&img);
}

/* The picture converted to another format in the test itself (BT.601 limited
 * range for YUV, as decoders deliver it). */
static void convert(const img_view *rgb, img_format fmt, img_image *out)
{
    int w = rgb->width, h = rgb->height;
    assert_int_equal(img_image_alloc(out, fmt, w, h), 0);
    img_view *v = &out->view;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *p = rgb->data[0] + y * rgb->stride[0] + 3 * x;
            if (fmt == IMG_FMT_BGR24) {
                uint8_t *q = v->data[0] + y * v->stride[0] + 3 * x;
                q[0] = p[2], q[1] = p[1], q[2] = p[0];
                continue;
            }
            v->data[0][y * v->stride[0] + x] =
                (uint8_t)lrintf(16 + 0.257f * p[0] + 0.504f * p[1] + 0.098f * p[2]);
            if ((x | y) & 1)
                continue;
            uint8_t u = (uint8_t)lrintf(128 - 0.148f * p[0] - 0.291f * p[1] + 0.439f * p[2]);
            uint8_t vv = (uint8_t)lrintf(128 + 0.439f * p[0] - 0.368f * p[1] - 0.071f * p[2]);
            if (fmt == IMG_FMT_YUV420P) {
                v->data[1][(y / 2) * v->stride[1] + x / 2] = u;
                v->data[2][(y / 2) * v->stride[2] + x / 2] = vv;
            } else {
                v->data[1][(y / 2) * v->stride[1] + x] = u;
                v->data[1][(y / 2) * v->stride[1] + x + 1] = vv;
            }
        }
}

static void test_every_format_finds_the_same_face(void **state)
{
    (void)state;
    img_image img;
    ptim_error err;
    assert_int_equal(io_image_load(sample("astronaut.png"), IMG_FMT_RGB24, &img, &err), 0);
    assert_int_equal(face_detector_detect(det, &img.view, &list, &err), 0);
    assert_int_equal(list.count, 1);
    face ref = list.faces[0];
    img_format fmts[] = {IMG_FMT_BGR24, IMG_FMT_YUV420P, IMG_FMT_NV12};
    for (int i = 0; i < 3; i++) {
        img_image other;
        convert(&img.view, fmts[i], &other);
        assert_int_equal(face_detector_detect(det, &other.view, &list, &err), 0);
        assert_int_equal(list.count, 1);
        for (int c = 0; c < 4; c++)
            assert_float_equal(list.faces[0].box[c], ref.box[c], 3.0);
        assert_astronaut_face(&list.faces[0]);
        img_image_free(&other);
    }
    img_image_free(&img);
}

static void test_landmarks_on_the_face(void **state)
{
    (void)state;
    img_image img;
    ptim_error err;
    assert_int_equal(io_image_load(sample("astronaut.png"), IMG_FMT_RGB24, &img, &err), 0);
    assert_int_equal(face_detector_detect(det, &img.view, &list, &err), 0);
    assert_int_equal(list.count, 1);
    face f = list.faces[0];
    face_roi roi = face_roi_from_detection(&f);
    assert_int_equal(face_landmarker_run(lm, &img.view, &roi, &f, &err), 0);
    assert_true(f.presence > 0.9f);
    assert_true(f.flags & FACE_HAS_LANDMARKS);
    face_from_landmarks(&f);
    assert_astronaut_face(&f);
    /* Nose tip (landmark 1) near the detector's nose keypoint. */
    assert_float_equal(f.landmarks[1][0], list.faces[0].keypoints[2][0], 0.08 * f.box[2]);
    assert_float_equal(f.landmarks[1][1], list.faces[0].keypoints[2][1], 0.08 * f.box[2]);
    /* The region from these landmarks measures the same face again. */
    face g = f;
    roi = face_roi_from_landmarks(&f);
    assert_int_equal(face_landmarker_run(lm, &img.view, &roi, &g, &err), 0);
    assert_true(g.presence > 0.9f);
    for (int i = 0; i < FACE_LANDMARKS; i += 17) {
        assert_float_equal(g.landmarks[i][0], f.landmarks[i][0], 0.05 * f.box[2]);
        assert_float_equal(g.landmarks[i][1], f.landmarks[i][1], 0.05 * f.box[2]);
    }
    /* Alignment takes the eyes to the template's eye height, level. */
    float ly = f.align[3] * f.keypoints[0][0] + f.align[4] * f.keypoints[0][1] + f.align[5];
    float ry = f.align[3] * f.keypoints[1][0] + f.align[4] * f.keypoints[1][1] + f.align[5];
    assert_float_equal(ly, 0.46, 0.05);
    assert_float_equal(ry, 0.46, 0.05);
    /* A patch of wall holds no face. */
    roi.cx = 60;
    roi.cy = 60;
    roi.side = 100;
    roi.rotation = 0;
    assert_int_equal(face_landmarker_run(lm, &img.view, &roi, &g, &err), 0);
    assert_true(g.presence < 0.5f);
    img_image_free(&img);
}

static void test_rotated_face_is_measured_upright(void **state)
{
    (void)state;
    img_image img, rot;
    ptim_error err;
    assert_int_equal(io_image_load(sample("astronaut.png"), IMG_FMT_RGB24, &img, &err), 0);
    /* Turn the picture by 30 degrees about the face centre. */
    assert_int_equal(img_image_alloc(&rot, IMG_FMT_RGB24, 512, 512), 0);
    float a = 30.0f * (float)M_PI / 180.0f, cx = 226, cy = 120;
    for (int y = 0; y < 512; y++)
        for (int x = 0; x < 512; x++) {
            float sx = cx + cosf(a) * (x - cx) + sinf(a) * (y - cy);
            float sy = cy - sinf(a) * (x - cx) + cosf(a) * (y - cy);
            int ix = (int)lrintf(sx), iy = (int)lrintf(sy);
            uint8_t *q = rot.view.data[0] + y * rot.view.stride[0] + 3 * x;
            if (ix < 0 || iy < 0 || ix >= 512 || iy >= 512) {
                q[0] = q[1] = q[2] = 128;
                continue;
            }
            const uint8_t *p = img.view.data[0] + iy * img.view.stride[0] + 3 * ix;
            q[0] = p[0], q[1] = p[1], q[2] = p[2];
        }
    assert_int_equal(face_detector_detect(det, &rot.view, &list, &err), 0);
    assert_int_equal(list.count, 1);
    face f = list.faces[0];
    /* The picture turned by +30 degrees (y down), so the eye line did too. */
    assert_float_equal(f.roll, a + atan2f(3, 43), 0.15);
    face_roi roi = face_roi_from_detection(&f);
    assert_int_equal(face_landmarker_run(lm, &rot.view, &roi, &f, &err), 0);
    assert_true(f.presence > 0.9f);
    face_from_landmarks(&f);
    assert_float_equal(f.roll, a + atan2f(3, 43), 0.1);
    img_image_free(&rot);
    img_image_free(&img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_astronaut_has_one_face_with_eyes_on_eyes),
        cmocka_unit_test(test_messi_finds_the_players_face),
        cmocka_unit_test(test_every_format_finds_the_same_face),
        cmocka_unit_test(test_landmarks_on_the_face),
        cmocka_unit_test(test_rotated_face_is_measured_upright),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
