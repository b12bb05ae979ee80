/* nn/tfjs — TensorFlow.js graph models (model.json + weight shards) → graph.
 *
 * The JSON (cJSON) holds `modelTopology.node[]` ({name, op, input[], attr{}})
 * and `weightsManifest[]` ({paths[], weights[{name, shape, dtype,
 * quantization?}]}); the weights of all shards are one byte stream in
 * manifest order. Nodes are not guaranteed to be in execution order, so they
 * are sorted topologically first. Shapes are not stored for computed tensors:
 * they are inferred here (batch -1 becomes 1). TensorFlow's layouts are
 * converted to TFLite's (conv filters HWIO → OHWI), and PReLU written out as
 * Relu/Abs/Sub/Mul/Add (as tfjs-converter exports it) folds into one PRELU.
 * Every index, count and size from the file is checked before use. */
#include "nn/graph.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds for hostile files: more nodes than any real graph model has. */
#define TFJS_MAX_NODES 20000
#define TFJS_MAX_INPUTS 64

typedef struct tj_node {
    const cJSON *json;
    const char *name, *op;
    int n_in;
    int in[TFJS_MAX_INPUTS]; /* node indices of data inputs */
    int tensor;              /* graph tensor holding this node's output, -1 before */
    int *ints;               /* int32 constant values (owned) */
    size_t n_ints;
    int consumers;           /* data edges reading this node */
} tj_node;

typedef struct tj {
    const char *name;
    ptim_error *err;
    nn_graph *g;
    int cap_tensors, cap_ops;
    tj_node *nodes;
    int n_nodes;
    int *hash; /* open addressing over node names: node index or -1 */
    size_t hash_size;
    const uint8_t *w;
    size_t w_size;
} tj;

static int fail(tj *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(tj *t, const char *fmt, ...)
{
    char msg[PTIM_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ptim_error_set(t->err, PTIM_ERR_MODEL, PTIM_SEV_HIGH, "model %s: %s", t->name, msg);
}

static int oom(tj *t)
{
    return ptim_error_set(t->err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", t->name);
}

/* ---- names ---- */

static size_t name_hash(const char *s, size_t len)
{
    size_t h = 1469598103934665603u;
    for (size_t k = 0; k < len; k++)
        h = (h ^ (unsigned char)s[k]) * 1099511628211u;
    return h;
}

static int find_node(const tj *t, const char *s, size_t len)
{
    for (size_t h = name_hash(s, len) & (t->hash_size - 1);; h = (h + 1) & (t->hash_size - 1)) {
        int i = t->hash[h];
        if (i < 0)
            return -1;
        if (strlen(t->nodes[i].name) == len && memcmp(t->nodes[i].name, s, len) == 0)
            return i;
    }
}

/* ---- attributes ---- */

static const cJSON *attr(const tj_node *n, const char *key)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(n->json, "attr");
    return cJSON_IsObject(a) ? cJSON_GetObjectItemCaseSensitive(a, key) : NULL;
}

/* Integers in the JSON are strings ("2") or numbers; both within int range. */
static int json_int(const cJSON *v, long *out)
{
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (!(d >= INT_MIN && d <= INT_MAX) || d != floor(d))
            return -1;
        *out = (long)d;
        return 0;
    }
    if (cJSON_IsString(v) && v->valuestring) {
        char *end;
        long l = strtol(v->valuestring, &end, 10);
        if (end == v->valuestring || *end || l < INT_MIN || l > INT_MAX)
            return -1;
        *out = l;
        return 0;
    }
    return -1;
}

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Attribute strings are base64 ("U0FNRQ==" = "SAME"); decoded into buf. */
static int b64_decode(const char *s, char *buf, size_t cap)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        int v = b64_value((unsigned char)*s);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= cap)
                return -1;
            buf[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    buf[o] = 0;
    return 0;
}

/* attr.KEY.s decoded; "" when absent. */
static int attr_str(tj *t, int ni, const char *key, char *buf, size_t cap)
{
    buf[0] = 0;
    const cJSON *a = attr(&t->nodes[ni], key);
    if (!a)
        return 0;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(a, "s");
    if (!cJSON_IsString(s) || !s->valuestring || b64_decode(s->valuestring, buf, cap))
        return fail(t, "node %d (%s) has an unreadable attribute %s", ni, t->nodes[ni].name, key);
    return 0;
}

/* attr.KEY.list.i as ints; *n = 0 when absent. */
static int attr_ints(tj *t, int ni, const char *key, long *vals, int cap, int *n)
{
    *n = 0;
    const cJSON *a = attr(&t->nodes[ni], key);
    if (!a)
        return 0;
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(a, "list");
    const cJSON *is = cJSON_IsObject(l) ? cJSON_GetObjectItemCaseSensitive(l, "i") : NULL;
    if (!is)
        return 0;
    if (!cJSON_IsArray(is) || cJSON_GetArraySize(is) > cap)
        return fail(t, "node %d (%s) has an unreadable attribute %s", ni, t->nodes[ni].name, key);
    const cJSON *v;
    cJSON_ArrayForEach(v, is)
    {
        if (json_int(v, &vals[*n]))
            return fail(t, "node %d (%s) has an unreadable attribute %s", ni, t->nodes[ni].name, key);
        (*n)++;
    }
    return 0;
}

/* attr.fused_ops.list.s decoded into names[] (up to 4). */
static int attr_strs(tj *t, int ni, const char *key, char names[][32], int cap, int *n)
{
    *n = 0;
    const cJSON *a = attr(&t->nodes[ni], key);
    const cJSON *l = a ? cJSON_GetObjectItemCaseSensitive(a, "list") : NULL;
    const cJSON *ss = cJSON_IsObject(l) ? cJSON_GetObjectItemCaseSensitive(l, "s") : NULL;
    if (!ss)
        return 0;
    if (!cJSON_IsArray(ss) || cJSON_GetArraySize(ss) > cap)
        return fail(t, "node %d (%s) has an unreadable attribute %s", ni, t->nodes[ni].name, key);
    const cJSON *v;
    cJSON_ArrayForEach(v, ss)
    {
        if (!cJSON_IsString(v) || !v->valuestring || b64_decode(v->valuestring, names[*n], 32))
            return fail(t, "node %d (%s) has an unreadable attribute %s", ni, t->nodes[ni].name, key);
        (*n)++;
    }
    return 0;
}

