/* nn/xnn_backend — the graph on XNNPACK: the one file that knows its API.
 *
 * The graph's live operators are cut into steps: each maximal run of
 * operators XNNPACK supports becomes one subgraph and runtime; an operator it
 * lacks (a concatenation the arena plan could not do in place) runs between
 * them on the reference kernel. Tensors crossing a step boundary, graph
 * inputs and outputs, and tensors sharing storage with others (reshape,
 * in-place concat) are XNNPACK "external" values pointing into our arena;
 * everything else lives in XNNPACK's own workspace. Runtimes are set up once
 * at creation (the arena never moves), so a run only invokes them. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthreadpool.h>
#include <xnnpack.h>

#include "nn/graph.h"

typedef struct xnn_step {
    xnn_runtime_t runtime; /* NULL: reference operator `op` */
    int op;
} xnn_step;

struct nn_xnn_plan {
    const nn_graph *g;
    pthreadpool_t pool;
    int n_steps;
    xnn_step *steps;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static enum xnn_status init_status = xnn_status_uninitialized;

static void init_xnnpack(void)
{
    init_status = xnn_initialize(NULL);
}

static const char *status_name(enum xnn_status s)
{
    switch (s) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "uninitialized";
    case xnn_status_invalid_parameter: return "invalid parameter";
    case xnn_status_invalid_state: return "invalid state";
    case xnn_status_unsupported_parameter: return "unsupported parameter";
    case xnn_status_unsupported_hardware: return "unsupported hardware";
    case xnn_status_out_of_memory: return "out of memory";
    }
    return "unknown status";
}

/* Operators XNNPACK runs for us; no-ops of the arena plan are skipped. */
static int is_noop(const nn_op *op)
{
    return op->kind == NN_OP_RESHAPE || (op->kind == NN_OP_CONCAT && op->in_place);
}

/* Operators our own SIMD kernels run between XNNPACK runtimes (fused ones
 * XNNPACK has no node for, and those we run faster than this snapshot). */
static int own_kernel(const nn_graph *g, const nn_op *op)
{
    return op->kind == NN_OP_ADD_PADDED || op->kind == NN_OP_CONV1X1_ADD ||
           nn_dwconv3x3_is_fast(g, op);
}

typedef struct own_task {
    const nn_graph *g;
    const nn_op *op;
    float *const *ptr;
} own_task;

static void own_unit(void *context, size_t unit)
{
    const own_task *t = context;
    nn_fast_run(t->g, t->op, t->ptr, unit, unit + 1);
}

/* Our kernels split into independent units; the plan's threads share them. */
static void run_own(pthreadpool_t pool, const nn_graph *g, const nn_op *op, float *const *ptr)
{
    if (op->kind == NN_OP_CONCAT || nn_op_is_ref_only(op->kind) || op->kind == NN_OP_PRELU ||
        op->kind >= NN_OP_ONNX_FIRST) {
        nn_ref_run_op(g, op, ptr);
        return;
    }
    size_t units = nn_fast_units(g, op);
    /* Small operators stay on the caller: waking workers would cost more. */
    if (!pool || units < 2 || g->tensors[op->output].count < 32768) {
        nn_fast_run(g, op, ptr, 0, units);
        return;
    }
    own_task t = {g, op, ptr};
    pthreadpool_parallelize_1d(pool, own_unit, &t, units, 0);
}

/* ONNX operators XNNPACK runs natively (the rest run on the reference kernel
 * between runtimes). */
