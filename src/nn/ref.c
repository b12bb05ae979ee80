/* nn/ref — the plain-C reference operators: simple loops that are obviously
 * right, the truth in tests and the fallback when XNNPACK is unavailable.
 * Shapes were validated at load, so kernels do not re-check them. */
#include <math.h>
#include <string.h>

#include "nn/graph.h"

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void conv2d(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]], *w = &g->tensors[op->inputs[1]];
    const nn_tensor *y = &g->tensors[op->output];
    const float *in = ptr[op->inputs[0]], *wt = ptr[op->inputs[1]];
    const float *bias = op->n_inputs == 3 ? ptr[op->inputs[2]] : NULL;
    float *out = ptr[op->output];
    int N = x->dims[0], H = x->dims[1], W = x->dims[2], C = x->dims[3];
    int Ho = y->dims[1], Wo = y->dims[2], Co = y->dims[3], KH = w->dims[1], KW = w->dims[2];
    for (int n = 0; n < N; n++)
        for (int oy = 0; oy < Ho; oy++)
            for (int ox = 0; ox < Wo; ox++) {
                float *o = out + (((size_t)n * Ho + oy) * Wo + ox) * Co;
                for (int oc = 0; oc < Co; oc++)
                    o[oc] = bias ? bias[oc] : 0.0f;
                for (int ky = 0; ky < KH; ky++) {
                    int iy = oy * op->stride_h - op->pad_top + ky * op->dilation_h;
                    if (iy < 0 || iy >= H)
                        continue;
                    for (int kx = 0; kx < KW; kx++) {
                        int ix = ox * op->stride_w - op->pad_left + kx * op->dilation_w;
                        if (ix < 0 || ix >= W)
                            continue;
                        const float *ip = in + (((size_t)n * H + iy) * W + ix) * C;
                        for (int oc = 0; oc < Co; oc++) {
                            const float *wp = wt + (((size_t)oc * KH + ky) * KW + kx) * C;
                            float acc = 0.0f;
                            for (int ic = 0; ic < C; ic++)
                                acc += ip[ic] * wp[ic];
                            o[oc] += acc;
                        }
                    }
                }
                for (int oc = 0; oc < Co; oc++)
                    o[oc] = clampf(o[oc], op->act_min, op->act_max);
            }
}

static void dwconv2d(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]], *w = &g->tensors[op->inputs[1]];
    const nn_tensor *y = &g->tensors[op->output];
    const float *in = ptr[op->inputs[0]], *wt = ptr[op->inputs[1]];
    const float *bias = op->n_inputs == 3 ? ptr[op->inputs[2]] : NULL;
    float *out = ptr[op->output];
    int N = x->dims[0], H = x->dims[1], W = x->dims[2], C = x->dims[3];
    int Ho = y->dims[1], Wo = y->dims[2], Co = y->dims[3], KH = w->dims[1], KW = w->dims[2];
    int M = op->depth_multiplier;
    for (int n = 0; n < N; n++)
        for (int oy = 0; oy < Ho; oy++)
            for (int ox = 0; ox < Wo; ox++) {
                float *o = out + (((size_t)n * Ho + oy) * Wo + ox) * Co;
                for (int oc = 0; oc < Co; oc++)
                    o[oc] = bias ? bias[oc] : 0.0f;
                for (int ky = 0; ky < KH; ky++) {
                    int iy = oy * op->stride_h - op->pad_top + ky * op->dilation_h;
                    if (iy < 0 || iy >= H)
                        continue;
                    for (int kx = 0; kx < KW; kx++) {
                        int ix = ox * op->stride_w - op->pad_left + kx * op->dilation_w;
                        if (ix < 0 || ix >= W)
                            continue;
                        const float *ip = in + (((size_t)n * H + iy) * W + ix) * C;
                        const float *wp = wt + ((size_t)ky * KW + kx) * Co;
                        for (int oc = 0; oc < Co; oc++)
                            o[oc] += ip[oc / M] * wp[oc];
                    }
                }
                for (int oc = 0; oc < Co; oc++)
                    o[oc] = clampf(o[oc], op->act_min, op->act_max);
            }
    (void)C;
}

