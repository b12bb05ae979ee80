/* Each operator on small hand-computed cases, through the real TFLite reader
 * (models built by tests/tflite_builder.h), on both backends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/graph.h"
#include "nn/nn.h"
#include "tflite_builder.h"

enum { F32 = 0, F16 = 1, I32 = 2 };
enum { SAME = 0, VALID = 1 };
enum { ADD = 0, CONCAT = 2, CONV = 3, DWCONV = 4, DEQUANT = 6, MAXPOOL = 17, MUL = 18, RELU = 19, RELU6 = 21,
       RESHAPE = 22, RESIZE = 23, PAD = 34, PRELU = 54 };

#define T(name_, rank_, ...) {.name = name_, .rank = rank_, .dims = {__VA_ARGS__}, .type = F32}
#define C(name_, rank_, data_, ...) \
    {.name = name_, .rank = rank_, .dims = {__VA_ARGS__}, .type = F32, .data = data_, .nbytes = sizeof data_}

/* Loads the model, runs it on each backend with `in` as input 0 (and `in2`
 * as input 1 when given), and checks output 0 against `expected`. */
static void check(const tm_tensor *t, int nt, const tm_op *ops, int nops, const int *inputs, int ni,
                  const float *in, const float *in2, const float *expected, size_t n)
{
    uint8_t *buf;
    int out = ops[nops - 1].out;
    size_t len = tm_build(t, nt, ops, nops, inputs, ni, &out, 1, &buf);
    nn_model *m;
    ptim_error err = {0};
    if (nn_model_load_buffer(buf, len, "test.tflite", &m, &err))
        fail_msg("%s", err.message);
    free(buf);
    assert_int_equal(nn_model_output(m, 0).count, n);
    const nn_backend backends[] = {NN_BACKEND_REFERENCE, NN_BACKEND_XNNPACK};
    for (int b = 0; b < 2; b++) {
        nn_runner *r;
        if (nn_runner_create(m, backends[b], 1, &r, &err))
            fail_msg("%s: %s", nn_backend_name(backends[b]), err.message);
        memcpy(nn_runner_input(r, 0), in, nn_model_input(m, 0).count * sizeof(float));
        if (in2)
            memcpy(nn_runner_input(r, 1), in2, nn_model_input(m, 1).count * sizeof(float));
        assert_int_equal(nn_runner_run(r, &err), 0);
        const float *y = nn_runner_output(r, 0);
        for (size_t i = 0; i < n; i++)
            if (fabsf(y[i] - expected[i]) > 1e-5f * fmaxf(1.0f, fabsf(expected[i])))
                fail_msg("%s: output[%zu] = %g, expected %g", nn_backend_name(backends[b]), i, y[i], expected[i]);
        nn_runner_destroy(r);
    }
    nn_model_free(m);
}

/* Loading must fail with a message containing `needle`. */
static void check_rejected(const tm_tensor *t, int nt, const tm_op *ops, int nops, const int *inputs, int ni,
                           const char *needle)
{
    uint8_t *buf;
    int out = ops[nops - 1].out;
    size_t len = tm_build(t, nt, ops, nops, inputs, ni, &out, 1, &buf);
    nn_model *m = NULL;
    ptim_error err = {0};
    assert_int_equal(nn_model_load_buffer(buf, len, "bad.tflite", &m, &err), -1);
    assert_null(m);
    free(buf);
    if (!strstr(err.message, needle) || strncmp(err.message, "model bad.tflite: ", 18) != 0)
        fail_msg("message '%s' lacks '%s'", err.message, needle);
}