static int attr_bool(const tj_node *n, const char *key)
{
    const cJSON *a = attr(n, key);
    const cJSON *b = a ? cJSON_GetObjectItemCaseSensitive(a, "b") : NULL;
    return cJSON_IsTrue(b);
}

/* ---- graph building ---- */

static int add_tensor(tj *t, const char *name, int rank, const int *dims, float *data)
{
    nn_graph *g = t->g;
    if (g->n_tensors == t->cap_tensors) {
        int cap = t->cap_tensors ? 2 * t->cap_tensors : 64;
        nn_tensor *nt = realloc(g->tensors, (size_t)cap * sizeof *nt);
        if (!nt)
            return -1;
        g->tensors = nt;
        t->cap_tensors = cap;
    }
    nn_tensor *x = &g->tensors[g->n_tensors];
    memset(x, 0, sizeof *x);
    x->producer = -1;
    x->alias_of = -1;
    x->name = strdup(name);
    if (!x->name)
        return -1;
    x->rank = rank;
    x->count = 1;
    for (int d = 0; d < rank; d++) {
        x->dims[d] = dims[d];
        x->count *= (size_t)dims[d];
    }
    x->data = data;
    return g->n_tensors++;
}

static nn_op *add_op(tj *t, nn_op_kind kind, int n_inputs, const int *inputs, int output)
{
    nn_graph *g = t->g;
    if (g->n_ops == t->cap_ops) {
        int cap = t->cap_ops ? 2 * t->cap_ops : 64;
        nn_op *no = realloc(g->ops, (size_t)cap * sizeof *no);
        if (!no)
            return NULL;
        g->ops = no;
        t->cap_ops = cap;
    }
    nn_op *op = &g->ops[g->n_ops];
    memset(op, 0, sizeof *op);
    op->inputs = malloc((size_t)n_inputs * sizeof(int));
    if (!op->inputs)
        return NULL;
    memcpy(op->inputs, inputs, (size_t)n_inputs * sizeof(int));
    op->kind = kind;
    op->n_inputs = n_inputs;
    op->output = output;
    op->act_min = -INFINITY;
    op->act_max = INFINITY;
    op->dilation_h = op->dilation_w = 1;
    op->stride_h = op->stride_w = 1;
    g->tensors[output].producer = g->n_ops;
    g->n_ops++;
    return op;
}

