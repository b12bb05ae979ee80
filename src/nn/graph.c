/* nn/graph — validation, constant folding, activation fusion and the arena
 * plan of ptim's graph form. */
#include "nn/graph.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const op_names[NN_OP__COUNT] = {
    [NN_OP_CONV2D] = "CONV_2D",
    [NN_OP_DWCONV2D] = "DEPTHWISE_CONV_2D",
    [NN_OP_ADD] = "ADD",
    [NN_OP_CLAMP] = "RELU",
    [NN_OP_PRELU] = "PRELU",
    [NN_OP_PAD] = "PAD",
    [NN_OP_MAXPOOL2D] = "MAX_POOL_2D",
    [NN_OP_RESHAPE] = "RESHAPE",
    [NN_OP_CONCAT] = "CONCATENATION",
    [NN_OP_RESIZE_BILINEAR] = "RESIZE_BILINEAR",
    [NN_OP_COPY] = "DEQUANTIZE",
    [NN_OP_ADD_PADDED] = "ADD(PAD)",
    [NN_OP_CONV1X1_ADD] = "CONV_1x1+ADD",
    [NN_OP_ABS] = "ABS",
    [NN_OP_SQUARE] = "SQUARE",
    [NN_OP_RSQRT] = "RSQRT",
    [NN_OP_SUB] = "SUB",
    [NN_OP_MUL] = "MUL",
    [NN_OP_MAXIMUM] = "MAXIMUM",
    [NN_OP_SUM] = "SUM",
    /* ONNX operators */
    [NN_OP_BINARY] = "BINARY",
    [NN_OP_UNARY] = "UNARY",
    [NN_OP_TRANSPOSE] = "TRANSPOSE",
    [NN_OP_MATMUL] = "MATMUL",
    [NN_OP_SLICE] = "SLICE",
    [NN_OP_GATHER] = "GATHER",
    [NN_OP_REDUCE] = "REDUCE",
    [NN_OP_SOFTMAX] = "SOFTMAX",
    [NN_OP_INSTANCE_NORM] = "INSTANCE_NORM",
    [NN_OP_DEPTH_TO_SPACE] = "DEPTH_TO_SPACE",
    [NN_OP_SPACE_TO_DEPTH] = "SPACE_TO_DEPTH",
    [NN_OP_RESIZE] = "RESIZE",
    [NN_OP_PAD_EX] = "PAD",
    [NN_OP_DECONV2D] = "CONV_TRANSPOSE",
    [NN_OP_AVGPOOL2D] = "AVERAGE_POOL_2D",
};

int nn_op_is_ref_only(nn_op_kind kind)
{
    return kind >= NN_OP_ABS && kind <= NN_OP_SUM;
}

const char *nn_op_kind_name(nn_op_kind kind)
{
    return (unsigned)kind < NN_OP__COUNT ? op_names[kind] : "?";
}

void nn_graph_free(nn_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_tensors; i++) {
        free(g->tensors[i].name);
        free(g->tensors[i].data);
    }
    for (int i = 0; i < g->n_ops; i++) {
        free(g->ops[i].inputs);
        free(g->ops[i].packed);
    }
    free(g->tensors);
    free(g->ops);
    free(g->inputs);
    free(g->outputs);
    free(g->name);
    free(g);
}

static int op_fail(const nn_graph *g, int i, ptim_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int op_fail(const nn_graph *g, int i, ptim_error *err, const char *fmt, ...)
{
    char msg[PTIM_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_HIGH, "model %s: operator %d (%s) %s", g->name, i,
                          nn_op_kind_name(g->ops[i].kind), msg);
}

static int same_shape(const nn_tensor *a, const nn_tensor *b)
{
    if (a->rank != b->rank)
        return 0;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d])
            return 0;
    return 1;
}

/* Output size of a sliding window, or 0 when it does not fit. */
static int window_out(int in, int pad_before, int pad_after, int k, int stride, int dil)
{
    long eff = (long)(k - 1) * dil + 1;
    long span = (long)in + pad_before + pad_after - eff;
    if (span < 0)
        return 0;
    return (int)(span / stride + 1);
}

