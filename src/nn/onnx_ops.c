/* nn/onnx_ops — shape checks and plain-C reference kernels of the operators
 * the ONNX reader adds to the graph form (NN_OP_ONNX_FIRST and after).
 * Tensors have rank <= 4; kernels view them right-aligned in four dims.
 * Shapes and indices were checked at load (nn_onnx_validate_op), so kernels
 * do not re-check them and allocate nothing. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/graph.h"

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Dims of `t` right-aligned into 4 (leading 1s). */
static void dims4(const nn_tensor *t, int d4[4])
{
    for (int d = 0; d < 4; d++)
        d4[d] = 3 - d < t->rank ? t->dims[t->rank - 1 - (3 - d)] : 1;
}

/* Element strides of `t` right-aligned into 4 dims, 0 where it broadcasts to `out`. */
static void bstrides(const nn_tensor *t, const int out4[4], size_t st[4])
{
    int t4[4];
    dims4(t, t4);
    size_t s = 1;
    for (int d = 3; d >= 0; d--) {
        st[d] = (t4[d] == 1 && out4[d] != 1) ? 0 : s;
        s *= (size_t)t4[d];
    }
}

/* ---- validation ---- */

static int fail(char *why, size_t n, const char *msg)
{
    snprintf(why, n, "%s", msg);
    return -1;
}

static int broadcastable(const nn_tensor *a, const nn_tensor *y)
{
    if (a->rank > y->rank)
        return 0;
    for (int d = 0; d < a->rank; d++) {
        int ad = a->dims[a->rank - 1 - d], yd = y->dims[y->rank - 1 - d];
        if (ad != 1 && ad != yd)
            return 0;
    }
    return 1;
}