static int xnn_supports_onnx(const nn_graph *g, const nn_op *op)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]], *y = &g->tensors[op->output];
    int plain = op->act_min == -INFINITY && op->act_max == INFINITY;
    switch (op->kind) {
    case NN_OP_BINARY:
        return (op->mode == NN_BIN_SUB || op->mode == NN_BIN_MUL || op->mode == NN_BIN_DIV) && x->rank >= 1 &&
               g->tensors[op->inputs[1]].rank >= 1;
    case NN_OP_UNARY:
        return plain && x->rank >= 1 &&
               (op->mode == NN_UN_SIGMOID || op->mode == NN_UN_LEAKY_RELU || op->mode == NN_UN_SQRT);
    case NN_OP_DEPTH_TO_SPACE:
        return op->mode == 0 && op->kernel_h >= 2;
    case NN_OP_REDUCE:
        return op->mode == NN_RED_MEAN && x->rank == 4 && op->axis_mask == 6;
    case NN_OP_MATMUL: {
        const nn_tensor *b = &g->tensors[op->inputs[1]];
        return b->data && b->rank == 2 && x->rank >= 2 && y->rank == x->rank;
    }
    case NN_OP_DECONV2D: {
        long base_h = (long)(x->dims[1] - 1) * op->stride_h + (long)(op->kernel_h - 1) * op->dilation_h + 1 -
                      op->pad_top - op->pad_bottom;
        long base_w = (long)(x->dims[2] - 1) * op->stride_w + (long)(op->kernel_w - 1) * op->dilation_w + 1 -
                      op->pad_left - op->pad_right;
        long adj_h = y->dims[1] - base_h, adj_w = y->dims[2] - base_w;
        return op->pad_top >= 0 && op->pad_bottom >= 0 && op->pad_left >= 0 && op->pad_right >= 0 && adj_h >= 0 &&
               adj_w >= 0 && adj_h < op->stride_h && adj_w < op->stride_w;
    }
    default:
        return 0;
    }
}

static int xnn_supports(const nn_graph *g, const nn_op *op)
{
    if (own_kernel(g, op))
        return 0;
    if (op->kind >= NN_OP_ONNX_FIRST)
        return xnn_supports_onnx(g, op);
    switch (op->kind) {
    case NN_OP_CONV2D:
    case NN_OP_DWCONV2D:
    case NN_OP_ADD:
    case NN_OP_CLAMP:
    case NN_OP_PAD:
    case NN_OP_RESIZE_BILINEAR:
        return 1;
    case NN_OP_MAXPOOL2D:
        return op->kernel_h * op->kernel_w > 1;
    case NN_OP_PRELU: {
        /* XNNPACK takes one slope per channel. */
        const nn_tensor *x = &g->tensors[op->inputs[0]], *a = &g->tensors[op->inputs[1]];
        return x->rank >= 1 && a->count == (size_t)x->dims[x->rank - 1] && a->rank >= 1 &&
               a->dims[a->rank - 1] == x->dims[x->rank - 1];
    }
    default:
        return 0;
    }
}

typedef struct seg_ctx {
    const nn_graph *g;
    float *const *ptr;
    xnn_subgraph_t sg;
    uint32_t *value;    /* per tensor: XNNPACK value id, or XNN_INVALID_VALUE_ID */
    int *ext;           /* per tensor: 1 when external in this segment */
    uint32_t n_ext;
    struct xnn_external_value *ext_values;
} seg_ctx;

static int define_value(seg_ctx *c, int t, ptim_error *err)
{
    if (c->value[t] != XNN_INVALID_VALUE_ID)
        return 0;
    const nn_tensor *tt = &c->g->tensors[t];
    size_t dims[NN_MAX_RANK];
    for (int d = 0; d < tt->rank; d++)
        dims[d] = (size_t)tt->dims[d];
    uint32_t ext_id = XNN_INVALID_VALUE_ID, flags = 0;
    if (!tt->data && c->ext[t]) {
        ext_id = c->n_ext;
        flags = XNN_VALUE_FLAG_EXTERNAL_INPUT | XNN_VALUE_FLAG_EXTERNAL_OUTPUT;
    }
    uint32_t id;
    enum xnn_status s = xnn_define_tensor_value(c->sg, xnn_datatype_fp32, (size_t)tt->rank, dims,
                                                tt->data, ext_id, flags, &id);
    if (s != xnn_status_success)
        return ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_MEDIUM,
                              "model %s: XNNPACK refused tensor %d (%s): %s", c->g->name, t, tt->name,
                              status_name(s));
    if (ext_id != XNN_INVALID_VALUE_ID) {
        c->ext_values[c->n_ext].id = ext_id;
        c->ext_values[c->n_ext].data = c->ptr[t];
        c->n_ext++;
    }
    c->value[t] = id;
    return 0;
}

