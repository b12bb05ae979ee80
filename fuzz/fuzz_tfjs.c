/* libFuzzer target for the TensorFlow.js graph model reader. Input: the
 * model.json text, a NUL byte, then the weight bytes (all shards
 * concatenated). Any input must load or be refused with a message; a model
 * that loads must also plan, bind and run. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nn/graph.h"
#include "nn/nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t json_size = nul ? (size_t)(nul - data) : size;
    const uint8_t *w = nul ? nul + 1 : data + size;
    size_t w_size = nul ? size - json_size - 1 : 0;
    nn_graph *g = NULL;
    ptim_error err = {0};
    if (nn_tfjs_read((const char *)data, json_size, w, w_size, "fuzz.json", &g, &err) != 0) {
        if (g != NULL || strncmp(err.message, "model fuzz.json: ", 17) != 0)
            __builtin_trap();
        return 0;
    }
    if (nn_graph_prepare(g, &err) != 0) {
        nn_graph_free(g);
        return 0;
    }
    nn_model m = {.graph = g};
    if (g->arena_bytes <= ((size_t)16 << 20)) {
        nn_runner *r;
        if (nn_runner_create(&m, NN_BACKEND_AUTO, 1, &r, &err) == 0) {
            if (nn_runner_run(r, &err) != 0)
                __builtin_trap();
            nn_runner_destroy(r);
        }
    }
    nn_graph_free(g);
    return 0;
}
