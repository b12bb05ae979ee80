/* app/cmd_nn — `ptim nn info MODEL` and `ptim nn run MODEL --input NAME=FILE.npy… --out DIR
 * [--backend xnnpack|reference|auto] [--threads N]`: look inside a model and run it on
 * arrays from files, so its numbers can be checked against another runtime. */
#include "app/commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nn/graph.h"
#include "nn/nn.h"
#include "nn/npy.h"

static void usage(FILE *fp)
{
    fprintf(fp, "usage: ptim nn info MODEL\n"
                "       ptim nn run MODEL --input NAME=FILE.npy... --out DIR\n"
                "                   [--backend auto|xnnpack|reference] [--threads N]\n");
}

static void print_shape(const nn_tensor_info *t)
{
    printf("[");
    for (int d = 0; d < t->rank; d++)
        printf("%s%d", d ? ", " : "", t->dims[d]);
    printf("]");
}

static int nn_info(const char *path)
{
    nn_model *m;
    ptim_error err = {0};
    if (nn_model_load_file(path, &m, &err)) {
        fprintf(stderr, "ptim nn info: %s\n", err.message);
        return 2;
    }
    const nn_graph *g = m->graph;
    printf("model: %s\n", nn_model_name(m));
    for (int i = 0; i < nn_model_input_count(m); i++) {
        nn_tensor_info t = nn_model_input(m, i);
        printf("input %d: %s ", i, t.name);
        print_shape(&t);
        printf(" float32\n");
    }
    for (int i = 0; i < nn_model_output_count(m); i++) {
        nn_tensor_info t = nn_model_output(m, i);
        printf("output %d: %s ", i, t.name);
        print_shape(&t);
        printf(" float32\n");
    }
    int counts[NN_OP__COUNT] = {0}, live = 0, fused = 0;
    for (int i = 0; i < g->n_ops; i++) {
        if (g->ops[i].dead)
            continue;
        live++;
        counts[g->ops[i].kind]++;
        if (g->ops[i].kind != NN_OP_CLAMP && (g->ops[i].act_min > -1e30f || g->ops[i].act_max < 1e30f))
            fused++;
    }
    printf("operators: %d in the file, %d after folding and fusion (%d with a fused activation)\n",
           g->n_ops, live, fused);
    for (int k = 0; k < NN_OP__COUNT; k++)
        if (counts[k])
            printf("  %-18s %d\n", nn_op_kind_name((nn_op_kind)k), counts[k]);
    printf("parameters: %zu\n", g->param_count);
    printf("arena: %zu bytes\n", g->arena_bytes);
    nn_runner *r;
    if (nn_runner_create(m, NN_BACKEND_AUTO, 1, &r, &err) == 0) {
        if (nn_runner_backend(r) == NN_BACKEND_XNNPACK)
            printf("backend: xnnpack, %d runtime%s with the fused operators between them\n",
                   nn_runner_xnn_runtimes(r), nn_runner_xnn_runtimes(r) == 1 ? "" : "s");
        else
            printf("backend: reference (XNNPACK refused the model)\n");
        nn_runner_destroy(r);
    } else {
        printf("backend: none: %s\n", err.message);
    }
    nn_model_free(m);
    return 0;
}

static int parse_backend(const char *s, nn_backend *b)
{
    if (!strcmp(s, "auto"))
        *b = NN_BACKEND_AUTO;
    else if (!strcmp(s, "xnnpack"))
        *b = NN_BACKEND_XNNPACK;
    else if (!strcmp(s, "reference"))
        *b = NN_BACKEND_REFERENCE;
    else
        return -1;
    return 0;
}