int nn_onnx_validate_op(const nn_graph *g, const nn_op *op, char *why, size_t n)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]], *y = &g->tensors[op->output];
    switch (op->kind) {
    case NN_OP_BINARY:
        if (op->n_inputs != 2 || !broadcastable(x, y) || !broadcastable(&g->tensors[op->inputs[1]], y))
            return fail(why, n, "inputs do not broadcast to the output");
        return 0;
    case NN_OP_UNARY:
        return x->count == y->count ? 0 : fail(why, n, "output size differs from its input");
    case NN_OP_TRANSPOSE: {
        if (x->rank != y->rank)
            return fail(why, n, "output rank differs from its input");
        int seen = 0;
        for (int d = 0; d < x->rank; d++) {
            if (op->perm[d] < 0 || op->perm[d] >= x->rank || (seen & (1 << op->perm[d])) ||
                y->dims[d] != x->dims[op->perm[d]])
                return fail(why, n, "permutation does not match the shapes");
            seen |= 1 << op->perm[d];
        }
        return 0;
    }
    case NN_OP_MATMUL: {
        const nn_tensor *b = &g->tensors[op->inputs[1]];
        if (x->rank < 2 || b->rank < 2 || y->rank < 2 || x->dims[x->rank - 1] != b->dims[b->rank - 2] ||
            y->dims[y->rank - 2] != x->dims[x->rank - 2] || y->dims[y->rank - 1] != b->dims[b->rank - 1])
            return fail(why, n, "matrix shapes do not match");
        for (int d = 2; d < 4; d++) {
            int xd = d < x->rank ? x->dims[x->rank - 1 - d] : 1, bd = d < b->rank ? b->dims[b->rank - 1 - d] : 1;
            int yd = d < y->rank ? y->dims[y->rank - 1 - d] : 1;
            if ((xd != 1 && xd != yd) || (bd != 1 && bd != yd))
                return fail(why, n, "batch dims do not broadcast");
        }
        return 0;
    }
    case NN_OP_SLICE:
        if (x->rank != y->rank)
            return fail(why, n, "output rank differs from its input");
        for (int d = 0; d < x->rank; d++) {
            long last = op->begin[d] + (long)(y->dims[d] - 1) * op->step[d];
            if (op->step[d] == 0 || op->begin[d] < 0 || op->begin[d] >= x->dims[d] || last < 0 ||
                last >= x->dims[d])
                return fail(why, n, "slice leaves its input");
        }
        return 0;
    case NN_OP_GATHER: {
        const nn_tensor *ix = &g->tensors[op->inputs[1]];
        if (!ix->data || op->axis < 0 || op->axis >= x->rank)
            return fail(why, n, "needs constant indices and an axis inside its input");
        for (size_t k = 0; k < ix->count; k++)
            if (!(ix->data[k] >= 0 && ix->data[k] < (float)x->dims[op->axis]))
                return fail(why, n, "has an index outside its input");
        size_t want = x->count / (size_t)x->dims[op->axis] * ix->count;
        return x->dims[op->axis] > 0 && y->count == want ? 0 : fail(why, n, "output size is wrong");
    }
    case NN_OP_REDUCE:
        if (x->rank != y->rank)
            return fail(why, n, "output rank differs from its input");
        for (int d = 0; d < x->rank; d++)
            if (y->dims[d] != ((op->axis_mask >> d) & 1 ? 1 : x->dims[d]))
                return fail(why, n, "output shape is not its input reduced");
        return 0;
    case NN_OP_SOFTMAX:
        if (x->count != y->count || op->axis < 0 || op->span < 1 || op->axis + op->span > x->rank)
            return fail(why, n, "axis outside its input");
        return 0;
    case NN_OP_INSTANCE_NORM:
        if (x->rank != 4 || x->count != y->count || g->tensors[op->inputs[1]].count != (size_t)x->dims[3] ||
            g->tensors[op->inputs[2]].count != (size_t)x->dims[3])
            return fail(why, n, "needs a rank-4 input and one scale and bias per channel");
        return 0;
    case NN_OP_DEPTH_TO_SPACE:
    case NN_OP_SPACE_TO_DEPTH: {
        int b = op->kernel_h;
        if (x->rank != 4 || y->rank != 4 || b < 1 || x->count != y->count)
            return fail(why, n, "needs rank-4 tensors and a positive block size");
        const nn_tensor *s = op->kind == NN_OP_DEPTH_TO_SPACE ? x : y, *d = op->kind == NN_OP_DEPTH_TO_SPACE ? y : x;
        if (d->dims[1] != s->dims[1] * b || d->dims[2] != s->dims[2] * b || s->dims[3] != d->dims[3] * b * b)
            return fail(why, n, "shapes do not match the block size");
        return 0;
    }
    case NN_OP_RESIZE:
        if (x->rank != 4 || y->rank != 4 || x->dims[0] != y->dims[0] || x->dims[3] != y->dims[3] ||
            !(op->scale_h > 0) || !(op->scale_w > 0))
            return fail(why, n, "needs rank-4 tensors with equal batch and channels");
        return 0;
    case NN_OP_PAD_EX:
        if (x->rank != y->rank)
            return fail(why, n, "output rank differs from its input");
        for (int d = 0; d < x->rank; d++) {
            if (op->pads[d][0] < 0 || op->pads[d][1] < 0 || (long)x->dims[d] + op->pads[d][0] + op->pads[d][1] != y->dims[d])
                return fail(why, n, "output shape is not the padded input shape");
            if (op->mode == NN_PAD_REFLECT && (op->pads[d][0] >= x->dims[d] || op->pads[d][1] >= x->dims[d]))
                return fail(why, n, "reflect padding is not smaller than its input");
            if (op->mode == NN_PAD_EDGE && x->dims[d] == 0)
                return fail(why, n, "edge padding of an empty dim");
        }
        return 0;
    case NN_OP_DECONV2D: {
        const nn_tensor *w = &g->tensors[op->inputs[1]];
        if (x->rank != 4 || y->rank != 4 || w->rank != 4 || !w->data || w->dims[3] != x->dims[3] ||
            w->dims[0] != y->dims[3] || w->dims[1] != op->kernel_h || w->dims[2] != op->kernel_w)
            return fail(why, n, "weights do not match its input and output");
        if (op->n_inputs == 3 && g->tensors[op->inputs[2]].count != (size_t)y->dims[3])
            return fail(why, n, "bias needs one value per output channel");
        return 0;
    }
    case NN_OP_AVGPOOL2D:
        if (x->rank != 4 || y->rank != 4 || x->dims[3] != y->dims[3])
            return fail(why, n, "needs rank-4 tensors with equal channels");
        return 0;
    default:
        return fail(why, n, "is unknown");
    }
}

/* ---- kernels ---- */