static int validate_window(const nn_graph *g, int i, const nn_tensor *x, const nn_tensor *y, int channels,
                           ptim_error *err)
{
    const nn_op *op = &g->ops[i];
    if (x->rank != 4 || y->rank != 4)
        return op_fail(g, i, err, "needs rank-4 input and output");
    int ho = window_out(x->dims[1], op->pad_top, op->pad_bottom, op->kernel_h, op->stride_h, op->dilation_h);
    int wo = window_out(x->dims[2], op->pad_left, op->pad_right, op->kernel_w, op->stride_w, op->dilation_w);
    if (y->dims[0] != x->dims[0] || y->dims[1] != ho || y->dims[2] != wo || y->dims[3] != channels)
        return op_fail(g, i, err, "output shape does not match its input, window and strides");
    return 0;
}

/* Right-aligned NumPy broadcasting of `a` into `out`. */
static int broadcasts_to(const nn_tensor *a, const nn_tensor *out)
{
    if (a->rank > out->rank)
        return 0;
    for (int d = 0; d < a->rank; d++) {
        int ad = a->dims[a->rank - 1 - d], od = out->dims[out->rank - 1 - d];
        if (ad != 1 && ad != od)
            return 0;
    }
    return 1;
}

static int validate_op(nn_graph *g, int i, ptim_error *err)
{
    nn_op *op = &g->ops[i];
    const nn_tensor *y = &g->tensors[op->output];
    const nn_tensor *x = &g->tensors[op->inputs[0]];
    switch (op->kind) {
    case NN_OP_CONV2D:
    case NN_OP_DWCONV2D: {
        const nn_tensor *w = &g->tensors[op->inputs[1]];
        if (!w->data)
            return op_fail(g, i, err, "needs constant weights");
        if (op->kind == NN_OP_CONV2D) {
            if (w->dims[3] != x->dims[3])
                return op_fail(g, i, err, "filter has %d input channels, input has %d", w->dims[3], x->dims[3]);
        } else {
            if (w->dims[0] != 1 || op->depth_multiplier < 1 ||
                (long)x->dims[3] * op->depth_multiplier != w->dims[3])
                return op_fail(g, i, err, "filter shape does not match input channels and depth multiplier");
        }
        if (op->n_inputs == 3) {
            const nn_tensor *b = &g->tensors[op->inputs[2]];
            if (!b->data || b->count != (size_t)w->dims[op->kind == NN_OP_CONV2D ? 0 : 3])
                return op_fail(g, i, err, "bias must be constant with one value per output channel");
        }
        return validate_window(g, i, x, y, w->dims[op->kind == NN_OP_CONV2D ? 0 : 3], err);
    }
    case NN_OP_MAXPOOL2D:
        return validate_window(g, i, x, y, x->rank == 4 ? x->dims[3] : 0, err);
    case NN_OP_ADD:
    case NN_OP_SUB:
    case NN_OP_MUL:
    case NN_OP_MAXIMUM: {
        const nn_tensor *b = &g->tensors[op->inputs[1]];
        nn_tensor shape = {.rank = x->rank > b->rank ? x->rank : b->rank};
        for (int d = 0; d < shape.rank; d++) {
            int ad = d < x->rank ? x->dims[x->rank - 1 - d] : 1;
            int bd = d < b->rank ? b->dims[b->rank - 1 - d] : 1;
            if (ad != bd && ad != 1 && bd != 1)
                return op_fail(g, i, err, "inputs do not broadcast");
            shape.dims[shape.rank - 1 - d] = ad > bd ? ad : bd;
        }
        if (!same_shape(&shape, y))
            return op_fail(g, i, err, "output shape is not the broadcast of its inputs");
        return 0;
    }
    case NN_OP_SUM: {
        if (x->rank < 1 || op->reduce_mask <= 0 || op->reduce_mask >= (1 << x->rank))
            return op_fail(g, i, err, "reduces dimensions outside its rank-%d input", x->rank);
        size_t kept = 1;
        for (int d = 0; d < x->rank; d++)
            if (!(op->reduce_mask & (1 << d)))
                kept *= (size_t)x->dims[d];
        if (y->count != kept)
            return op_fail(g, i, err, "output has %zu elements, the reduction leaves %zu", y->count, kept);
        return 0;
    }
    case NN_OP_ABS:
    case NN_OP_SQUARE:
    case NN_OP_RSQRT:
    case NN_OP_CLAMP:
        if (!same_shape(x, y))
            return op_fail(g, i, err, "output shape differs from its input");
        return 0;
    case NN_OP_PRELU: {
        const nn_tensor *a = &g->tensors[op->inputs[1]];
        if (!a->data)
            return op_fail(g, i, err, "needs a constant alpha");
        if (!same_shape(x, y) || !broadcasts_to(a, x))
            return op_fail(g, i, err, "alpha or output shape does not match its input");
        return 0;
    }
    case NN_OP_PAD: {
        if (x->rank != y->rank)
            return op_fail(g, i, err, "output rank differs from its input");
        for (int d = 0; d < x->rank; d++)
            if ((long)x->dims[d] + op->pads[d][0] + op->pads[d][1] != y->dims[d])
                return op_fail(g, i, err, "output shape is not the padded input shape");
        return 0;
    }
    case NN_OP_RESHAPE:
    case NN_OP_COPY:
        if (x->count != y->count)
            return op_fail(g, i, err, "output has %zu elements, input %zu", y->count, x->count);
        return 0;
    case NN_OP_CONCAT: {
        int rank = y->rank;
        int axis = op->axis < 0 ? op->axis + rank : op->axis;
        if (axis < 0 || axis >= rank)
            return op_fail(g, i, err, "has axis %d out of range for rank %d", op->axis, rank);
        op->axis = axis;
        long sum = 0;
        for (int k = 0; k < op->n_inputs; k++) {
            const nn_tensor *t = &g->tensors[op->inputs[k]];
            if (t->rank != rank)
                return op_fail(g, i, err, "input %d has rank %d, output %d", k, t->rank, rank);
            for (int d = 0; d < rank; d++)
                if (d != axis && t->dims[d] != y->dims[d])
                    return op_fail(g, i, err, "input %d does not match the output off the axis", k);
            sum += t->dims[axis];
        }
        if (sum != y->dims[axis])
            return op_fail(g, i, err, "output size on the axis is not the sum of its inputs");
        return 0;
    }
    case NN_OP_RESIZE_BILINEAR:
        if (x->rank != 4 || y->rank != 4 || x->dims[0] != y->dims[0] || x->dims[3] != y->dims[3])
            return op_fail(g, i, err, "needs rank-4 input and output with equal batch and channels");
        return 0;
    default:
        if (op->kind >= NN_OP_ONNX_FIRST && op->kind < NN_OP__COUNT) {
            char why[160];
            if (nn_onnx_validate_op(g, op, why, sizeof why))
                return op_fail(g, i, err, "%s", why);
            return 0;
        }
        return op_fail(g, i, err, "is unknown");
    }
}