static int nn_run(int argc, char **argv)
{
    const char *model_path = NULL, *out_dir = NULL;
    const char *inputs[64];
    int n_inputs = 0, threads = 1;
    nn_backend backend = NN_BACKEND_AUTO;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--input") && i + 1 < argc) {
            if (n_inputs == 64) {
                fprintf(stderr, "ptim nn run: too many --input\n");
                return 2;
            }
            inputs[n_inputs++] = argv[++i];
        } else if (!strcmp(a, "--out") && i + 1 < argc) {
            out_dir = argv[++i];
        } else if (!strcmp(a, "--backend") && i + 1 < argc) {
            if (parse_backend(argv[++i], &backend)) {
                fprintf(stderr, "ptim nn run: --backend %s is not auto, xnnpack or reference\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--threads") && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 256) {
                fprintf(stderr, "ptim nn run: --threads %s is not a number from 1 to 256\n", argv[i]);
                return 2;
            }
            threads = (int)v;
        } else if (a[0] != '-' && !model_path) {
            model_path = a;
        } else {
            fprintf(stderr, "ptim nn run: unexpected argument %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!model_path || !out_dir) {
        usage(stderr);
        return 2;
    }
    nn_model *m = NULL;
    nn_runner *r = NULL;
    ptim_error err = {0};
    int rc = 2;
    if (nn_model_load_file(model_path, &m, &err) ||
        nn_runner_create(m, backend, threads, &r, &err)) {
        fprintf(stderr, "ptim nn run: %s\n", err.message);
        goto out;
    }
    int given[64] = {0};
    for (int k = 0; k < n_inputs; k++) {
        const char *eq = strchr(inputs[k], '=');
        if (!eq) {
            fprintf(stderr, "ptim nn run: --input %s is not NAME=FILE.npy\n", inputs[k]);
            goto out;
        }
        int idx = -1;
        for (int i = 0; i < nn_model_input_count(m); i++) {
            nn_tensor_info t = nn_model_input(m, i);
            if (strlen(t.name) == (size_t)(eq - inputs[k]) && !strncmp(t.name, inputs[k], (size_t)(eq - inputs[k])))
                idx = i;
        }
        if (idx < 0) {
            fprintf(stderr, "ptim nn run: model %s has no input named %.*s\n", nn_model_name(m),
                    (int)(eq - inputs[k]), inputs[k]);
            goto out;
        }
        nn_tensor_info t = nn_model_input(m, idx);
        float *data;
        int rank, dims[NN_MAX_RANK];
        size_t count;
        if (nn_npy_read(eq + 1, &data, &rank, dims, &count, &err)) {
            fprintf(stderr, "ptim nn run: %s\n", err.message);
            goto out;
        }
        if (count != t.count) {
            fprintf(stderr, "ptim nn run: %s has %zu values, input %s needs %zu\n", eq + 1, count, t.name,
                    t.count);
            free(data);
            goto out;
        }
        memcpy(nn_runner_input(r, idx), data, count * sizeof(float));
        free(data);
        if (idx < 64)
            given[idx] = 1;
    }
    for (int i = 0; i < nn_model_input_count(m) && i < 64; i++)
        if (!given[i]) {
            fprintf(stderr, "ptim nn run: missing --input %s=FILE.npy\n", nn_model_input(m, i).name);
            goto out;
        }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "ptim nn run: cannot create %s: %s\n", out_dir, strerror(errno));
        goto out;
    }
    rc = 1;
    if (nn_runner_run(r, &err)) {
        fprintf(stderr, "ptim nn run: %s\n", err.message);
        goto out;
    }
    for (int i = 0; i < nn_model_output_count(m); i++) {
        nn_tensor_info t = nn_model_output(m, i);
        char path[4096], safe[256];
        /* Output names may hold '/' or ':'; keep the file name flat. */
        snprintf(safe, sizeof safe, "%s", t.name);
        for (char *c = safe; *c; c++)
            if (*c == '/' || *c == ':' || *c == '\\')
                *c = '_';
        snprintf(path, sizeof path, "%s/%s.npy", out_dir, safe);
        if (nn_npy_write(path, nn_runner_output(r, i), t.rank, t.dims, &err)) {
            fprintf(stderr, "ptim nn run: %s\n", err.message);
            goto out;
        }
        printf("%s\n", path);
    }
    fprintf(stderr, "ran %s on %s\n", nn_model_name(m), nn_backend_name(nn_runner_backend(r)));
    rc = 0;
out:
    nn_runner_destroy(r);
    nn_model_free(m);
    return rc;
}

int cmd_nn(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "info")) {
        if (argc != 3) {
            usage(stderr);
            return 2;
        }
        return nn_info(argv[2]);
    }
    if (!strcmp(argv[1], "run"))
        return nn_run(argc - 2, argv + 2);
    fprintf(stderr, "ptim nn: unknown subcommand %s\n", argv[1]);
    usage(stderr);
    return 2;
}
