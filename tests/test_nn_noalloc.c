/* nn_runner_run() allocates nothing: every allocation in this process is
 * counted (malloc and friends interposed by this program, or ASan's
 * allocation hook under the sanitizer build), and the count must not move
 * across many runs of each real model on each backend (XNNPACK with 1 and 2
 * threads; the reference runs on the caller's thread). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"
#include "nn_test_util.h"

#include "alloc_counter.h"

static void test_counter_sees_allocations(void **state)
{
    (void)state;
    long before = atomic_load(&allocations);
    void *volatile p = malloc(100);
    free(p);
    assert_true(atomic_load(&allocations) > before);
}

static void test_runs_allocate_nothing(void **state)
{
    (void)state;
    static const char *const models[] = {"face_detection_short_range.tflite", "face_detection_full_range.tflite",
                                          "face_landmark.tflite"};
    const nn_backend backends[] = {NN_BACKEND_XNNPACK, NN_BACKEND_REFERENCE};
    for (int k = 0; k < 3; k++) {
        nn_model *m;
        ptim_error err = {0};
        assert_int_equal(nn_model_load_file(nn_test_model(models[k]), &m, &err), 0);
        for (int b = 0; b < 2; b++)
            for (int threads = 1; threads <= (backends[b] == NN_BACKEND_XNNPACK ? 2 : 1); threads++) {
                nn_runner *r;
                assert_int_equal(nn_runner_create(m, backends[b], threads, &r, &err), 0);
                assert_int_equal(nn_runner_backend(r), backends[b]);
                float *in = nn_runner_input(r, 0);
                for (size_t i = 0; i < nn_model_input(m, 0).count; i++)
                    in[i] = (float)(i % 17) / 8.0f - 1.0f;
                assert_int_equal(nn_runner_run(r, &err), 0); /* first run outside the count */
                int runs = backends[b] == NN_BACKEND_XNNPACK ? 20 : 2;
                long before = atomic_load(&allocations);
                int rc = 0;
                for (int i = 0; i < runs; i++)
                    rc |= nn_runner_run(r, &err);
                long after = atomic_load(&allocations);
                assert_int_equal(rc, 0);
                printf("%s %s %d thread(s): %ld allocations in %d runs\n", models[k], nn_backend_name(backends[b]),
                       threads, after - before, runs);
                assert_int_equal(after - before, 0);
                nn_runner_destroy(r);
            }
        nn_model_free(m);
    }
}

int main(void)
{
    install_counter();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_sees_allocations),
        cmocka_unit_test(test_runs_allocate_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