int nn_graph_validate(nn_graph *g, ptim_error *err)
{
    /* Operators come in execution order: an input must already exist. */
    char *ready = calloc((size_t)g->n_tensors, 1);
    if (!ready)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", g->name);
    size_t computed = 0;
    for (int t = 0; t < g->n_tensors; t++) {
        ready[t] = g->tensors[t].data != NULL || g->tensors[t].is_input;
        if (!g->tensors[t].data)
            computed += g->tensors[t].count;
    }
    int rc = 0;
    if (computed > NN_MAX_ARENA_BYTES / sizeof(float))
        rc = ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_HIGH,
                            "model %s: intermediate tensors need more than %zu MiB", g->name,
                            NN_MAX_ARENA_BYTES >> 20);
    for (int i = 0; i < g->n_ops && rc == 0; i++) {
        nn_op *op = &g->ops[i];
        if (op->dead)
            continue;
        for (int k = 0; k < op->n_inputs; k++)
            if (!ready[op->inputs[k]]) {
                rc = op_fail(g, i, err, "reads tensor %d before anything writes it", op->inputs[k]);
                break;
            }
        /* One writer per tensor, and never a constant or a graph input: a
         * second writer would make the backends disagree on its value. */
        if (rc == 0 && ready[op->output])
            rc = op_fail(g, i, err, "writes tensor %d, which %s", op->output,
                         g->tensors[op->output].data       ? "is a constant"
                         : g->tensors[op->output].is_input ? "is a graph input"
                                                           : "an earlier operator writes");
        if (rc == 0)
            rc = validate_op(g, i, err);
        ready[op->output] = 1;
    }
    free(ready);
    return rc;
}

/* ---- preparation ---- */