/* The tensor of node input k, which must be computed or float constant. */
static int in_tensor(tj *t, int ni, int k, int want_const)
{
    tj_node *n = &t->nodes[ni];
    if (k >= n->n_in)
        return fail(t, "node %d (%s) needs at least %d inputs", ni, n->name, k + 1), -1;
    const tj_node *src = &t->nodes[n->in[k]];
    if (src->tensor < 0)
        return fail(t, "node %d (%s) input %d (%s) is not a float tensor", ni, n->name, k, src->name), -1;
    if (want_const && !t->g->tensors[src->tensor].data)
        return fail(t, "node %d (%s) input %d (%s) must be a constant", ni, n->name, k, src->name), -1;
    return src->tensor;
}

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: renormalize */
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) {
                man <<= 1;
                exp--;
            }
            bits = sign | (exp << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Reads the manifest: every weight's place in the byte stream, read as float
 * (float32, float16, or uint8/uint16 affine-quantized) or int32 into the
 * Const node of the same name. */
static int read_weights(tj *t, const cJSON *manifest)
{
    if (!cJSON_IsArray(manifest))
        return fail(t, "weightsManifest is missing or not a list");
    size_t pos = 0;
    const cJSON *group;
    cJSON_ArrayForEach(group, manifest)
    {
        const cJSON *ws = cJSON_GetObjectItemCaseSensitive(group, "weights");
        if (!cJSON_IsArray(ws))
            return fail(t, "a weightsManifest group has no weights list");
        const cJSON *w;
        cJSON_ArrayForEach(w, ws)
        {
            const cJSON *jn = cJSON_GetObjectItemCaseSensitive(w, "name");
            const cJSON *js = cJSON_GetObjectItemCaseSensitive(w, "shape");
            const cJSON *jd = cJSON_GetObjectItemCaseSensitive(w, "dtype");
            if (!cJSON_IsString(jn) || !jn->valuestring || !cJSON_IsArray(js) || !cJSON_IsString(jd) ||
                !jd->valuestring)
                return fail(t, "a weight entry lacks its name, shape or dtype");
            const char *wname = jn->valuestring;
            int rank = cJSON_GetArraySize(js);
            if (rank > NN_MAX_RANK)
                return fail(t, "weight %s has rank %d, more than %d", wname, rank, NN_MAX_RANK);
            int dims[NN_MAX_RANK];
            size_t count = 1;
            int d = 0;
            const cJSON *v;
            cJSON_ArrayForEach(v, js)
            {
                long l;
                if (json_int(v, &l) || l < 1 || l > (long)NN_MAX_TENSOR_ELEMS)
                    return fail(t, "weight %s has an invalid dimension", wname);
                dims[d++] = (int)l;
                count *= (size_t)l;
                if (count > NN_MAX_TENSOR_ELEMS)
                    return fail(t, "weight %s is larger than %zu elements", wname, NN_MAX_TENSOR_ELEMS);
            }
            /* Stored type: the quantization's when there is one. */
            const char *dtype = jd->valuestring, *stored = dtype;
            double scale = 1, minv = 0;
            const cJSON *q = cJSON_GetObjectItemCaseSensitive(w, "quantization");
            if (q) {
                const cJSON *qd = cJSON_GetObjectItemCaseSensitive(q, "dtype");
                if (!cJSON_IsString(qd) || !qd->valuestring)
                    return fail(t, "weight %s has a quantization without a dtype", wname);
                stored = qd->valuestring;
                const cJSON *qs = cJSON_GetObjectItemCaseSensitive(q, "scale");
                const cJSON *qm = cJSON_GetObjectItemCaseSensitive(q, "min");
                if (strcmp(stored, "float16") != 0) {
                    if (!cJSON_IsNumber(qs) || !cJSON_IsNumber(qm) || !isfinite(qs->valuedouble) ||
                        !isfinite(qm->valuedouble))
                        return fail(t, "weight %s is quantized without a finite scale and min", wname);
                    scale = qs->valuedouble;
                    minv = qm->valuedouble;
                }
                if (strcmp(dtype, "float32") != 0)
                    return fail(t, "weight %s: quantized %s weights are not supported", wname, dtype);
            }
            size_t esize;
            if (!strcmp(stored, "float32") || !strcmp(stored, "int32"))
                esize = 4;
            else if (!strcmp(stored, "float16") || !strcmp(stored, "uint16"))
                esize = 2;
            else if (!strcmp(stored, "uint8"))
                esize = 1;
            else
                return fail(t, "weight %s has unsupported type %s", wname, stored);
            if (pos > t->w_size || count * esize > t->w_size - pos)
                return fail(t, "weight %s lies past the end of the weights (%zu bytes)", wname, t->w_size);
            const uint8_t *src = t->w + pos;
            pos += count * esize;
            int ni = find_node(t, wname, strlen(wname));
            if (ni < 0 || strcmp(t->nodes[ni].op, "Const") != 0)
                continue; /* not used by the graph */
            tj_node *n = &t->nodes[ni];
            if (n->tensor >= 0 || n->ints)
                return fail(t, "weight %s is listed twice", wname);
            if (!strcmp(stored, "int32")) {
                n->ints = malloc(count * sizeof(int));
                if (!n->ints)
                    return oom(t);
                for (size_t k = 0; k < count; k++) {
                    int32_t iv;
                    memcpy(&iv, src + 4 * k, 4);
                    n->ints[k] = iv;
                }
                n->n_ints = count;
                continue;
            }
            float *data = malloc(count * sizeof(float));
            if (!data)
                return oom(t);
            for (size_t k = 0; k < count; k++) {
                float f;
                if (esize == 4) {
                    memcpy(&f, src + 4 * k, 4);
                } else if (!strcmp(stored, "float16")) {
                    uint16_t h;
                    memcpy(&h, src + 2 * k, 2);
                    f = half_to_float(h);
                } else if (esize == 2) {
                    uint16_t h;
                    memcpy(&h, src + 2 * k, 2);
                    f = (float)(h * scale + minv);
                } else {
                    f = (float)(src[k] * scale + minv);
                }
                if (!isfinite(f)) {
                    free(data);
                    return fail(t, "weight %s holds a value that is not finite", wname);
                }
                data[k] = f;
            }
            n->tensor = add_tensor(t, wname, rank, dims, data);
            if (n->tensor < 0) {
                free(data);
                return oom(t);
            }
            t->g->param_count += count;
        }
    }
    if (pos != t->w_size)
        return fail(t, "the weights are %zu bytes, the manifest describes %zu", t->w_size, pos);
    return 0;
}

/* Padding and strides of a convolution node into op. */
static int conv_window(tj *t, int ni, nn_op *op, const nn_tensor *x, int kh, int kw)
{
    char s[32];
    long st[8], dl[8], ep[16];
    int nst, ndl, nep;
    if (attr_str(t, ni, "data_format", s, sizeof s))
        return -1;
    if (s[0] && strcmp(s, "NHWC") != 0)
        return fail(t, "node %d (%s) has data format %s; only NHWC is supported", ni, t->nodes[ni].name, s);
    if (attr_ints(t, ni, "strides", st, 8, &nst) || attr_ints(t, ni, "dilations", dl, 8, &ndl) ||
        attr_ints(t, ni, "explicit_paddings", ep, 16, &nep) || attr_str(t, ni, "padding", s, sizeof s))
        return -1;
    if (nst != 4 || st[0] != 1 || st[3] != 1 || st[1] < 1 || st[2] < 1 || st[1] > 64 || st[2] > 64)
        return fail(t, "node %d (%s) needs strides [1, h, w, 1] of 1 to 64", ni, t->nodes[ni].name);
    if (ndl && (ndl != 4 || dl[0] != 1 || dl[3] != 1 || dl[1] < 1 || dl[2] < 1 || dl[1] > 64 || dl[2] > 64))
        return fail(t, "node %d (%s) needs dilations [1, h, w, 1] of 1 to 64", ni, t->nodes[ni].name);
    op->stride_h = (int)st[1];
    op->stride_w = (int)st[2];
    op->dilation_h = ndl ? (int)dl[1] : 1;
    op->dilation_w = ndl ? (int)dl[2] : 1;
    op->kernel_h = kh;
    op->kernel_w = kw;
    if (!strcmp(s, "SAME")) {
        int in[2] = {x->dims[1], x->dims[2]}, k[2] = {kh, kw}, str[2] = {op->stride_h, op->stride_w},
            dil[2] = {op->dilation_h, op->dilation_w}, pb[2], pa[2];
        for (int d = 0; d < 2; d++) {
            long eff = (long)(k[d] - 1) * dil[d] + 1;
            long out = (in[d] + str[d] - 1) / str[d];
            long total = (out - 1) * str[d] + eff - in[d];
            if (total < 0)
                total = 0;
            pb[d] = (int)(total / 2);
            pa[d] = (int)(total - total / 2);
        }
        op->pad_top = pb[0];
        op->pad_bottom = pa[0];
        op->pad_left = pb[1];
        op->pad_right = pa[1];
    } else if (!strcmp(s, "EXPLICIT")) {
        if (nep != 8)
            return fail(t, "node %d (%s) has EXPLICIT padding without 8 values", ni, t->nodes[ni].name);
        for (int k = 0; k < 8; k++)
            if (ep[k] < 0 || ep[k] > 4096 || ((k < 2 || k > 5) && ep[k]))
                return fail(t, "node %d (%s) has invalid explicit padding", ni, t->nodes[ni].name);
        op->pad_top = (int)ep[2];
        op->pad_bottom = (int)ep[3];
        op->pad_left = (int)ep[4];
        op->pad_right = (int)ep[5];
    } else if (strcmp(s, "VALID") != 0) {
        return fail(t, "node %d (%s) has unknown padding %s", ni, t->nodes[ni].name, s);
    }
    return 0;
}

static int window_size(int in, int pb, int pa, int k, int stride, int dil)
{
    long eff = (long)(k - 1) * dil + 1, span = (long)in + pb + pa - eff;
    return span < 0 ? 0 : (int)(span / stride + 1);
}

/* A computed tensor named after the node, with the given shape. */
static int out_tensor(tj *t, int ni, const char *suffix, int rank, const int *dims)
{
    size_t cnt = 1;
    for (int d = 0; d < rank; d++) {
        if (dims[d] < 1)
            return fail(t, "node %d (%s) would have an empty output", ni, t->nodes[ni].name), -1;
        cnt *= (size_t)dims[d];
        if (cnt > NN_MAX_TENSOR_ELEMS)
            return fail(t, "node %d (%s) output is larger than %zu elements", ni, t->nodes[ni].name,
                        NN_MAX_TENSOR_ELEMS), -1;
    }
    char nm[512];
    snprintf(nm, sizeof nm, "%s%s", t->nodes[ni].name, suffix);
    int ti = add_tensor(t, nm, rank, dims, NULL);
    if (ti < 0)
        oom(t);
    return ti;
}

/* Convolution nodes: filter HWIO (or HWCM for depthwise), fused BiasAdd and
 * an activation. */
static int import_conv(tj *t, int ni, int depthwise, int fused)
{
    tj_node *n = &t->nodes[ni];
    int xi = in_tensor(t, ni, 0, 0), fi = in_tensor(t, ni, 1, 1);
    if (xi < 0 || fi < 0)
        return -1;
    nn_graph *g = t->g;
    const nn_tensor *x = &g->tensors[xi], *f = &g->tensors[fi];
    if (x->rank != 4 || f->rank != 4 || f->dims[2] != x->dims[3])
        return fail(t, "node %d (%s) filter shape does not match its rank-4 input", ni, n->name);
    char ops[4][32];
    int n_ops = 0;
    if (fused && attr_strs(t, ni, "fused_ops", ops, 4, &n_ops))
        return -1;
    int bias = -1, alpha = -1, next = 2;
    float lo = -INFINITY, hi = INFINITY;
    for (int k = 0; k < n_ops; k++) {
        if (!strcmp(ops[k], "BiasAdd") && k == 0) {
            if ((bias = in_tensor(t, ni, next++, 1)) < 0)
                return -1;
        } else if (!strcmp(ops[k], "Relu") && k == n_ops - 1) {
            lo = 0;
        } else if (!strcmp(ops[k], "Relu6") && k == n_ops - 1) {
            lo = 0;
            hi = 6;
        } else if (!strcmp(ops[k], "Prelu") && k == n_ops - 1) {
            if ((alpha = in_tensor(t, ni, next++, 1)) < 0)
                return -1;
        } else {
            return fail(t, "node %d (%s) has unsupported fused operation %s", ni, n->name, ops[k]);
        }
    }
    int kh = f->dims[0], kw = f->dims[1], cin = f->dims[2], cm = f->dims[3];
    int cout = depthwise ? cin * cm : cm;
    if ((long)cin * cm > (long)NN_MAX_TENSOR_ELEMS)
        return fail(t, "node %d (%s) filter is too large", ni, n->name);
    if (bias >= 0 && g->tensors[bias].count != (size_t)cout)
        return fail(t, "node %d (%s) bias has %zu values for %d channels", ni, n->name, g->tensors[bias].count,
                    cout);
    /* Filter in TFLite's layout: OHWI for a convolution, 1HW(C*M) for depthwise
     * (HWCM's memory order already). */
    float *w = malloc(f->count * sizeof(float));
    float *b = calloc((size_t)cout, sizeof(float));
    if (!w || !b) {
        free(w);
        free(b);
        return oom(t);
    }
    if (depthwise) {
        memcpy(w, f->data, f->count * sizeof(float));
    } else {
        for (int y = 0; y < kh; y++)
            for (int xx = 0; xx < kw; xx++)
                for (int c = 0; c < cin; c++)
                    for (int o = 0; o < cout; o++)
                        w[(((size_t)o * kh + y) * kw + xx) * cin + c] = f->data[(((size_t)y * kw + xx) * cin + c) * cout + o];
    }
    if (bias >= 0)
        memcpy(b, g->tensors[bias].data, (size_t)cout * sizeof(float));
    int wd[4] = {depthwise ? 1 : cout, kh, kw, depthwise ? cout : cin};
    int wt = add_tensor(t, "filter", 4, wd, w);
    if (wt < 0) {
        free(w);
        free(b);
        return oom(t);
    }
    int bt = add_tensor(t, "bias", 1, &cout, b);
    if (bt < 0) {
        free(b);
        return oom(t);
    }
    nn_op tmp = {0};
    if (conv_window(t, ni, &tmp, &g->tensors[xi], kh, kw))
        return -1;
    x = &g->tensors[xi];
    int od[4] = {x->dims[0],
                 window_size(x->dims[1], tmp.pad_top, tmp.pad_bottom, kh, tmp.stride_h, tmp.dilation_h),
                 window_size(x->dims[2], tmp.pad_left, tmp.pad_right, kw, tmp.stride_w, tmp.dilation_w), cout};
    int yt = out_tensor(t, ni, alpha >= 0 ? "/conv" : "", 4, od);
    if (yt < 0)
        return -1;
    int ins[3] = {xi, wt, bt};
    nn_op *op = add_op(t, depthwise ? NN_OP_DWCONV2D : NN_OP_CONV2D, 3, ins, yt);
    if (!op)
        return oom(t);
    op->stride_h = tmp.stride_h;
    op->stride_w = tmp.stride_w;
    op->dilation_h = tmp.dilation_h;
    op->dilation_w = tmp.dilation_w;
    op->kernel_h = kh;
    op->kernel_w = kw;
    op->pad_top = tmp.pad_top;
    op->pad_bottom = tmp.pad_bottom;
    op->pad_left = tmp.pad_left;
    op->pad_right = tmp.pad_right;
    op->depth_multiplier = depthwise ? cm : 1;
    op->act_min = lo;
    op->act_max = hi;
    n->tensor = yt;
    if (alpha >= 0) {
        int pt = out_tensor(t, ni, "", 4, od);
        int pins[2] = {yt, alpha};
        if (pt < 0)
            return -1;
        if (!add_op(t, NN_OP_PRELU, 2, pins, pt))
            return oom(t);
        n->tensor = pt;
    }
    return 0;
}

/* NumPy broadcast shape of two tensors into dims; rank returned, -1 if none. */
static int broadcast_shape(const nn_tensor *a, const nn_tensor *b, int *dims)
{
    int rank = a->rank > b->rank ? a->rank : b->rank;
    for (int d = 0; d < rank; d++) {
        int ad = d < a->rank ? a->dims[a->rank - 1 - d] : 1;
        int bd = d < b->rank ? b->dims[b->rank - 1 - d] : 1;
        if (ad != bd && ad != 1 && bd != 1)
            return -1;
        dims[rank - 1 - d] = ad > bd ? ad : bd;
    }
    return rank;
}

static int import_node(tj *t, int ni)
{
    tj_node *n = &t->nodes[ni];
    nn_graph *g = t->g;
    const char *op = n->op;
    if (!strcmp(op, "Const")) {
        if (n->tensor < 0 && !n->ints)
            return fail(t, "constant %s has no weights in the manifest", n->name);
        return 0;
    }
    if (!strcmp(op, "Placeholder")) {
        const cJSON *a = attr(n, "shape");
        const cJSON *sh = a ? cJSON_GetObjectItemCaseSensitive(a, "shape") : NULL;
        const cJSON *dl = sh ? cJSON_GetObjectItemCaseSensitive(sh, "dim") : NULL;
        if (!cJSON_IsArray(dl) || cJSON_GetArraySize(dl) < 1 || cJSON_GetArraySize(dl) > NN_MAX_RANK)
            return fail(t, "input %s has no shape of rank 1 to %d", n->name, NN_MAX_RANK);
        int dims[NN_MAX_RANK], r = 0;
        const cJSON *d;
        cJSON_ArrayForEach(d, dl)
        {
            long l;
            if (json_int(cJSON_GetObjectItemCaseSensitive(d, "size"), &l) || l < -1 || l == 0 ||
                l > (long)NN_MAX_TENSOR_ELEMS)
                return fail(t, "input %s has an invalid dimension", n->name);
            dims[r++] = l < 0 ? 1 : (int)l; /* unknown batch: one at a time */
        }
        int ti = out_tensor(t, ni, "", r, dims);
        if (ti < 0)
            return -1;
        g->tensors[ti].is_input = 1;
        n->tensor = ti;
        return 0;
    }
    if (!strcmp(op, "_FusedConv2D"))
        return import_conv(t, ni, 0, 1);
    if (!strcmp(op, "FusedDepthwiseConv2dNative"))
        return import_conv(t, ni, 1, 1);
    if (!strcmp(op, "Conv2D"))
        return import_conv(t, ni, 0, 0);
    if (!strcmp(op, "DepthwiseConv2dNative"))
        return import_conv(t, ni, 1, 0);

    int xi = in_tensor(t, ni, 0, 0);
    if (xi < 0)
        return -1;
    const nn_tensor *x = &g->tensors[xi];
    nn_op_kind kind;
    int unary = 1;
    float lo = -INFINITY, hi = INFINITY;
    if (!strcmp(op, "Relu")) {
        kind = NN_OP_CLAMP;
        lo = 0;
    } else if (!strcmp(op, "Relu6")) {
        kind = NN_OP_CLAMP;
        lo = 0;
        hi = 6;
    } else if (!strcmp(op, "Abs")) {
        kind = NN_OP_ABS;
    } else if (!strcmp(op, "Square")) {
        kind = NN_OP_SQUARE;
    } else if (!strcmp(op, "Rsqrt")) {
        kind = NN_OP_RSQRT;
    } else if (!strcmp(op, "Identity")) {
        kind = NN_OP_RESHAPE;
    } else if (!strcmp(op, "Add") || !strcmp(op, "AddV2") || !strcmp(op, "BiasAdd")) {
        kind = NN_OP_ADD;
        unary = 0;
    } else if (!strcmp(op, "Sub")) {
        kind = NN_OP_SUB;
        unary = 0;
    } else if (!strcmp(op, "Mul")) {
        kind = NN_OP_MUL;
        unary = 0;
    } else if (!strcmp(op, "Maximum")) {
        kind = NN_OP_MAXIMUM;
        unary = 0;
    } else if (!strcmp(op, "Squeeze")) {
        long sq[NN_MAX_RANK];
        int nsq;
        if (attr_ints(t, ni, "squeeze_dims", sq, NN_MAX_RANK, &nsq))
            return -1;
        int mask = 0;
        for (int k = 0; k < nsq; k++) {
            long d = sq[k] < 0 ? sq[k] + x->rank : sq[k];
            if (d < 0 || d >= x->rank || x->dims[d] != 1)
                return fail(t, "node %d (%s) squeezes a dimension that is not 1", ni, n->name);
            mask |= 1 << d;
        }
        int dims[NN_MAX_RANK], r = 0;
        for (int d = 0; d < x->rank; d++)
            if (nsq ? !(mask & (1 << d)) : x->dims[d] != 1)
                dims[r++] = x->dims[d];
        int yt = out_tensor(t, ni, "", r, dims);
        if (yt < 0 || !add_op(t, NN_OP_RESHAPE, 1, &xi, yt))
            return yt < 0 ? -1 : oom(t);
        n->tensor = yt;
        return 0;
    } else if (!strcmp(op, "Sum")) {
        if (n->n_in != 2 || !t->nodes[n->in[1]].ints)
            return fail(t, "node %d (%s) needs constant int32 axes", ni, n->name);
        const tj_node *ax = &t->nodes[n->in[1]];
        int mask = 0;
        for (size_t k = 0; k < ax->n_ints; k++) {
            long d = ax->ints[k] < 0 ? (long)ax->ints[k] + x->rank : ax->ints[k];
            if (d < 0 || d >= x->rank)
                return fail(t, "node %d (%s) sums over axis %d of a rank-%d tensor", ni, n->name, ax->ints[k],
                            x->rank);
            mask |= 1 << d;
        }
        if (!mask)
            return fail(t, "node %d (%s) sums over no axis", ni, n->name);
        int keep = attr_bool(n, "keep_dims");
        int dims[NN_MAX_RANK], r = 0;
        for (int d = 0; d < x->rank; d++) {
            if (!(mask & (1 << d)))
                dims[r++] = x->dims[d];
            else if (keep)
                dims[r++] = 1;
        }
        int yt = out_tensor(t, ni, "", r, dims);
        nn_op *o;
        if (yt < 0)
            return -1;
        if (!(o = add_op(t, NN_OP_SUM, 1, &xi, yt)))
            return oom(t);
        o->reduce_mask = mask;
        n->tensor = yt;
        return 0;
    } else {
        return fail(t, "node %d (%s) uses unsupported operation %s", ni, n->name, op);
    }
    if (unary) {
        int yt = out_tensor(t, ni, "", x->rank, x->dims);
        nn_op *o;
        if (yt < 0)
            return -1;
        if (!(o = add_op(t, kind, 1, &xi, yt)))
            return oom(t);
        o->act_min = lo;
        o->act_max = hi;
        n->tensor = yt;
        return 0;
    }
    int bi = in_tensor(t, ni, 1, 0);
    if (bi < 0)
        return -1;
    int dims[NN_MAX_RANK];
    int r = broadcast_shape(&g->tensors[xi], &g->tensors[bi], dims);
    if (r < 0)
        return fail(t, "node %d (%s) inputs do not broadcast", ni, n->name);
    int yt = out_tensor(t, ni, "", r, dims);
    int ins[2] = {xi, bi};
    if (yt < 0)
        return -1;
    if (!add_op(t, kind, 2, ins, yt))
        return oom(t);
    n->tensor = yt;
    return 0;
}

/* ---- PReLU folding ---- */

static int producer_of(const nn_graph *g, int tensor, nn_op_kind kind)
{
    int p = g->tensors[tensor].producer;
    return p >= 0 && !g->ops[p].dead && g->ops[p].kind == kind ? p : -1;
}

/* tfjs-converter writes PReLU(x) as Relu(x) + c * (x - |x|) with c = alpha/2,
 * and some blocks as x + c * (x - |x|) (x already non-negative or a leaky
 * identity): both are PRELU with a per-channel slope (2c, or 1 + 2c). */
static int fold_prelu(tj *t)
{
    nn_graph *g = t->g;
    int *uses = calloc((size_t)g->n_tensors, sizeof(int));
    if (!uses)
        return oom(t);
    for (int i = 0; i < g->n_ops; i++)
        for (int k = 0; k < g->ops[i].n_inputs; k++)
            uses[g->ops[i].inputs[k]]++;
    for (int i = 0; i < g->n_ops; i++) {
        nn_op *a = &g->ops[i];
        if (a->dead || a->kind != NN_OP_ADD)
            continue;
        for (int side = 0; side < 2; side++) {
            int mul_t = a->inputs[side], other = a->inputs[1 - side];
            int m = producer_of(g, mul_t, NN_OP_MUL);
            if (m < 0 || uses[mul_t] != 1)
                continue;
            int sub_t = g->ops[m].inputs[0], c_t = g->ops[m].inputs[1];
            if (!g->tensors[sub_t].data && g->tensors[c_t].data) {
                /* c * sub */
            } else if (g->tensors[sub_t].data && !g->tensors[c_t].data) {
                int sw = sub_t;
                sub_t = c_t;
                c_t = sw;
            } else {
                continue;
            }
            int s = producer_of(g, sub_t, NN_OP_SUB);
            if (s < 0 || uses[sub_t] != 1)
                continue;
            int x = g->ops[s].inputs[0], abs_t = g->ops[s].inputs[1];
            int ab = producer_of(g, abs_t, NN_OP_ABS);
            if (ab < 0 || uses[abs_t] != 1 || g->ops[ab].inputs[0] != x)
                continue;
            const nn_tensor *xt = &g->tensors[x], *ct = &g->tensors[c_t];
            int ch = xt->rank ? xt->dims[xt->rank - 1] : 1;
            if (ct->count != (size_t)ch && ct->count != 1)
                continue;
            int relu = -1;
            float base;
            if (other == x) {
                base = 1.0f;
            } else if ((relu = producer_of(g, other, NN_OP_CLAMP)) >= 0 && uses[other] == 1 &&
                       g->ops[relu].inputs[0] == x && g->ops[relu].act_min == 0 &&
                       g->ops[relu].act_max == INFINITY) {
                base = 0.0f;
            } else {
                continue;
            }
            float *al = malloc((size_t)ch * sizeof(float));
            if (!al) {
                free(uses);
                return oom(t);
            }
            for (int k = 0; k < ch; k++)
                al[k] = base + 2.0f * ct->data[ct->count == 1 ? 0 : k];
            int at = add_tensor(t, "prelu_alpha", 1, &ch, al);
            if (at < 0) {
                free(al);
                free(uses);
                return oom(t);
            }
            a = &g->ops[i]; /* tensors may have moved, ops not */
            a->kind = NN_OP_PRELU;
            a->inputs[0] = x;
            a->inputs[1] = at;
            int dead[4] = {m, s, ab, relu};
            for (int k = 0; k < 4; k++)
                if (dead[k] >= 0) {
                    g->ops[dead[k]].dead = 1;
                    g->tensors[g->ops[dead[k]].output].producer = -1;
                }
            break;
        }
    }
    free(uses);
    return 0;
}

/* ---- whole file ---- */

/* Depth-first topological order of the nodes; a cycle is an error. */
static int sort_nodes(tj *t, int *order)
{
    char *state = calloc((size_t)t->n_nodes, 1); /* 0 new, 1 on stack, 2 done */
    int *stack = malloc((size_t)t->n_nodes * sizeof(int)), *next = calloc((size_t)t->n_nodes, sizeof(int));
    if (!state || !stack || !next) {
        free(state);
        free(stack);
        free(next);
        return oom(t);
    }
    int n_order = 0, rc = 0;
    for (int root = 0; root < t->n_nodes && rc == 0; root++) {
        if (state[root])
            continue;
        int sp = 0;
        stack[sp++] = root;
        state[root] = 1;
        while (sp > 0 && rc == 0) {
            int v = stack[sp - 1];
            if (next[v] < t->nodes[v].n_in) {
                int u = t->nodes[v].in[next[v]++];
                if (state[u] == 1)
                    rc = fail(t, "node %s is part of a cycle", t->nodes[u].name);
                else if (state[u] == 0) {
                    state[u] = 1;
                    stack[sp++] = u;
                }
            } else {
                state[v] = 2;
                order[n_order++] = v;
                sp--;
            }
        }
    }
    free(state);
    free(stack);
    free(next);
    return rc;
}

static int import(tj *t, const cJSON *root)
{
    const cJSON *topo = cJSON_GetObjectItemCaseSensitive(root, "modelTopology");
    const cJSON *nodes = cJSON_IsObject(topo) ? cJSON_GetObjectItemCaseSensitive(topo, "node") : NULL;
    if (!cJSON_IsArray(nodes))
        return fail(t, "not a TensorFlow.js graph model (no modelTopology.node list)");
    int nn = cJSON_GetArraySize(nodes);
    if (nn < 1 || nn > TFJS_MAX_NODES)
        return fail(t, "has %d nodes (1 to %d supported)", nn, TFJS_MAX_NODES);
    t->nodes = calloc((size_t)nn, sizeof *t->nodes);
    t->hash_size = 1;
    while (t->hash_size < 2 * (size_t)nn)
        t->hash_size <<= 1;
    t->hash = malloc(t->hash_size * sizeof(int));
    if (!t->nodes || !t->hash)
        return oom(t);
    memset(t->hash, 0xff, t->hash_size * sizeof(int));
    const cJSON *jn;
    cJSON_ArrayForEach(jn, nodes)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(jn, "name");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(jn, "op");
        if (!cJSON_IsString(name) || !name->valuestring || !name->valuestring[0] || !cJSON_IsString(op) ||
            !op->valuestring)
            return fail(t, "node %d has no name or op", t->n_nodes);
        tj_node *n = &t->nodes[t->n_nodes];
        n->json = jn;
        n->name = name->valuestring;
        n->op = op->valuestring;
        n->tensor = -1;
        if (find_node(t, n->name, strlen(n->name)) >= 0)
            return fail(t, "node name %s is used twice", n->name);
        size_t h = name_hash(n->name, strlen(n->name)) & (t->hash_size - 1);
        while (t->hash[h] >= 0)
            h = (h + 1) & (t->hash_size - 1);
        t->hash[h] = t->n_nodes++;
    }
    /* Inputs: "name", "name:0" (first output); "^name" is a control edge. */
    for (int i = 0; i < t->n_nodes; i++) {
        tj_node *n = &t->nodes[i];
        const cJSON *ins = cJSON_GetObjectItemCaseSensitive(n->json, "input");
        if (!ins)
            continue;
        if (!cJSON_IsArray(ins))
            return fail(t, "node %d (%s) has an input field that is not a list", i, n->name);
        const cJSON *v;
        cJSON_ArrayForEach(v, ins)
        {
            if (!cJSON_IsString(v) || !v->valuestring)
                return fail(t, "node %d (%s) has an input that is not a name", i, n->name);
            const char *s = v->valuestring;
            if (s[0] == '^')
                continue;
            size_t len = strlen(s);
            const char *colon = strrchr(s, ':');
            if (colon) {
                if (strcmp(colon, ":0") != 0)
                    return fail(t, "node %d (%s) reads output %s of a node; only the first is supported", i,
                                n->name, colon + 1);
                len = (size_t)(colon - s);
            }
            int src = find_node(t, s, len);
            if (src < 0)
                return fail(t, "node %d (%s) reads %s, which is not a node", i, n->name, s);
            if (n->n_in == TFJS_MAX_INPUTS)
                return fail(t, "node %d (%s) has more than %d inputs", i, n->name, TFJS_MAX_INPUTS);
            n->in[n->n_in++] = src;
            t->nodes[src].consumers++;
        }
    }
    if (read_weights(t, cJSON_GetObjectItemCaseSensitive(root, "weightsManifest")))
        return -1;
    int *order = malloc((size_t)t->n_nodes * sizeof(int));
    if (!order)
        return oom(t);
    int rc = sort_nodes(t, order);
    for (int k = 0; k < t->n_nodes && rc == 0; k++)
        rc = import_node(t, order[k]);
    free(order);
    if (rc)
        return -1;
    nn_graph *g = t->g;
    /* Inputs: the placeholders. Outputs: the signature's, else every node nothing reads. */
    int n_in = 0, n_out = 0;
    for (int i = 0; i < t->n_nodes; i++)
        n_in += !strcmp(t->nodes[i].op, "Placeholder");
    g->inputs = malloc((size_t)(n_in ? n_in : 1) * sizeof(int));
    g->outputs = malloc((size_t)t->n_nodes * sizeof(int));
    if (!g->inputs || !g->outputs)
        return oom(t);
    for (int i = 0; i < t->n_nodes; i++)
        if (!strcmp(t->nodes[i].op, "Placeholder"))
            g->inputs[g->n_inputs++] = t->nodes[i].tensor;
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "userDefinedMetadata");
    const cJSON *sig = meta ? cJSON_GetObjectItemCaseSensitive(meta, "signature") : NULL;
    const cJSON *outs = sig ? cJSON_GetObjectItemCaseSensitive(sig, "outputs") : NULL;
    if (cJSON_IsObject(outs)) {
        const cJSON *o;
        cJSON_ArrayForEach(o, outs)
        {
            const cJSON *on = cJSON_GetObjectItemCaseSensitive(o, "name");
            if (!cJSON_IsString(on) || !on->valuestring)
                return fail(t, "the signature has an output without a name");
            const char *s = on->valuestring, *colon = strrchr(s, ':');
            int ni = find_node(t, s, colon ? (size_t)(colon - s) : strlen(s));
            if (ni < 0 || n_out >= t->n_nodes)
                return fail(t, "signature output %s is not a node", s);
            g->outputs[n_out++] = t->nodes[ni].tensor;
        }
    } else {
        for (int i = 0; i < t->n_nodes; i++)
            if (!t->nodes[i].consumers && strcmp(t->nodes[i].op, "Const") != 0)
                g->outputs[n_out++] = t->nodes[i].tensor;
    }
    g->n_outputs = n_out;
    if (g->n_inputs < 1 || n_out < 1)
        return fail(t, "has no input placeholder or no output");
    for (int k = 0; k < n_out; k++) {
        nn_tensor *o = &g->tensors[g->outputs[k]];
        if (o->producer < 0 || o->is_output)
            return fail(t, "output %s is not computed by any operation or listed twice", o->name);
        o->is_output = 1;
    }
    return fold_prelu(t);
}