static int define_op(seg_ctx *c, int i, ptim_error *err)
{
    const nn_graph *g = c->g;
    const nn_op *op = &g->ops[i];
    for (int k = 0; k < op->n_inputs; k++)
        if (define_value(c, op->inputs[k], err))
            return -1;
    if (define_value(c, op->output, err))
        return -1;
    uint32_t x = c->value[op->inputs[0]], y = c->value[op->output];
    const nn_tensor *xt = &g->tensors[op->inputs[0]], *yt = &g->tensors[op->output];
    enum xnn_status s;
    switch (op->kind) {
    case NN_OP_CONV2D:
    case NN_OP_DWCONV2D: {
        uint32_t bias = op->n_inputs == 3 ? c->value[op->inputs[2]] : XNN_INVALID_VALUE_ID;
        uint32_t w = c->value[op->inputs[1]];
        if (op->kind == NN_OP_CONV2D)
            s = xnn_define_convolution_2d(c->sg, (uint32_t)op->pad_top, (uint32_t)op->pad_right,
                                          (uint32_t)op->pad_bottom, (uint32_t)op->pad_left,
                                          (uint32_t)op->kernel_h, (uint32_t)op->kernel_w,
                                          (uint32_t)op->stride_h, (uint32_t)op->stride_w,
                                          (uint32_t)op->dilation_h, (uint32_t)op->dilation_w, 1,
                                          (size_t)xt->dims[3], (size_t)yt->dims[3], op->act_min, op->act_max,
                                          x, w, bias, y, 0);
        else
            s = xnn_define_depthwise_convolution_2d(
                c->sg, (uint32_t)op->pad_top, (uint32_t)op->pad_right, (uint32_t)op->pad_bottom,
                (uint32_t)op->pad_left, (uint32_t)op->kernel_h, (uint32_t)op->kernel_w,
                (uint32_t)op->stride_h, (uint32_t)op->stride_w, (uint32_t)op->dilation_h,
                (uint32_t)op->dilation_w, (uint32_t)op->depth_multiplier, (size_t)xt->dims[3], op->act_min,
                op->act_max, x, w, bias, y, 0);
        break;
    }
    case NN_OP_ADD:
        s = xnn_define_add2(c->sg, op->act_min, op->act_max, x, c->value[op->inputs[1]], y, 0);
        break;
    case NN_OP_CLAMP:
        s = xnn_define_clamp(c->sg, op->act_min, op->act_max, x, y, 0);
        break;
    case NN_OP_PRELU: {
        /* A 1-D view of alpha: XNNPACK wants [channels]. */
        const nn_tensor *a = &g->tensors[op->inputs[1]];
        size_t dims[1] = {a->count};
        uint32_t slope;
        s = xnn_define_tensor_value(c->sg, xnn_datatype_fp32, 1, dims, a->data, XNN_INVALID_VALUE_ID, 0,
                                    &slope);
        if (s == xnn_status_success)
            s = xnn_define_prelu(c->sg, x, slope, y, 0);
        break;
    }
    case NN_OP_PAD: {
        size_t pre[NN_MAX_RANK], post[NN_MAX_RANK];
        for (int d = 0; d < xt->rank; d++) {
            pre[d] = (size_t)op->pads[d][0];
            post[d] = (size_t)op->pads[d][1];
        }
        s = xnn_define_static_constant_pad(c->sg, pre, post, 0.0f, x, y, 0);
        break;
    }
    case NN_OP_MAXPOOL2D:
        s = xnn_define_max_pooling_2d(c->sg, (uint32_t)op->pad_top, (uint32_t)op->pad_right,
                                      (uint32_t)op->pad_bottom, (uint32_t)op->pad_left, (uint32_t)op->kernel_h,
                                      (uint32_t)op->kernel_w, (uint32_t)op->stride_h, (uint32_t)op->stride_w, 1,
                                      1, op->act_min, op->act_max, x, y, 0);
        break;
    case NN_OP_RESIZE_BILINEAR: {
        uint32_t flags = op->align_corners ? XNN_FLAG_ALIGN_CORNERS
                         : op->half_pixel_centers ? 0
                                                  : XNN_FLAG_TENSORFLOW_LEGACY_MODE;
        s = xnn_define_static_resize_bilinear_2d(c->sg, (size_t)yt->dims[1], (size_t)yt->dims[2], x, y, flags);
        break;
    }
    /* ---- ONNX operators ---- */
    case NN_OP_BINARY: {
        uint32_t b = c->value[op->inputs[1]];
        if (op->mode == NN_BIN_SUB)
            s = xnn_define_subtract(c->sg, op->act_min, op->act_max, x, b, y, 0);
        else if (op->mode == NN_BIN_MUL)
            s = xnn_define_multiply2(c->sg, op->act_min, op->act_max, x, b, y, 0);
        else
            s = xnn_define_divide(c->sg, op->act_min, op->act_max, x, b, y, 0);
        break;
    }
    case NN_OP_UNARY:
        s = op->mode == NN_UN_SIGMOID      ? xnn_define_sigmoid(c->sg, x, y, 0)
            : op->mode == NN_UN_LEAKY_RELU ? xnn_define_leaky_relu(c->sg, op->alpha, x, y, 0)
                                           : xnn_define_square_root(c->sg, x, y, 0);
        break;
    case NN_OP_DEPTH_TO_SPACE:
        s = xnn_define_depth_to_space(c->sg, x, y, (uint32_t)op->kernel_h, 0);
        break;
    case NN_OP_REDUCE:
        s = xnn_define_global_average_pooling_2d(c->sg, -INFINITY, INFINITY, x, y, 0);
        break;
    case NN_OP_MATMUL:
        /* B is [K][N]: a fully connected layer over every row of A. */
        s = xnn_define_fully_connected(c->sg, op->act_min, op->act_max, x, c->value[op->inputs[1]],
                                       XNN_INVALID_VALUE_ID, y, XNN_FLAG_TRANSPOSE_WEIGHTS);
        break;
    case NN_OP_DECONV2D: {
        const nn_tensor *w = &g->tensors[op->inputs[1]];
        long base_h = (long)(xt->dims[1] - 1) * op->stride_h + (long)(op->kernel_h - 1) * op->dilation_h + 1 -
                      op->pad_top - op->pad_bottom;
        long base_w = (long)(xt->dims[2] - 1) * op->stride_w + (long)(op->kernel_w - 1) * op->dilation_w + 1 -
                      op->pad_left - op->pad_right;
        uint32_t bias = op->n_inputs == 3 ? c->value[op->inputs[2]] : XNN_INVALID_VALUE_ID;
        s = xnn_define_deconvolution_2d(c->sg, (uint32_t)op->pad_top, (uint32_t)op->pad_right,
                                        (uint32_t)op->pad_bottom, (uint32_t)op->pad_left,
                                        (uint32_t)(yt->dims[1] - base_h), (uint32_t)(yt->dims[2] - base_w),
                                        (uint32_t)op->kernel_h, (uint32_t)op->kernel_w, (uint32_t)op->stride_h,
                                        (uint32_t)op->stride_w, (uint32_t)op->dilation_h, (uint32_t)op->dilation_w, 1,
                                        (size_t)xt->dims[3], (size_t)w->dims[0], op->act_min, op->act_max, x,
                                        c->value[op->inputs[1]], bias, y, 0);
        break;
    }
    default:
        s = xnn_status_unsupported_parameter;
        break;
    }
    if (s != xnn_status_success)
        return ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_MEDIUM, "model %s: XNNPACK refused operator %d (%s): %s",
                              g->name, i, nn_op_kind_name(op->kind), status_name(s));
    return 0;
}