static int fold_constants(nn_graph *g, ptim_error *err)
{
    float **ptr = calloc((size_t)g->n_tensors, sizeof *ptr);
    if (!ptr)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", g->name);
    for (int i = 0; i < g->n_ops; i++) {
        nn_op *op = &g->ops[i];
        nn_tensor *y = &g->tensors[op->output];
        if (op->dead || y->is_output)
            continue;
        int all_const = 1;
        for (int k = 0; k < op->n_inputs; k++)
            all_const &= g->tensors[op->inputs[k]].data != NULL;
        /* Windows over constants do not occur in real models and could be costly. */
        if (!all_const || op->kind == NN_OP_CONV2D || op->kind == NN_OP_DWCONV2D)
            continue;
        y->data = malloc(y->count * sizeof(float));
        if (!y->data) {
            free(ptr);
            return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", g->name);
        }
        for (int k = 0; k < op->n_inputs; k++)
            ptr[op->inputs[k]] = g->tensors[op->inputs[k]].data;
        ptr[op->output] = y->data;
        nn_ref_run_op(g, op, ptr);
        y->producer = -1;
        op->dead = 1;
    }
    free(ptr);
    return 0;
}

static void count_consumers(nn_graph *g)
{
    for (int t = 0; t < g->n_tensors; t++)
        g->tensors[t].consumers = 0;
    for (int i = 0; i < g->n_ops; i++) {
        if (g->ops[i].dead)
            continue;
        for (int k = 0; k < g->ops[i].n_inputs; k++)
            g->tensors[g->ops[i].inputs[k]].consumers++;
    }
}

/* A standalone clamp whose input only it reads folds into the producer. */
static void fuse_activations(nn_graph *g)
{
    count_consumers(g);
    for (int i = 0; i < g->n_ops; i++) {
        nn_op *op = &g->ops[i];
        if (op->dead || op->kind != NN_OP_CLAMP)
            continue;
        nn_tensor *mid = &g->tensors[op->inputs[0]];
        if (mid->producer < 0 || mid->consumers != 1 || mid->is_output || mid->is_input)
            continue;
        nn_op *p = &g->ops[mid->producer];
        if (p->kind != NN_OP_CONV2D && p->kind != NN_OP_DWCONV2D && p->kind != NN_OP_ADD &&
            p->kind != NN_OP_MAXPOOL2D)
            continue;
        float lo = fmaxf(p->act_min, op->act_min), hi = fminf(p->act_max, op->act_max);
        if (!(lo < hi))
            continue;
        p->act_min = lo;
        p->act_max = hi;
        p->output = op->output;
        g->tensors[op->output].producer = mid->producer;
        mid->producer = -1;
        mid->consumers = 0;
        op->dead = 1;
    }
    count_consumers(g);
}

/* Operators whose result nothing reads (and that is no graph output) are
 * dropped, repeatedly, so their inputs may die too: no work for nothing, and
 * no dangling value handed to XNNPACK (whose debug build asserts on a
 * max-pooling node whose result is never read; found by fuzz_tflite). */
static void drop_unread_ops(nn_graph *g)
{
    for (int changed = 1; changed;) {
        changed = 0;
        count_consumers(g);
        for (int i = g->n_ops - 1; i >= 0; i--) {
            nn_op *op = &g->ops[i];
            const nn_tensor *y = &g->tensors[op->output];
            if (op->dead || y->consumers > 0 || y->is_output)
                continue;
            op->dead = 1;
            g->tensors[op->output].producer = -1;
            changed = 1;
        }
    }
    count_consumers(g);
}

/* BlazeFace residuals add a block's output to its input padded with zero
 * channels: ADD(a, PAD(b)). One pass that adds b into a's first channels
 * replaces a copy of the whole padded tensor. */
static void fuse_channel_pads(nn_graph *g)
{
    for (int i = 0; i < g->n_ops; i++) {
        nn_op *p = &g->ops[i];
        if (p->dead || p->kind != NN_OP_PAD)
            continue;
        const nn_tensor *x = &g->tensors[p->inputs[0]];
        nn_tensor *mid = &g->tensors[p->output];
        int r = x->rank, only_channels_after = r >= 1 && p->pads[r - 1][0] == 0 && p->pads[r - 1][1] > 0;
        for (int d = 0; d < r - 1; d++)
            only_channels_after &= p->pads[d][0] == 0 && p->pads[d][1] == 0;
        if (!only_channels_after || mid->consumers != 1 || mid->is_output)
            continue;
        for (int j = i + 1; j < g->n_ops; j++) {
            nn_op *a = &g->ops[j];
            if (a->dead || a->kind != NN_OP_ADD || (a->inputs[0] != p->output && a->inputs[1] != p->output))
                continue;
            int other = a->inputs[0] == p->output ? a->inputs[1] : a->inputs[0];
            if (other != p->output && same_shape(&g->tensors[other], mid)) {
                a->kind = NN_OP_ADD_PADDED;
                a->inputs[0] = other;
                a->inputs[1] = p->inputs[0];
                p->dead = 1;
                mid->producer = -1;
                g->tensors[p->inputs[0]].consumers++;
                mid->consumers = 0;
            }
            break;
        }
    }
}