static float binary_op(int mode, float a, float b)
{
    switch (mode) {
    case NN_BIN_ADD: return a + b;
    case NN_BIN_SUB: return a - b;
    case NN_BIN_MUL: return a * b;
    case NN_BIN_DIV: return a / b;
    case NN_BIN_POW: return powf(a, b);
    case NN_BIN_MAX: return a > b ? a : b;
    default: return a < b ? a : b;
    }
}

static void binary(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *a = &g->tensors[op->inputs[0]], *b = &g->tensors[op->inputs[1]], *y = &g->tensors[op->output];
    const float *pa = ptr[op->inputs[0]], *pb = ptr[op->inputs[1]];
    float *out = ptr[op->output];
    int d4[4];
    size_t sa[4], sb[4], k = 0;
    dims4(y, d4);
    bstrides(a, d4, sa);
    bstrides(b, d4, sb);
    for (int i0 = 0; i0 < d4[0]; i0++)
        for (int i1 = 0; i1 < d4[1]; i1++)
            for (int i2 = 0; i2 < d4[2]; i2++)
                for (int i3 = 0; i3 < d4[3]; i3++) {
                    float v = binary_op(op->mode, pa[i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3]],
                                        pb[i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3]]);
                    out[k++] = clampf(v, op->act_min, op->act_max);
                }
}

static void unary(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const float *in = ptr[op->inputs[0]];
    float *out = ptr[op->output];
    size_t n = g->tensors[op->output].count;
    for (size_t k = 0; k < n; k++) {
        float v = in[k];
        switch (op->mode) {
        case NN_UN_SIGMOID: v = 1.0f / (1.0f + expf(-v)); break;
        case NN_UN_TANH: v = tanhf(v); break;
        case NN_UN_ERF: v = erff(v); break;
        case NN_UN_SQRT: v = sqrtf(v); break;
        case NN_UN_LEAKY_RELU: v = v >= 0.0f ? v : v * op->alpha; break;
        case NN_UN_EXP: v = expf(v); break;
        case NN_UN_NEG: v = -v; break;
        case NN_UN_ABS: v = fabsf(v); break;
        case NN_UN_RECIPROCAL: v = 1.0f / v; break;
        default: break;
        }
        out[k] = clampf(v, op->act_min, op->act_max);
    }
}

static void transpose(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]], *y = &g->tensors[op->output];
    const float *in = ptr[op->inputs[0]];
    float *out = ptr[op->output];
    size_t xs[NN_MAX_RANK], s = 1;
    for (int d = x->rank - 1; d >= 0; d--) {
        xs[d] = s;
        s *= (size_t)x->dims[d];
    }
    /* Output dim d walks input dim perm[d]; padded to four dims. */
    int od[4];
    size_t st[4];
    int lead = 4 - y->rank;
    for (int d = 0; d < 4; d++) {
        od[d] = d < lead ? 1 : y->dims[d - lead];
        st[d] = d < lead ? 0 : xs[op->perm[d - lead]];
    }
    size_t k = 0;
    for (int i0 = 0; i0 < od[0]; i0++)
        for (int i1 = 0; i1 < od[1]; i1++)
            for (int i2 = 0; i2 < od[2]; i2++)
                for (int i3 = 0; i3 < od[3]; i3++)
                    out[k++] = in[i0 * st[0] + i1 * st[1] + i2 * st[2] + i3 * st[3]];
}

static void matmul(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *a = &g->tensors[op->inputs[0]], *b = &g->tensors[op->inputs[1]], *y = &g->tensors[op->output];
    const float *pa = ptr[op->inputs[0]], *pb = ptr[op->inputs[1]];
    float *out = ptr[op->output];
    int M = a->dims[a->rank - 2], K = a->dims[a->rank - 1], N = b->dims[b->rank - 1];
    int y4[4], a4[4], b4[4];
    dims4(y, y4);
    dims4(a, a4);
    dims4(b, b4);
    size_t am = (size_t)M * K, bm = (size_t)K * N;
    for (int i0 = 0; i0 < y4[0]; i0++)
        for (int i1 = 0; i1 < y4[1]; i1++) {
            const float *A = pa + ((size_t)(a4[0] == 1 ? 0 : i0) * a4[1] + (a4[1] == 1 ? 0 : i1)) * am;
            const float *B = pb + ((size_t)(b4[0] == 1 ? 0 : i0) * b4[1] + (b4[1] == 1 ? 0 : i1)) * bm;
            float *Y = out + ((size_t)i0 * y4[1] + i1) * (size_t)M * N;
            for (int m = 0; m < M; m++) {
                float *row = Y + (size_t)m * N;
                for (int j = 0; j < N; j++)
                    row[j] = 0.0f;
                for (int k = 0; k < K; k++) {
                    float av = A[(size_t)m * K + k];
                    const float *brow = B + (size_t)k * N;
                    for (int j = 0; j < N; j++)
                        row[j] += av * brow[j];
                }
                for (int j = 0; j < N; j++)
                    row[j] = clampf(row[j], op->act_min, op->act_max);
            }
        }
}