/* Builds one runtime for live operators [first, last] (all supported). */
static int build_segment(const nn_graph *g, float *const *ptr, const int *step_of, int first, int last,
                         int step, const char *shared, pthreadpool_t pool, xnn_runtime_t *out, ptim_error *err)
{
    int n = g->n_tensors;
    seg_ctx c = {.g = g, .ptr = ptr};
    c.value = malloc((size_t)n * sizeof *c.value);
    c.ext = calloc((size_t)n, sizeof *c.ext);
    c.ext_values = malloc((size_t)n * sizeof *c.ext_values);
    int rc = -1;
    if (!c.value || !c.ext || !c.ext_values) {
        ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", g->name);
        goto out;
    }
    for (int t = 0; t < n; t++)
        c.value[t] = XNN_INVALID_VALUE_ID;
    /* External: inputs, outputs, shared storage, or read/written by another step. */
    for (int t = 0; t < n; t++) {
        const nn_tensor *tt = &g->tensors[t];
        c.ext[t] = tt->is_input || tt->is_output || shared[t] ||
                   (tt->producer >= 0 && step_of[tt->producer] != step);
    }
    for (int i = 0; i < g->n_ops; i++) {
        const nn_op *op = &g->ops[i];
        if (op->dead || step_of[i] == step || step_of[i] < 0)
            continue;
        for (int k = 0; k < op->n_inputs; k++)
            c.ext[op->inputs[k]] = 1;
    }
    enum xnn_status s = xnn_create_subgraph((uint32_t)n, 0, &c.sg);
    if (s != xnn_status_success) {
        ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_MEDIUM, "model %s: XNNPACK cannot create a subgraph: %s",
                       g->name, status_name(s));
        goto out;
    }
    for (int i = first; i <= last; i++) {
        if (g->ops[i].dead || is_noop(&g->ops[i]))
            continue;
        if (define_op(&c, i, err))
            goto out;
    }
    s = xnn_create_runtime_v2(c.sg, pool, 0, out);
    if (s != xnn_status_success) {
        *out = NULL;
        ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_MEDIUM, "model %s: XNNPACK cannot create a runtime: %s",
                       g->name, status_name(s));
        goto out;
    }
    s = xnn_setup_runtime(*out, c.n_ext, c.ext_values);
    if (s != xnn_status_success) {
        xnn_delete_runtime(*out);
        *out = NULL;
        ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_MEDIUM, "model %s: XNNPACK cannot set up a runtime: %s",
                       g->name, status_name(s));
        goto out;
    }
    rc = 0;
