/* ONNX models end to end: the fixture networks of tests/fixtures/onnx (made
 * by make_fixtures.py with torch: a DeepFaceLive .dfm with and without
 * morph_value:0, inswapper_128 and ArcFace layouts at small widths) match
 * torch's outputs within 1e-4 of each output's range on both backends; and
 * malformed ONNX files are refused with one clear sentence, never a crash. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "nn/graph.h"
#include "nn/nn.h"
#include "nn/npy.h"

/* tests/fixtures/onnx beside samples/ (ctest sets PTIM_SAMPLES_DIR to <source>/samples). */
static const char *fixture(const char *name)
{
    static char path[4][4096];
    static int k;
    k = (k + 1) % 4;
    const char *samples = getenv("PTIM_SAMPLES_DIR");
    char root[3000];
    snprintf(root, sizeof root, "%s", samples ? samples : "samples");
    char *slash = strrchr(root, '/'); /* samples/ is a symlink: strip the name, do not follow it */
    if (slash)
        *slash = 0;
    else
        snprintf(root, sizeof root, ".");
    snprintf(path[k], sizeof path[k], "%s/tests/fixtures/onnx/%s", root, name);
    return path[k];
}

static void check_model(const char *base, int n_in, int n_out)
{
    char name[256];
    snprintf(name, sizeof name, "%s.onnx", base);
    nn_model *m = NULL;
    ptim_error err = {0};
    if (nn_model_load_file(fixture(name), &m, &err))
        fail_msg("%s", err.message);
    assert_int_equal(nn_model_input_count(m), n_in);
    assert_int_equal(nn_model_output_count(m), n_out);
    /* reference, XNNPACK, and XNNPACK from a model of its own made for one
     * runner (nn_runner_create_sole, in parts of at most 4 KB so that every
     * weight is freed as soon as its operator is packed: XNNPACK must not
     * read them again, and they are overwritten with NaN before they go) */
    nn_model *sole = NULL;
    for (int b = 0; b < 3; b++) {
        nn_backend backend = b ? NN_BACKEND_XNNPACK : NN_BACKEND_REFERENCE;
        nn_runner *r = NULL;
        if (b == 2) {
            snprintf(name, sizeof name, "%s.onnx", base);
            if (nn_model_load_file(fixture(name), &sole, &err))
                fail_msg("%s", err.message);
            sole->sole_part_bytes = 4096;
            if (nn_runner_create_sole(sole, backend, 2, &r, &err))
                fail_msg("%s", err.message);
            printf("%s sole runner: %d XNNPACK runtimes\n", base, nn_runner_xnn_runtimes(r));
        } else if (nn_runner_create(m, backend, 2, &r, &err))
            fail_msg("%s", err.message);
        for (int k = 0; k < n_in; k++) {
            snprintf(name, sizeof name, "%s.in%d.npy", base, k);
            float *v;
            int rank, dims[NN_MAX_RANK];
            size_t count;
            if (nn_npy_read(fixture(name), &v, &rank, dims, &count, &err))
                fail_msg("%s", err.message);
            assert_int_equal(count, nn_model_input(m, k).count);
            memcpy(nn_runner_input(r, k), v, count * sizeof(float));
            free(v);
        }
        if (nn_runner_run(r, &err))
            fail_msg("%s", err.message);
        for (int k = 0; k < n_out; k++) {
            snprintf(name, sizeof name, "%s.out%d.npy", base, k);
            float *want;
            int rank, dims[NN_MAX_RANK];
            size_t count;
            if (nn_npy_read(fixture(name), &want, &rank, dims, &count, &err))
                fail_msg("%s", err.message);
            nn_tensor_info info = nn_model_output(m, k);
            assert_int_equal(count, info.count);
            assert_int_equal(rank, info.rank);
            for (int d = 0; d < rank; d++)
                assert_int_equal(dims[d], info.dims[d]);
            float lo = INFINITY, hi = -INFINITY, worst = 0;
            for (size_t i = 0; i < count; i++) {
                lo = fminf(lo, want[i]);
                hi = fmaxf(hi, want[i]);
            }
            const float *got = nn_runner_output(r, k);
            for (size_t i = 0; i < count; i++)
                worst = fmaxf(worst, fabsf(got[i] - want[i]));
            printf("%s %s%s output %d (%s): range %.4g, max |ptim - torch| %.3g\n", base, nn_backend_name(backend),
                   b == 2 ? " (sole)" : "", k, info.name, (double)(hi - lo), (double)worst);
            assert_true(hi - lo > 0); /* a constant output would prove nothing */
            assert_true(worst <= 1e-4f * (hi - lo));
            free(want);
        }
        nn_runner_destroy(r);
    }
    /* its weights are gone: no second runner */
    nn_runner *again = NULL;
    assert_int_equal(nn_runner_create(sole, NN_BACKEND_REFERENCE, 1, &again, &err), -1);
    assert_non_null(strstr(err.message, "went to the one runner it was made for"));
    nn_model_free(sole);
    nn_model_free(m);
}

