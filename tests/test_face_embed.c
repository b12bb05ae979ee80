/* face/embed on the real samples: astronaut.png against itself re-encoded
 * as a JPEG and shifted/scaled is the same person; against messi5, camera
 * and the Megamind faces it is not. Also the alignment: the 112x112 crop
 * puts the eyes where the ArcFace template has them. */
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
#include "face/detector.h"
#include "face/embed.h"
#include "face/landmarks.h"
#include "io/image_file.h"

/* Same person: measured 0.96-0.999 (README "Face recognition"); different
 * people against astronaut: at most 0.72. */
#define SAME_MIN 0.90f
#define OTHER_MAX 0.80f

static face_detector *det;
static face_landmarker *lm;
static face_embedder *em;
static char tmp[1024];

static int setup(void **state)
{
    (void)state;
    const char *sets[] = {"performance.max_processing_workers=1"};
    ptim_config *cfg;
    ptim_error err = {0};
    if (ptim_config_new(sets, 1, &cfg, &err) || face_detector_create(cfg, &det, &err) ||
        face_landmarker_create(cfg, &lm, &err) || face_embedder_create(cfg, &em, &err)) {
        fprintf(stderr, "setup: %s\n", err.message);
        return -1;
    }
    ptim_config_release(cfg);
    snprintf(tmp, sizeof tmp, "%s/face_embed", getenv("PTIM_TEST_TMP") ? getenv("PTIM_TEST_TMP") : "/tmp");
    char cmd[16384];
    const char *s = getenv("PTIM_SAMPLES_DIR");
    /* A JPEG re-encode, a shifted and scaled copy, and two Megamind frames. */
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s && ffmpeg -loglevel error -y -i %s/astronaut.png -q:v 12 %s/astro_q.jpg && "
             "ffmpeg -loglevel error -y -i %s/astronaut.png -vf crop=480:480:20:15,scale=400:400 %s/astro_shift.png && "
             "ffmpeg -loglevel error -y -i %s/Megamind.avi -vf \"select=eq(n\\,30)+eq(n\\,250)\" -vsync 0 %s/mm%%d.png",
             tmp, s, tmp, s, tmp, s, tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    face_embedder_destroy(em);
    face_landmarker_destroy(lm);
    face_detector_destroy(det);
    return 0;
}

/* Embeddings of the faces on a picture (landmarks on), most sure first; returns the count. */
static int embed_file(const char *path, float out[][FACE_EMBED_DIM_MAX], int max)
{
    img_image img;
    ptim_error err = {0};
    face_list fl;
    if (io_image_load(path, IMG_FMT_RGB24, &img, &err) || face_detector_detect(det, &img.view, &fl, &err))
        fail_msg("%s: %s", path, err.message);
    int n = 0;
    for (int i = 0; i < fl.count && n < max; i++) {
        face f = fl.faces[i];
        face_roi roi = face_roi_from_detection(&f);
        if (face_landmarker_run(lm, &img.view, &roi, &f, &err))
            fail_msg("%s", err.message);
        if (f.presence < 0.5f)
            continue; /* not a face FaceMesh can follow: nothing to recognize */
        if (face_embed(em, &img.view, &f, out[n], &err))
            fail_msg("%s", err.message);
        n++;
    }
    img_image_free(&img);
    return n;
}

static const char *sample(const char *name)
{
    static char p[4096];
    snprintf(p, sizeof p, "%s/%s", getenv("PTIM_SAMPLES_DIR"), name);
    return p;
}

static const char *tmpfile_(const char *name)
{
    static char p[1024 + 64];
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    return p;
}

static void test_unit_length(void **state)
{
    (void)state;
    float e[1][FACE_EMBED_DIM_MAX];
    assert_int_equal(embed_file(sample("astronaut.png"), e, 1), 1);
    int dim = face_embedder_dim(em);
    assert_int_equal(dim, 192);
    assert_true(fabsf(face_embed_similarity(e[0], e[0], dim) - 1.0f) < 1e-4f);
}

static void test_same_person(void **state)
{
    (void)state;
    float a[1][FACE_EMBED_DIM_MAX], q[1][FACE_EMBED_DIM_MAX], s[1][FACE_EMBED_DIM_MAX];
    assert_int_equal(embed_file(sample("astronaut.png"), a, 1), 1);
    assert_int_equal(embed_file(tmpfile_("astro_q.jpg"), q, 1), 1);
    assert_int_equal(embed_file(tmpfile_("astro_shift.png"), s, 1), 1);
    int dim = face_embedder_dim(em);
    float sq = face_embed_similarity(a[0], q[0], dim), ss = face_embed_similarity(a[0], s[0], dim);
    printf("astronaut vs JPEG re-encode %.3f, vs shifted and scaled %.3f\n", sq, ss);
    assert_true(sq >= SAME_MIN);
    assert_true(ss >= SAME_MIN);
}

static void test_other_people(void **state)
{
    (void)state;
    float a[1][FACE_EMBED_DIM_MAX], o[4][FACE_EMBED_DIM_MAX];
    assert_int_equal(embed_file(sample("astronaut.png"), a, 1), 1);
    int dim = face_embedder_dim(em), checked = 0;
    char names[4][8192];
    snprintf(names[0], sizeof names[0], "%s", sample("messi5.jpg"));
    snprintf(names[1], sizeof names[1], "%s", sample("camera.png"));
    snprintf(names[2], sizeof names[2], "%s", tmpfile_("mm1.png"));
    snprintf(names[3], sizeof names[3], "%s", tmpfile_("mm2.png"));
    for (int k = 0; k < 4; k++) {
        int n = embed_file(names[k], o, 4);
        assert_true(n >= 1);
        for (int i = 0; i < n; i++) {
            float sim = face_embed_similarity(a[0], o[i], dim);
            printf("astronaut vs %s face %d: %.3f\n", strrchr(names[k], '/') + 1, i, sim);
            assert_true(sim <= OTHER_MAX);
            checked++;
        }
    }
    assert_true(checked >= 4);
}

/* The aligned crop of astronaut has her eyes at the template's eye points. */
static void test_alignment(void **state)
{
    (void)state;
    img_image img;
    ptim_error err = {0};
    face_list fl;
    if (io_image_load(sample("astronaut.png"), IMG_FMT_RGB24, &img, &err) ||
        face_detector_detect(det, &img.view, &fl, &err))
        fail_msg("%s", err.message);
    assert_true(fl.count >= 1);
    face f = fl.faces[0];
    float m[6], inv[6];
    /* Keypoints only (no landmarks): 4-point fit. Eye centres measured by hand: (204,102), (247,105). */
    assert_true(face_embed_crop_map(&f, m));
    assert_true(crop_invert(m, inv));
    float ex, ey;
    crop_apply(inv, 204.0f, 102.0f, &ex, &ey);
    printf("image-left eye lands at (%.1f, %.1f) of the 112x112 crop (template 38.3, 51.7)\n", ex, ey);
    assert_true(fabsf(ex - 38.3f) < 6.0f && fabsf(ey - 51.7f) < 6.0f);
    crop_apply(inv, 247.0f, 105.0f, &ex, &ey);
    assert_true(fabsf(ex - 73.5f) < 6.0f && fabsf(ey - 51.5f) < 6.0f);
    img_image_free(&img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unit_length),
        cmocka_unit_test(test_same_person),
        cmocka_unit_test(test_other_people),
        cmocka_unit_test(test_alignment),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