static const float in9[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

static void test_conv_valid_bias_relu(void **state)
{
    (void)state;
    static const float w[4] = {1, 2, 3, 4}, bias[1] = {-50};
    tm_tensor t[] = {T("x", 4, 1, 3, 3, 1), C("w", 4, w, 1, 2, 2, 1), C("b", 1, bias, 1), T("y", 4, 1, 2, 2, 1)};
    tm_op op[] = {{CONV, 3, {0, 1, 2}, 3, 1, 6, {TBF_U8(VALID), TBF_I32(1), TBF_I32(1), TBF_U8(1), TBF_I32(1), TBF_I32(1)}}};
    /* 37-50, 47-50, 67-50, 77-50, then RELU */
    static const float want[4] = {0, 0, 17, 27};
    check(t, 4, op, 1, (int[]){0}, 1, in9, NULL, want, 4);
}

static void test_conv_same_stride2_no_bias(void **state)
{
    (void)state;
    static const float w[18] = {1, 1, 1, 1, 1, 1, 1, 1, 1, /* oc0: box sum */ 0, 0, 0, 0, 1, 0, 0, 0, 0 /* oc1: centre */};
    tm_tensor t[] = {T("x", 4, 1, 3, 3, 1), C("w", 4, w, 2, 3, 3, 1), T("y", 4, 1, 2, 2, 2)};
    tm_op op[] = {{CONV, 3, {0, 1, -1}, 2, 1, 4, {TBF_U8(SAME), TBF_I32(2), TBF_I32(2), TBF_U8(0)}}};
    static const float want[8] = {12, 1, 16, 3, 24, 7, 28, 9};
    check(t, 3, op, 1, (int[]){0}, 1, in9, NULL, want, 8);
}

static void test_conv_fp16_weights_dequantized(void **state)
{
    (void)state;
    static const uint16_t wh[4] = {0x3C00, 0x4000, 0x4200, 0x4400}; /* 1, 2, 3, 4 */
    tm_tensor t[] = {T("x", 4, 1, 3, 3, 1), {.name = "wh", .rank = 4, .dims = {1, 2, 2, 1}, .type = F16, .data = wh, .nbytes = sizeof wh},
                     T("w", 4, 1, 2, 2, 1), T("y", 4, 1, 2, 2, 1)};
    tm_op op[] = {{DEQUANT, 1, {1}, 2, 0, 0, {{0}}},
                  {CONV, 2, {0, 2}, 3, 1, 4, {TBF_U8(VALID), TBF_I32(1), TBF_I32(1), TBF_U8(0)}}};
    static const float want[4] = {37, 47, 67, 77};
    check(t, 4, op, 2, (int[]){0}, 1, in9, NULL, want, 4);
}

static void test_depthwise(void **state)
{
    (void)state;
    static const float x[8] = {1, 10, 2, 20, 3, 30, 4, 40};
    static const float w[8] = {1, 1, 1, 0, 1, 0, 1, -1}, bias[2] = {0.5f, 0.5f};
    tm_tensor t[] = {T("x", 4, 1, 2, 2, 2), C("w", 4, w, 1, 2, 2, 2), C("b", 1, bias, 2), T("y", 4, 1, 1, 1, 2)};
    tm_op op[] = {{DWCONV, 3, {0, 1, 2}, 3, 2, 5,
                   {TBF_U8(VALID), TBF_I32(1), TBF_I32(1), TBF_I32(1), TBF_U8(0)}}};
    static const float want[2] = {10.5f, -29.5f};
    check(t, 4, op, 1, (int[]){0}, 1, x, NULL, want, 2);
}

/* 3x3 depthwise, SAME, strides 1 and 2, 19 channels (crosses a 16-lane
 * register); the weight picks one tap per channel, so each output is one
 * neighbour (or 0 past the border) plus the bias, computable by hand. */
static void dw3x3_case(int stride)
{
    enum { H = 4, W = 5, CH = 19 };
    static float x[H * W * CH], w[9 * CH], bias[CH], want[H * W * CH];
    for (int i = 0; i < H * W * CH; i++)
        x[i] = (float)(i % 97) - 40.0f;
    for (int c = 0; c < CH; c++) {
        bias[c] = 0.5f * c;
        for (int k = 0; k < 9; k++)
            w[k * CH + c] = k == c % 9 ? 2.0f : 0.0f;
    }
    int ho = (H + stride - 1) / stride, wo = (W + stride - 1) / stride;
    /* SAME: total padding (o-1)*s + 3 - in, the smaller half before. */
    int pt = ((ho - 1) * stride + 3 - H) / 2, pl = ((wo - 1) * stride + 3 - W) / 2;
    for (int oy = 0; oy < ho; oy++)
        for (int ox = 0; ox < wo; ox++)
            for (int c = 0; c < CH; c++) {
                int k = c % 9, iy = oy * stride - pt + k / 3, ix = ox * stride - pl + k % 3;
                float v = iy >= 0 && iy < H && ix >= 0 && ix < W ? 2.0f * x[(iy * W + ix) * CH + c] : 0.0f;
                want[(oy * wo + ox) * CH + c] = v + bias[c];
            }
    tm_tensor t[] = {T("x", 4, 1, H, W, CH), {.name = "w", .rank = 4, .dims = {1, 3, 3, CH}, .type = F32, .data = w, .nbytes = sizeof w},
                     C("b", 1, bias, CH), {.name = "y", .rank = 4, .dims = {1, ho, wo, CH}, .type = F32}};
    tm_op op[] = {{DWCONV, 3, {0, 1, 2}, 3, 2, 5, {TBF_U8(SAME), TBF_I32(stride), TBF_I32(stride), TBF_I32(1), TBF_U8(0)}}};
    check(t, 4, op, 1, (int[]){0}, 1, x, NULL, want, (size_t)ho * wo * CH);
}

static void test_depthwise_3x3_same_strides(void **state)
{
    (void)state;
    dw3x3_case(1);
    dw3x3_case(2);
}

static void test_depthwise_multiplier(void **state)
{
    (void)state;
    static const float x[2] = {3, -1};
    static const float w[4] = {2, -1, 10, 100}; /* out c = in c/2 * w */
    tm_tensor t[] = {T("x", 4, 1, 1, 1, 2), C("w", 4, w, 1, 1, 1, 4), T("y", 4, 1, 1, 1, 4)};
    tm_op op[] = {{DWCONV, 2, {0, 1}, 2, 2, 4, {TBF_U8(SAME), TBF_I32(1), TBF_I32(1), TBF_I32(2)}}};
    static const float want[4] = {6, -3, -10, -100};
    check(t, 3, op, 1, (int[]){0}, 1, x, NULL, want, 4);
}

static void test_add_broadcast_then_relu_fused(void **state)
{
    (void)state;
    static const float a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[2] = {10, -10};
    tm_tensor t[] = {T("a", 4, 1, 2, 2, 2), C("b", 1, b, 2), T("s", 4, 1, 2, 2, 2), T("y", 4, 1, 2, 2, 2)};
    tm_op op[] = {{ADD, 2, {0, 1}, 2, 11, 1, {TBF_U8(0)}}, {RELU, 1, {2}, 3, 0, 0, {{0}}}};
    static const float want[8] = {11, 0, 13, 0, 15, 0, 17, 0};
    check(t, 4, op, 2, (int[]){0}, 1, a, NULL, want, 8);
    /* The RELU was fused into the ADD. */
    uint8_t *buf;
    int out = 3;
    size_t len = tm_build(t, 4, op, 2, (int[]){0}, 1, &out, 1, &buf);
    nn_model *m;
    ptim_error err;
    assert_int_equal(nn_model_load_buffer(buf, len, "t", &m, &err), 0);
    assert_true(m->graph->ops[1].dead);
    assert_true(m->graph->ops[0].act_min == 0.0f);
    nn_model_free(m);
    free(buf);
}

static void test_add_two_inputs_relu6(void **state)
{
    (void)state;
    static const float a[4] = {1, 2, 3, -4}, b[4] = {1, 5, -4, 3};
    tm_tensor t[] = {T("a", 2, 2, 2), T("b", 2, 2, 2), T("y", 2, 2, 2)};
    tm_op op[] = {{ADD, 2, {0, 1}, 2, 11, 1, {TBF_U8(3)}}};
    static const float want[4] = {2, 6, 0, 0};
    check(t, 3, op, 1, (int[]){0, 1}, 2, a, b, want, 4);
}

/* BlazeFace's residual: ADD(a, PAD(b)) with b's channels padded with zeros,
 * fused into one pass; channel counts cross the 8- and 16-lane vector widths. */
static void test_add_of_channel_padded_residual(void **state)
{
    (void)state;
    enum { P = 3, CA = 19, CB = 17 };
    static float a[P * CA], b[P * CB], want[P * CA];
    for (int p = 0; p < P; p++) {
        for (int c = 0; c < CA; c++)
            a[p * CA + c] = (float)(c - 9) + 0.25f * p;
        for (int c = 0; c < CB; c++)
            b[p * CB + c] = (c % 2 ? 1.0f : -3.0f);
        /* By hand: a + b where b exists, a alone above it, then RELU. */
        for (int c = 0; c < CA; c++) {
            float v = a[p * CA + c] + (c < CB ? (c % 2 ? 1.0f : -3.0f) : 0.0f);
            want[p * CA + c] = v > 0 ? v : 0;
        }
    }
    static const int32_t pads[8] = {0, 0, 0, 0, 0, 0, 0, CA - CB};
    tm_tensor t[] = {T("a", 4, 1, 1, P, CA), T("b", 4, 1, 1, P, CB),
                     {.name = "p", .rank = 2, .dims = {4, 2}, .type = I32, .data = pads, .nbytes = sizeof pads},
                     T("bp", 4, 1, 1, P, CA), T("y", 4, 1, 1, P, CA)};
    tm_op op[] = {{PAD, 2, {1, 2}, 3, 0, 0, {{0}}}, {ADD, 2, {3, 0}, 4, 11, 1, {TBF_U8(1)}}};
    /* Two inputs: a then b. */
    check(t, 5, op, 2, (int[]){0, 1}, 2, a, b, want, P * CA);
    uint8_t *buf;
    int out = 4;
    size_t len = tm_build(t, 5, op, 2, (int[]){0, 1}, 2, &out, 1, &buf);
    nn_model *m;
    ptim_error err;
    assert_int_equal(nn_model_load_buffer(buf, len, "t", &m, &err), 0);
    if (nn_add_padded_is_fast()) {
        assert_true(m->graph->ops[0].dead);
        assert_int_equal(m->graph->ops[1].kind, NN_OP_ADD_PADDED);
    }
    nn_model_free(m);
    free(buf);
}

/* A block's 1x1 projection plus its residual (plain, and channel-padded),
 * fused into one operator; sizes cross the 6-pixel and 16/32-lane tiles. */
static void conv1x1_residual_case(int padded)
{
    enum { P = 7, K = 5, N = 35, NRP = 3 };
    int nr = padded ? NRP : N;
    static float x[P * K], w[N * K], bias[N], r[P * N], want[P * N];
    for (int p = 0; p < P; p++)
        for (int k = 0; k < K; k++)
            x[p * K + k] = (float)(p + k);
    for (int n = 0; n < N; n++) {
        bias[n] = (float)-n;
        for (int k = 0; k < K; k++)
            w[n * K + k] = k == n % K ? 1.0f : 0.0f;
    }
    for (int p = 0; p < P; p++)
        for (int n = 0; n < nr; n++)
            r[p * nr + n] = 2.0f + (float)n;
    /* By hand: out = x[p][n % K] - n (+ 2 + n where the residual has channel n), then RELU. */
    for (int p = 0; p < P; p++)
        for (int n = 0; n < N; n++) {
            float v = (float)(p + n % K) - (float)n + (n < nr ? 2.0f + (float)n : 0.0f);
            want[p * N + n] = v > 0 ? v : 0;
        }
    static int32_t pads[8] = {0, 0, 0, 0, 0, 0, 0, N - NRP};
    tm_tensor t[] = {T("x", 4, 1, 1, P, K), {.name = "w", .rank = 4, .dims = {N, 1, 1, K}, .type = F32, .data = w, .nbytes = sizeof w},
                     C("b", 1, bias, N), T("c", 4, 1, 1, P, N), T("r", 4, 1, 1, P, nr),
                     {.name = "p", .rank = 2, .dims = {4, 2}, .type = I32, .data = pads, .nbytes = sizeof pads},
                     T("rp", 4, 1, 1, P, N), T("y", 4, 1, 1, P, N)};
    tm_op conv = {CONV, 3, {0, 1, 2}, 3, 1, 4, {TBF_U8(VALID), TBF_I32(1), TBF_I32(1), TBF_U8(0)}};
    tm_op pad = {PAD, 2, {4, 5}, 6, 0, 0, {{0}}};
    tm_op add = {ADD, 2, {4, 3}, 7, 11, 1, {TBF_U8(1)}};
    tm_op add_padded = {ADD, 2, {3, 6}, 7, 11, 1, {TBF_U8(1)}};
    tm_op ops[3];
    int nops = 0;
    ops[nops++] = conv;
    if (padded)
        ops[nops++] = pad;
    ops[nops++] = padded ? add_padded : add;
    check(t, 8, ops, nops, (int[]){0, 4}, 2, x, r, want, P * N);
    uint8_t *buf;
    int out = 7;
    size_t len = tm_build(t, 8, ops, nops, (int[]){0, 4}, 2, &out, 1, &buf);
    nn_model *m;
    ptim_error err;
    assert_int_equal(nn_model_load_buffer(buf, len, "t", &m, &err), 0);
    if (nn_conv1x1_add_is_fast()) {
        assert_true(m->graph->ops[0].dead);
        assert_int_equal(m->graph->ops[nops - 1].kind, NN_OP_CONV1X1_ADD);
    }
    nn_model_free(m);
    free(buf);
}

static void test_conv1x1_with_residual_fused(void **state)
{
    (void)state;
    conv1x1_residual_case(0);
    conv1x1_residual_case(1);
}

static void test_relu_and_relu6_standalone(void **state)
{
    (void)state;
    static const float x[4] = {-1, 0.5f, -3, 7};
    tm_tensor t[] = {T("x", 2, 1, 4), T("y", 2, 1, 4)};
    tm_op r[] = {{RELU, 1, {0}, 1, 0, 0, {{0}}}};
    static const float want[4] = {0, 0.5f, 0, 7};
    check(t, 2, r, 1, (int[]){0}, 1, x, NULL, want, 4);
    tm_op r6[] = {{RELU6, 1, {0}, 1, 0, 0, {{0}}}};
    static const float want6[4] = {0, 0.5f, 0, 6};
    check(t, 2, r6, 1, (int[]){0}, 1, x, NULL, want6, 4);
}

static void test_prelu(void **state)
{
    (void)state;
    static const float x[4] = {-1, -2, 3, -4}, alpha[2] = {0.5f, 0.25f};
    tm_tensor t[] = {T("x", 4, 1, 1, 2, 2), C("a", 3, alpha, 1, 1, 2), T("y", 4, 1, 1, 2, 2)};
    tm_op op[] = {{PRELU, 2, {0, 1}, 2, 0, 0, {{0}}}};
    static const float want[4] = {-0.5f, -0.5f, 3, -1};
    check(t, 3, op, 1, (int[]){0}, 1, x, NULL, want, 4);
}

static void test_pad_spatial_and_channels(void **state)
{
    (void)state;
    static const float x[2] = {1, 2};
    static const int32_t pads[8] = {0, 0, 1, 0, 0, 1, 0, 2};
    tm_tensor t[] = {T("x", 4, 1, 1, 2, 1), {.name = "p", .rank = 2, .dims = {4, 2}, .type = I32, .data = pads, .nbytes = sizeof pads},
                     T("y", 4, 1, 2, 3, 3)};
    tm_op op[] = {{PAD, 2, {0, 1}, 2, 0, 0, {{0}}}};
    static const float want[18] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 0, 0, 0};
    check(t, 3, op, 1, (int[]){0}, 1, x, NULL, want, 18);
}