static void maxpool2d(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]], *y = &g->tensors[op->output];
    const float *in = ptr[op->inputs[0]];
    float *out = ptr[op->output];
    int N = x->dims[0], H = x->dims[1], W = x->dims[2], C = x->dims[3];
    int Ho = y->dims[1], Wo = y->dims[2];
    for (int n = 0; n < N; n++)
        for (int oy = 0; oy < Ho; oy++)
            for (int ox = 0; ox < Wo; ox++)
                for (int c = 0; c < C; c++) {
                    /* Padding is ignored, as in TFLite: only real pixels count. */
                    float m = -INFINITY;
                    for (int ky = 0; ky < op->kernel_h; ky++) {
                        int iy = oy * op->stride_h - op->pad_top + ky;
                        if (iy < 0 || iy >= H)
                            continue;
                        for (int kx = 0; kx < op->kernel_w; kx++) {
                            int ix = ox * op->stride_w - op->pad_left + kx;
                            if (ix < 0 || ix >= W)
                                continue;
                            float v = in[(((size_t)n * H + iy) * W + ix) * C + c];
                            if (v > m)
                                m = v;
                        }
                    }
                    out[(((size_t)n * Ho + oy) * Wo + ox) * C + c] = clampf(m, op->act_min, op->act_max);
                }
}

/* Strides of `t` right-aligned into 4 dims, 0 where it broadcasts. */
static void bcast_strides(const nn_tensor *t, const nn_tensor *out, size_t st[4])
{
    size_t s = 1;
    for (int d = 3; d >= 0; d--) {
        int td = 3 - d < t->rank ? t->dims[t->rank - 1 - (3 - d)] : 1;
        int od = 3 - d < out->rank ? out->dims[out->rank - 1 - (3 - d)] : 1;
        st[d] = (td == 1 && od != 1) ? 0 : s;
        s *= (size_t)td;
    }
}

static void out_dims4(const nn_tensor *out, int d4[4])
{
    for (int d = 0; d < 4; d++)
        d4[d] = 3 - d < out->rank ? out->dims[out->rank - 1 - (3 - d)] : 1;
}

static void add(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *a = &g->tensors[op->inputs[0]], *b = &g->tensors[op->inputs[1]];
    const nn_tensor *y = &g->tensors[op->output];
    const float *pa = ptr[op->inputs[0]], *pb = ptr[op->inputs[1]];
    float *out = ptr[op->output];
    size_t sa[4], sb[4];
    int d4[4];
    bcast_strides(a, y, sa);
    bcast_strides(b, y, sb);
    out_dims4(y, d4);
    size_t k = 0;
    for (int i0 = 0; i0 < d4[0]; i0++)
        for (int i1 = 0; i1 < d4[1]; i1++)
            for (int i2 = 0; i2 < d4[2]; i2++)
                for (int i3 = 0; i3 < d4[3]; i3++) {
                    float v = pa[i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3]] +
                              pb[i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3]];
                    out[k++] = clampf(v, op->act_min, op->act_max);
                }
}

/* ADD of a padded residual (see fuse_channel_pads): per pixel, b's channels
 * add into a's first ones. The vector versions use masked loads, so any
 * channel count runs without a scalar tail; the graph fuses only where one
 * of them runs (nn_add_padded_is_fast). */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("avx512f"))) static void add_padded_avx512(const float *pa, const float *pb, float *out,
                                                                 size_t pixels, size_t ca, size_t cb, float lo,
                                                                 float hi)
{
    __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    for (size_t p = 0; p < pixels; p++, pa += ca, pb += cb, out += ca) {
        for (size_t c = 0; c < ca; c += 16) {
            size_t na = ca - c < 16 ? ca - c : 16, nb = cb > c ? (cb - c < 16 ? cb - c : 16) : 0;
            __mmask16 ma = (__mmask16)((1u << na) - 1), mb = (__mmask16)((1u << nb) - 1);
            __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(ma, pa + c), _mm512_maskz_loadu_ps(mb, pb + c));
            _mm512_mask_storeu_ps(out + c, ma, _mm512_min_ps(_mm512_max_ps(v, vlo), vhi));
        }
    }
}

