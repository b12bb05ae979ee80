/* app/bench_nn — `ptim bench nn [--threads N] [--runs N] [--model-dir DIR] [--model PATH]...`:
 * per model, load time and median / p95 inference time for each backend
 * (--model: these files, .tflite, .onnx or .dfm, instead of the defaults;
 * --best-case: also XNNPACK's best case for the same work, one 3x3
 * convolution, and how far below it the model is; --per-op: each operator).
 * The models are the three MediaPipe ones from the model directory
 * (--model-dir, else $PTIM_SYSTEM_MODEL_DIR, else the source tree's models/). */
#include "app/bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/graph.h"
#include "nn/nn.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time of the calling thread: on a shared machine it counts only our
 * own work, where wall time also counts waiting for a core. */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int k = (int)(p * (n - 1) + 0.5);
    return v[k < n ? k : n - 1];
}

static int parse_int(const char *flag, const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi) {
        fprintf(stderr, "ptim bench nn: %s %s is not a number from %d to %d\n", flag, s, lo, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* Where the time goes: each operator timed alone on XNNPACK. */
static void per_op(const nn_model *m, int runs)
{
    const nn_graph *g = m->graph;
    nn_runner *r;
    ptim_error err = {0};
    double *ms = calloc((size_t)g->n_ops, sizeof *ms);
    if (!ms || nn_runner_create(m, NN_BACKEND_REFERENCE, 1, &r, &err)) {
        free(ms);
        return;
    }
    if (nn_xnn_profile_ops(g, nn_runner_tensor_ptrs(r), runs, ms, &err) == 0) {
        double by_kind[NN_OP__COUNT] = {0}, total = 0;
        int n_kind[NN_OP__COUNT] = {0};
        for (int i = 0; i < g->n_ops; i++) {
            if (ms[i] <= 0)
                continue;
            by_kind[g->ops[i].kind] += ms[i];
            n_kind[g->ops[i].kind]++;
            total += ms[i];
        }
        printf("  per operator, each alone on XNNPACK (fastest run): total %.3f ms\n", total);
        for (int k = 0; k < NN_OP__COUNT; k++)
            if (n_kind[k])
                printf("    %-18s %3d ops %8.3f ms\n", nn_op_kind_name((nn_op_kind)k), n_kind[k], by_kind[k]);
        for (int shown = 0; shown < 25; shown++) {
            int best = -1;
            for (int i = 0; i < g->n_ops; i++)
                if (ms[i] > 0 && (best < 0 || ms[i] > ms[best]))
                    best = i;
            if (best < 0)
                break;
            const nn_op *op = &g->ops[best];
            const nn_tensor *x = &g->tensors[op->inputs[0]], *y = &g->tensors[op->output];
            printf("    op %3d %-18s %dx%dx%d -> %dx%dx%d k%dx%d s%d %7.3f ms\n", best, nn_op_kind_name(op->kind),
                   x->rank == 4 ? x->dims[1] : 0, x->rank == 4 ? x->dims[2] : 0, x->dims[x->rank - 1],
                   y->rank == 4 ? y->dims[1] : 0, y->rank == 4 ? y->dims[2] : 0, y->dims[y->rank - 1], op->kernel_h,
                   op->kernel_w, op->stride_h, ms[best]);
            ms[best] = -1;
        }
    } else {
        printf("  per operator: %s\n", err.message);
    }
    nn_runner_destroy(r);
    free(ms);
}

/* Floating-point operations of one run (a multiply-add counts two). */
static double graph_flops(const nn_graph *g)
{
    double f = 0;
    for (int i = 0; i < g->n_ops; i++) {
        const nn_op *op = &g->ops[i];
        if (op->dead)
            continue;
        const nn_tensor *x = &g->tensors[op->inputs[0]], *y = &g->tensors[op->output];
        double out = (double)y->count;
        switch (op->kind) {
        case NN_OP_CONV2D:
        case NN_OP_CONV1X1_ADD: {
            const nn_tensor *w = &g->tensors[op->inputs[1]];
            f += 2.0 * out * (double)w->count / (double)w->dims[0];
            break;
        }
        case NN_OP_DWCONV2D: f += 2.0 * out * op->kernel_h * op->kernel_w; break;
        case NN_OP_MATMUL: f += 2.0 * out * x->dims[x->rank - 1]; break;
        case NN_OP_DECONV2D: f += 2.0 * (double)x->count * (double)g->tensors[op->inputs[1]].count / x->dims[3]; break;
        default: f += out; break;
        }
    }
    return f;
}

/* XNNPACK's best case for `flops` of work: one 3x3 convolution, `ch`
 * channels in and out, stride 1, same padding, on a square input sized so
 * that it does that work (the yardstick for a model's GFLOP/s). The
 * graph is made here, not read from a file. NULL when out of memory. */
static nn_model *single_conv_model(double flops, int ch, int *side_out)
{
    int side = (int)lround(sqrt(flops / (2.0 * 9 * ch * ch)));
    if (side < 4)
        side = 4;
    *side_out = side;
    nn_graph *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->name = strdup("single 3x3 convolution");
    g->tensors = calloc(4, sizeof *g->tensors);
    g->ops = calloc(1, sizeof *g->ops);
    g->inputs = malloc(sizeof *g->inputs);
    g->outputs = malloc(sizeof *g->outputs);
    int *in = malloc(3 * sizeof *in);
    const int dims[4][4] = {{1, side, side, ch}, {ch, 3, 3, ch}, {ch}, {1, side, side, ch}};
    const int ranks[4] = {4, 4, 1, 4};
    static const char *const names[4] = {"x", "w", "b", "y"};
    int ok = g->name && g->tensors && g->ops && g->inputs && g->outputs && in;
    for (int t = 0; t < 4 && ok; t++) {
        nn_tensor *x = &g->tensors[t];
        x->name = strdup(names[t]);
        x->rank = ranks[t];
        x->count = 1;
        for (int d = 0; d < x->rank; d++)
            x->count *= (size_t)(x->dims[d] = dims[t][d]);
        x->producer = t == 3 ? 0 : -1;
        x->alias_of = -1;
        if (t == 1 || t == 2) {
            x->data = malloc(x->count * sizeof *x->data);
            for (size_t i = 0; x->data && i < x->count; i++)
                x->data[i] = (float)((i * 2654435761u) % 1000) / 1000.f - 0.5f;
            g->param_count += x->count;
        }
        ok = x->name && (t == 0 || t == 3 || x->data);
        g->n_tensors = t + 1;
    }
    if (!ok) {
        free(in);
        nn_graph_free(g);
        return NULL;
    }
    g->n_inputs = g->n_outputs = 1;
    g->inputs[0] = 0, g->outputs[0] = 3;
    g->tensors[0].is_input = g->tensors[3].is_output = 1;
    nn_op *op = &g->ops[0];
    g->n_ops = 1;
    op->kind = NN_OP_CONV2D;
    op->n_inputs = 3;
    in[0] = 0, in[1] = 1, in[2] = 2;
    op->inputs = in;
    op->output = 3;
    op->act_min = -INFINITY, op->act_max = INFINITY;
    op->kernel_h = op->kernel_w = 3;
    op->stride_h = op->stride_w = op->dilation_h = op->dilation_w = 1;
    op->pad_top = op->pad_bottom = op->pad_left = op->pad_right = 1;
    op->depth_multiplier = 1;
    nn_model *m;
    ptim_error err = {0};
    if (nn_graph_validate(g, &err)) {
        fprintf(stderr, "ptim bench nn: %s\n", err.message);
        nn_graph_free(g);
        return NULL;
    }
    return nn_model_from_graph(g, &m, &err) ? NULL : m;
}

static double bench_backend(const nn_model *m, nn_backend backend, int threads, int runs);

/* The model's GFLOP/s against XNNPACK's best case for the same work: the
 * fastest of single 3x3 convolutions of 32, 64 and 128 channels. */
static void versus_best_case(const nn_model *m, int threads, int runs, double model_gflops)
{
    double flops = graph_flops(m->graph), best = 0;
    int best_ch = 0, best_side = 0;
    for (int ch = 32; ch <= 128; ch *= 2) {
        int side;
        nn_model *c = single_conv_model(flops, ch, &side);
        if (!c)
            continue;
        printf("  best case, 3x3 conv %dx%dx%d -> %d:", side, side, ch, ch);
        double gf = bench_backend(c, NN_BACKEND_XNNPACK, threads, runs);
        if (gf > best)
            best = gf, best_ch = ch, best_side = side;
        nn_model_free(c);
    }
    if (best > 0 && model_gflops > 0)
        printf("  %s reaches %.2f GFLOP/s, %.2fx below XNNPACK's best case for the same work (%.2f GFLOP/s, "
               "3x3 conv %dx%dx%d) (goal: within 2x)\n",
               nn_model_name(m), model_gflops, best / model_gflops, best, best_side, best_side, best_ch);
}

/* Returns the GFLOP/s reached (0 when it failed). */
static double bench_backend(const nn_model *m, nn_backend backend, int threads, int runs)
{
    nn_runner *r;
    ptim_error err = {0};
    double t0 = now_ms();
    if (nn_runner_create(m, backend, threads, &r, &err)) {
        printf("  %-10s unavailable: %s\n", nn_backend_name(backend), err.message);
        return 0;
    }
    double create_ms = now_ms() - t0;
    for (int k = 0; k < nn_model_input_count(m); k++) {
        size_t n = nn_model_input(m, k).count;
        float *in = nn_runner_input(r, k);
        for (size_t i = 0; i < n; i++)
            in[i] = (float)((i * 7919) % 255) / 127.5f - 1.0f;
    }
    double *t = malloc((size_t)runs * sizeof *t), *c = malloc((size_t)runs * sizeof *c);
    if (!t || !c) {
        free(t);
        free(c);
        nn_runner_destroy(r);
        return 0;
    }
    int rc = 0;
    double gflops = 0;
    for (int k = 0; k < 3 && rc == 0; k++) /* warm caches and worker threads */
        rc = nn_runner_run(r, &err);
    for (int k = 0; k < runs && rc == 0; k++) {
        double a = now_ms(), ca = cpu_ms();
        rc = nn_runner_run(r, &err);
        t[k] = now_ms() - a;
        c[k] = cpu_ms() - ca;
    }
    if (rc) {
        printf("  %-10s run failed: %s\n", nn_backend_name(backend), err.message);
    } else {
        double mean = 0;
        for (int k = 0; k < runs; k++)
            mean += t[k];
        mean /= runs;
        double med = percentile(t, runs, 0.5), p95 = percentile(t, runs, 0.95);
        printf("  %-10s create %7.2f ms   median %8.3f ms   p95 %8.3f ms   mean %8.3f ms", nn_backend_name(backend),
               create_ms, med, p95, mean);
        if (threads == 1 || backend == NN_BACKEND_REFERENCE) /* workers' time is not the caller's */
            printf("   cpu median %8.3f ms", percentile(c, runs, 0.5));
        gflops = graph_flops(m->graph) / (med * 1e6);
        printf("   %.2f GFLOP/s", gflops);
        printf("   (%d runs)\n", runs);
    }
    free(t);
    free(c);
    nn_runner_destroy(r);
    return rc ? 0 : gflops;
}

int bench_nn_main(int argc, char **argv)
{
    int threads = 1, runs = 100;
    const char *dir = getenv("PTIM_SYSTEM_MODEL_DIR");
    int only_xnn = 0, want_per_op = 0, want_best_case = 0, n_models = 0;
    const char *models[16];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            if (parse_int("--threads", argv[++i], 1, 64, &threads))
                return 2;
        } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            if (parse_int("--runs", argv[++i], 1, 100000, &runs))
                return 2;
        } else if (!strcmp(argv[i], "--model-dir") && i + 1 < argc) {
            dir = argv[++i];
        } else if (!strcmp(argv[i], "--model") && i + 1 < argc && n_models < 16) {
            models[n_models++] = argv[++i];
        } else if (!strcmp(argv[i], "--per-op")) {
            want_per_op = 1;
        } else if (!strcmp(argv[i], "--best-case")) {
            want_best_case = 1;
        } else if (!strcmp(argv[i], "--xnnpack-only")) {
            only_xnn = 1;
        } else {
            fprintf(stderr, "usage: ptim bench nn [--threads N] [--runs N] [--model-dir DIR] [--xnnpack-only] [--per-op] [--best-case] [--model PATH]...\n");
            return 2;
        }
    }
    if (!dir || !*dir)
        dir = PTIM_SOURCE_DIR "/models";
    static const char *const names[] = {"face_detection_short_range.tflite", "face_detection_full_range.tflite",
                                        "face_landmark.tflite", "mobilefacenet.json"};
    printf("nn: %d thread%s, %d runs per backend (reference: at most 20)\n", threads, threads > 1 ? "s" : "",
           runs);
    int status = 0;
    size_t count = n_models ? (size_t)n_models : sizeof names / sizeof names[0];
    for (size_t k = 0; k < count; k++) {
        char path[4096];
        if (n_models)
            snprintf(path, sizeof path, "%s", models[k]);
        else
            snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        nn_model *m;
        ptim_error err = {0};
        double t0 = now_ms();
        if (nn_model_load_file(path, &m, &err)) {
            fprintf(stderr, "ptim bench nn: %s\n", err.message);
            status = 2;
            continue;
        }
        double load_ms = now_ms() - t0;
        printf("%s: load %.2f ms, %.3f GFLOP per run\n", n_models ? nn_model_name(m) : names[k], load_ms,
               graph_flops(m->graph) / 1e9);
        double gflops = bench_backend(m, NN_BACKEND_XNNPACK, threads, runs);
        if (gflops <= 0)
            status = 1;
        else if (want_best_case)
            versus_best_case(m, threads, runs, gflops);
        if (want_per_op)
            per_op(m, runs);
        if (!only_xnn && bench_backend(m, NN_BACKEND_REFERENCE, 1, runs < 20 ? runs : 20) <= 0)
            status = 1;
        nn_model_free(m);
    }
    return status;
}