static void test_maxpool_valid_and_same(void **state)
{
    (void)state;
    static const float x[16] = {1, 5, 2, 0, 3, 4, 8, 7, 9, 0, 1, 1, 2, 6, 3, 12};
    tm_tensor t[] = {T("x", 4, 1, 4, 4, 1), T("y", 4, 1, 2, 2, 1)};
    tm_op op[] = {{MAXPOOL, 1, {0}, 1, 5, 6, {TBF_U8(VALID), TBF_I32(2), TBF_I32(2), TBF_I32(2), TBF_I32(2), TBF_U8(0)}}};
    static const float want[4] = {5, 8, 9, 12};
    check(t, 2, op, 1, (int[]){0}, 1, x, NULL, want, 4);
    /* SAME on negative values: the padding never wins. */
    static const float xn[9] = {-1, -2, -3, -4, -5, -6, -7, -8, -9};
    tm_tensor t2[] = {T("x", 4, 1, 3, 3, 1), T("y", 4, 1, 2, 2, 1)};
    tm_op op2[] = {{MAXPOOL, 1, {0}, 1, 5, 6, {TBF_U8(SAME), TBF_I32(2), TBF_I32(2), TBF_I32(3), TBF_I32(3), TBF_U8(0)}}};
    static const float want2[4] = {-1, -2, -4, -5};
    check(t2, 2, op2, 1, (int[]){0}, 1, xn, NULL, want2, 4);
}