static void test_dfm(void **state)
{
    (void)state;
    check_model("dfm_224", 1, 3);
}

static void test_dfm_morph(void **state)
{
    (void)state;
    check_model("dfm_224_morph", 2, 3);
}

static void test_inswapper(void **state)
{
    (void)state;
    check_model("inswapper_128", 2, 1);
}

static void test_arcface(void **state)
{
    (void)state;
    check_model("arcface_112", 1, 1);
}

/* The DFM's NHWC→NCHW and NCHW→NHWC transposes around the network cancel:
 * none is left at the input or output. */
static void test_transposes_cancel(void **state)
{
    (void)state;
    nn_model *m = NULL;
    ptim_error err = {0};
    assert_int_equal(nn_model_load_file(fixture("dfm_224.onnx"), &m, &err), 0);
    const nn_graph *g = m->graph;
    for (int i = 0; i < g->n_ops; i++) {
        const nn_op *op = &g->ops[i];
        if (op->dead || op->kind != NN_OP_TRANSPOSE)
            continue;
        assert_false(g->tensors[op->inputs[0]].is_input);
        assert_false(g->tensors[op->output].is_output);
    }
    nn_model_free(m);
}

/* PyTorch's pixel shuffle (DepthToSpace in CRD order) after a convolution
 * is turned into TensorFlow's DCR order at load by renumbering the
 * convolution's channels, so XNNPACK runs it: no CRD operator is left in the
 * DFM fixture (it has five, each after conv + LeakyReLU), the outputs still
 * match torch (test_dfm), and the XNNPACK plan has fewer runtimes than the
 * nine it had with the operators run between them. */
static void test_pixel_shuffle_runs_on_xnnpack(void **state)
{
    (void)state;
    nn_model *m = NULL;
    ptim_error err = {0};
    assert_int_equal(nn_model_load_file(fixture("dfm_224.onnx"), &m, &err), 0);
    const nn_graph *g = m->graph;
    int dts = 0;
    for (int i = 0; i < g->n_ops; i++) {
        const nn_op *op = &g->ops[i];
        if (op->dead || op->kind != NN_OP_DEPTH_TO_SPACE)
            continue;
        dts++;
        assert_int_equal(op->mode, 0);
    }
    assert_int_equal(dts, 5);
    nn_runner *r = NULL;
    assert_int_equal(nn_runner_create(m, NN_BACKEND_XNNPACK, 1, &r, &err), 0);
    printf("dfm_224: %d XNNPACK runtimes\n", nn_runner_xnn_runtimes(r));
    assert_true(nn_runner_xnn_runtimes(r) <= 4);
    nn_runner_destroy(r);
    nn_model_free(m);
}

/* ---- malformed files ---- */

static uint8_t *read_all(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *size = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc(*size);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *size, fp), *size);
    fclose(fp);
    return b;
}

static void expect_refused(const void *data, size_t size, const char *name, const char *needle)
{
    nn_model *m = NULL;
    ptim_error err = {0};
    int rc = nn_model_load_buffer(data, size, name, &m, &err);
    printf("%s: %s\n", name, err.message);
    assert_int_equal(rc, -1);
    assert_null(m);
    char prefix[300];
    snprintf(prefix, sizeof prefix, "model %s: ", name);
    assert_true(strncmp(err.message, prefix, strlen(prefix)) == 0);
    assert_null(strchr(err.message, '\n'));
    if (needle)
        assert_non_null(strstr(err.message, needle));
}

/* Protobuf writer for hand-made models. */
typedef struct pbw {
    uint8_t b[4096];
    size_t n;
} pbw;

