/* nn/tfjs: the TensorFlow.js graph model reader on small hand-written models
 * (values computed by hand), its refusals of broken files, and MobileFaceNet
 * itself: the reference and XNNPACK backends agree on a real face crop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/image_file.h"
#include "nn/graph.h"
#include "nn/nn.h"
#include "nn_test_util.h"

/* One graph: x[1,2,2,1] → _FusedConv2D (1x1, weight w, bias b, fused ops
 * FUSED) → PReLU written out (Relu + c*(x-|x|)) → Sum over the channels →
 * Maximum with a scalar. Weights: w (float32 or quantized), b, c, m, axis. */
static char *model_json(const char *w_entry, const char *fused_b64)
{
    static char buf[8192];
    snprintf(buf, sizeof buf,
             "{\"format\":\"graph-model\",\"modelTopology\":{\"node\":["
             "{\"name\":\"out\",\"op\":\"Maximum\",\"input\":[\"sum\",\"m\"]},"
             "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"shape\":{\"shape\":{\"dim\":[{\"size\":\"-1\"},"
             "{\"size\":\"2\"},{\"size\":\"2\"},{\"size\":\"1\"}]}}}},"
             "{\"name\":\"w\",\"op\":\"Const\"},{\"name\":\"b\",\"op\":\"Const\"},{\"name\":\"c\",\"op\":\"Const\"},"
             "{\"name\":\"m\",\"op\":\"Const\"},{\"name\":\"axis\",\"op\":\"Const\"},"
             "{\"name\":\"conv\",\"op\":\"_FusedConv2D\",\"input\":[\"x\",\"w\",\"b\"],\"attr\":{"
             "\"fused_ops\":{\"list\":{\"s\":[%s]}},\"padding\":{\"s\":\"U0FNRQ==\"},"
             "\"strides\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}},\"data_format\":{\"s\":\"TkhXQw==\"}}},"
             "{\"name\":\"relu\",\"op\":\"Relu\",\"input\":[\"conv\"]},"
             "{\"name\":\"abs\",\"op\":\"Abs\",\"input\":[\"conv\"]},"
             "{\"name\":\"sub\",\"op\":\"Sub\",\"input\":[\"conv\",\"abs\"]},"
             "{\"name\":\"mul\",\"op\":\"Mul\",\"input\":[\"sub\",\"c\"]},"
             "{\"name\":\"prelu\",\"op\":\"Add\",\"input\":[\"relu\",\"mul\"]},"
             "{\"name\":\"sum\",\"op\":\"Sum\",\"input\":[\"prelu\",\"axis\"],\"attr\":{\"keep_dims\":{\"b\":true}}}"
             "]},\"weightsManifest\":[{\"paths\":[\"w.bin\"],\"weights\":["
             "%s,"
             "{\"name\":\"b\",\"shape\":[2],\"dtype\":\"float32\"},"
             "{\"name\":\"c\",\"shape\":[2],\"dtype\":\"float32\"},"
             "{\"name\":\"m\",\"shape\":[],\"dtype\":\"float32\"},"
             "{\"name\":\"axis\",\"shape\":[],\"dtype\":\"int32\"}]}]}",
             fused_b64, w_entry);
    return buf;
}

#define W_F32 "{\"name\":\"w\",\"shape\":[1,1,1,2],\"dtype\":\"float32\"}"
#define BIASADD "\"Qmlhc0FkZA==\""

/* The weights after w: b = {0.5, -4}, c = {0.25, 0.1} (PReLU slopes 0.5, 0.2),
 * m = -100, axis = 3. */
static size_t tail_bytes(uint8_t *p)
{
    float f[5] = {0.5f, -4.0f, 0.25f, 0.1f, -100.0f};
    int32_t axis = 3;
    memcpy(p, f, sizeof f);
    memcpy(p + sizeof f, &axis, 4);
    return sizeof f + 4;
}

/* x = {1, -2, 3, 0}; w = {2, 1}: conv = (2x + 0.5, x - 4); PReLU with slopes
 * 0.5 and 0.2; then the sum of the two channels. */
static void expected_out(float out[4], int relu_fused)
{
    const float x[4] = {1, -2, 3, 0};
    for (int k = 0; k < 4; k++) {
        float a = 2 * x[k] + 0.5f, b = x[k] - 4;
        if (relu_fused) { /* the conv's own Relu runs first, so the PReLU sees no negatives */
            a = fmaxf(a, 0);
            b = fmaxf(b, 0);
        }
        a = a >= 0 ? a : 0.5f * a;
        b = b >= 0 ? b : 0.2f * b;
        out[k] = fmaxf(a + b, -100.0f);
    }
}