__attribute__((target("avx2"))) static void add_padded_avx2(const float *pa, const float *pb, float *out,
                                                            size_t pixels, size_t ca, size_t cb, float lo, float hi)
{
    __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (size_t p = 0; p < pixels; p++, pa += ca, pb += cb, out += ca) {
        for (size_t c = 0; c < ca; c += 8) {
            int na = (int)(ca - c < 8 ? ca - c : 8), nb = (int)(cb > c ? (cb - c < 8 ? cb - c : 8) : 0);
            __m256i ma = _mm256_cmpgt_epi32(_mm256_set1_epi32(na), lanes);
            __m256i mb = _mm256_cmpgt_epi32(_mm256_set1_epi32(nb), lanes);
            __m256 v = _mm256_add_ps(_mm256_maskload_ps(pa + c, ma), _mm256_maskload_ps(pb + c, mb));
            _mm256_maskstore_ps(out + c, ma, _mm256_min_ps(_mm256_max_ps(v, vlo), vhi));
        }
    }
}

/* out[p][0..N) = clamp(bias + W x[p] + residual[p] (zero past its Nr channels)).
 * Six pixels by 32 output channels per step (12 accumulators): each weight
 * load serves six FMAs, so the loop is bound by FMAs, not loads. */
static inline __mmask16 lanes_upto(size_t n, size_t from)
{
    return (__mmask16)(n > from ? (n - from >= 16 ? 0xffffu : (1u << (n - from)) - 1) : 0);
}

__attribute__((target("avx512f"))) static void conv1x1_add_avx512(const float *x, size_t K, const float *wp,
                                                                  const float *r, size_t Nr, float *out, size_t N,
                                                                  size_t pixels, float lo, float hi)
{
    size_t Np = (N + 15) / 16 * 16;
    const float *bp = wp + K * Np;
    __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    size_t p = 0;
    for (; p + 6 <= pixels; p += 6) {
        const float *xp = x + p * K;
        for (size_t n0 = 0; n0 < N; n0 += 32) {
            __mmask16 w1 = lanes_upto(Np, n0 + 16); /* the packed rows end at Np */
            __m512 b0 = _mm512_loadu_ps(bp + n0), b1 = _mm512_maskz_loadu_ps(w1, bp + n0 + 16);
            __m512 a[6][2];
#pragma GCC unroll 6
            for (int i = 0; i < 6; i++) {
                a[i][0] = b0;
                a[i][1] = b1;
            }
            const float *w = wp + n0;
            for (size_t k = 0; k < K; k++, w += Np) {
                __m512 v0 = _mm512_loadu_ps(w), v1 = _mm512_maskz_loadu_ps(w1, w + 16);
#pragma GCC unroll 6
                for (int i = 0; i < 6; i++) {
                    __m512 xi = _mm512_set1_ps(xp[i * K + k]);
                    a[i][0] = _mm512_fmadd_ps(xi, v0, a[i][0]);
                    a[i][1] = _mm512_fmadd_ps(xi, v1, a[i][1]);
                }
            }
            __mmask16 m0 = lanes_upto(N, n0), m1 = lanes_upto(N, n0 + 16);
            __mmask16 r0 = lanes_upto(Nr, n0), r1 = lanes_upto(Nr, n0 + 16);
#pragma GCC unroll 6
            for (int i = 0; i < 6; i++) {
                const float *rr = r + (p + i) * Nr + n0;
                float *o = out + (p + i) * N + n0;
                __m512 v0 = _mm512_add_ps(a[i][0], _mm512_maskz_loadu_ps(r0, rr));
                __m512 v1 = _mm512_add_ps(a[i][1], _mm512_maskz_loadu_ps(r1, rr + 16));
                _mm512_mask_storeu_ps(o, m0, _mm512_min_ps(_mm512_max_ps(v0, vlo), vhi));
                _mm512_mask_storeu_ps(o + 16, m1, _mm512_min_ps(_mm512_max_ps(v1, vlo), vhi));
            }
        }
    }
    for (; p < pixels; p++) {
        const float *x0 = x + p * K;
        for (size_t n0 = 0; n0 < N; n0 += 16) {
            __mmask16 mn = lanes_upto(N, n0), mr = lanes_upto(Nr, n0);
            __m512 a0 = _mm512_loadu_ps(bp + n0);
            const float *w = wp + n0;
            for (size_t k = 0; k < K; k++, w += Np)
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(x0[k]), _mm512_loadu_ps(w), a0);
            a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(mr, r + p * Nr + n0));
            _mm512_mask_storeu_ps(out + p * N + n0, mn, _mm512_min_ps(_mm512_max_ps(a0, vlo), vhi));
        }
    }
}