static void w_varint(pbw *w, uint64_t v)
{
    while (v >= 0x80) {
        w->b[w->n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    w->b[w->n++] = (uint8_t)v;
}

static void w_bytes(pbw *w, int field, const void *p, size_t n)
{
    w_varint(w, (uint64_t)field << 3 | 2);
    w_varint(w, n);
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void w_str(pbw *w, int field, const char *s)
{
    w_bytes(w, field, s, strlen(s));
}

static void w_int(pbw *w, int field, int64_t v)
{
    w_varint(w, (uint64_t)field << 3);
    w_varint(w, (uint64_t)v);
}

static void w_msg(pbw *w, int field, const pbw *m)
{
    w_bytes(w, field, m->b, m->n);
}

/* ValueInfo of a float tensor with these dims. */
static void value_info(pbw *out, int field, const char *name, int rank, const int64_t *dims)
{
    pbw shape = {0}, tt = {0}, type = {0}, vi = {0};
    for (int d = 0; d < rank; d++) {
        pbw dim = {0};
        w_int(&dim, 1, dims[d]);
        w_msg(&shape, 1, &dim);
    }
    w_int(&tt, 1, 1);
    w_msg(&tt, 2, &shape);
    w_msg(&type, 1, &tt);
    w_str(&vi, 1, name);
    w_msg(&vi, 2, &type);
    w_msg(out, field, &vi);
}

static void node(pbw *g, const char *op, const char *in0, const char *in1, const char *out)
{
    pbw n = {0};
    w_str(&n, 1, in0);
    if (in1)
        w_str(&n, 1, in1);
    w_str(&n, 2, out);
    w_str(&n, 4, op);
    w_msg(g, 1, &n);
}

/* Model around graph `g` at opset 13. */
static size_t model(uint8_t *out, const pbw *g)
{
    pbw m = {0}, ops = {0};
    w_int(&m, 1, 8);
    w_int(&ops, 2, 13);
    w_msg(&m, 8, &ops);
    w_msg(&m, 7, g);
    memcpy(out, m.b, m.n);
    return m.n;
}

/* A float initializer with raw data (or external data at `location`). */
static void initializer(pbw *g, const char *name, int rank, const int64_t *dims, const float *v, size_t count,
                        int dtype, const char *location)
{
    pbw t = {0};
    for (int d = 0; d < rank; d++)
        w_int(&t, 1, dims[d]);
    w_int(&t, 2, dtype);
    w_str(&t, 8, name);
    if (location) {
        pbw kv = {0};
        w_str(&kv, 1, "location");
        w_str(&kv, 2, location);
        w_msg(&t, 13, &kv);
        w_int(&t, 14, 1);
    } else {
        w_bytes(&t, 9, v, count * sizeof(float));
    }
    w_msg(g, 5, &t);
}

static void test_malformed(void **state)
{
    (void)state;
    uint8_t buf[8192];
    size_t n;
    const int64_t d4[4] = {1, 2, 2, 3}, d1[1] = {3};
    const float three[3] = {1, 2, 3};

    /* A good small model first: x + c. */
    pbw g = {0};
    node(&g, "Add", "x", "c", "y");
    initializer(&g, "c", 1, d1, three, 3, 1, NULL);
    value_info(&g, 11, "x", 4, d4);
    value_info(&g, 12, "y", 4, d4);
    n = model(buf, &g);
    nn_model *m = NULL;
    ptim_error err = {0};
    assert_int_equal(nn_model_load_buffer(buf, n, "good.onnx", &m, &err), 0);
    nn_model_free(m);

    /* Truncated anywhere: refused. */
    for (size_t cut = 0; cut < n; cut++) {
        m = NULL;
        assert_int_equal(nn_model_load_buffer(buf, cut, "cut.onnx", &m, &err), -1);
        assert_null(m);
    }
    expect_refused(buf, n / 2, "truncated.onnx", NULL);

    /* Wrong types: an int64 graph input. */
    pbw g2 = {0};
    node(&g2, "Relu", "x", NULL, "y");
    {
        pbw shape = {0}, tt = {0}, type = {0}, vi = {0}, dim = {0};
        w_int(&dim, 1, 4);
        w_msg(&shape, 1, &dim);
        w_int(&tt, 1, 7);
        w_msg(&tt, 2, &shape);
        w_msg(&type, 1, &tt);
        w_str(&vi, 1, "x");
        w_msg(&vi, 2, &type);
        w_msg(&g2, 11, &vi);
    }
    value_info(&g2, 12, "y", 1, d1);
    n = model(buf, &g2);
    expect_refused(buf, n, "int_input.onnx", "data type 7");

    /* Missing initializer. */
    pbw g3 = {0};
    node(&g3, "Add", "x", "missing", "y");
    value_info(&g3, 11, "x", 4, d4);
    value_info(&g3, 12, "y", 4, d4);
    n = model(buf, &g3);
    expect_refused(buf, n, "missing_init.onnx", "'missing' before anything writes it");

    /* Cyclic graph: a reads b, b reads a. */
    pbw g4 = {0};
    node(&g4, "Add", "x", "b", "a");
    node(&g4, "Relu", "a", NULL, "b");
    value_info(&g4, 11, "x", 4, d4);
    value_info(&g4, 12, "b", 4, d4);
    n = model(buf, &g4);
    expect_refused(buf, n, "cyclic.onnx", "before anything writes it");

    /* Absurd shapes: a 2^40-element input, and an initializer whose data does not match its dims. */
    pbw g5 = {0};
    const int64_t huge[4] = {1, 1 << 20, 1 << 20, 3};
    node(&g5, "Relu", "x", NULL, "y");
    value_info(&g5, 11, "x", 4, huge);
    value_info(&g5, 12, "y", 4, huge);
    n = model(buf, &g5);
    expect_refused(buf, n, "huge.onnx", "larger than");
    pbw g6 = {0};
    const int64_t lie[1] = {1000000};
    node(&g6, "Add", "x", "c", "y");
    initializer(&g6, "c", 1, lie, three, 3, 1, NULL);
    value_info(&g6, 11, "x", 4, d4);
    value_info(&g6, 12, "y", 4, d4);
    n = model(buf, &g6);
    expect_refused(buf, n, "lying_dims.onnx", "bytes of data");

    /* An unsupported operator is named with its node. */
    pbw g7 = {0};
    node(&g7, "Celu", "x", NULL, "y");
    value_info(&g7, 11, "x", 4, d4);
    value_info(&g7, 12, "y", 4, d4);
    n = model(buf, &g7);
    expect_refused(buf, n, "celu.onnx", "operator 'Celu' is not supported");

    /* External data pointing outside the model's directory. */
    const char *tmp = getenv("PTIM_TEST_TMP");
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/onnx_ext", tmp ? tmp : "/tmp");
    mkdir(dir, 0755);
    const char *escapes[] = {"../secret.bin", "/etc/passwd", "sub/../../secret.bin"};
    for (int k = 0; k < 3; k++) {
        pbw g8 = {0};
        node(&g8, "Add", "x", "c", "y");
        initializer(&g8, "c", 1, d1, NULL, 3, 1, escapes[k]);
        value_info(&g8, 11, "x", 4, d4);
        value_info(&g8, 12, "y", 4, d4);
        n = model(buf, &g8);
        snprintf(path, sizeof path, "%s/escape%d.onnx", dir, k);
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(buf, 1, n, fp), n);
        fclose(fp);
        m = NULL;
        assert_int_equal(nn_model_load_file(path, &m, &err), -1);
        printf("escape%d.onnx: %s\n", k, err.message);
        assert_non_null(strstr(err.message, "outside the model's directory"));
    }
    /* And external data inside the directory loads. */
    {
        pbw g9 = {0};
        node(&g9, "Add", "x", "c", "y");
        initializer(&g9, "c", 1, d1, NULL, 3, 1, "weights.bin");
        value_info(&g9, 11, "x", 4, d4);
        value_info(&g9, 12, "y", 4, d4);
        n = model(buf, &g9);
        snprintf(path, sizeof path, "%s/weights.bin", dir);
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(three, sizeof(float), 3, fp), 3);
        fclose(fp);
        snprintf(path, sizeof path, "%s/inside.onnx", dir);
        fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(buf, 1, n, fp), n);
        fclose(fp);
        m = NULL;
        if (nn_model_load_file(path, &m, &err))
            fail_msg("%s", err.message);
        nn_runner *r;
        assert_int_equal(nn_runner_create(m, NN_BACKEND_REFERENCE, 1, &r, &err), 0);
        float *x = nn_runner_input(r, 0);
        for (int i = 0; i < 12; i++)
            x[i] = (float)i;
        assert_int_equal(nn_runner_run(r, &err), 0);
        const float *y = nn_runner_output(r, 0);
        /* Input is NCHW [1,2,2,3]: the constant [1,2,3] adds along the last dim. */
        for (int i = 0; i < 12; i++)
            assert_float_equal(y[i], (float)i + three[i % 3], 0);
        nn_runner_destroy(r);
        nn_model_free(m);
    }

    /* Random bit flips of a real fixture never crash. */
    size_t size;
    uint8_t *orig = read_all(fixture("inswapper_128.onnx"), &size);
    uint8_t *copy = malloc(size);
    assert_non_null(copy);
    srand(10);
    int refused = 0;
    for (int t = 0; t < 60; t++) {
        memcpy(copy, orig, size);
        for (int f = 0; f < 4; f++)
            copy[(size_t)rand() % size] ^= (uint8_t)(1u << (rand() % 8));
        m = NULL;
        if (nn_model_load_buffer(copy, size, "flipped.onnx", &m, &err) == 0)
            nn_model_free(m);
        else
            refused++;
    }
    printf("inswapper_128.onnx: %d of 60 flipped files refused, none crashed\n", refused);
    free(copy);
    free(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dfm),       cmocka_unit_test(test_dfm_morph),
        cmocka_unit_test(test_inswapper), cmocka_unit_test(test_arcface),
        cmocka_unit_test(test_transposes_cancel), cmocka_unit_test(test_pixel_shuffle_runs_on_xnnpack),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