/* A block's 1x1 projection and its residual ADD become one pass that adds
 * the residual while the convolution's outputs are still in registers. The
 * fused operator runs where the ADD was, when the residual exists too. */
static int fuse_conv1x1_residuals(nn_graph *g, ptim_error *err)
{
    for (int i = 0; i < g->n_ops; i++) {
        nn_op *a = &g->ops[i];
        if (a->dead || (a->kind != NN_OP_ADD && a->kind != NN_OP_ADD_PADDED))
            continue;
        for (int side = 0; side < (a->kind == NN_OP_ADD ? 2 : 1); side++) {
            int t = a->inputs[side], r = a->inputs[1 - side];
            nn_tensor *mid = &g->tensors[t];
            if (mid->producer < 0 || mid->consumers != 1 || mid->is_output || t == r)
                continue;
            nn_op *c = &g->ops[mid->producer];
            if (c->kind != NN_OP_CONV2D || c->n_inputs != 3 || c->kernel_h != 1 || c->kernel_w != 1 ||
                c->stride_h != 1 || c->stride_w != 1 || c->pad_top || c->pad_bottom || c->pad_left ||
                c->pad_right || c->act_min != -INFINITY || c->act_max != INFINITY)
                continue;
            if (a->kind == NN_OP_ADD && !same_shape(&g->tensors[r], mid))
                continue;
            const nn_tensor *w = &g->tensors[c->inputs[1]];
            size_t n = (size_t)w->dims[0], k = (size_t)w->dims[3], np = (n + 15) / 16 * 16;
            int *inputs = malloc(4 * sizeof *inputs);
            float *packed = calloc(k * np + np, sizeof(float));
            if (!inputs || !packed) {
                free(inputs);
                free(packed);
                return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", g->name);
            }
            for (size_t o = 0; o < n; o++) {
                for (size_t j = 0; j < k; j++)
                    packed[j * np + o] = w->data[o * k + j];
                packed[k * np + o] = g->tensors[c->inputs[2]].data[o];
            }
            inputs[0] = c->inputs[0];
            inputs[1] = c->inputs[1];
            inputs[2] = c->inputs[2];
            inputs[3] = r;
            free(a->inputs);
            a->inputs = inputs;
            a->n_inputs = 4;
            a->kind = NN_OP_CONV1X1_ADD;
            a->packed = packed;
            c->dead = 1;
            mid->producer = -1;
            mid->consumers = 0;
            break;
        }
    }
    return 0;
}

static int root_of(const nn_graph *g, int t, size_t *offset)
{
    size_t off = 0;
    while (g->tensors[t].alias_of >= 0) {
        off += g->tensors[t].alias_offset;
        t = g->tensors[t].alias_of;
    }
    if (offset)
        *offset = off;
    return t;
}

/* Reshapes share their input's storage; a concatenation whose axis is the
 * outermost non-unit one becomes a no-op when its inputs are computed
 * straight into their place in its output. */
static void plan_aliases(nn_graph *g)
{
    for (int i = 0; i < g->n_ops; i++) {
        nn_op *op = &g->ops[i];
        if (op->dead)
            continue;
        if (op->kind == NN_OP_RESHAPE) {
            nn_tensor *y = &g->tensors[op->output];
            y->alias_of = op->inputs[0];
            y->alias_offset = 0;
        } else if (op->kind == NN_OP_CONCAT) {
            const nn_tensor *y = &g->tensors[op->output];
            int outer_is_one = op->act_min == -INFINITY && op->act_max == INFINITY;
            for (int d = 0; d < op->axis; d++)
                outer_is_one &= y->dims[d] == 1;
            if (!outer_is_one)
                continue;
            /* Each input's storage root must be a computed tensor of exactly
             * that size, placed nowhere else and not the concat's own output. */
            int ok = 1;
            for (int k = 0; k < op->n_inputs && ok; k++) {
                int t = op->inputs[k];
                int r = root_of(g, t, NULL);
                const nn_tensor *rt = &g->tensors[r];
                ok = rt->data == NULL && !rt->is_input && rt->producer >= 0 && rt->count == g->tensors[t].count &&
                     r != op->output && root_of(g, op->output, NULL) != r;
                for (int j = 0; j < k && ok; j++)
                    ok = root_of(g, op->inputs[j], NULL) != r;
            }
            if (!ok)
                continue;
            size_t off = 0;
            for (int k = 0; k < op->n_inputs; k++) {
                int t = op->inputs[k];
                int r = root_of(g, t, NULL);
                g->tensors[r].alias_of = op->output;
                g->tensors[r].alias_offset = off;
                off += g->tensors[t].count;
            }
            op->in_place = 1;
        }
    }
}