static void slice(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]], *y = &g->tensors[op->output];
    const float *in = ptr[op->inputs[0]];
    float *out = ptr[op->output];
    int x4[4], y4[4];
    long b4[4], s4[4];
    dims4(x, x4);
    dims4(y, y4);
    int lead = 4 - x->rank;
    for (int d = 0; d < 4; d++) {
        b4[d] = d < lead ? 0 : op->begin[d - lead];
        s4[d] = d < lead ? 1 : op->step[d - lead];
    }
    size_t k = 0;
    for (int i0 = 0; i0 < y4[0]; i0++)
        for (int i1 = 0; i1 < y4[1]; i1++)
            for (int i2 = 0; i2 < y4[2]; i2++) {
                size_t base = (((size_t)(b4[0] + i0 * s4[0]) * x4[1] + (size_t)(b4[1] + i1 * s4[1])) * x4[2] +
                               (size_t)(b4[2] + i2 * s4[2])) * x4[3];
                for (int i3 = 0; i3 < y4[3]; i3++)
                    out[k++] = in[base + (size_t)(b4[3] + i3 * s4[3])];
            }
}

static void gather(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]], *ix = &g->tensors[op->inputs[1]];
    const float *in = ptr[op->inputs[0]];
    float *out = ptr[op->output];
    size_t outer = 1, inner = 1, n = (size_t)x->dims[op->axis];
    for (int d = 0; d < op->axis; d++)
        outer *= (size_t)x->dims[d];
    for (int d = op->axis + 1; d < x->rank; d++)
        inner *= (size_t)x->dims[d];
    for (size_t o = 0; o < outer; o++)
        for (size_t j = 0; j < ix->count; j++) {
            size_t idx = (size_t)ix->data[j];
            memcpy(out + (o * ix->count + j) * inner, in + (o * n + idx) * inner, inner * sizeof(float));
        }
}

static void reduce(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]], *y = &g->tensors[op->output];
    const float *in = ptr[op->inputs[0]];
    float *out = ptr[op->output];
    int x4[4], y4[4], lead = 4 - x->rank;
    dims4(x, x4);
    dims4(y, y4);
    for (size_t k = 0; k < y->count; k++)
        out[k] = op->mode == NN_RED_MAX ? -INFINITY : 0.0f;
    size_t ys[4], s = 1;
    for (int d = 3; d >= 0; d--) {
        int reduced = d >= lead && ((op->axis_mask >> (d - lead)) & 1);
        ys[d] = reduced ? 0 : s;
        s *= (size_t)y4[d];
    }
    size_t k = 0;
    for (int i0 = 0; i0 < x4[0]; i0++)
        for (int i1 = 0; i1 < x4[1]; i1++)
            for (int i2 = 0; i2 < x4[2]; i2++)
                for (int i3 = 0; i3 < x4[3]; i3++) {
                    float *o = &out[i0 * ys[0] + i1 * ys[1] + i2 * ys[2] + i3 * ys[3]];
                    float v = in[k++];
                    if (op->mode == NN_RED_MAX)
                        *o = v > *o ? v : *o;
                    else
                        *o += v;
                }
    if (op->mode == NN_RED_MEAN && y->count > 0) {
        float inv = (float)y->count / (float)x->count;
        for (size_t j = 0; j < y->count; j++)
            out[j] *= inv;
    }
}