/* 3x3 depthwise convolution, any stride and padding: 16 channels per
 * register, the nine weights held in registers across a whole output row;
 * border taps are skipped, interior pixels take the unchecked path. */
__attribute__((target("avx512f"))) static void dwconv3x3_avx512(const nn_graph *g, const nn_op *op,
                                                                float *const *ptr, size_t row0, size_t row1)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]], *y = &g->tensors[op->output];
    const float *in = ptr[op->inputs[0]], *wt = ptr[op->inputs[1]];
    const float *bias = op->n_inputs == 3 ? ptr[op->inputs[2]] : NULL;
    float *out = ptr[op->output];
    int H = x->dims[1], W = x->dims[2], C = x->dims[3], Ho = y->dims[1], Wo = y->dims[2];
    int sh = op->stride_h, sw = op->stride_w, pt = op->pad_top, pl = op->pad_left;
    __m512 vlo = _mm512_set1_ps(op->act_min), vhi = _mm512_set1_ps(op->act_max);
    /* Output columns whose three taps all fall inside the row. */
    int ox_lo = (pl + sw - 1) / sw, ox_hi = (W - 3 + pl) / sw; /* inclusive */
    if (ox_hi > Wo - 1)
        ox_hi = Wo - 1;
    /* Row outside, channel blocks inside: the three input rows stay in
     * cache while every block of 16 channels passes over them. */
    for (size_t row = row0; row < row1; row++) {
        int n = (int)(row / (size_t)Ho), oy = (int)(row % (size_t)Ho);
        for (int c0 = 0; c0 < C; c0 += 16) {
            __mmask16 m = lanes_upto((size_t)C, (size_t)c0);
            __m512 w[9];
            for (int k = 0; k < 9; k++)
                w[k] = _mm512_maskz_loadu_ps(m, wt + (size_t)k * C + c0);
            __m512 b = bias ? _mm512_maskz_loadu_ps(m, bias + c0) : _mm512_setzero_ps();
            {
                const float *rows[3];
                int valid[3];
                for (int ky = 0; ky < 3; ky++) {
                    int iy = oy * sh - pt + ky;
                    valid[ky] = iy >= 0 && iy < H;
                    rows[ky] = in + (((size_t)n * H + (valid[ky] ? iy : 0)) * W) * C + c0;
                }
                float *orow = out + (((size_t)n * Ho + oy) * Wo) * C + c0;
                for (int ox = 0; ox < Wo; ox++) {
                    __m512 acc = b;
                    int ix0 = ox * sw - pl;
                    if (ox >= ox_lo && ox <= ox_hi && valid[0] && valid[1] && valid[2]) {
                        const float *p0 = rows[0] + (size_t)ix0 * C, *p1 = rows[1] + (size_t)ix0 * C,
                                    *p2 = rows[2] + (size_t)ix0 * C;
                        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, p0), w[0], acc);
                        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, p0 + C), w[1], acc);
                        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, p0 + 2 * C), w[2], acc);
                        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, p1), w[3], acc);
                        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, p1 + C), w[4], acc);
                        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, p1 + 2 * C), w[5], acc);
                        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, p2), w[6], acc);
                        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, p2 + C), w[7], acc);
                        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, p2 + 2 * C), w[8], acc);
                    } else {
                        for (int ky = 0; ky < 3; ky++) {
                            if (!valid[ky])
                                continue;
                            for (int kx = 0; kx < 3; kx++) {
                                int ix = ix0 + kx;
                                if (ix < 0 || ix >= W)
                                    continue;
                                acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, rows[ky] + (size_t)ix * C),
                                                      w[ky * 3 + kx], acc);
                            }
                        }
                    }
                    _mm512_mask_storeu_ps(orow + (size_t)ox * C, m, _mm512_min_ps(_mm512_max_ps(acc, vlo), vhi));
                }
            }
        }
    }
}
#endif