typedef struct slot {
    int tensor;
    size_t bytes;
} slot;

static int by_size_desc(const void *a, const void *b)
{
    const slot *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    return x->tensor - y->tensor;
}

static size_t align_up(size_t v)
{
    return (v + NN_ARENA_ALIGN - 1) & ~(size_t)(NN_ARENA_ALIGN - 1);
}

/* Greedy by size: the largest tensors first, each at the lowest offset that
 * overlaps no already placed tensor alive at the same time. */
static int plan_arena(nn_graph *g, ptim_error *err)
{
    int n = g->n_tensors;
    for (int t = 0; t < n; t++) {
        g->tensors[t].first_use = INT_MAX;
        g->tensors[t].last_use = INT_MIN;
    }
    /* Lifetimes of every computed tensor, merged into its storage root. */
    for (int t = 0; t < n; t++) {
        nn_tensor *tt = &g->tensors[t];
        if (tt->data || (tt->producer < 0 && !tt->is_input))
            continue;
        int first = tt->is_input ? -1 : tt->producer;
        int last = first;
        if (tt->is_input || tt->is_output) {
            /* Inputs and outputs keep their storage across runs. */
            first = -1;
            last = g->n_ops;
        }
        nn_tensor *r = &g->tensors[root_of(g, t, NULL)];
        if (first < r->first_use)
            r->first_use = first;
        if (last > r->last_use)
            r->last_use = last;
    }
    for (int i = 0; i < g->n_ops; i++) {
        if (g->ops[i].dead)
            continue;
        for (int k = 0; k < g->ops[i].n_inputs; k++) {
            nn_tensor *tt = &g->tensors[g->ops[i].inputs[k]];
            if (tt->data)
                continue;
            nn_tensor *r = &g->tensors[root_of(g, g->ops[i].inputs[k], NULL)];
            if (i > r->last_use)
                r->last_use = i;
        }
    }
    slot *slots = malloc((size_t)n * sizeof *slots);
    int *placed = malloc((size_t)n * sizeof *placed);
    if (!slots || !placed) {
        free(slots);
        free(placed);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", g->name);
    }
    int ns = 0;
    for (int t = 0; t < n; t++) {
        const nn_tensor *tt = &g->tensors[t];
        if (tt->alias_of < 0 && tt->first_use != INT_MAX)
            slots[ns++] = (slot){t, align_up(tt->count * sizeof(float))};
    }
    qsort(slots, (size_t)ns, sizeof *slots, by_size_desc);
    size_t total = 0;
    int np = 0;
    for (int s = 0; s < ns; s++) {
        nn_tensor *tt = &g->tensors[slots[s].tensor];
        size_t offset = 0;
        /* Retry past every conflicting neighbour until a gap fits. */
        for (int moved = 1; moved;) {
            moved = 0;
            for (int p = 0; p < np; p++) {
                const nn_tensor *o = &g->tensors[placed[p]];
                int live = tt->first_use <= o->last_use && o->first_use <= tt->last_use;
                size_t oend = o->arena_offset + align_up(o->count * sizeof(float));
                if (live && offset < oend && o->arena_offset < offset + slots[s].bytes) {
                    offset = oend;
                    moved = 1;
                }
            }
        }
        tt->arena_offset = offset;
        placed[np++] = slots[s].tensor;
        if (offset + slots[s].bytes > total)
            total = offset + slots[s].bytes;
    }
    free(slots);
    free(placed);
    g->arena_bytes = total ? total : NN_ARENA_ALIGN;
    return 0;
}