int nn_tfjs_read(const char *json, size_t json_size, const void *weights, size_t weights_size, const char *name,
                 nn_graph **out, ptim_error *err)
{
    *out = NULL;
    tj t = {.name = name, .err = err, .w = weights, .w_size = weights_size};
    t.g = calloc(1, sizeof *t.g);
    if (!t.g || !(t.g->name = strdup(name))) {
        free(t.g);
        return oom(&t);
    }
    cJSON *root = cJSON_ParseWithLength(json, json_size);
    int rc;
    if (!root)
        rc = fail(&t, "is not valid JSON");
    else
        rc = import(&t, root);
    if (rc == 0)
        rc = nn_graph_validate(t.g, err);
    for (int i = 0; i < t.n_nodes; i++)
        free(t.nodes[i].ints);
    free(t.nodes);
    free(t.hash);
    cJSON_Delete(root);
    if (rc) {
        nn_graph_free(t.g);
        return -1;
    }
    *out = t.g;
    return 0;
}

/* Reads a whole file into memory (at most 1 GiB). */
static int slurp(const char *path, const char *name, char **buf, size_t *size, ptim_error *err)
{
    *buf = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "model %s: cannot open %s", name, path);
    long n = -1;
    if (fseek(fp, 0, SEEK_END) == 0)
        n = ftell(fp);
    if (n < 0 || n > (long)1 << 30 || fseek(fp, 0, SEEK_SET) != 0) {
        fclose(fp);
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "model %s: cannot read %s (or larger than 1 GiB)",
                              name, path);
    }
    *buf = malloc((size_t)n + 1);
    if (!*buf || fread(*buf, 1, (size_t)n, fp) != (size_t)n) {
        free(*buf);
        *buf = NULL;
        fclose(fp);
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "model %s: cannot read %s", name, path);
    }
    fclose(fp);
    (*buf)[n] = 0;
    *size = (size_t)n;
    return 0;
}