out:
    if (c.sg)
        xnn_delete_subgraph(c.sg);
    free(c.value);
    free(c.ext);
    free(c.ext_values);
    return rc;
}

/* The weights XNNPACK copies into its own packed form when a runtime is
 * created (convolutions, fully connected): their graph copy may go then. */
static int packs_weights(const nn_op *op)
{
    return op->kind == NN_OP_CONV2D || op->kind == NN_OP_DWCONV2D || op->kind == NN_OP_DECONV2D ||
           op->kind == NN_OP_MATMUL;
}

static size_t packed_bytes(const nn_graph *g, const nn_op *op)
{
    size_t n = 0;
    if (packs_weights(op))
        for (int k = 1; k < op->n_inputs; k++)
            if (g->tensors[op->inputs[k]].data)
                n += g->tensors[op->inputs[k]].count * sizeof(float);
    return n;
}

/* Frees the graph's copy of the weights the runtime of step `sidx` packed
 * (those no other operator reads). They are first overwritten with NaN: if
 * XNNPACK ever read them again, the outputs would say so. */
static void release_packed(nn_graph *g, const int *step_of, int sidx)
{
    for (int i = 0; i < g->n_ops; i++) {
        const nn_op *op = &g->ops[i];
        if (step_of[i] != sidx || op->dead || !packs_weights(op))
            continue;
        for (int k = 1; k < op->n_inputs; k++) {
            nn_tensor *t = &g->tensors[op->inputs[k]];
            if (!t->data || t->consumers != 1 || t->is_output)
                continue;
            for (size_t e = 0; e < t->count; e++)
                t->data[e] = NAN;
            free(t->data);
            t->data = NULL;
        }
    }
}

