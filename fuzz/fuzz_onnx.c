/* libFuzzer target for the ONNX reader: any bytes must load cleanly or be
 * refused with a message; a model that loads must also plan, bind and run
 * (so validation is what protects the kernels). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nn/graph.h"
#include "nn/nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Multiply-adds of one run, roughly: a tiny file can ask for a huge window. */
static double run_cost(const nn_graph *g)
{
    double cost = 0;
    for (int i = 0; i < g->n_ops; i++) {
        const nn_op *op = &g->ops[i];
        if (op->dead)
            continue;
        const nn_tensor *y = &g->tensors[op->output], *x = &g->tensors[op->inputs[0]];
        double per = 1;
        if (op->kind == NN_OP_CONV2D || op->kind == NN_OP_DWCONV2D || op->kind == NN_OP_MAXPOOL2D ||
            op->kind == NN_OP_AVGPOOL2D || op->kind == NN_OP_DECONV2D)
            per = (double)op->kernel_h * op->kernel_w * (x->rank == 4 ? x->dims[3] : 1);
        else if (op->kind == NN_OP_MATMUL)
            per = x->dims[x->rank - 1];
        cost += per * (double)y->count + (double)x->count;
    }
    return cost;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nn_model *m = NULL;
    ptim_error err = {0};
    if (nn_model_load_buffer(data, size, "fuzz.onnx", &m, &err) != 0) {
        if (m != NULL || strncmp(err.message, "model fuzz.onnx: ", 17) != 0)
            __builtin_trap();
        return 0;
    }
    /* Keep each input cheap: run only models with a modest arena. */
    if (m->graph->arena_bytes <= ((size_t)16 << 20) && run_cost(m->graph) < 2e8) {
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