static nn_graph *read_ok(const char *json, const uint8_t *w, size_t wn)
{
    nn_graph *g = NULL;
    ptim_error err = {0};
    if (nn_tfjs_read(json, strlen(json), w, wn, "t.json", &g, &err))
        fail_msg("%s", err.message);
    return g;
}

static void run_both(nn_graph *g, const float expected[4])
{
    ptim_error err = {0};
    if (nn_graph_prepare(g, &err))
        fail_msg("%s", err.message);
    nn_model m = {.graph = g};
    const float x[4] = {1, -2, 3, 0};
    const nn_backend backends[] = {NN_BACKEND_REFERENCE, NN_BACKEND_XNNPACK};
    for (int b = 0; b < 2; b++) {
        nn_runner *r;
        if (nn_runner_create(&m, backends[b], 1, &r, &err))
            fail_msg("%s", err.message);
        memcpy(nn_runner_input(r, 0), x, sizeof x);
        assert_int_equal(nn_runner_run(r, &err), 0);
        assert_int_equal(nn_model_output(&m, 0).count, 4);
        const float *y = nn_runner_output(r, 0);
        for (int k = 0; k < 4; k++)
            if (fabsf(y[k] - expected[k]) > 1e-5f)
                fail_msg("%s: output %d is %g, expected %g", nn_backend_name(backends[b]), k, y[k], expected[k]);
        nn_runner_destroy(r);
    }
    nn_graph_free(g);
}

static int live_ops(const nn_graph *g, nn_op_kind kind)
{
    int n = 0;
    for (int i = 0; i < g->n_ops; i++)
        n += !g->ops[i].dead && g->ops[i].kind == kind;
    return n;
}

static void test_float32_prelu_folded(void **state)
{
    (void)state;
    uint8_t w[64];
    float wf[2] = {2, 1};
    memcpy(w, wf, 8);
    size_t n = 8 + tail_bytes(w + 8);
    nn_graph *g = read_ok(model_json(W_F32, BIASADD), w, n);
    /* Relu/Abs/Sub/Mul/Add became one PRELU. */
    assert_int_equal(live_ops(g, NN_OP_PRELU), 1);
    assert_int_equal(live_ops(g, NN_OP_ABS) + live_ops(g, NN_OP_SUB) + live_ops(g, NN_OP_MUL), 0);
    float e[4];
    expected_out(e, 0);
    run_both(g, e);
}

static void test_fused_relu(void **state)
{
    (void)state;
    uint8_t w[64];
    float wf[2] = {2, 1};
    memcpy(w, wf, 8);
    size_t n = 8 + tail_bytes(w + 8);
    float e[4];
    expected_out(e, 1);
    run_both(read_ok(model_json(W_F32, BIASADD ",\"UmVsdQ==\""), w, n), e);
}

static void test_float16_weights(void **state)
{
    (void)state;
    uint8_t w[64];
    uint16_t h[2] = {0x4000, 0x3c00}; /* 2.0, 1.0 */
    memcpy(w, h, 4);
    size_t n = 4 + tail_bytes(w + 4);
    float e[4];
    expected_out(e, 0);
    run_both(read_ok(model_json("{\"name\":\"w\",\"shape\":[1,1,1,2],\"dtype\":\"float32\","
                                "\"quantization\":{\"dtype\":\"float16\"}}",
                                BIASADD),
                     w, n),
             e);
}

static void test_uint8_weights(void **state)
{
    (void)state;
    uint8_t w[64] = {4, 2}; /* 4 * 0.5 + 0 = 2, 2 * 0.5 = 1 */
    size_t n = 2 + tail_bytes(w + 2);
    float e[4];
    expected_out(e, 0);
    run_both(read_ok(model_json("{\"name\":\"w\",\"shape\":[1,1,1,2],\"dtype\":\"float32\","
                                "\"quantization\":{\"dtype\":\"uint8\",\"scale\":0.5,\"min\":0}}",
                                BIASADD),
                     w, n),
             e);
}

static void expect_error(const char *json, const uint8_t *w, size_t wn, const char *words)
{
    nn_graph *g = NULL;
    ptim_error err = {0};
    assert_int_not_equal(nn_tfjs_read(json, strlen(json), w, wn, "t.json", &g, &err), 0);
    assert_null(g);
    if (!strstr(err.message, words))
        fail_msg("message '%s' lacks '%s'", err.message, words);
}