int nn_xnn_create(const nn_graph *g, float *const *ptr, int threads, nn_graph *release, size_t part_bytes,
                  nn_xnn_plan **out, ptim_error *err)
{
    *out = NULL;
    pthread_once(&init_once, init_xnnpack);
    if (init_status != xnn_status_success)
        return ptim_error_set(err, PTIM_ERR_DEVICE, PTIM_SEV_MEDIUM, "XNNPACK is unavailable: %s",
                              status_name(init_status));
    nn_xnn_plan *p = calloc(1, sizeof *p);
    int *step_of = malloc((size_t)g->n_ops * sizeof *step_of);
    char *shared = calloc((size_t)g->n_tensors, 1);
    int rc = -1;
    if (!p || !step_of || !shared) {
        ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", g->name);
        goto out;
    }
    p->g = g;
    p->steps = calloc((size_t)g->n_ops + 1, sizeof *p->steps);
    if (!p->steps) {
        ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", g->name);
        goto out;
    }
    if (threads > 1) {
        p->pool = pthreadpool_create((size_t)threads);
        if (!p->pool) {
            ptim_error_set(err, PTIM_ERR_DEVICE, PTIM_SEV_MEDIUM, "model %s: cannot start %d worker threads",
                           g->name, threads);
            goto out;
        }
    }
    for (int t = 0; t < g->n_tensors; t++)
        if (g->tensors[t].alias_of >= 0) {
            shared[t] = 1;
            shared[g->tensors[t].alias_of] = 1;
        }
    /* Assign steps: runs of supported operators share one (with release, a
     * run is cut where its packed weights would pass part_bytes: the graph's
     * copy and XNNPACK's overlap by at most that much). */
    int step = -1, in_xnn = 0;
    size_t seg_bytes = 0;
    for (int i = 0; i < g->n_ops; i++) {
        const nn_op *op = &g->ops[i];
        step_of[i] = -1;
        if (op->dead)
            continue;
        if (is_noop(op)) {
            step_of[i] = step; /* belongs to whatever runs around it */
            continue;
        }
        int sup = xnn_supports(g, op);
        /* ONNX operators XNNPACK lacks (and the TensorFlow.js ref-only kinds) run on the reference kernel between runtimes. */
        if (!sup && op->kind != NN_OP_CONCAT && op->kind != NN_OP_PRELU && op->kind < NN_OP_ONNX_FIRST &&
            !nn_op_is_ref_only(op->kind) && !own_kernel(g, op)) {
            ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_MEDIUM,
                           "model %s: XNNPACK does not support operator %d (%s) with these attributes", g->name,
                           i, nn_op_kind_name(op->kind));
            goto out;
        }
        size_t wb = sup && release ? packed_bytes(g, op) : 0;
        if (!sup || !in_xnn || (release && seg_bytes > 0 && seg_bytes + wb > part_bytes)) {
            step++;
            p->steps[step].op = i;
            p->steps[step].runtime = NULL;
            seg_bytes = 0;
        }
        seg_bytes += wb;
        in_xnn = sup;
        step_of[i] = step;
    }
    p->n_steps = step + 1;
    for (int sidx = 0; sidx < p->n_steps; sidx++) {
        int first = p->steps[sidx].op;
        if (!xnn_supports(g, &g->ops[first]))
            continue; /* reference step */
        int last = first;
        for (int i = first; i < g->n_ops; i++)
            if (step_of[i] == sidx)
                last = i;
        if (build_segment(g, ptr, step_of, first, last, sidx, shared, p->pool, &p->steps[sidx].runtime, err))
            goto out;
        if (release)
            release_packed(release, step_of, sidx);
    }
    rc = 0;