static void softmax(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]];
    const float *in = ptr[op->inputs[0]];
    float *out = ptr[op->output];
    size_t outer = 1, span = 1, inner = 1;
    for (int d = 0; d < op->axis; d++)
        outer *= (size_t)x->dims[d];
    for (int d = op->axis; d < op->axis + op->span; d++)
        span *= (size_t)x->dims[d];
    for (int d = op->axis + op->span; d < x->rank; d++)
        inner *= (size_t)x->dims[d];
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            const float *p = in + o * span * inner + i;
            float *q = out + o * span * inner + i;
            float mx = -INFINITY, sum = 0.0f;
            for (size_t s = 0; s < span; s++)
                mx = p[s * inner] > mx ? p[s * inner] : mx;
            for (size_t s = 0; s < span; s++) {
                q[s * inner] = expf(p[s * inner] - mx);
                sum += q[s * inner];
            }
            for (size_t s = 0; s < span; s++)
                q[s * inner] /= sum;
        }
}

static void instance_norm(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]];
    const float *in = ptr[op->inputs[0]], *scale = ptr[op->inputs[1]], *bias = ptr[op->inputs[2]];
    float *out = ptr[op->output];
    size_t N = (size_t)x->dims[0], P = (size_t)x->dims[1] * (size_t)x->dims[2], C = (size_t)x->dims[3];
    for (size_t n = 0; n < N; n++)
        for (size_t c = 0; c < C; c++) {
            const float *p = in + n * P * C + c;
            float *q = out + n * P * C + c;
            double sum = 0.0, sq = 0.0;
            for (size_t i = 0; i < P; i++)
                sum += p[i * C];
            double mean = P ? sum / (double)P : 0.0;
            for (size_t i = 0; i < P; i++)
                sq += (p[i * C] - mean) * (p[i * C] - mean);
            double var = P ? sq / (double)P : 0.0;
            float a = scale[c] / sqrtf((float)var + op->alpha), b = bias[c] - (float)mean * a;
            for (size_t i = 0; i < P; i++)
                q[i * C] = clampf(p[i * C] * a + b, op->act_min, op->act_max);
        }
}

/* NHWC; ONNX's DCR puts the block offset outermost in the channels, CRD innermost. */
static void depth_space(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    int to_space = op->kind == NN_OP_DEPTH_TO_SPACE;
    const nn_tensor *deep = to_space ? &g->tensors[op->inputs[0]] : &g->tensors[op->output];
    const float *in = ptr[op->inputs[0]];
    float *out = ptr[op->output];
    int N = deep->dims[0], H = deep->dims[1], W = deep->dims[2], Cd = deep->dims[3], b = op->kernel_h;
    int C = Cd / (b * b), Ws = W * b;
    for (int n = 0; n < N; n++)
        for (int h = 0; h < H; h++)
            for (int w = 0; w < W; w++)
                for (int i = 0; i < b; i++)
                    for (int j = 0; j < b; j++)
                        for (int c = 0; c < C; c++) {
                            int cd = op->mode == 1 ? (c * b + i) * b + j : (i * b + j) * C + c;
                            size_t di = (((size_t)n * H + h) * W + w) * Cd + (size_t)cd;
                            size_t si = (((size_t)n * H * b + (size_t)(h * b + i)) * Ws + (size_t)(w * b + j)) * C + (size_t)c;
                            if (to_space)
                                out[si] = in[di];
                            else
                                out[di] = in[si];
                        }
}

/* Output coordinate → input coordinate, ONNX Resize's conventions; the
 * resized length is in*scale unrounded, as in ONNX's reference. */
static float resize_src(int mode, int o, float scale, int in, int out)
{
    float len = (float)in * scale;
    (void)out;
    switch (mode) {
    case NN_CT_ASYMMETRIC: return (float)o / scale;
    case NN_CT_ALIGN_CORNERS: return len > 1.0f ? (float)o * (float)(in - 1) / (len - 1.0f) : 0.0f;
    case NN_CT_PYTORCH_HALF_PIXEL: return len > 1.0f ? ((float)o + 0.5f) / scale - 0.5f : 0.0f;
    default: return ((float)o + 0.5f) / scale - 0.5f;
    }
}

static int nearest_index(int mode, float f, int in)
{
    int i;
    switch (mode) {
    case NN_NR_FLOOR: i = (int)floorf(f); break;
    case NN_NR_CEIL: i = (int)ceilf(f); break;
    case NN_NR_ROUND_PREFER_CEIL: i = (int)floorf(f + 0.5f); break;
    default: i = f - floorf(f) == 0.5f ? (int)floorf(f) : (int)floorf(f + 0.5f); break;
    }
    return i < 0 ? 0 : i >= in ? in - 1 : i;
}