/* DepthToSpace in CRD order (PyTorch's pixel shuffle) runs on the reference
 * kernel between XNNPACK runtimes; in DCR order (TensorFlow's, which
 * XNNPACK has) it joins them. The two orders differ only in which input
 * channel lands where, so where the input comes from a convolution with its
 * own constant weights, through nothing but elementwise operators, the
 * convolution's output channels are renumbered (weights and bias, once, at
 * load) and the operator becomes DCR: same result, no per-call cost. */
static int crd_to_dcr(nn_graph *g, ptim_error *err)
{
    for (int i = 0; i < g->n_ops; i++) {
        nn_op *op = &g->ops[i];
        if (op->dead || op->kind != NN_OP_DEPTH_TO_SPACE || op->mode != 1 || op->kernel_h < 2)
            continue;
        int t = op->inputs[0], conv = -1;
        while (t >= 0 && g->tensors[t].consumers == 1 && !g->tensors[t].is_output && !g->tensors[t].is_input &&
               g->tensors[t].producer >= 0) {
            nn_op *p = &g->ops[g->tensors[t].producer];
            if (p->kind == NN_OP_CONV2D) {
                conv = g->tensors[t].producer;
                break;
            }
            if (!(p->kind == NN_OP_UNARY || p->kind == NN_OP_CLAMP) || p->n_inputs != 1)
                break;
            t = p->inputs[0];
        }
        if (conv < 0)
            continue;
        nn_op *c = &g->ops[conv];
        nn_tensor *w = &g->tensors[c->inputs[1]], *bias = c->n_inputs == 3 ? &g->tensors[c->inputs[2]] : NULL;
        const int b = op->kernel_h, O = w->dims[0], C = O / (b * b);
        if (!w->data || w->consumers != 1 || w->rank != 4 || O != g->tensors[op->inputs[0]].dims[3] ||
            C * b * b != O || (bias && (!bias->data || bias->consumers != 1 || bias->count != (size_t)O)))
            continue;
        size_t per = w->count / (size_t)O;
        float *nw = malloc(w->count * sizeof *nw), *nb = bias ? malloc((size_t)O * sizeof *nb) : NULL;
        if (!nw || (bias && !nb)) {
            free(nw);
            free(nb);
            return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", g->name);
        }
        for (int ch = 0; ch < C; ch++)
            for (int k = 0; k < b * b; k++) {
                int dcr = k * C + ch, crd = ch * b * b + k;
                memcpy(nw + (size_t)dcr * per, w->data + (size_t)crd * per, per * sizeof *nw);
                if (nb)
                    nb[dcr] = bias->data[crd];
            }
        free(w->data);
        w->data = nw;
        if (bias) {
            free(bias->data);
            bias->data = nb;
        }
        op->mode = 0;
    }
    return 0;
}

/* Constants no live operator reads any more (a reader's original of a
 * weight it converted, an input of a folded operator) are freed: in a large
 * ONNX model they can be a third of the memory. */
static void drop_unread_constants(nn_graph *g)
{
    count_consumers(g);
    for (int t = 0; t < g->n_tensors; t++) {
        nn_tensor *x = &g->tensors[t];
        if (x->data && x->consumers == 0 && !x->is_output && !x->is_input) {
            free(x->data);
            x->data = NULL;
        }
    }
}

int nn_graph_prepare(nn_graph *g, ptim_error *err)
{
    if (fold_constants(g, err))
        return -1;
    drop_unread_ops(g);
    fuse_activations(g);
    count_consumers(g);
    if (crd_to_dcr(g, err))
        return -1;
    if (nn_add_padded_is_fast()) {
        fuse_channel_pads(g);
        count_consumers(g);
    }
    if (nn_conv1x1_add_is_fast()) {
        if (fuse_conv1x1_residuals(g, err))
            return -1;
        count_consumers(g);
    }
    drop_unread_constants(g);
    plan_aliases(g);
    return plan_arena(g, err);
}

/* ---- model API ---- */

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* Reads TFLite or ONNX (external ONNX data only from `dir`), then prepares.
 * The name's extension decides; without a known one, TFLite's identifier. */
static int model_load(const void *data, size_t size, const char *name, const char *dir, int mapped, nn_model **out,
                      ptim_error *err)
{
    *out = NULL;
    nn_graph *g;
    int tflite = has_suffix(name, ".tflite") ||
                 (!has_suffix(name, ".onnx") && !has_suffix(name, ".dfm") && nn_is_tflite(data, size));
    if (tflite ? nn_tflite_read(data, size, name, &g, err)
                 : mapped ? nn_onnx_read_mapped(data, size, name, dir, &g, err)
                          : nn_onnx_read(data, size, name, dir, &g, err))
        return -1;
    return nn_model_from_graph(g, out, err);
}