out:
    free(step_of);
    free(shared);
    if (rc) {
        nn_xnn_destroy(p);
        return -1;
    }
    *out = p;
    return 0;
}

int nn_xnn_run(nn_xnn_plan *plan, float *const *ptr, ptim_error *err)
{
    const nn_graph *g = plan->g;
    for (int s = 0; s < plan->n_steps; s++) {
        if (plan->steps[s].runtime) {
            enum xnn_status st = xnn_invoke_runtime(plan->steps[s].runtime);
            if (st != xnn_status_success)
                return ptim_error_set(err, PTIM_ERR_INFERENCE, PTIM_SEV_HIGH, "model %s: XNNPACK run failed: %s",
                                      g->name, status_name(st));
        } else {
            run_own(plan->pool, g, &g->ops[plan->steps[s].op], ptr);
        }
    }
    return 0;
}

void nn_xnn_destroy(nn_xnn_plan *plan)
{
    if (!plan)
        return;
    if (plan->steps)
        for (int s = 0; s < plan->n_steps; s++)
            if (plan->steps[s].runtime)
                xnn_delete_runtime(plan->steps[s].runtime);
    if (plan->pool)
        pthreadpool_destroy(plan->pool);
    free(plan->steps);
    free(plan);
}

/* Debug summary used by `ptim nn info`: how many XNNPACK runtimes. */
int nn_xnn_runtime_count(const nn_xnn_plan *plan)
{
    int n = 0;
    for (int s = 0; s < plan->n_steps; s++)
        n += plan->steps[s].runtime != NULL;
    return n;
}

/* Per-operator cost on XNNPACK for `ptim bench nn --per-op`: each operator in
 * a runtime of its own (so every tensor is external), its fastest of `runs`. */
#include <time.h>

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int nn_xnn_profile_ops(const nn_graph *g, float *const *ptr, int runs, double *ms_per_op, ptim_error *err)
{
    pthread_once(&init_once, init_xnnpack);
    if (init_status != xnn_status_success)
        return ptim_error_set(err, PTIM_ERR_DEVICE, PTIM_SEV_MEDIUM, "XNNPACK is unavailable: %s",
                              status_name(init_status));
    int *step_of = malloc((size_t)g->n_ops * sizeof *step_of);
    char *shared = calloc((size_t)g->n_tensors, 1);
    if (!step_of || !shared) {
        free(step_of);
        free(shared);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", g->name);
    }
    for (int i = 0; i < g->n_ops; i++)
        step_of[i] = g->ops[i].dead || is_noop(&g->ops[i]) ? -1 : i;
    for (int t = 0; t < g->n_tensors; t++)
        if (g->tensors[t].alias_of >= 0)
            shared[t] = shared[g->tensors[t].alias_of] = 1;
    int rc = 0;
    for (int i = 0; i < g->n_ops && rc == 0; i++) {
        ms_per_op[i] = 0;
        if (step_of[i] < 0)
            continue;
        if (!xnn_supports(g, &g->ops[i])) {
            double best = 1e30;
            for (int k = 0; k < runs; k++) {
                double t0 = mono_ms();
                run_own(NULL, g, &g->ops[i], ptr);
                double dt = mono_ms() - t0;
                if (dt < best)
                    best = dt;
            }
            ms_per_op[i] = best;
            continue;
        }
        xnn_runtime_t rt;
        rc = build_segment(g, ptr, step_of, i, i, i, shared, NULL, &rt, err);
        if (rc)
            break;
        xnn_invoke_runtime(rt);
        /* The fastest run: on a shared machine the others include waiting. */
        double best = 1e30;
        for (int k = 0; k < runs; k++) {
            double t0 = mono_ms();
            xnn_invoke_runtime(rt);
            double dt = mono_ms() - t0;
            if (dt < best)
                best = dt;
        }
        ms_per_op[i] = best;
        xnn_delete_runtime(rt);
    }
    free(step_of);
    free(shared);
    return rc;
}