int nn_dwconv3x3_is_fast(const nn_graph *g, const nn_op *op)
{
    (void)g;
#if defined(__x86_64__) && defined(__GNUC__)
    return op->kind == NN_OP_DWCONV2D && op->kernel_h == 3 && op->kernel_w == 3 && op->dilation_h == 1 &&
           op->dilation_w == 1 && op->depth_multiplier == 1 && __builtin_cpu_supports("avx512f");
#else
    (void)op;
    return 0;
#endif
}

int nn_conv1x1_add_is_fast(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

int nn_add_padded_is_fast(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    return __builtin_cpu_supports("avx512f") || __builtin_cpu_supports("avx2");
#else
    return 0;
#endif
}

/* Work units of the fast kernels: output rows for the depthwise
 * convolution, runs of pixels for the others (a multiple of the 6-pixel tile). */
enum { CONV_UNIT_PIXELS = 48, ADD_UNIT_PIXELS = 64 };

size_t nn_fast_units(const nn_graph *g, const nn_op *op)
{
    const nn_tensor *y = &g->tensors[op->output];
    size_t pixels = y->count / (size_t)y->dims[y->rank - 1];
    if (op->kind == NN_OP_DWCONV2D)
        return (size_t)y->dims[0] * (size_t)y->dims[1];
    if (op->kind == NN_OP_CONV1X1_ADD)
        return (pixels + CONV_UNIT_PIXELS - 1) / CONV_UNIT_PIXELS;
    return (pixels + ADD_UNIT_PIXELS - 1) / ADD_UNIT_PIXELS;
}

void nn_fast_run(const nn_graph *g, const nn_op *op, float *const *ptr, size_t begin, size_t end)
{
#if defined(__x86_64__) && defined(__GNUC__)
    const nn_tensor *y = &g->tensors[op->output];
    size_t N = (size_t)y->dims[y->rank - 1], pixels = y->count / N;
    if (op->kind == NN_OP_DWCONV2D && nn_dwconv3x3_is_fast(g, op)) {
        dwconv3x3_avx512(g, op, ptr, begin, end);
        return;
    }
    if (op->kind == NN_OP_CONV1X1_ADD && nn_conv1x1_add_is_fast()) {
        const nn_tensor *x = &g->tensors[op->inputs[0]], *r = &g->tensors[op->inputs[3]];
        size_t K = (size_t)x->dims[3], Nr = (size_t)r->dims[r->rank - 1];
        size_t p0 = begin * CONV_UNIT_PIXELS, p1 = end * CONV_UNIT_PIXELS < pixels ? end * CONV_UNIT_PIXELS : pixels;
        conv1x1_add_avx512(ptr[op->inputs[0]] + p0 * K, K, op->packed, ptr[op->inputs[3]] + p0 * Nr, Nr,
                           ptr[op->output] + p0 * N, N, p1 - p0, op->act_min, op->act_max);
        return;
    }
    if (op->kind == NN_OP_ADD_PADDED && nn_add_padded_is_fast()) {
        const nn_tensor *b = &g->tensors[op->inputs[1]];
        size_t cb = (size_t)b->dims[b->rank - 1];
        size_t p0 = begin * ADD_UNIT_PIXELS, p1 = end * ADD_UNIT_PIXELS < pixels ? end * ADD_UNIT_PIXELS : pixels;
        const float *pa = ptr[op->inputs[0]] + p0 * N, *pb = ptr[op->inputs[1]] + p0 * cb;
        float *out = ptr[op->output] + p0 * N;
        if (__builtin_cpu_supports("avx512f"))
            add_padded_avx512(pa, pb, out, p1 - p0, N, cb, op->act_min, op->act_max);
        else
            add_padded_avx2(pa, pb, out, p1 - p0, N, cb, op->act_min, op->act_max);
        return;
    }
#endif
    if (begin == 0) /* no fast kernel here: the whole operator once */
        nn_ref_run_op(g, op, ptr);
}

/* The reference keeps the plain loop, so tests compare the vector kernel against it. */
static void add_padded(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *a = &g->tensors[op->inputs[0]], *b = &g->tensors[op->inputs[1]];
    const float *pa = ptr[op->inputs[0]], *pb = ptr[op->inputs[1]];
    float *out = ptr[op->output];
    size_t ca = (size_t)a->dims[a->rank - 1], cb = (size_t)b->dims[b->rank - 1], pixels = a->count / ca;
    float lo = op->act_min, hi = op->act_max;
    for (size_t p = 0; p < pixels; p++, pa += ca, pb += cb, out += ca) {
        for (size_t c = 0; c < cb; c++)
            out[c] = clampf(pa[c] + pb[c], lo, hi);
        for (size_t c = cb; c < ca; c++)
            out[c] = clampf(pa[c], lo, hi);
    }
}

/* Reference: the 1x1 convolution, then the residual (zero past its channels). */
static void conv1x1_add(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]], *r = &g->tensors[op->inputs[3]];
    const nn_tensor *y = &g->tensors[op->output];
    const float *in = ptr[op->inputs[0]], *w = ptr[op->inputs[1]], *bias = ptr[op->inputs[2]];
    const float *res = ptr[op->inputs[3]];
    float *out = ptr[op->output];
    size_t K = (size_t)x->dims[3], N = (size_t)y->dims[3], Nr = (size_t)r->dims[r->rank - 1];
    size_t pixels = y->count / N;
    for (size_t p = 0; p < pixels; p++)
        for (size_t n = 0; n < N; n++) {
            float acc = bias[n];
            for (size_t k = 0; k < K; k++)
                acc += in[p * K + k] * w[n * K + k];
            if (n < Nr)
                acc += res[p * Nr + n];
            out[p * N + n] = clampf(acc, op->act_min, op->act_max);
        }
}

