/* The three real models: they load, the reference and XNNPACK backends agree,
 * and their outputs make sense on a real face (astronaut.png). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/image_file.h"
#include "nn/nn.h"
#include "nn_test_util.h"

static const char *const models[] = {"face_detection_short_range.tflite", "face_detection_full_range.tflite",
                                      "face_landmark.tflite"};

static void test_models_load_with_expected_shapes(void **state)
{
    (void)state;
    static const int in_size[] = {128, 192, 192};
    for (int k = 0; k < 3; k++) {
        nn_model *m;
        ptim_error err = {0};
        assert_int_equal(nn_model_load_file(nn_test_model(models[k]), &m, &err), 0);
        assert_int_equal(nn_model_input_count(m), 1);
        nn_tensor_info in = nn_model_input(m, 0);
        assert_int_equal(in.rank, 4);
        assert_int_equal(in.dims[1], in_size[k]);
        assert_int_equal(in.dims[3], 3);
        assert_int_equal(nn_model_output_count(m), 2);
        nn_model_free(m);
    }
    nn_model *m;
    ptim_error err = {0};
    assert_int_equal(nn_model_load_file(nn_test_model("face_detection_short_range.tflite"), &m, &err), 0);
    assert_int_equal(nn_model_output(m, 0).count, 896 * 16);
    assert_int_equal(nn_model_output(m, 1).count, 896);
    nn_model_free(m);
    assert_int_equal(nn_model_load_file(nn_test_model("face_detection_full_range.tflite"), &m, &err), 0);
    assert_int_equal(nn_model_output(m, 0).count, 2304 * 16);
    assert_int_equal(nn_model_output(m, 1).count, 2304);
    nn_model_free(m);
    assert_int_equal(nn_model_load_file(nn_test_model("face_landmark.tflite"), &m, &err), 0);
    assert_int_equal(nn_model_output(m, 0).count, 468 * 3);
    assert_int_equal(nn_model_output(m, 1).count, 1);
    nn_model_free(m);
}

/* Fixed pseudo-random input in [-1, 1]. */
static void fill_input(float *x, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)(seed >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
    }
}

/* Reference vs XNNPACK (with our kernels between its runtimes) on 1 and 2
 * threads; "relative" is the largest difference over the output's largest
 * magnitude, so values near zero do not blow up the ratio. */
static void reference_matches_xnnpack(int threads)
{
    for (int k = 0; k < 3; k++) {
        nn_model *m;
        nn_runner *ref, *xnn;
        ptim_error err = {0};
        assert_int_equal(nn_model_load_file(nn_test_model(models[k]), &m, &err), 0);
        assert_int_equal(nn_runner_create(m, NN_BACKEND_REFERENCE, 1, &ref, &err), 0);
        if (nn_runner_create(m, NN_BACKEND_XNNPACK, threads, &xnn, &err) != 0)
            fail_msg("%s", err.message);
        assert_int_equal(nn_runner_backend(xnn), NN_BACKEND_XNNPACK);
        size_t n = nn_model_input(m, 0).count;
        for (int trial = 0; trial < 2; trial++) {
            fill_input(nn_runner_input(ref, 0), n, 1234u + (uint32_t)trial);
            memcpy(nn_runner_input(xnn, 0), nn_runner_input(ref, 0), n * sizeof(float));
            assert_int_equal(nn_runner_run(ref, &err), 0);
            assert_int_equal(nn_runner_run(xnn, &err), 0);
            for (int o = 0; o < nn_model_output_count(m); o++) {
                const float *a = nn_runner_output(ref, o), *b = nn_runner_output(xnn, o);
                size_t cnt = nn_model_output(m, o).count;
                /* Relative to the output's scale, so values near zero do not blow up the ratio. */
                double scale = 0, maxdiff = 0;
                for (size_t i = 0; i < cnt; i++) {
                    scale = fmax(scale, fabs(a[i]));
                    maxdiff = fmax(maxdiff, fabs((double)a[i] - b[i]));
                }
                double rel = maxdiff / fmax(scale, 1e-6);
                printf("%s output %d (%d thread%s): max |ref| %.4g, max diff %.3g, relative %.3g\n", models[k], o,
                       threads, threads > 1 ? "s" : "", scale, maxdiff, rel);
                assert_true(rel < 1e-4);
            }
        }
        nn_runner_destroy(ref);
        nn_runner_destroy(xnn);
        nn_model_free(m);
    }
}