static void resize(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]], *y = &g->tensors[op->output];
    const float *in = ptr[op->inputs[0]];
    float *out = ptr[op->output];
    int N = x->dims[0], H = x->dims[1], W = x->dims[2], C = x->dims[3], Ho = y->dims[1], Wo = y->dims[2];
    for (int n = 0; n < N; n++)
        for (int oy = 0; oy < Ho; oy++) {
            float fy = resize_src(op->coord_mode, oy, op->scale_h, H, Ho);
            for (int ox = 0; ox < Wo; ox++) {
                float fx = resize_src(op->coord_mode, ox, op->scale_w, W, Wo);
                float *o = out + (((size_t)n * Ho + oy) * Wo + ox) * C;
                if (op->mode == NN_RS_NEAREST) {
                    int sy = nearest_index(op->nearest_mode, fy, H), sx = nearest_index(op->nearest_mode, fx, W);
                    memcpy(o, in + (((size_t)n * H + sy) * W + sx) * C, (size_t)C * sizeof(float));
                    continue;
                }
                float cy = fy < 0 ? 0 : fy > (float)(H - 1) ? (float)(H - 1) : fy;
                float cx = fx < 0 ? 0 : fx > (float)(W - 1) ? (float)(W - 1) : fx;
                int y0 = (int)floorf(cy), x0 = (int)floorf(cx);
                int y1 = y0 + 1 < H ? y0 + 1 : H - 1, x1 = x0 + 1 < W ? x0 + 1 : W - 1;
                float wy = cy - (float)y0, wx = cx - (float)x0;
                const float *p00 = in + (((size_t)n * H + y0) * W + x0) * C;
                const float *p01 = in + (((size_t)n * H + y0) * W + x1) * C;
                const float *p10 = in + (((size_t)n * H + y1) * W + x0) * C;
                const float *p11 = in + (((size_t)n * H + y1) * W + x1) * C;
                for (int c = 0; c < C; c++) {
                    float top = p00[c] * (1 - wx) + p01[c] * wx, bot = p10[c] * (1 - wx) + p11[c] * wx;
                    o[c] = top * (1 - wy) + bot * wy;
                }
            }
        }
}

/* Source index along one dim of a padded tensor, -1 for the constant. */
static long pad_src(int mode, long i, int before, int in)
{
    long s = i - before;
    if (s >= 0 && s < in)
        return s;
    if (mode == NN_PAD_CONSTANT)
        return -1;
    if (mode == NN_PAD_EDGE)
        return s < 0 ? 0 : in - 1;
    /* reflect (pads are smaller than the input, checked at load) */
    if (in == 1)
        return 0;
    return s < 0 ? -s : 2L * (in - 1) - s;
}

static void pad_ex(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]], *y = &g->tensors[op->output];
    const float *in = ptr[op->inputs[0]];
    float *out = ptr[op->output];
    int x4[4], y4[4], b4[4], lead = 4 - x->rank;
    dims4(x, x4);
    dims4(y, y4);
    for (int d = 0; d < 4; d++)
        b4[d] = d < lead ? 0 : op->pads[d - lead][0];
    size_t k = 0;
    for (int i0 = 0; i0 < y4[0]; i0++) {
        long s0 = pad_src(op->mode, i0, b4[0], x4[0]);
        for (int i1 = 0; i1 < y4[1]; i1++) {
            long s1 = pad_src(op->mode, i1, b4[1], x4[1]);
            for (int i2 = 0; i2 < y4[2]; i2++) {
                long s2 = pad_src(op->mode, i2, b4[2], x4[2]);
                for (int i3 = 0; i3 < y4[3]; i3++) {
                    long s3 = pad_src(op->mode, i3, b4[3], x4[3]);
                    out[k++] = (s0 < 0 || s1 < 0 || s2 < 0 || s3 < 0)
                                   ? op->alpha
                                   : in[((s0 * x4[1] + s1) * x4[2] + s2) * x4[3] + s3];
                }
            }
        }
    }
}