static void prelu(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *al = &g->tensors[op->inputs[1]], *y = &g->tensors[op->output];
    const float *in = ptr[op->inputs[0]], *pa = ptr[op->inputs[1]];
    float *out = ptr[op->output];
    size_t sa[4];
    int d4[4];
    bcast_strides(al, y, sa);
    out_dims4(y, d4);
    size_t k = 0;
    for (int i0 = 0; i0 < d4[0]; i0++)
        for (int i1 = 0; i1 < d4[1]; i1++)
            for (int i2 = 0; i2 < d4[2]; i2++)
                for (int i3 = 0; i3 < d4[3]; i3++, k++) {
                    float v = in[k];
                    out[k] = v >= 0.0f ? v : v * pa[i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3]];
                }
}

static void clamp(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const float *in = ptr[op->inputs[0]];
    float *out = ptr[op->output];
    size_t n = g->tensors[op->output].count;
    for (size_t k = 0; k < n; k++)
        out[k] = clampf(in[k], op->act_min, op->act_max);
}

static void pad(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]], *y = &g->tensors[op->output];
    const float *in = ptr[op->inputs[0]];
    float *out = ptr[op->output];
    memset(out, 0, y->count * sizeof(float));
    int xd[4], yd[4], before[4];
    out_dims4(x, xd);
    out_dims4(y, yd);
    for (int d = 0; d < 4; d++) {
        int src = d - (4 - x->rank);
        before[d] = src >= 0 ? op->pads[src][0] : 0;
    }
    size_t k = 0;
    for (int i0 = 0; i0 < xd[0]; i0++)
        for (int i1 = 0; i1 < xd[1]; i1++)
            for (int i2 = 0; i2 < xd[2]; i2++)
                for (int i3 = 0; i3 < xd[3]; i3++) {
                    size_t o = (((size_t)(i0 + before[0]) * yd[1] + (i1 + before[1])) * yd[2] +
                                (i2 + before[2])) * yd[3] + (i3 + before[3]);
                    out[o] = in[k++];
                }
}

