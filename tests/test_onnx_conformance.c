/* ONNX conformance: the ONNX project's own node tests (Debian's
 * libonnx-testdata, data/node/test_*: model.onnx plus test_data_set_N with
 * input_K.pb / output_K.pb TensorProtos) for every operator ptim supports,
 * run on the reference and XNNPACK backends with the suite's tolerance
 * (|got - want| <= 1e-7 + 1e-3 |want|).
 *
 * A test is ours when every node of its model is one of `supported` below.
 * Those we cannot run are listed in `skips` with the reason; a listed test
 * that passes fails this test too, so the list stays true. */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nn/graph.h"
#include "nn/nn.h"

static const char *const supported[] = {
    "Conv", "ConvTranspose", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "PRelu", "Sigmoid", "Tanh", "Clip",
    "Erf", "DepthToSpace", "SpaceToDepth", "Resize", "Upsample", "Pad", "Reshape", "Flatten", "Squeeze",
    "Unsqueeze", "Transpose", "Concat", "Split", "Slice", "Gather", "Shape", "Gemm", "MatMul",
    "BatchNormalization", "InstanceNormalization", "ReduceMean", "ReduceSum", "Sqrt", "Pow", "Softmax",
    "GlobalAveragePool", "Identity", "Cast", "Constant", "ConstantOfShape",
};

typedef struct skip {
    const char *test, *why;
} skip;

/* Filled from a full run; every entry says why the test cannot run here. */
static const skip skips[] = {
#include "onnx_conformance_skips.h"
    {NULL, NULL},
};

static int is_supported(const char *op, size_t n)
{
    for (size_t i = 0; i < sizeof supported / sizeof *supported; i++)
        if (strlen(supported[i]) == n && memcmp(supported[i], op, n) == 0)
            return 1;
    return 0;
}

static const char *skip_reason(const char *test)
{
    for (size_t i = 0; skips[i].test; i++)
        if (!strcmp(skips[i].test, test))
            return skips[i].why;
    return NULL;
}

static void *read_all(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    void *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    *size = (size_t)n;
    return buf;
}

/* Scans the model's protobuf for node op_type strings (GraphProto.node = 1,
 * NodeProto.op_type = 4) without the reader: whether all are supported. */