static void test_reshape_and_concat_in_place(void **state)
{
    (void)state;
    static const float x[4] = {-1, 2, 7, 4};
    tm_tensor t[] = {T("x", 4, 1, 2, 2, 1), T("a", 4, 1, 2, 2, 1), T("ar", 3, 1, 4, 1), T("b", 4, 1, 2, 2, 1),
                     T("br", 3, 1, 4, 1), T("y", 3, 1, 8, 1)};
    tm_op op[] = {{RELU, 1, {0}, 1, 0, 0, {{0}}},
                  {RESHAPE, 1, {1}, 2, 0, 0, {{0}}},
                  {RELU6, 1, {0}, 3, 0, 0, {{0}}},
                  {RESHAPE, 1, {3}, 4, 0, 0, {{0}}},
                  {CONCAT, 2, {2, 4}, 5, 10, 2, {TBF_I32(1), TBF_U8(0)}}};
    static const float want[8] = {0, 2, 7, 4, 0, 2, 6, 4};
    check(t, 6, op, 5, (int[]){0}, 1, x, NULL, want, 8);
    uint8_t *buf;
    int out = 5;
    size_t len = tm_build(t, 6, op, 5, (int[]){0}, 1, &out, 1, &buf);
    nn_model *m;
    ptim_error err;
    assert_int_equal(nn_model_load_buffer(buf, len, "t", &m, &err), 0);
    assert_true(m->graph->ops[4].in_place);
    nn_model_free(m);
    free(buf);
}