static void deconv2d(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]], *w = &g->tensors[op->inputs[1]], *y = &g->tensors[op->output];
    const float *in = ptr[op->inputs[0]], *wt = ptr[op->inputs[1]];
    const float *bias = op->n_inputs == 3 ? ptr[op->inputs[2]] : NULL;
    float *out = ptr[op->output];
    int N = x->dims[0], H = x->dims[1], W = x->dims[2], C = x->dims[3];
    int Ho = y->dims[1], Wo = y->dims[2], O = y->dims[3], KH = w->dims[1], KW = w->dims[2];
    for (size_t k = 0; k < y->count; k++)
        out[k] = bias ? bias[k % (size_t)O] : 0.0f;
    for (int n = 0; n < N; n++)
        for (int iy = 0; iy < H; iy++)
            for (int ix = 0; ix < W; ix++) {
                const float *px = in + (((size_t)n * H + iy) * W + ix) * C;
                for (int ky = 0; ky < KH; ky++) {
                    int oy = iy * op->stride_h - op->pad_top + ky * op->dilation_h;
                    if (oy < 0 || oy >= Ho)
                        continue;
                    for (int kx = 0; kx < KW; kx++) {
                        int ox = ix * op->stride_w - op->pad_left + kx * op->dilation_w;
                        if (ox < 0 || ox >= Wo)
                            continue;
                        float *po = out + (((size_t)n * Ho + oy) * Wo + ox) * O;
                        for (int o = 0; o < O; o++) {
                            const float *pw = wt + (((size_t)o * KH + ky) * KW + kx) * C;
                            float acc = 0.0f;
                            for (int c = 0; c < C; c++)
                                acc += px[c] * pw[c];
                            po[o] += acc;
                        }
                    }
                }
            }
    for (size_t k = 0; k < y->count; k++)
        out[k] = clampf(out[k], op->act_min, op->act_max);
}

static void avgpool2d(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]], *y = &g->tensors[op->output];
    const float *in = ptr[op->inputs[0]];
    float *out = ptr[op->output];
    int N = x->dims[0], H = x->dims[1], W = x->dims[2], C = x->dims[3], Ho = y->dims[1], Wo = y->dims[2];
    for (int n = 0; n < N; n++)
        for (int oy = 0; oy < Ho; oy++)
            for (int ox = 0; ox < Wo; ox++) {
                float *o = out + (((size_t)n * Ho + oy) * Wo + ox) * C;
                int cnt = 0;
                for (int c = 0; c < C; c++)
                    o[c] = 0.0f;
                for (int ky = 0; ky < op->kernel_h; ky++) {
                    int iy = oy * op->stride_h - op->pad_top + ky;
                    for (int kx = 0; kx < op->kernel_w; kx++) {
                        int ix = ox * op->stride_w - op->pad_left + kx;
                        int inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
                        int in_padded = iy < H + op->pad_bottom && ix < W + op->pad_right;
                        if (inside) {
                            const float *p = in + (((size_t)n * H + iy) * W + ix) * C;
                            for (int c = 0; c < C; c++)
                                o[c] += p[c];
                        }
                        cnt += inside || (op->mode == 1 && in_padded);
                    }
                }
                for (int c = 0; c < C; c++)
                    o[c] = clampf(cnt ? o[c] / (float)cnt : 0.0f, op->act_min, op->act_max);
            }
}

void nn_onnx_ref_run_op(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    switch (op->kind) {
    case NN_OP_BINARY: binary(g, op, ptr); break;
    case NN_OP_UNARY: unary(g, op, ptr); break;
    case NN_OP_TRANSPOSE: transpose(g, op, ptr); break;
    case NN_OP_MATMUL: matmul(g, op, ptr); break;
    case NN_OP_SLICE: slice(g, op, ptr); break;
    case NN_OP_GATHER: gather(g, op, ptr); break;
    case NN_OP_REDUCE: reduce(g, op, ptr); break;
    case NN_OP_SOFTMAX: softmax(g, op, ptr); break;
    case NN_OP_INSTANCE_NORM: instance_norm(g, op, ptr); break;
    case NN_OP_DEPTH_TO_SPACE:
    case NN_OP_SPACE_TO_DEPTH: depth_space(g, op, ptr); break;
    case NN_OP_RESIZE: resize(g, op, ptr); break;
    case NN_OP_PAD_EX: pad_ex(g, op, ptr); break;
    case NN_OP_DECONV2D: deconv2d(g, op, ptr); break;
    case NN_OP_AVGPOOL2D: avgpool2d(g, op, ptr); break;
    default: break;
    }
}