int nn_tfjs_load(const char *path, const char *name, nn_graph **out, ptim_error *err)
{
    *out = NULL;
    char *json = NULL, *weights = NULL;
    size_t json_size = 0, w_size = 0;
    if (slurp(path, name, &json, &json_size, err))
        return -1;
    tj t = {.name = name, .err = err};
    int rc = 0;
    cJSON *root = cJSON_ParseWithLength(json, json_size);
    const cJSON *man = root ? cJSON_GetObjectItemCaseSensitive(root, "weightsManifest") : NULL;
    if (!cJSON_IsArray(man)) {
        rc = fail(&t, "is not a TensorFlow.js graph model (no weightsManifest)");
        goto out;
    }
    /* Shards sit beside the JSON; a shard path must be a plain file name. */
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
    const cJSON *group;
    cJSON_ArrayForEach(group, man)
    {
        const cJSON *paths = cJSON_GetObjectItemCaseSensitive(group, "paths"), *p;
        if (!cJSON_IsArray(paths)) {
            rc = fail(&t, "a weightsManifest group has no paths list");
            goto out;
        }
        cJSON_ArrayForEach(p, paths)
        {
            if (!cJSON_IsString(p) || !p->valuestring || !p->valuestring[0] || strchr(p->valuestring, '/') ||
                !strcmp(p->valuestring, "..") || strlen(p->valuestring) > 255) {
                rc = fail(&t, "weight shard paths must be plain file names beside the JSON");
                goto out;
            }
            char full[4096 + 256];
            snprintf(full, sizeof full, "%.*s%s", (int)dirlen, path, p->valuestring);
            char *shard;
            size_t n;
            if (slurp(full, name, &shard, &n, err)) {
                rc = -1;
                goto out;
            }
            if (w_size + n > (size_t)1 << 30) {
                free(shard);
                rc = fail(&t, "weight shards are larger than 1 GiB");
                goto out;
            }
            char *grown = realloc(weights, w_size + n + 1);
            if (!grown) {
                free(shard);
                rc = oom(&t);
                goto out;
            }
            weights = grown;
            memcpy(weights + w_size, shard, n);
            w_size += n;
            free(shard);
        }
    }
    rc = nn_tfjs_read(json, json_size, weights, w_size, name, out, err);
out:
    cJSON_Delete(root);
    free(json);
    free(weights);
    return rc;
}