static void test_concat_channels_between_xnnpack_runtimes(void **state)
{
    (void)state;
    static const float x[2] = {-1, 2}, w[2] = {1, 10};
    tm_tensor t[] = {T("x", 4, 1, 1, 2, 1), T("a", 4, 1, 1, 2, 1), T("c", 4, 1, 1, 2, 2), C("w", 4, w, 1, 1, 1, 2),
                     T("y", 4, 1, 1, 2, 1)};
    tm_op op[] = {{RELU, 1, {0}, 1, 0, 0, {{0}}},
                  {CONCAT, 2, {1, 0}, 2, 10, 2, {TBF_I32(-1), TBF_U8(0)}},
                  {CONV, 2, {2, 3}, 4, 1, 4, {TBF_U8(VALID), TBF_I32(1), TBF_I32(1), TBF_U8(0)}}};
    static const float want[2] = {-10, 22};
    check(t, 5, op, 3, (int[]){0}, 1, x, NULL, want, 2);
}

static void resize_case(int align, int half, const float *want)
{
    static const float x[4] = {0, 1, 2, 3};
    static const int32_t size[2] = {4, 4};
    tm_tensor t[] = {T("x", 4, 1, 2, 2, 1), {.name = "s", .rank = 1, .dims = {2}, .type = I32, .data = size, .nbytes = sizeof size},
                     T("y", 4, 1, 4, 4, 1)};
    tm_op op[] = {{RESIZE, 2, {0, 1}, 2, 15, 4, {TBF_I32(0), TBF_I32(0), TBF_U8(align), TBF_U8(half)}}};
    check(t, 3, op, 1, (int[]){0}, 1, x, NULL, want, 16);
}

