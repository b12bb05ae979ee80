/* Hostile model files: truncated, bit-flipped and random bytes never crash
 * the reader and, when refused, give one clear sentence naming the file.
 * A flipped file that still loads must also run (a flip in weight bytes
 * gives a valid model), which checks that validation protects the kernels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"
#include "nn_test_util.h"

static uint8_t *read_all(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *size = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc(*size);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *size, fp), *size);
    fclose(fp);
    return b;
}

static uint32_t rng = 12345;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static int accepted_runs;

/* Loads `data`; refused → a clear message; accepted → it runs. Returns 1 if accepted. */
static int try_load(const uint8_t *data, size_t size, const char *what)
{
    nn_model *m = NULL;
    ptim_error err = {0};
    int rc = nn_model_load_buffer(data, size, "x.tflite", &m, &err);
    if (rc != 0) {
        assert_null(m);
        if (strncmp(err.message, "model x.tflite: ", 16) != 0 || strlen(err.message) < 24)
            fail_msg("%s: unclear message '%s'", what, err.message);
        return 0;
    }
    if (accepted_runs < 60) {
        accepted_runs++;
        nn_runner *r;
        assert_int_equal(nn_runner_create(m, NN_BACKEND_AUTO, 1, &r, &err), 0);
        assert_int_equal(nn_runner_run(r, &err), 0);
        nn_runner_destroy(r);
    }
    nn_model_free(m);
    return 1;
}

static const char *const models[] = {"face_detection_short_range.tflite", "face_detection_full_range.tflite",
                                      "face_landmark.tflite"};

static void test_truncated_files_are_refused(void **state)
{
    (void)state;
    for (int k = 0; k < 3; k++) {
        size_t size;
        uint8_t *full = read_all(nn_test_model(models[k]), &size);
        int refused = 0, tried = 0;
        for (size_t len = 0; len < size; len += len < 4096 ? 13 : size / 150 + 1, tried++) {
            uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees any overread */
            memcpy(copy, full, len);
            refused += !try_load(copy, len, "truncated");
            free(copy);
        }
        printf("%s: %d of %d truncations refused\n", models[k], refused, tried);
        assert_int_equal(refused, tried);
        free(full);
    }
}

static void test_bit_flips_never_crash(void **state)
{
    (void)state;
    for (int k = 0; k < 3; k++) {
        size_t size;
        uint8_t *orig = read_all(nn_test_model(models[k]), &size);
        uint8_t *copy = malloc(size);
        int refused = 0, flips = 400;
        /* Half the flips land in the first 4 KiB, where the structure is dense. */
        for (int i = 0; i < flips; i++) {
            memcpy(copy, orig, size);
            size_t span = (i & 1) && size > 4096 ? 4096 : size;
            int nbits = 1 + (int)(next() % 3);
            for (int b = 0; b < nbits; b++) {
                size_t pos = next() % span;
                copy[pos] ^= (uint8_t)(1u << (next() % 8));
            }
            refused += !try_load(copy, size, "bit flip");
        }
        printf("%s: %d of %d flipped files refused\n", models[k], refused, flips);
        free(copy);
        free(orig);
    }
}

static void test_random_files_are_refused(void **state)
{
    (void)state;
    for (int i = 0; i < 300; i++) {
        size_t size = next() % 4096;
        uint8_t *b = malloc(size ? size : 1);
        for (size_t j = 0; j < size; j++)
            b[j] = (uint8_t)next();
        if (size >= 8 && (i & 1))
            memcpy(b + 4, "TFL3", 4);
        if (size >= 8 && (i % 4) == 1) { /* a plausible root offset */
            uint32_t root = (uint32_t)(next() % size);
            memcpy(b, &root, 4);
        }
        assert_int_equal(try_load(b, size, "random"), 0);
        free(b);
    }
    ptim_error err = {0};
    nn_model *m;
    assert_int_equal(nn_model_load_buffer("abc", 3, "x.tflite", &m, &err), -1);
    printf("3 bytes: %s\n", err.message);
    assert_int_equal(nn_model_load_file("/nonexistent/y.tflite", &m, &err), -1);
    printf("missing: %s\n", err.message);
    assert_non_null(strstr(err.message, "/nonexistent/y.tflite"));
}

static void test_messages_name_the_problem(void **state)
{
    (void)state;
    size_t size;
    uint8_t *orig = read_all(nn_test_model(models[2]), &size);
    ptim_error err = {0};
    nn_model *m;
    /* Truncated in the middle of the weights. */
    assert_int_equal(nn_model_load_buffer(orig, size / 2, "face_landmark.tflite", &m, &err), -1);
    printf("half file: %s\n", err.message);
    assert_non_null(strstr(err.message, "model face_landmark.tflite: "));
    /* Not a TFLite file at all. */
    memcpy(orig + 4, "ABCD", 4);
    assert_int_equal(nn_model_load_buffer(orig, size, "face_landmark.tflite", &m, &err), -1);
    assert_string_equal(err.message, "model face_landmark.tflite: not a TFLite file (identifier is not TFL3)");
    free(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_files_are_refused),
        cmocka_unit_test(test_bit_flips_never_crash),
        cmocka_unit_test(test_random_files_are_refused),
        cmocka_unit_test(test_messages_name_the_problem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
