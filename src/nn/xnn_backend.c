/* nn/xnn_backend — placeholder until the XNNPACK backend lands. */
#include "nn/graph.h"

int nn_xnn_create(const nn_graph *g, float *const *ptr, int threads, nn_xnn_plan **out, ptim_error *err)
{
    (void)ptr;
    (void)threads;
    *out = NULL;
    return ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_MEDIUM, "model %s: XNNPACK backend not built yet",
                          g->name);
}

int nn_xnn_run(nn_xnn_plan *plan, float *const *ptr, ptim_error *err)
{
    (void)plan;
    (void)ptr;
    return ptim_error_set(err, PTIM_ERR_INFERENCE, PTIM_SEV_HIGH, "XNNPACK backend not built yet");
}

void nn_xnn_destroy(nn_xnn_plan *plan)
{
    (void)plan;
}