static void test_refusals(void **state)
{
    (void)state;
    uint8_t w[64];
    float wf[2] = {2, 1};
    memcpy(w, wf, 8);
    size_t n = 8 + tail_bytes(w + 8);
    expect_error("{\"modelTopology\":", w, n, "not valid JSON");
    expect_error("{\"modelTopology\":{}}", w, n, "no modelTopology.node");
    expect_error(model_json(W_F32, BIASADD), w, n - 1, "past the end");
    expect_error(model_json(W_F32, BIASADD), w, n + 4, "the manifest describes");
    expect_error(model_json("{\"name\":\"w\",\"shape\":[1,1,1,2],\"dtype\":\"string\"}", BIASADD), w, n,
                 "unsupported type string");
    expect_error(model_json("{\"name\":\"w\",\"shape\":[1,1,1,2],\"dtype\":\"float32\","
                            "\"quantization\":{\"dtype\":\"int4\",\"scale\":1,\"min\":0}}",
                            BIASADD),
                 w, n, "unsupported type int4");
    expect_error(model_json(W_F32, "\"Rm9v\""), w, n, "unsupported fused operation Foo");
    expect_error(model_json("{\"name\":\"w\",\"shape\":[1,1,3,2],\"dtype\":\"float32\"}", BIASADD), w, n,
                 "past the end");
    /* A cycle, an unknown op, a dangling input. */
    expect_error("{\"modelTopology\":{\"node\":[{\"name\":\"a\",\"op\":\"Relu\",\"input\":[\"b\"]},"
                 "{\"name\":\"b\",\"op\":\"Relu\",\"input\":[\"a\"]}]},\"weightsManifest\":[]}",
                 w, 0, "cycle");
    expect_error("{\"modelTopology\":{\"node\":[{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"shape\":{"
                 "\"shape\":{\"dim\":[{\"size\":\"4\"}]}}}},{\"name\":\"a\",\"op\":\"Softmax\",\"input\":[\"x\"]}]},"
                 "\"weightsManifest\":[]}",
                 w, 0, "unsupported operation Softmax");
    expect_error("{\"modelTopology\":{\"node\":[{\"name\":\"a\",\"op\":\"Relu\",\"input\":[\"zz\"]}]},"
                 "\"weightsManifest\":[]}",
                 w, 0, "not a node");
}

/* MobileFaceNet: both backends give the same embedding of a face crop. */
static void test_mobilefacenet_backends_agree(void **state)
{
    (void)state;
    nn_model *m;
    ptim_error err = {0};
    if (nn_model_load_file(nn_test_model("mobilefacenet.json"), &m, &err))
        fail_msg("%s", err.message);
    nn_tensor_info in = nn_model_input(m, 0), out = nn_model_output(m, 0);
    assert_int_equal(in.count, 112 * 112 * 3);
    assert_int_equal(out.count, 192);
    img_image pic;
    if (io_image_load(nn_test_sample("astronaut.png"), IMG_FMT_RGB24, &pic, &err))
        fail_msg("%s", err.message);
    float *x = malloc(in.count * sizeof(float));
    float *y[2];
    assert_non_null(x);
    nn_test_crop(&pic.view, 150, 40, 150, 150, 112, 1.0f / 255.0f, 0.0f, x);
    const nn_backend backends[] = {NN_BACKEND_REFERENCE, NN_BACKEND_XNNPACK};
    for (int b = 0; b < 2; b++) {
        nn_runner *r;
        if (nn_runner_create(m, backends[b], 1, &r, &err))
            fail_msg("%s", err.message);
        memcpy(nn_runner_input(r, 0), x, in.count * sizeof(float));
        assert_int_equal(nn_runner_run(r, &err), 0);
        y[b] = malloc(out.count * sizeof(float));
        memcpy(y[b], nn_runner_output(r, 0), out.count * sizeof(float));
        nn_runner_destroy(r);
    }
    float worst = 0, norm = 0;
    for (size_t k = 0; k < out.count; k++) {
        worst = fmaxf(worst, fabsf(y[0][k] - y[1][k]));
        norm += y[0][k] * y[0][k];
    }
    printf("mobilefacenet: reference vs xnnpack worst difference %.3g (output norm %.4f)\n", worst, sqrtf(norm));
    assert_true(worst < 1e-4f);
    assert_true(fabsf(sqrtf(norm) - 1.0f) < 1e-3f); /* the graph's own L2 normalization ran */
    free(y[0]);
    free(y[1]);
    free(x);
    img_image_free(&pic);
    nn_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float32_prelu_folded),
        cmocka_unit_test(test_fused_relu),
        cmocka_unit_test(test_float16_weights),
        cmocka_unit_test(test_uint8_weights),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_mobilefacenet_backends_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