static void concat(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *y = &g->tensors[op->output];
    float *out = ptr[op->output];
    size_t outer = 1, inner = 1;
    for (int d = 0; d < op->axis; d++)
        outer *= (size_t)y->dims[d];
    for (int d = op->axis + 1; d < y->rank; d++)
        inner *= (size_t)y->dims[d];
    size_t out_row = (size_t)y->dims[op->axis] * inner, col = 0;
    for (int k = 0; k < op->n_inputs; k++) {
        const nn_tensor *t = &g->tensors[op->inputs[k]];
        size_t row = (size_t)t->dims[op->axis] * inner;
        for (size_t o = 0; o < outer; o++)
            memcpy(out + o * out_row + col, ptr[op->inputs[k]] + o * row, row * sizeof(float));
        col += row;
    }
}

/* TFLite's three coordinate conventions for bilinear resizing. */
static void resize_bilinear(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]], *y = &g->tensors[op->output];
    const float *in = ptr[op->inputs[0]];
    float *out = ptr[op->output];
    int N = x->dims[0], H = x->dims[1], W = x->dims[2], C = x->dims[3], Ho = y->dims[1], Wo = y->dims[2];
    float sy = (op->align_corners && Ho > 1) ? (float)(H - 1) / (float)(Ho - 1) : (float)H / (float)Ho;
    float sx = (op->align_corners && Wo > 1) ? (float)(W - 1) / (float)(Wo - 1) : (float)W / (float)Wo;
    for (int n = 0; n < N; n++)
        for (int oy = 0; oy < Ho; oy++) {
            float fy = op->half_pixel_centers ? ((float)oy + 0.5f) * sy - 0.5f : (float)oy * sy;
            if (fy < 0)
                fy = 0;
            int y0 = (int)floorf(fy);
            if (y0 > H - 1)
                y0 = H - 1;
            int y1 = y0 + 1 < H ? y0 + 1 : H - 1;
            float wy = fy - (float)y0;
            for (int ox = 0; ox < Wo; ox++) {
                float fx = op->half_pixel_centers ? ((float)ox + 0.5f) * sx - 0.5f : (float)ox * sx;
                if (fx < 0)
                    fx = 0;
                int x0 = (int)floorf(fx);
                if (x0 > W - 1)
                    x0 = W - 1;
                int x1 = x0 + 1 < W ? x0 + 1 : W - 1;
                float wx = fx - (float)x0;
                const float *p00 = in + (((size_t)n * H + y0) * W + x0) * C;
                const float *p01 = in + (((size_t)n * H + y0) * W + x1) * C;
                const float *p10 = in + (((size_t)n * H + y1) * W + x0) * C;
                const float *p11 = in + (((size_t)n * H + y1) * W + x1) * C;
                float *o = out + (((size_t)n * Ho + oy) * Wo + ox) * C;
                for (int c = 0; c < C; c++) {
                    float top = p00[c] + (p01[c] - p00[c]) * wx;
                    float bot = p10[c] + (p11[c] - p10[c]) * wx;
                    o[c] = top + (bot - top) * wy;
                }
            }
        }
}

/* --- TensorFlow.js graph model operators (see graph.h) --- */

static void unary(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const float *in = ptr[op->inputs[0]];
    float *out = ptr[op->output];
    size_t n = g->tensors[op->output].count;
    switch (op->kind) {
    case NN_OP_ABS:
        for (size_t k = 0; k < n; k++)
            out[k] = fabsf(in[k]);
        break;
    case NN_OP_SQUARE:
        for (size_t k = 0; k < n; k++)
            out[k] = in[k] * in[k];
        break;
    default: /* NN_OP_RSQRT */
        for (size_t k = 0; k < n; k++)
            out[k] = 1.0f / sqrtf(in[k]);
        break;
    }
}