static void test_resize_bilinear_three_modes(void **state)
{
    (void)state;
    static const float legacy[16] = {0, .5f, 1, 1, 1, 1.5f, 2, 2, 2, 2.5f, 3, 3, 2, 2.5f, 3, 3};
    resize_case(0, 0, legacy);
    const float third = 1.0f / 3.0f;
    const float corners[16] = {0, third, 2 * third, 1, 2 * third, 1, 4 * third, 5 * third,
                               4 * third, 5 * third, 2, 7 * third, 2, 7 * third, 8 * third, 3};
    resize_case(1, 0, corners);
    static const float half[16] = {0, .25f, .75f, 1, .5f, .75f, 1.25f, 1.5f, 1.5f, 1.75f, 2.25f, 2.5f, 2, 2.25f, 2.75f, 3};
    resize_case(0, 1, half);
}

static void test_unsupported_operator_and_attributes_are_named(void **state)
{
    (void)state;
    tm_tensor t[] = {T("a", 2, 1, 2), T("b", 2, 1, 2), T("y", 2, 1, 2)};
    tm_op mul[] = {{MUL, 2, {0, 1}, 2, 0, 0, {{0}}}};
    check_rejected(t, 3, mul, 1, (int[]){0, 1}, 2, "unsupported operator MUL");
    tm_op tanh_act[] = {{ADD, 2, {0, 1}, 2, 11, 1, {TBF_U8(4)}}};
    check_rejected(t, 3, tanh_act, 1, (int[]){0, 1}, 2, "unsupported fused activation 4");
    /* Output shape that does not follow from the input. */
    static const float w[4] = {1, 2, 3, 4};
    tm_tensor tc[] = {T("x", 4, 1, 3, 3, 1), C("w", 4, w, 1, 2, 2, 1), T("y", 4, 1, 3, 3, 1)};
    tm_op conv[] = {{CONV, 2, {0, 1}, 2, 1, 4, {TBF_U8(VALID), TBF_I32(1), TBF_I32(1), TBF_U8(0)}}};
    check_rejected(tc, 3, conv, 1, (int[]){0}, 1, "operator 0 (CONV_2D) output shape does not match");
    /* An input nothing writes. */
    tm_op late[] = {{ADD, 2, {0, 2}, 1, 11, 1, {TBF_U8(0)}}};
    check_rejected(t, 3, late, 1, (int[]){0}, 1, "reads tensor 2 before anything writes it");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_valid_bias_relu),
        cmocka_unit_test(test_conv_same_stride2_no_bias),
        cmocka_unit_test(test_conv_fp16_weights_dequantized),
        cmocka_unit_test(test_depthwise),
        cmocka_unit_test(test_depthwise_3x3_same_strides),
        cmocka_unit_test(test_depthwise_multiplier),
        cmocka_unit_test(test_add_broadcast_then_relu_fused),
        cmocka_unit_test(test_add_two_inputs_relu6),
        cmocka_unit_test(test_add_of_channel_padded_residual),
        cmocka_unit_test(test_conv1x1_with_residual_fused),
        cmocka_unit_test(test_relu_and_relu6_standalone),
        cmocka_unit_test(test_prelu),
        cmocka_unit_test(test_pad_spatial_and_channels),
        cmocka_unit_test(test_maxpool_valid_and_same),
        cmocka_unit_test(test_reshape_and_concat_in_place),
        cmocka_unit_test(test_concat_channels_between_xnnpack_runtimes),
        cmocka_unit_test(test_resize_bilinear_three_modes),
        cmocka_unit_test(test_unsupported_operator_and_attributes_are_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