int nn_model_from_graph(nn_graph *g, nn_model **out, ptim_error *err)
{
    *out = NULL;
    if (nn_graph_prepare(g, err)) {
        nn_graph_free(g);
        return -1;
    }
    nn_model *m = calloc(1, sizeof *m);
    if (!m) {
        ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", g->name);
        nn_graph_free(g);
        return -1;
    }
    m->graph = g;
    *out = m;
    return 0;
}

int nn_model_load_buffer(const void *data, size_t size, const char *name, nn_model **out, ptim_error *err)
{
    return model_load(data, size, name, NULL, 0, out, err);
}

int nn_model_read_file(const char *path, void **data, size_t *size, ptim_error *err)
{
    *data = NULL;
    *size = 0;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "model %s: cannot open %s", base, path);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "model %s: cannot read %s (not a regular file)", base,
                              path);
    }
    if (st.st_size > (off_t)1 << 30) {
        close(fd);
        return ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_HIGH, "model %s: file is larger than 1 GiB", base);
    }
    static const char empty[1];
    void *map = (void *)empty;
    /* Mapped, not read: the readers copy what they keep, and the ONNX reader
     * drops each initializer's pages once copied (nn_onnx_read_mapped), so
     * the file's bytes and the graph's are not in memory at once. */
    if (st.st_size > 0 && (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
        close(fd);
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "model %s: cannot read %s", base, path);
    }
    close(fd);
    *data = map;
    *size = (size_t)st.st_size;
    return 0;
}

void nn_model_file_free(void *data, size_t size)
{
    if (data && size > 0)
        munmap(data, size);
}

const char *nn_model_dir(const char *path, char *dir, size_t size)
{
    const char *base = strrchr(path, '/');
    size_t dlen = base ? (size_t)(base + 1 - path) : 0;
    if (dlen == 0)
        snprintf(dir, size, ".");
    else if (dlen < size)
        snprintf(dir, size, "%.*s", (int)dlen, path);
    else
        return NULL;
    return dir;
}

int nn_model_load_file_bytes(const char *path, const void *data, size_t size, nn_model **out,
                             ptim_error *err)
{
    *out = NULL;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char dir[4096];
    return model_load(data, size, base, nn_model_dir(path, dir, sizeof dir), 1, out, err);
}

int nn_model_load_file(const char *path, nn_model **out, ptim_error *err)
{
    *out = NULL;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t plen = strlen(path);
    if (plen > 5 && strcmp(path + plen - 5, ".json") == 0) { /* TensorFlow.js graph model */
        nn_graph *g;
        if (nn_tfjs_load(path, base, &g, err))
            return -1;
        return nn_model_from_graph(g, out, err);
    }
    void *buf;
    size_t size;
    if (nn_model_read_file(path, &buf, &size, err))
        return -1;
    int rc = nn_model_load_file_bytes(path, buf, size, out, err);
    nn_model_file_free(buf, size);
    return rc;
}

void nn_model_free(nn_model *model)
{
    if (!model)
        return;
    nn_graph_free(model->graph);
    free(model);
}

const char *nn_model_name(const nn_model *model)
{
    return model->graph->name;
}

int nn_model_input_count(const nn_model *model)
{
    return model->graph->n_inputs;
}

int nn_model_output_count(const nn_model *model)
{
    return model->graph->n_outputs;
}

static nn_tensor_info info_of(const nn_tensor *t)
{
    nn_tensor_info info = {.name = t->name, .rank = t->rank, .count = t->count};
    for (int d = 0; d < t->rank; d++)
        info.dims[d] = t->dims[d];
    return info;
}

nn_tensor_info nn_model_input(const nn_model *model, int index)
{
    if (index < 0 || index >= model->graph->n_inputs)
        return (nn_tensor_info){0};
    return info_of(&model->graph->tensors[model->graph->inputs[index]]);
}

nn_tensor_info nn_model_output(const nn_model *model, int index)
{
    if (index < 0 || index >= model->graph->n_outputs)
        return (nn_tensor_info){0};
    return info_of(&model->graph->tensors[model->graph->outputs[index]]);
}