static void binary(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *a = &g->tensors[op->inputs[0]], *b = &g->tensors[op->inputs[1]];
    const nn_tensor *y = &g->tensors[op->output];
    const float *pa = ptr[op->inputs[0]], *pb = ptr[op->inputs[1]];
    float *out = ptr[op->output];
    size_t sa[4], sb[4];
    int d4[4];
    bcast_strides(a, y, sa);
    bcast_strides(b, y, sb);
    out_dims4(y, d4);
    size_t k = 0;
    for (int i0 = 0; i0 < d4[0]; i0++)
        for (int i1 = 0; i1 < d4[1]; i1++)
            for (int i2 = 0; i2 < d4[2]; i2++)
                for (int i3 = 0; i3 < d4[3]; i3++) {
                    float u = pa[i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3]];
                    float v = pb[i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3]];
                    float r = op->kind == NN_OP_SUB ? u - v : op->kind == NN_OP_MUL ? u * v : fmaxf(u, v);
                    out[k++] = clampf(r, op->act_min, op->act_max);
                }
}

static void reduce_sum(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    const nn_tensor *x = &g->tensors[op->inputs[0]];
    const float *in = ptr[op->inputs[0]];
    float *out = ptr[op->output];
    /* Input dims left-aligned into 4; the output index strides skip reduced dims. */
    int d4[4] = {1, 1, 1, 1};
    size_t so[4] = {0, 0, 0, 0}, s = 1;
    for (int d = 0; d < x->rank; d++)
        d4[4 - x->rank + d] = x->dims[d];
    for (int d = 3; d >= 0; d--) {
        int src = d - (4 - x->rank);
        if (src < 0 || (op->reduce_mask & (1 << src)))
            continue;
        so[d] = s;
        s *= (size_t)d4[d];
    }
    memset(out, 0, g->tensors[op->output].count * sizeof(float));
    size_t k = 0;
    for (int i0 = 0; i0 < d4[0]; i0++)
        for (int i1 = 0; i1 < d4[1]; i1++)
            for (int i2 = 0; i2 < d4[2]; i2++)
                for (int i3 = 0; i3 < d4[3]; i3++)
                    out[i0 * so[0] + i1 * so[1] + i2 * so[2] + i3 * so[3]] += in[k++];
}

void nn_ref_run_op(const nn_graph *g, const nn_op *op, float *const *ptr)
{
    switch (op->kind) {
    case NN_OP_CONV2D: conv2d(g, op, ptr); break;
    case NN_OP_DWCONV2D: dwconv2d(g, op, ptr); break;
    case NN_OP_MAXPOOL2D: maxpool2d(g, op, ptr); break;
    case NN_OP_ADD: add(g, op, ptr); break;
    case NN_OP_ADD_PADDED: add_padded(g, op, ptr); break;
    case NN_OP_CONV1X1_ADD: conv1x1_add(g, op, ptr); break;
    case NN_OP_PRELU: prelu(g, op, ptr); break;
    case NN_OP_CLAMP: clamp(g, op, ptr); break;
    case NN_OP_PAD: pad(g, op, ptr); break;
    case NN_OP_CONCAT:
        concat(g, op, ptr);
        if (op->act_min > -INFINITY || op->act_max < INFINITY) {
            float *out = ptr[op->output];
            for (size_t k = 0; k < g->tensors[op->output].count; k++)
                out[k] = clampf(out[k], op->act_min, op->act_max);
        }
        break;
    case NN_OP_RESIZE_BILINEAR: resize_bilinear(g, op, ptr); break;
    case NN_OP_ABS:
    case NN_OP_SQUARE:
    case NN_OP_RSQRT: unary(g, op, ptr); break;
    case NN_OP_SUB:
    case NN_OP_MUL:
    case NN_OP_MAXIMUM: binary(g, op, ptr); break;
    case NN_OP_SUM: reduce_sum(g, op, ptr); break;
    case NN_OP_RESHAPE:
    case NN_OP_COPY:
        if (ptr[op->output] != ptr[op->inputs[0]])
            memmove(ptr[op->output], ptr[op->inputs[0]], g->tensors[op->output].count * sizeof(float));
        break;
    default:
        if (op->kind >= NN_OP_ONNX_FIRST)
            nn_onnx_ref_run_op(g, op, ptr);
        break;
    }
}
