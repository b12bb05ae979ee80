/* libFuzzer target for the TFLite reader: any bytes must load cleanly or be
 * refused with a message; a model that loads must also plan, bind and run
 * (so validation is what protects the kernels). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nn/graph.h"
#include "nn/nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nn_model *m = NULL;
    ptim_error err = {0};
    if (nn_model_load_buffer(data, size, "fuzz.tflite", &m, &err) != 0) {
        if (m != NULL || strncmp(err.message, "model fuzz.tflite: ", 19) != 0)
            __builtin_trap();
        return 0;
    }
    /* Keep each input cheap: run only models with a modest arena. */
    if (m->graph->arena_bytes <= ((size_t)16 << 20)) {
        nn_runner *r;
        if (nn_runner_create(m, NN_BACKEND_AUTO, 1, &r, &err) == 0) {
            if (nn_runner_run(r, &err) != 0)
                __builtin_trap();
            nn_runner_destroy(r);
        }
    }
    nn_model_free(m);
    return 0;
}