static void test_reference_matches_xnnpack(void **state)
{
    (void)state;
    reference_matches_xnnpack(1);
}

static void test_reference_matches_xnnpack_two_threads(void **state)
{
    (void)state;
    reference_matches_xnnpack(2);
}

/* astronaut.png through a plain letterbox (the picture is square: a plain
 * resize) in [-1, 1]; then FaceMesh on a crop around the found face in [0, 1]. */
static void real_face(nn_backend backend)
{
    img_image img;
    ptim_error err = {0};
    assert_int_equal(io_image_load(nn_test_sample("astronaut.png"), IMG_FMT_RGB24, &img, &err), 0);
    nn_model *det, *mesh;
    nn_runner *rd, *rm;
    assert_int_equal(nn_model_load_file(nn_test_model("face_detection_short_range.tflite"), &det, &err), 0);
    assert_int_equal(nn_runner_create(det, backend, 1, &rd, &err), 0);
    int side = img.view.width > img.view.height ? img.view.width : img.view.height;
    float x0 = (img.view.width - side) / 2.0f, y0 = (img.view.height - side) / 2.0f;
    nn_test_crop(&img.view, x0, y0, (float)side, (float)side, 128, 2.0f / 255.0f, -1.0f, nn_runner_input(rd, 0));
    assert_int_equal(nn_runner_run(rd, &err), 0);
    float box[4];
    float score = nn_test_best_face(nn_runner_output(rd, 0), nn_runner_output(rd, 1), box);
    printf("%s: best short-range score %.4f, box %.1f %.1f %.1f %.1f (of 128)\n", nn_backend_name(backend), score,
           box[0], box[1], box[2], box[3]);
    assert_true(score >= 0.9f);
    /* The face is in the upper middle of the picture. */
    float s = (float)side / 128.0f;
    float cx = x0 + (box[0] + box[2] / 2) * s, cy = y0 + (box[1] + box[3] / 2) * s, w = box[2] * s;
    assert_true(cx > 150 && cx < 300 && cy > 50 && cy < 250 && w > 40 && w < 250);

    assert_int_equal(nn_model_load_file(nn_test_model("face_landmark.tflite"), &mesh, &err), 0);
    assert_int_equal(nn_runner_create(mesh, backend, 1, &rm, &err), 0);
    float crop = w * 1.5f;
    nn_test_crop(&img.view, cx - crop / 2, cy - crop / 2, crop, crop, 192, 1.0f / 255.0f, 0.0f,
                 nn_runner_input(rm, 0));
    assert_int_equal(nn_runner_run(rm, &err), 0);
    float presence = 1.0f / (1.0f + expf(-nn_runner_output(rm, 1)[0]));
    printf("%s: FaceMesh presence %.4f\n", nn_backend_name(backend), presence);
    assert_true(presence >= 0.9f);
    /* Landmarks fall inside the crop. */
    const float *lm = nn_runner_output(rm, 0);
    int inside = 0;
    for (int i = 0; i < 468; i++)
        inside += lm[3 * i] > 0 && lm[3 * i] < 192 && lm[3 * i + 1] > 0 && lm[3 * i + 1] < 192;
    assert_true(inside > 460);

    nn_runner_destroy(rm);
    nn_model_free(mesh);
    nn_runner_destroy(rd);
    nn_model_free(det);
    img_image_free(&img);
}

static void test_real_face_reference(void **state)
{
    (void)state;
    real_face(NN_BACKEND_REFERENCE);
}

static void test_real_face_xnnpack(void **state)
{
    (void)state;
    real_face(NN_BACKEND_XNNPACK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_models_load_with_expected_shapes),
        cmocka_unit_test(test_real_face_reference),
        cmocka_unit_test(test_real_face_xnnpack),
        cmocka_unit_test(test_reference_matches_xnnpack),
        cmocka_unit_test(test_reference_matches_xnnpack_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