static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int s = 0; s < 64 && *p < end; s += 7) {
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* Calls fn on each length-delimited field `want` of the message. */
static int each_field(const uint8_t *p, const uint8_t *end, uint32_t want,
                      int (*fn)(const uint8_t *, size_t, void *), void *user)
{
    while (p < end) {
        uint64_t key, v;
        if (varint(&p, end, &key))
            return -1;
        int wire = (int)(key & 7);
        if (wire == 0) {
            if (varint(&p, end, &v))
                return -1;
        } else if (wire == 1) {
            p += 8;
        } else if (wire == 5) {
            p += 4;
        } else if (wire == 2) {
            if (varint(&p, end, &v) || v > (uint64_t)(end - p))
                return -1;
            if ((key >> 3) == want && fn(p, (size_t)v, user))
                return 1;
            p += v;
        } else {
            return -1;
        }
    }
    return 0;
}

static int op_field(const uint8_t *p, size_t n, void *user)
{
    *(int *)user &= is_supported((const char *)p, n);
    return 0;
}

static int node_field(const uint8_t *p, size_t n, void *user)
{
    int ok = 1;
    each_field(p, p + n, 4, op_field, &ok);
    *(int *)user &= ok;
    return 0;
}

static int graph_field(const uint8_t *p, size_t n, void *user)
{
    return each_field(p, p + n, 1, node_field, user) < 0;
}

static int model_is_ours(const uint8_t *data, size_t size)
{
    int ok = 1;
    if (each_field(data, data + size, 7, graph_field, &ok) != 0)
        return 0;
    return ok;
}

/* One data set on one backend: the model as it is, or (when its weights,
 * shapes or axes are inputs, as in most of the suite) with every input but
 * the first bound to the set's values. 0 pass, else a message in why. */
static int run_set(const char *dir, int s, const uint8_t *model, size_t msize, const char *name, nn_backend backend,
                   int bind, char *why, size_t wn)
{
    enum { MAX_IN = 16 };
    void *in[MAX_IN] = {0};
    size_t in_size[MAX_IN] = {0};
    int n_in = 0, rc = -1;
    char path[8192];
    for (; n_in < MAX_IN; n_in++) {
        snprintf(path, sizeof path, "%s/test_data_set_%d/input_%d.pb", dir, s, n_in);
        if (!(in[n_in] = read_all(path, &in_size[n_in])))
            break;
    }
    nn_model *m = NULL;
    nn_runner *r = NULL;
    nn_graph *g = NULL;
    ptim_error err = {0};
    nn_onnx_binding b[MAX_IN] = {{0}};
    for (int k = 1; k < n_in && bind; k++)
        b[k] = (nn_onnx_binding){in[k], in_size[k]};
    if (nn_onnx_read_bound(model, msize, name, NULL, b, bind ? n_in : 0, &g, &err) ||
        nn_model_from_graph(g, &m, &err)) {
        snprintf(why, wn, "load: %s", err.message);
        goto out;
    }
    if (nn_runner_create(m, backend, 1, &r, &err)) {
        snprintf(why, wn, "runner: %s", err.message);
        goto out;
    }
    if (nn_model_input_count(m) != (bind ? 1 : n_in)) {
        snprintf(why, wn, "model has %d inputs, the data set %d", nn_model_input_count(m), bind ? 1 : n_in);
        goto out;
    }
    for (int k = 0; k < nn_model_input_count(m); k++) {
        int rank, dims[NN_MAX_RANK], dt;
        float *v = NULL;
        nn_tensor_info info = nn_model_input(m, k);
        if (nn_onnx_read_tensor(in[k], in_size[k], "input", &rank, dims, &dt, &v, &err)) {
            snprintf(why, wn, "input %d: %s", k, err.message);
            goto out;
        }
        size_t cnt = 1;
        for (int i = 0; i < rank; i++)
            cnt *= (size_t)dims[i];
        if (cnt != info.count) {
            free(v);
            snprintf(why, wn, "input %d has %zu values, the model %zu", k, cnt, info.count);
            goto out;
        }
        memcpy(nn_runner_input(r, k), v, cnt * sizeof(float));
        free(v);
    }
    if (nn_runner_run(r, &err)) {
        snprintf(why, wn, "run: %s", err.message);
        goto out;
    }
    for (int k = 0; k < nn_model_output_count(m); k++) {
        snprintf(path, sizeof path, "%s/test_data_set_%d/output_%d.pb", dir, s, k);
        size_t n;
        void *buf = read_all(path, &n);
        int rank, dims[NN_MAX_RANK], dt;
        float *v = NULL;
        nn_tensor_info info = nn_model_output(m, k);
        if (!buf || nn_onnx_read_tensor(buf, n, "output", &rank, dims, &dt, &v, &err)) {
            snprintf(why, wn, "output %d: %s", k, buf ? err.message : "missing");
            free(buf);
            goto out;
        }
        free(buf);
        size_t cnt = 1;
        for (int i = 0; i < rank; i++)
            cnt *= (size_t)dims[i];
        int same_shape = rank == info.rank;
        for (int i = 0; i < rank && same_shape; i++)
            same_shape = dims[i] == info.dims[i];
        if (!same_shape || cnt != info.count) {
            snprintf(why, wn, "output %d: want %zu values (rank %d), ptim has %zu (rank %d)", k, cnt, rank,
                     info.count, info.rank);
            free(v);
            goto out;
        }
        const float *got = nn_runner_output(r, k);
        for (size_t i = 0; i < cnt; i++) {
            double want = v[i], diff = fabs((double)got[i] - want);
            if (!(diff <= 1e-7 + 1e-3 * fabs(want)) && !(isnan(want) && isnan(got[i]))) {
                snprintf(why, wn, "output %d[%zu]: got %.9g, want %.9g", k, i, (double)got[i], want);
                free(v);
                goto out;
            }
        }
        free(v);
    }
    rc = 0;
out:
    nn_runner_destroy(r);
    nn_model_free(m);
    for (int k = 0; k < n_in; k++)
        free(in[k]);
    return rc;
}

/* Every data set on one backend; unbound first, bound when that does not load. */
static int run_case(const char *dir, const uint8_t *model, size_t msize, const char *name, nn_backend backend,
                    char *why, size_t wn)
{
    int sets = 0;
    for (int s = 0;; s++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/test_data_set_%d", dir, s);
        DIR *d = opendir(path);
        if (!d)
            break;
        closedir(d);
        sets++;
        char first[1024];
        if (run_set(dir, s, model, msize, name, backend, 0, first, sizeof first) == 0)
            continue;
        if (strncmp(first, "load:", 5) != 0 ||
            run_set(dir, s, model, msize, name, backend, 1, why, wn) != 0) {
            if (strncmp(first, "load:", 5) != 0)
                snprintf(why, wn, "%s", first);
            return -1;
        }
    }
    if (sets == 0) {
        snprintf(why, wn, "no test data sets");
        return -1;
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_onnx_node_suite(void **state)
{
    (void)state;
    const char *root = getenv("PTIM_ONNX_NODE_TESTS");
    if (!root)
        root = "/usr/share/libonnx-testdata/data/node";
    int verbose = getenv("PTIM_ONNX_VERBOSE") != NULL;
    DIR *d = opendir(root);
    assert_non_null(d); /* bootstrap installs libonnx-testdata */
    char **names = NULL;
    size_t n_names = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "test_", 5) != 0)
            continue;
        if (n_names == cap) {
            cap = cap ? cap * 2 : 1024;
            names = realloc(names, cap * sizeof *names);
            assert_non_null(names);
        }
        names[n_names++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n_names, sizeof *names, by_name);
    int ours = 0, passed = 0, skipped = 0, failed = 0;
    for (size_t i = 0; i < n_names; i++) {
        char dir[4096], path[4200];
        snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
        snprintf(path, sizeof path, "%s/model.onnx", dir);
        size_t size;
        uint8_t *buf = read_all(path, &size);
        if (!buf)
            continue;
        if (!model_is_ours(buf, size)) {
            free(buf);
            continue;
        }
        ours++;
        char why[1024] = "";
        int rc = 0;
        for (int b = 0; b < 2 && rc == 0; b++) {
            rc = run_case(dir, buf, size, names[i], b == 0 ? NN_BACKEND_REFERENCE : NN_BACKEND_XNNPACK, why,
                          sizeof why);
            if (rc) {
                char tmp[900];
                snprintf(tmp, sizeof tmp, "%s: %.800s", b == 0 ? "reference" : "xnnpack", why);
                snprintf(why, sizeof why, "%s", tmp);
            }
        }
        free(buf);
        const char *reason = skip_reason(names[i]);
        if (rc == 0 && !reason) {
            passed++;
            if (verbose)
                printf("pass %s\n", names[i]);
        } else if (rc == 0) {
            failed++;
            printf("FAIL %s passes but is listed as skipped (%s): remove it from the list\n", names[i], reason);
        } else if (reason) {
            skipped++;
            if (verbose)
                printf("skip %s (%s): %s\n", names[i], reason, why);
        } else {
            failed++;
            printf("FAIL %s: %s\n", names[i], why);
        }
    }
    printf("onnx node tests of supported operators: %d; passed %d on both backends, skipped %d (listed), failed %d\n",
           ours, passed, skipped, failed);
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    assert_true(ours > 200); /* the suite is there and our operators are found in it */
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_onnx_node_suite)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
