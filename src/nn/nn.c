/* nn/nn — runners: a model's graph bound to a backend and one arena. */
#include "nn/nn.h"

#include <stdlib.h>
#include <string.h>

#include "nn/graph.h"

struct nn_runner {
    const nn_graph *g;
    nn_backend backend;
    float *arena;
    float **ptr; /* storage of every tensor: constant data or a place in the arena */
    nn_xnn_plan *xnn;
    int auto_fallback; /* created as AUTO: a failing XNNPACK run falls back to the reference */
};

const char *nn_backend_name(nn_backend backend)
{
    switch (backend) {
    case NN_BACKEND_AUTO: return "auto";
    case NN_BACKEND_XNNPACK: return "xnnpack";
    case NN_BACKEND_REFERENCE: return "reference";
    }
    return "?";
}

static int runner_create(const nn_model *model, nn_graph *release, nn_backend backend, int threads,
                         nn_runner **out, ptim_error *err)
{
    *out = NULL;
    const nn_graph *g = model->graph;
    if (model->spent)
        return ptim_error_set(err, PTIM_ERR_INTERNAL, PTIM_SEV_HIGH,
                              "model %s: its weights went to the one runner it was made for", g->name);
    nn_runner *r = calloc(1, sizeof *r);
    if (!r)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "model %s: out of memory", g->name);
    r->g = g;
    r->arena = aligned_alloc(NN_ARENA_ALIGN, g->arena_bytes);
    r->ptr = calloc((size_t)g->n_tensors, sizeof *r->ptr);
    if (!r->arena || !r->ptr) {
        nn_runner_destroy(r);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL,
                              "model %s: cannot allocate a %zu-byte arena", g->name, g->arena_bytes);
    }
    /* Zeroed so inputs start defined and no garbage reaches an output. */
    memset(r->arena, 0, g->arena_bytes);
    for (int t = 0; t < g->n_tensors; t++) {
        const nn_tensor *tt = &g->tensors[t];
        if (tt->data) {
            r->ptr[t] = tt->data;
        } else {
            size_t off = 0;
            int root = t;
            while (g->tensors[root].alias_of >= 0) {
                off += g->tensors[root].alias_offset;
                root = g->tensors[root].alias_of;
            }
            if (g->tensors[root].first_use <= g->tensors[root].last_use)
                r->ptr[t] = r->arena + g->tensors[root].arena_offset / sizeof(float) + off;
        }
    }
    if (threads < 1)
        threads = 1;
    if (backend == NN_BACKEND_XNNPACK || backend == NN_BACKEND_AUTO) {
        ptim_error xerr = {0};
        size_t part = model->sole_part_bytes ? model->sole_part_bytes : (size_t)64 << 20;
        if (nn_xnn_create(g, r->ptr, threads, release, part, &r->xnn, &xerr) == 0) {
            r->backend = NN_BACKEND_XNNPACK;
            r->auto_fallback = backend == NN_BACKEND_AUTO && !release;
        } else if (backend == NN_BACKEND_XNNPACK || release) {
            if (err)
                *err = xerr;
            nn_runner_destroy(r);
            return -1;
        } else {
            r->backend = NN_BACKEND_REFERENCE; /* AUTO: XNNPACK refused, the reference runs it */
        }
    } else {
        r->backend = NN_BACKEND_REFERENCE;
    }
    *out = r;
    return 0;
}

int nn_runner_create(const nn_model *model, nn_backend backend, int threads, nn_runner **out, ptim_error *err)
{
    return runner_create(model, NULL, backend, threads, out, err);
}

int nn_runner_create_sole(nn_model *model, nn_backend backend, int threads, nn_runner **out, ptim_error *err)
{
    if (backend == NN_BACKEND_REFERENCE) /* the reference reads the weights on every run */
        return nn_runner_create(model, backend, threads, out, err);
    int rc = runner_create(model, model->graph, backend, threads, out, err);
    model->spent = 1; /* also on failure: part of the weights may be gone */
    return rc;
}

void nn_runner_destroy(nn_runner *runner)
{
    if (!runner)
        return;
    nn_xnn_destroy(runner->xnn);
    free(runner->arena);
    free(runner->ptr);
    free(runner);
}

nn_backend nn_runner_backend(const nn_runner *runner)
{
    return runner->backend;
}

float *nn_runner_input(nn_runner *runner, int index)
{
    if (index < 0 || index >= runner->g->n_inputs)
        return NULL;
    return runner->ptr[runner->g->inputs[index]];
}

const float *nn_runner_output(const nn_runner *runner, int index)
{
    if (index < 0 || index >= runner->g->n_outputs)
        return NULL;
    return runner->ptr[runner->g->outputs[index]];
}

int nn_runner_run(nn_runner *runner, ptim_error *err)
{
    if (runner->xnn) {
        if (nn_xnn_run(runner->xnn, runner->ptr, err) == 0)
            return 0;
        if (!runner->auto_fallback)
            return -1;
        /* The error policy's fallback: the reference runs the same plan on
         * the same arena from now on. */
        nn_xnn_destroy(runner->xnn);
        runner->xnn = NULL;
        runner->backend = NN_BACKEND_REFERENCE;
    }
    const nn_graph *g = runner->g;
    for (int i = 0; i < g->n_ops; i++) {
        const nn_op *op = &g->ops[i];
        /* Reshapes and in-place concatenations were done by the arena plan. */
        if (op->dead || op->kind == NN_OP_RESHAPE || (op->kind == NN_OP_CONCAT && op->in_place))
            continue;
        nn_ref_run_op(g, op, runner->ptr);
    }
    return 0;
}

float *const *nn_runner_tensor_ptrs(nn_runner *runner)
{
    return runner->ptr;
}

int nn_runner_xnn_runtimes(const nn_runner *runner)
{
    return runner->xnn ? nn_xnn_runtime_count(runner->xnn) : 0;
}
