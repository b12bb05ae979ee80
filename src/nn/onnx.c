/* nn/onnx — ONNX reader: the protobuf wire format decoded directly into
 * ptim's graph form (nn/graph.h).
 *
 * Field numbers are those of onnx.proto (Debian's libonnx-dev). Every length,
 * index, type and shape is checked; external tensor data is read only from
 * files inside the model's directory. Integer tensors (shapes, axes,
 * indices) become float constants: they are small and exact in float, and
 * shape-computing subgraphs over them are folded while reading, so only
 * float computation is left in the graph.
 *
 * Layout: ONNX is NCHW, the backends NHWC. Every value may exist in its
 * logical (ONNX) layout and, for rank 4, in NHWC storage; operators that
 * work on images take NHWC, elementwise ones follow their inputs, the rest
 * take the logical form. A Transpose that only moves between the two forms
 * emits nothing, so the NHWC→NCHW→NHWC pairs of converted models cancel.
 * Weights are transposed once at load. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nn/graph.h"

#define ONNX_MIN_OPSET 1
#define ONNX_MAX_OPSET 21
#define MAX_IO 64
#define MAX_ATTR 24
#define MAX_NODES 100000

typedef struct span {
    const uint8_t *p;
    size_t n;
} span;

typedef struct rd {
    const uint8_t *p, *end;
} rd;

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

/* ONNX TensorProto.DataType values we read. */
enum { DT_FLOAT = 1, DT_UINT8 = 2, DT_INT8 = 3, DT_UINT16 = 4, DT_INT16 = 5, DT_INT32 = 6, DT_INT64 = 7,
       DT_BOOL = 9, DT_DOUBLE = 11, DT_UINT32 = 12, DT_UINT64 = 13 };

/* AttributeProto.type */
enum { AT_FLOAT = 1, AT_INT = 2, AT_STRING = 3, AT_TENSOR = 4, AT_FLOATS = 6, AT_INTS = 7 };

typedef struct attr {
    span name, msg;  /* msg: the whole AttributeProto, rescanned for lists */
    int type;
    float f;
    int64_t i;
    span s, t;
} attr;

typedef struct node {
    span name, op, domain;
    int n_in, n_out, n_attr;
    span in[MAX_IO], out[16];
    attr at[MAX_ATTR];
} node;

/* One ONNX value: its tensor in logical layout and/or NHWC storage (-1: none yet). */
typedef struct val {
    char *name;
    int lt, nt;
} val;

typedef struct ctx {
    const char *file;
    const char *dir;
    ptim_error *err;
    nn_graph *g;
    int cap_t, cap_o;
    int opset;
    val *vals;
    int n_vals, cap_vals;
    int *bucket, n_bucket, *chain;
    node *nodes;
    int n_nodes;
    span graph_outputs[MAX_IO * 4];
    int n_graph_outputs;
    const node *cur; /* node being converted, for messages */
    int cur_index;
    const nn_onnx_binding *bind; /* graph inputs given as constants (n_bind entries) */
    int n_bind;
    int drop_pages; /* the bytes are a file mapping: drop an initializer's pages once copied */
} ctx;

/* ---- errors ---- */

static int failv(ctx *c, const char *fmt, va_list ap)
{
    char msg[PTIM_ERROR_MESSAGE_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (c->cur)
        return ptim_error_set(c->err, PTIM_ERR_MODEL, PTIM_SEV_HIGH, "model %s: node %d (%.*s, %.*s): %s", c->file,
                              c->cur_index, (int)(c->cur->name.n > 60 ? 60 : c->cur->name.n),
                              (const char *)c->cur->name.p, (int)(c->cur->op.n > 40 ? 40 : c->cur->op.n),
                              (const char *)c->cur->op.p, msg);
    return ptim_error_set(c->err, PTIM_ERR_MODEL, PTIM_SEV_HIGH, "model %s: %s", c->file, msg);
}

static int fail(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(c, fmt, ap);
    va_end(ap);
    return -1;
}

static int oom(ctx *c)
{
    return fail(c, "out of memory");
}

/* ---- wire format ---- */

static int rd_varint(rd *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            return -1;
        uint8_t b = *r->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* Next field: 1 with its number, wire type and value/span; 0 at the end; -1 when malformed. */
static int rd_field(rd *r, uint32_t *field, int *wire, uint64_t *v, span *s)
{
    if (r->p >= r->end)
        return 0;
    uint64_t key;
    if (rd_varint(r, &key) || (key >> 3) == 0 || (key >> 3) > 0x1fffffff)
        return -1;
    *field = (uint32_t)(key >> 3);
    *wire = (int)(key & 7);
    switch (*wire) {
    case WIRE_VARINT: return rd_varint(r, v) ? -1 : 1;
    case WIRE_I64:
        if (r->end - r->p < 8)
            return -1;
        memcpy(v, r->p, 8);
        r->p += 8;
        return 1;
    case WIRE_I32: {
        if (r->end - r->p < 4)
            return -1;
        uint32_t u;
        memcpy(&u, r->p, 4);
        *v = u;
        r->p += 4;
        return 1;
    }
    case WIRE_LEN: {
        uint64_t n;
        if (rd_varint(r, &n) || n > (uint64_t)(r->end - r->p))
            return -1;
        s->p = r->p;
        s->n = (size_t)n;
        r->p += n;
        return 1;
    }
    default: return -1;
    }
}

static rd rd_of(span s)
{
    /* An empty field may carry a null pointer: no arithmetic on it (UB). */
    if (!s.p)
        return (rd){NULL, NULL};
    return (rd){s.p, s.p + s.n};
}

static int span_is(span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

static float u32_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ---- graph building ---- */

static uint32_t hash_bytes(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

static val *find_val(ctx *c, span name)
{
    uint32_t h = hash_bytes((const char *)name.p, name.n) & (uint32_t)(c->n_bucket - 1);
    for (int i = c->bucket[h]; i >= 0; i = c->chain[i])
        if (strlen(c->vals[i].name) == name.n && memcmp(c->vals[i].name, name.p, name.n) == 0)
            return &c->vals[i];
    return NULL;
}

/* Defines (or, for an empty name, ignores) value `name`. */
static int set_val(ctx *c, span name, int lt, int nt)
{
    if (name.n == 0)
        return 0;
    if (memchr(name.p, 0, name.n))
        return fail(c, "a value name contains a NUL byte");
    if (find_val(c, name))
        return fail(c, "value '%.*s' is written twice", (int)(name.n > 80 ? 80 : name.n), (const char *)name.p);
    if (c->n_vals == c->cap_vals) {
        int cap = c->cap_vals ? c->cap_vals * 2 : 256;
        val *v = realloc(c->vals, (size_t)cap * sizeof *v);
        int *ch = realloc(c->chain, (size_t)cap * sizeof *ch);
        if (v)
            c->vals = v;
        if (ch)
            c->chain = ch;
        if (!v || !ch)
            return oom(c);
        c->cap_vals = cap;
    }
    char *s = malloc(name.n + 1);
    if (!s)
        return oom(c);
    memcpy(s, name.p, name.n);
    s[name.n] = 0;
    uint32_t h = hash_bytes(s, name.n) & (uint32_t)(c->n_bucket - 1);
    c->vals[c->n_vals] = (val){s, lt, nt};
    c->chain[c->n_vals] = c->bucket[h];
    c->bucket[h] = c->n_vals++;
    return 0;
}

static int add_tensor(ctx *c, const char *name, int rank, const int *dims, float *data)
{
    nn_graph *g = c->g;
    if (rank < 0 || rank > NN_MAX_RANK) {
        free(data);
        return fail(c, "tensor '%s' has rank %d (at most %d supported)", name, rank, NN_MAX_RANK);
    }
    size_t count = 1;
    for (int d = 0; d < rank; d++) {
        if (dims[d] < 0 || (dims[d] == 0 && !data)) {
            free(data);
            return fail(c, "tensor '%s' has an empty or negative dimension", name);
        }
        if (dims[d] && count > NN_MAX_TENSOR_ELEMS / (size_t)dims[d]) {
            free(data);
            return fail(c, "tensor '%s' is larger than %zu elements", name, NN_MAX_TENSOR_ELEMS);
        }
        count *= (size_t)dims[d];
    }
    if (g->n_tensors == c->cap_t) {
        int cap = c->cap_t ? c->cap_t * 2 : 256;
        nn_tensor *t = realloc(g->tensors, (size_t)cap * sizeof *t);
        if (!t) {
            free(data);
            return oom(c);
        }
        g->tensors = t;
        c->cap_t = cap;
    }
    char *nm = strdup(name);
    if (!nm) {
        free(data);
        return oom(c);
    }
    nn_tensor *t = &g->tensors[g->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = nm;
    t->rank = rank;
    for (int d = 0; d < rank; d++)
        t->dims[d] = dims[d];
    t->count = count;
    t->data = data;
    t->producer = -1;
    t->alias_of = -1;
    if (data)
        g->param_count += count;
    return g->n_tensors++;
}

/* A new constant copied from `vals` (count = product of dims). */
static int add_const(ctx *c, const char *name, int rank, const int *dims, const float *vals, size_t count)
{
    float *d = malloc(count ? count * sizeof *d : sizeof *d);
    if (!d)
        return oom(c);
    if (count)
        memcpy(d, vals, count * sizeof *d);
    return add_tensor(c, name, rank, dims, d);
}

static int add_op(ctx *c, nn_op_kind kind, int n_in, const int *inputs)
{
    nn_graph *g = c->g;
    if (g->n_ops == c->cap_o) {
        int cap = c->cap_o ? c->cap_o * 2 : 128;
        nn_op *o = realloc(g->ops, (size_t)cap * sizeof *o);
        if (!o)
            return oom(c);
        g->ops = o;
        c->cap_o = cap;
    }
    int *in = malloc((size_t)n_in * sizeof *in);
    if (!in)
        return oom(c);
    memcpy(in, inputs, (size_t)n_in * sizeof *in);
    nn_op *op = &g->ops[g->n_ops];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->n_inputs = n_in;
    op->inputs = in;
    op->output = -1;
    op->act_min = -INFINITY;
    op->act_max = INFINITY;
    op->stride_h = op->stride_w = op->dilation_h = op->dilation_w = 1;
    op->depth_multiplier = 1;
    for (int d = 0; d < NN_MAX_RANK; d++) {
        op->perm[d] = d;
        op->step[d] = 1;
    }
    return g->n_ops++;
}

static int all_const(ctx *c, const nn_op *op)
{
    for (int k = 0; k < op->n_inputs; k++)
        if (!c->g->tensors[op->inputs[k]].data)
            return 0;
    return 1;
}

/* Gives op `o` a new output tensor of these dims; an operator over constants
 * runs now and leaves a constant. Returns the output tensor. */
static int finish_op(ctx *c, int o, const char *name, int rank, const int *dims)
{
    int t = add_tensor(c, name, rank, dims, NULL);
    if (t < 0)
        return -1;
    nn_graph *g = c->g;
    nn_op *op = &g->ops[o];
    op->output = t;
    g->tensors[t].producer = o;
    char why[160];
    if (op->kind >= NN_OP_ONNX_FIRST && nn_onnx_validate_op(g, op, why, sizeof why))
        return fail(c, "%s %s", nn_op_kind_name(op->kind), why);
    if (!all_const(c, op) || (op->kind == NN_OP_UNARY && op->mode == NN_UN_COPY))
        return t; /* a copy is only made for a graph output */
    nn_tensor *y = &g->tensors[t];
    /* Folding runs at load: a hostile file must not make it take minutes. */
    const nn_tensor *x0 = &g->tensors[op->inputs[0]];
    double per = 1;
    if (op->kind == NN_OP_CONV2D || op->kind == NN_OP_DWCONV2D || op->kind == NN_OP_DECONV2D ||
        op->kind == NN_OP_MAXPOOL2D || op->kind == NN_OP_AVGPOOL2D)
        per = (double)op->kernel_h * op->kernel_w * (x0->rank == 4 ? x0->dims[3] : 1);
    else if (op->kind == NN_OP_MATMUL)
        per = x0->dims[x0->rank - 1];
    if (per * (double)y->count > 1e9)
        return fail(c, "computing %s over constants at load would take too long", nn_op_kind_name(op->kind));
    float **ptr = calloc((size_t)g->n_tensors, sizeof *ptr);
    y->data = malloc(y->count * sizeof(float));
    if (!ptr || !y->data) {
        free(ptr);
        return oom(c);
    }
    for (int k = 0; k < op->n_inputs; k++)
        ptr[op->inputs[k]] = g->tensors[op->inputs[k]].data;
    ptr[t] = y->data;
    nn_ref_run_op(g, op, ptr);
    free(ptr);
    y->producer = -1;
    free(op->inputs);
    g->n_ops--; /* it was the last one added */
    return t;
}

static const nn_tensor *T(ctx *c, int t)
{
    return &c->g->tensors[t];
}

static int is_const(ctx *c, int t)
{
    return c->g->tensors[t].data != NULL;
}

/* Transpose to a new tensor (folded when constant). */
static int emit_transpose(ctx *c, int t, const int *perm, const char *name)
{
    const nn_tensor *x = T(c, t);
    int rank = x->rank, dims[NN_MAX_RANK];
    for (int d = 0; d < rank; d++)
        dims[d] = x->dims[perm[d]];
    int o = add_op(c, NN_OP_TRANSPOSE, 1, &t);
    if (o < 0)
        return -1;
    for (int d = 0; d < rank; d++)
        c->g->ops[o].perm[d] = perm[d];
    return finish_op(c, o, name, rank, dims);
}

static int emit_reshape(ctx *c, int t, int rank, const int *dims, const char *name)
{
    int o = add_op(c, NN_OP_RESHAPE, 1, &t);
    if (o < 0)
        return -1;
    return finish_op(c, o, name, rank, dims);
}

static const int TO_NHWC[4] = {0, 2, 3, 1}, TO_NCHW[4] = {0, 3, 1, 2};
/* Logical (NCHW) axis → its place in NHWC storage. */
static const int NHWC_AXIS[4] = {0, 3, 1, 2};

static int get_logical(ctx *c, val *v)
{
    if (v->lt < 0) {
        char nm[300];
        snprintf(nm, sizeof nm, "%s:nchw", v->name);
        int t = emit_transpose(c, v->nt, TO_NCHW, nm);
        if (t < 0)
            return -1;
        v->lt = t;
    }
    return v->lt;
}

static int get_nhwc(ctx *c, val *v)
{
    if (v->nt < 0) {
        if (T(c, v->lt)->rank != 4)
            return fail(c, "needs a rank-4 (NCHW) input, '%s' has rank %d", v->name, T(c, v->lt)->rank);
        char nm[300];
        snprintf(nm, sizeof nm, "%s:nhwc", v->name);
        int t = emit_transpose(c, v->lt, TO_NHWC, nm);
        if (t < 0)
            return -1;
        v->nt = t;
    }
    return v->nt;
}

static int val_rank(ctx *c, const val *v)
{
    return T(c, v->lt >= 0 ? v->lt : v->nt)->rank;
}

/* Logical dims of a value. */
static int val_dims(ctx *c, const val *v, int dims[NN_MAX_RANK])
{
    if (v->lt >= 0) {
        const nn_tensor *t = T(c, v->lt);
        for (int d = 0; d < t->rank; d++)
            dims[d] = t->dims[d];
        return t->rank;
    }
    const nn_tensor *t = T(c, v->nt);
    for (int d = 0; d < 4; d++)
        dims[d] = t->dims[TO_NCHW[d]];
    return 4;
}

static int val_is_const(ctx *c, const val *v)
{
    return is_const(c, v->lt >= 0 ? v->lt : v->nt);
}

/* ---- tensors from the file ---- */

typedef struct tproto {
    span name, raw, typed, ext_location;
    int typed_wire; /* packed list (LEN) or one repeated scalar per field */
    int typed_field;
    int64_t ext_offset, ext_length;
    int external;
    int dtype;
    int rank;
    int64_t dims[NN_MAX_RANK];
    span msg;
} tproto;

static int parse_tensor(ctx *c, span msg, tproto *tp)
{
    memset(tp, 0, sizeof *tp);
    tp->msg = msg;
    tp->ext_length = -1;
    rd r = rd_of(msg);
    uint32_t f;
    int w, rc;
    uint64_t v;
    span s;
    while ((rc = rd_field(&r, &f, &w, &v, &s)) > 0) {
        switch (f) {
        case 1:
            if (w == WIRE_VARINT) {
                if (tp->rank >= NN_MAX_RANK)
                    return fail(c, "a tensor has more than %d dims", NN_MAX_RANK);
                tp->dims[tp->rank++] = (int64_t)v;
            } else if (w == WIRE_LEN) {
                rd q = rd_of(s);
                while (q.p < q.end) {
                    if (rd_varint(&q, &v))
                        return fail(c, "a tensor's dims are malformed");
                    if (tp->rank >= NN_MAX_RANK)
                        return fail(c, "a tensor has more than %d dims", NN_MAX_RANK);
                    tp->dims[tp->rank++] = (int64_t)v;
                }
            }
            break;
        case 2: tp->dtype = (int)v; break;
        case 3: return fail(c, "segmented tensors are not supported");
        case 4: case 5: case 7: case 10: case 11:
            if (tp->typed.p && tp->typed_field == (int)f && tp->typed_wire != WIRE_LEN && w != WIRE_LEN) {
                tp->typed.n = (size_t)(r.p - tp->typed.p); /* runs of unpacked scalars */
            } else {
                if (tp->typed.p)
                    return fail(c, "a tensor has its values in more than one field");
                tp->typed_field = (int)f;
                tp->typed_wire = w;
                if (w == WIRE_LEN) {
                    tp->typed = s;
                } else {
                    /* Point at this field's key: rescanned later as a run of fields. */
                    size_t keylen = 1;
                    uint32_t key = (f << 3) | (uint32_t)w;
                    while (key >= 0x80) {
                        key >>= 7;
                        keylen++;
                    }
                    size_t vlen = w == WIRE_I32 ? 4 : w == WIRE_I64 ? 8 : 0;
                    if (w == WIRE_VARINT) {
                        uint64_t t = v;
                        vlen = 1;
                        while (t >= 0x80) {
                            t >>= 7;
                            vlen++;
                        }
                    }
                    tp->typed.p = r.p - vlen - keylen;
                    tp->typed.n = vlen + keylen;
                }
            }
            break;
        case 6: return fail(c, "string tensors are not supported");
        case 8: if (w == WIRE_LEN) tp->name = s; break;
        case 9: if (w == WIRE_LEN) tp->raw = s; break;
        case 13: {
            if (w != WIRE_LEN)
                break;
            rd q = rd_of(s);
            span key = {0}, value = {0}, t2;
            uint32_t f2;
            int w2, rc2;
            while ((rc2 = rd_field(&q, &f2, &w2, &v, &t2)) > 0) {
                if (f2 == 1 && w2 == WIRE_LEN)
                    key = t2;
                else if (f2 == 2 && w2 == WIRE_LEN)
                    value = t2;
            }
            if (rc2 < 0)
                return fail(c, "a tensor's external data entry is malformed");
            if (span_is(key, "location")) {
                tp->ext_location = value;
            } else if (span_is(key, "offset") || span_is(key, "length")) {
                char num[32];
                if (value.n == 0 || value.n >= sizeof num)
                    return fail(c, "a tensor's external data %.*s is not a number", (int)key.n, (const char *)key.p);
                memcpy(num, value.p, value.n);
                num[value.n] = 0;
                char *end;
                errno = 0;
                long long n = strtoll(num, &end, 10);
                if (*end || errno || n < 0)
                    return fail(c, "a tensor's external data %s '%s' is not a number", span_is(key, "offset") ? "offset" : "length", num);
                if (span_is(key, "offset"))
                    tp->ext_offset = n;
                else
                    tp->ext_length = n;
            }
            break;
        }
        case 14: tp->external = v == 1; break;
        default: break;
        }
    }
    if (rc < 0)
        return fail(c, "a tensor is malformed (truncated or bad field)");
    return 0;
}

static size_t dtype_size(int dt)
{
    switch (dt) {
    case DT_FLOAT: case DT_INT32: case DT_UINT32: return 4;
    case DT_INT64: case DT_DOUBLE: case DT_UINT64: return 8;
    case DT_INT8: case DT_UINT8: case DT_BOOL: return 1;
    case DT_INT16: case DT_UINT16: return 2;
    default: return 0;
    }
}

/* Integers become floats; the sentinels of Slice (INT64_MAX…) stay far outside any dim. */
static float int_float(int64_t v)
{
    const int64_t lim = (int64_t)1 << 30;
    return (float)(v > lim ? lim : v < -lim ? -lim : v);
}

static float raw_value(const uint8_t *p, int dt)
{
    switch (dt) {
    case DT_FLOAT: { uint32_t u; memcpy(&u, p, 4); return u32_float(u); }
    case DT_DOUBLE: { double d; memcpy(&d, p, 8); return (float)d; }
    case DT_INT32: { int32_t i; memcpy(&i, p, 4); return (float)i; }
    case DT_UINT32: { uint32_t i; memcpy(&i, p, 4); return int_float((int64_t)i); }
    case DT_INT64: { int64_t i; memcpy(&i, p, 8); return int_float(i); }
    case DT_UINT64: { uint64_t i; memcpy(&i, p, 8); return int_float(i > INT64_MAX ? INT64_MAX : (int64_t)i); }
    case DT_INT16: { int16_t i; memcpy(&i, p, 2); return i; }
    case DT_UINT16: { uint16_t i; memcpy(&i, p, 2); return i; }
    case DT_INT8: return (float)(int8_t)*p;
    default: return (float)*p; /* UINT8, BOOL */
    }
}

/* Reads `n` bytes at `offset` of a file inside the model's directory. */
static int read_external(ctx *c, const tproto *tp, size_t n, uint8_t **out)
{
    *out = NULL;
    char loc[1024];
    if (!c->dir)
        return fail(c, "tensor '%.*s' has external data, which a model read from memory cannot have",
                    (int)(tp->name.n > 80 ? 80 : tp->name.n), (const char *)tp->name.p);
    if (tp->ext_location.n == 0 || tp->ext_location.n >= sizeof loc || memchr(tp->ext_location.p, 0, tp->ext_location.n))
        return fail(c, "a tensor's external data has no usable location");
    memcpy(loc, tp->ext_location.p, tp->ext_location.n);
    loc[tp->ext_location.n] = 0;
    /* Only plain relative paths below the model's directory. */
    int bad = loc[0] == '/' || strstr(loc, "\\") != NULL;
    for (const char *p = loc; *p && !bad;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        bad = (len == 2 && p[0] == '.' && p[1] == '.');
        p = e ? e + 1 : p + len;
    }
    if (bad)
        return fail(c, "external data '%s' is outside the model's directory", loc);
    char path[4096], real_dir[PATH_MAX], real_file[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", c->dir, loc);
    if (!realpath(c->dir, real_dir) || !realpath(path, real_file))
        return fail(c, "external data '%s' cannot be found next to the model", loc);
    size_t dl = strlen(real_dir);
    if (strncmp(real_file, real_dir, dl) != 0 || (real_file[dl] != '/' && strcmp(real_dir, "/") != 0))
        return fail(c, "external data '%s' is outside the model's directory", loc);
    if (tp->ext_length >= 0 && (uint64_t)tp->ext_length != n)
        return fail(c, "external data '%s' has length %lld, the tensor needs %zu bytes", loc,
                    (long long)tp->ext_length, n);
    FILE *fp = fopen(real_file, "rb");
    if (!fp)
        return fail(c, "cannot open external data '%s'", loc);
    uint8_t *buf = malloc(n ? n : 1);
    int ok = buf && fseeko(fp, (off_t)tp->ext_offset, SEEK_SET) == 0 && fread(buf, 1, n, fp) == n;
    fclose(fp);
    if (!ok) {
        free(buf);
        return fail(c, "external data '%s' is shorter than its tensor (offset %lld, %zu bytes)", loc,
                    (long long)tp->ext_offset, n);
    }
    *out = buf;
    return 0;
}

/* A TensorProto as a float constant tensor. */
/* The whole pages inside [p, p + n) of a private read-only file mapping
 * leave this process's memory (MADV_DONTNEED); read again, they come back
 * from the file unchanged. */
static void drop_pages(const void *p, size_t n)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1), b = ((uintptr_t)p + n) & ~(page - 1);
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_DONTNEED);
}

static int load_tensor(ctx *c, const tproto *tp, const char *name)
{
    size_t es = dtype_size(tp->dtype);
    if (!es)
        return fail(c, "tensor '%s' has data type %d, which is not supported", name, tp->dtype);
    int dims[NN_MAX_RANK];
    size_t count = 1;
    for (int d = 0; d < tp->rank; d++) {
        if (tp->dims[d] < 0 || tp->dims[d] > INT_MAX)
            return fail(c, "tensor '%s' has dim %lld", name, (long long)tp->dims[d]);
        dims[d] = (int)tp->dims[d];
        if (dims[d] && count > NN_MAX_TENSOR_ELEMS / (size_t)dims[d])
            return fail(c, "tensor '%s' is larger than %zu elements", name, NN_MAX_TENSOR_ELEMS);
        count *= (size_t)dims[d];
    }
    float *data = malloc(count ? count * sizeof *data : sizeof *data);
    if (!data)
        return oom(c);
    uint8_t *ext = NULL;
    const uint8_t *raw = NULL;
    if (tp->external) {
        if (read_external(c, tp, count * es, &ext)) {
            free(data);
            return -1;
        }
        raw = ext;
    } else if (tp->raw.p) {
        if (tp->raw.n != count * es) {
            free(data);
            return fail(c, "tensor '%s' has %zu bytes of data, its shape needs %zu", name, tp->raw.n, count * es);
        }
        raw = tp->raw.p;
    }
    if (raw) {
        for (size_t k = 0; k < count; k++)
            data[k] = raw_value(raw + k * es, tp->dtype);
        if (c->drop_pages && raw == tp->raw.p)
            drop_pages(raw, count * es);
    } else {
        /* Typed fields: float_data(4) fixed32, int32_data(5)/int64_data(7)/uint64_data(11) varints, double_data(10) fixed64. */
        size_t k = 0;
        int want_wire = tp->typed_field == 4 ? WIRE_I32 : tp->typed_field == 10 ? WIRE_I64 : WIRE_VARINT;
        int field_ok = (tp->typed_field == 4 && tp->dtype == DT_FLOAT) || (tp->typed_field == 10 && tp->dtype == DT_DOUBLE) ||
                       (tp->typed_field == 7 && tp->dtype == DT_INT64) ||
                       (tp->typed_field == 11 && (tp->dtype == DT_UINT64 || tp->dtype == DT_UINT32)) ||
                       (tp->typed_field == 5 && tp->dtype != DT_FLOAT && tp->dtype != DT_DOUBLE &&
                        tp->dtype != DT_INT64 && tp->dtype != DT_UINT64 && tp->dtype != DT_UINT32);
        if (tp->typed.p && !field_ok) {
            free(data);
            return fail(c, "tensor '%s' keeps its values in a field that does not match its type %d", name, tp->dtype);
        }
        rd r = rd_of(tp->typed);
        int packed = tp->typed_wire == WIRE_LEN;
        while (tp->typed.p && r.p < r.end) {
            uint64_t v = 0;
            if (!packed) {
                uint32_t f;
                int w;
                span s;
                if (rd_field(&r, &f, &w, &v, &s) != 1 || w != want_wire)
                    break;
            } else if (want_wire == WIRE_VARINT) {
                if (rd_varint(&r, &v))
                    break;
            } else {
                size_t n = want_wire == WIRE_I32 ? 4 : 8;
                if ((size_t)(r.end - r.p) < n)
                    break;
                v = 0;
                memcpy(&v, r.p, n);
                r.p += n;
            }
            if (k >= count) {
                k = count + 1;
                break;
            }
            if (want_wire == WIRE_I32)
                data[k++] = u32_float((uint32_t)v);
            else if (want_wire == WIRE_I64) {
                double d;
                memcpy(&d, &v, 8);
                data[k++] = (float)d;
            } else if (tp->typed_field == 11)
                data[k++] = int_float(v > INT64_MAX ? INT64_MAX : (int64_t)v);
            else
                data[k++] = tp->typed_field == 5 ? (float)(int32_t)v : int_float((int64_t)v);
        }
        if (k != count || r.p != r.end) {
            free(data);
            return fail(c, "tensor '%s' has %s values than its shape needs", name, k > count ? "more" : "fewer");
        }
    }
    free(ext);
    return add_tensor(c, name, tp->rank, dims, data);
}

/* ---- nodes and attributes ---- */

static int parse_attr(ctx *c, span msg, attr *a)
{
    memset(a, 0, sizeof *a);
    a->msg = msg;
    rd r = rd_of(msg);
    uint32_t f;
    int w, rc;
    uint64_t v;
    span s;
    while ((rc = rd_field(&r, &f, &w, &v, &s)) > 0) {
        switch (f) {
        case 1: if (w == WIRE_LEN) a->name = s; break;
        case 2: if (w == WIRE_I32) a->f = u32_float((uint32_t)v); break;
        case 3: if (w == WIRE_VARINT) a->i = (int64_t)v; break;
        case 4: if (w == WIRE_LEN) a->s = s; break;
        case 5: if (w == WIRE_LEN) a->t = s; break;
        case 20: a->type = (int)v; break;
        case 21: return fail(c, "attribute references (ref_attr_name) are not supported");
        default: break;
        }
    }
    if (rc < 0)
        return fail(c, "an attribute is malformed");
    return 0;
}

static int parse_node(ctx *c, span msg, node *n)
{
    memset(n, 0, sizeof *n);
    rd r = rd_of(msg);
    uint32_t f;
    int w, rc;
    uint64_t v;
    span s;
    while ((rc = rd_field(&r, &f, &w, &v, &s)) > 0) {
        if (w != WIRE_LEN)
            continue;
        switch (f) {
        case 1:
            if (n->n_in >= MAX_IO)
                return fail(c, "a node has more than %d inputs", MAX_IO);
            n->in[n->n_in++] = s;
            break;
        case 2:
            if (n->n_out >= 16)
                return fail(c, "a node has more than 16 outputs");
            n->out[n->n_out++] = s;
            break;
        case 3: n->name = s; break;
        case 4: n->op = s; break;
        case 5:
            if (n->n_attr >= MAX_ATTR)
                return fail(c, "a node has more than %d attributes", MAX_ATTR);
            if (parse_attr(c, s, &n->at[n->n_attr++]))
                return -1;
            break;
        case 7: n->domain = s; break;
        default: break;
        }
    }
    if (rc < 0)
        return fail(c, "a node is malformed");
    return 0;
}

static const attr *find_attr(const node *n, const char *name)
{
    for (int i = 0; i < n->n_attr; i++)
        if (span_is(n->at[i].name, name))
            return &n->at[i];
    return NULL;
}

static int64_t attr_int(const node *n, const char *name, int64_t def)
{
    const attr *a = find_attr(n, name);
    return a ? a->i : def;
}

static float attr_float(const node *n, const char *name, float def)
{
    const attr *a = find_attr(n, name);
    return a ? a->f : def;
}

/* A list attribute (ints or floats, packed or not) into `out`; count, or -1 when absent. */
static int attr_list(ctx *c, const node *n, const char *name, double *out, int max)
{
    const attr *a = find_attr(n, name);
    if (!a)
        return -1;
    rd r = rd_of(a->msg);
    uint32_t f;
    int w, rc, k = 0;
    uint64_t v;
    span s;
    while ((rc = rd_field(&r, &f, &w, &v, &s)) > 0) {
        if (f != 7 && f != 8)
            continue;
        if (w == WIRE_LEN) {
            rd q = rd_of(s);
            while (q.p < q.end) {
                if (k >= max)
                    return fail(c, "attribute %s has more than %d values", name, max) - 1;
                if (f == 8) {
                    if (rd_varint(&q, &v))
                        return fail(c, "attribute %s is malformed", name) - 1;
                    out[k++] = (double)(int64_t)v;
                } else {
                    if (q.end - q.p < 4)
                        return fail(c, "attribute %s is malformed", name) - 1;
                    uint32_t u;
                    memcpy(&u, q.p, 4);
                    q.p += 4;
                    out[k++] = u32_float(u);
                }
            }
        } else {
            if (k >= max)
                return fail(c, "attribute %s has more than %d values", name, max) - 1;
            out[k++] = f == 8 ? (double)(int64_t)v : u32_float((uint32_t)v);
        }
    }
    if (rc < 0)
        return fail(c, "attribute %s is malformed", name) - 1;
    return k;
}

/* The attribute's string, or `def`. */
static span attr_str(const node *n, const char *name, const char *def)
{
    const attr *a = find_attr(n, name);
    if (a)
        return a->s;
    return (span){(const uint8_t *)def, strlen(def)};
}

/* Refuses attributes not in the comma-separated list `known`. */
static int check_attrs(ctx *c, const node *n, const char *known)
{
    for (int i = 0; i < n->n_attr; i++) {
        span nm = n->at[i].name;
        const char *p = known;
        int ok = 0;
        while (*p && !ok) {
            const char *e = strchr(p, ',');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            ok = nm.n == len && memcmp(nm.p, p, len) == 0;
            p = e ? e + 1 : p + len;
        }
        if (!ok)
            return fail(c, "attribute '%.*s' is not supported", (int)(nm.n > 60 ? 60 : nm.n), (const char *)nm.p);
    }
    return 0;
}

/* ---- operator conversion ---- */

static val *input_val(ctx *c, const node *n, int k)
{
    if (k >= n->n_in || n->in[k].n == 0) {
        fail(c, "input %d is missing", k);
        return NULL;
    }
    val *v = find_val(c, n->in[k]);
    if (!v)
        fail(c, "reads '%.*s' before anything writes it (missing initializer, or the graph is out of order or cyclic)",
             (int)(n->in[k].n > 80 ? 80 : n->in[k].n), (const char *)n->in[k].p);
    return v;
}

static int has_input(const node *n, int k)
{
    return k < n->n_in && n->in[k].n > 0;
}

/* Output name k of the node as a C string (for tensor names). */
static void out_name(const node *n, int k, char *buf, size_t size)
{
    span s = k < n->n_out ? n->out[k] : (span){0};
    snprintf(buf, size, "%.*s", (int)(s.n > 250 ? 250 : s.n), (const char *)s.p);
}

/* A constant input's values (count into *count), or NULL with an error. */
static const float *const_input(ctx *c, const node *n, int k, size_t *count)
{
    val *v = input_val(c, n, k);
    if (!v)
        return NULL;
    if (!val_is_const(c, v)) {
        fail(c, "input %d ('%s') must be a constant", k, v->name);
        return NULL;
    }
    int t = get_logical(c, v);
    if (t < 0)
        return NULL;
    *count = T(c, t)->count;
    return T(c, t)->data;
}

static int define_out(ctx *c, const node *n, int k, int lt, int nt)
{
    if (k >= n->n_out)
        return fail(c, "output %d is missing", k);
    return set_val(c, n->out[k], lt, nt);
}

/* Normalizes an axis for rank r. */
static int norm_axis(ctx *c, int64_t axis, int rank, int *out)
{
    *out = 0;
    if (axis < -rank || axis >= rank)
        return fail(c, "axis %lld is outside rank %d", (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return 0;
}

/* Rank-4 NHWC form of a constant of lower rank (logical dims right-aligned). */
static int const_nhwc(ctx *c, val *v)
{
    if (val_rank(c, v) == 4)
        return get_nhwc(c, v);
    int lt = get_logical(c, v);
    if (lt < 0)
        return -1;
    const nn_tensor *x = T(c, lt);
    int d4[4], r = x->rank;
    for (int d = 0; d < 4; d++)
        d4[d] = d < 4 - r ? 1 : x->dims[d - (4 - r)];
    char nm[300];
    snprintf(nm, sizeof nm, "%s:4d", v->name);
    int t4 = emit_reshape(c, lt, 4, d4, nm);
    if (t4 < 0)
        return -1;
    snprintf(nm, sizeof nm, "%s:nhwc", v->name);
    return emit_transpose(c, t4, TO_NHWC, nm);
}

/* Whether an elementwise operator over these inputs runs in NHWC: some
 * computed rank-4 input already is, and every other is rank 4 or constant. */
static int elementwise_nhwc(ctx *c, val **v, int n)
{
    int any = 0;
    for (int k = 0; k < n; k++) {
        int cst = val_is_const(c, v[k]);
        if (!cst && v[k]->nt >= 0)
            any = 1;
        if (!cst && val_rank(c, v[k]) != 4)
            return 0;
    }
    return any;
}

static int broadcast_dims(ctx *c, const int *ts, int n, int *dims)
{
    int rank = 0;
    for (int k = 0; k < n; k++)
        if (T(c, ts[k])->rank > rank)
            rank = T(c, ts[k])->rank;
    for (int d = 0; d < rank; d++) {
        int out = 1;
        for (int k = 0; k < n; k++) {
            const nn_tensor *t = T(c, ts[k]);
            int td = d < t->rank ? t->dims[t->rank - 1 - d] : 1;
            if (td != 1 && out != 1 && td != out)
                return fail(c, "inputs do not broadcast");
            if (td != 1)
                out = td;
        }
        dims[rank - 1 - d] = out;
    }
    return rank;
}

/* Elementwise operator of 1 or 2 inputs, following its inputs' layout. */
static int conv_elementwise(ctx *c, const node *n, nn_op_kind kind, int mode, int n_in, float lo, float hi, float alpha)
{
    val *v[2];
    for (int k = 0; k < n_in; k++)
        if (!(v[k] = input_val(c, n, k)))
            return -1;
    int nhwc = elementwise_nhwc(c, v, n_in);
    int ts[2];
    for (int k = 0; k < n_in; k++) {
        ts[k] = nhwc ? (val_is_const(c, v[k]) ? const_nhwc(c, v[k]) : get_nhwc(c, v[k])) : get_logical(c, v[k]);
        if (ts[k] < 0)
            return -1;
    }
    int dims[NN_MAX_RANK];
    int rank = broadcast_dims(c, ts, n_in, dims);
    if (rank < 0)
        return -1;
    if (kind == NN_OP_PRELU) {
        /* PRelu's slope broadcasts to x's shape (the graph's PRELU needs that). */
        const nn_tensor *x = T(c, ts[0]);
        if (x->rank != rank)
            return fail(c, "slope has a higher rank than the input");
        for (int d = 0; d < rank; d++)
            if (x->dims[d] != dims[d])
                return fail(c, "slope does not broadcast to the input");
        if (!is_const(c, ts[1]))
            return fail(c, "slope must be a constant");
    }
    int o = add_op(c, kind, n_in, ts);
    if (o < 0)
        return -1;
    nn_op *op = &c->g->ops[o];
    op->mode = mode;
    op->act_min = lo;
    op->act_max = hi;
    op->alpha = alpha;
    char nm[300];
    out_name(n, 0, nm, sizeof nm);
    int t = finish_op(c, o, nm, rank, dims);
    if (t < 0)
        return -1;
    return define_out(c, n, 0, nhwc ? -1 : t, nhwc ? t : -1);
}

static int conv_binary(ctx *c, const node *n, int mode)
{
    if (check_attrs(c, n, ""))
        return -1;
    if (n->n_in != 2)
        return fail(c, "needs two inputs");
    /* Add without broadcasting of a computed tensor runs as the graph's ADD (XNNPACK has it). */
    return conv_elementwise(c, n, mode == NN_BIN_ADD ? NN_OP_ADD : NN_OP_BINARY, mode, 2, -INFINITY, INFINITY, 0);
}

static int conv_unary(ctx *c, const node *n, int mode, const char *attrs, float alpha)
{
    if (check_attrs(c, n, attrs))
        return -1;
    return conv_elementwise(c, n, NN_OP_UNARY, mode, 1, -INFINITY, INFINITY, alpha);
}

static int conv_clip(ctx *c, const node *n)
{
    if (check_attrs(c, n, "min,max"))
        return -1;
    float lo = attr_float(n, "min", -INFINITY), hi = attr_float(n, "max", INFINITY);
    for (int k = 1; k <= 2; k++)
        if (has_input(n, k)) {
            size_t cnt;
            const float *p = const_input(c, n, k, &cnt);
            if (!p)
                return -1;
            if (cnt != 1)
                return fail(c, "%s must be a scalar", k == 1 ? "min" : "max");
            if (k == 1)
                lo = p[0];
            else
                hi = p[0];
        }
    if (!(lo <= hi))
        return fail(c, "min is above max");
    return conv_elementwise(c, n, NN_OP_CLAMP, 0, 1, lo, hi, 0);
}

/* An alias: the output is the input (Identity, Dropout in inference, Cast between floats). */
static int conv_alias(ctx *c, const node *n)
{
    val *v = input_val(c, n, 0);
    if (!v)
        return -1;
    int lt = v->lt, nt = v->nt;
    return define_out(c, n, 0, lt, nt);
}

static int conv_cast(ctx *c, const node *n)
{
    if (check_attrs(c, n, "to,saturate"))
        return -1;
    int to = (int)attr_int(n, "to", 0);
    val *v = input_val(c, n, 0);
    if (!v)
        return -1;
    if (to == DT_FLOAT || to == DT_DOUBLE)
        return conv_alias(c, n);
    if (!dtype_size(to))
        return fail(c, "Cast to data type %d is not supported", to);
    if (!val_is_const(c, v))
        return fail(c, "Cast of a computed tensor to integer type %d is not supported", to);
    int t = get_logical(c, v);
    if (t < 0)
        return -1;
    const nn_tensor *x = T(c, t);
    float *d = malloc(x->count ? x->count * sizeof *d : sizeof *d);
    if (!d)
        return oom(c);
    for (size_t k = 0; k < x->count; k++)
        d[k] = to == DT_BOOL ? (x->data[k] != 0.0f) : truncf(x->data[k]);
    char nm[300];
    out_name(n, 0, nm, sizeof nm);
    int rank = x->rank, dims[NN_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    int y = add_tensor(c, nm, rank, dims, d);
    return y < 0 ? -1 : define_out(c, n, 0, y, -1);
}

/* Window attributes shared by Conv, ConvTranspose and the pools. */
typedef struct window {
    int kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
    int auto_pad; /* 0 NOTSET, 1 SAME_UPPER, 2 SAME_LOWER, 3 VALID */
} window;

static int read_window(ctx *c, const node *n, int kh, int kw, window *w)
{
    double v[8];
    memset(w, 0, sizeof *w);
    w->kh = kh;
    w->kw = kw;
    w->sh = w->sw = w->dh = w->dw = 1;
    int k = attr_list(c, n, "kernel_shape", v, 8);
    if (k < -1)
        return -1;
    if (k >= 0) {
        if (k != 2)
            return fail(c, "kernel_shape has %d values (only 2-D windows are supported)", k);
        if ((kh >= 0 && (v[0] != kh || v[1] != kw)))
            return fail(c, "kernel_shape does not match the weights");
        w->kh = (int)v[0];
        w->kw = (int)v[1];
    }
    if (w->kh < 1 || w->kw < 1 || w->kh > 1024 || w->kw > 1024)
        return fail(c, "has no usable kernel_shape");
    if ((k = attr_list(c, n, "strides", v, 8)) < -1)
        return -1;
    if (k >= 0) {
        if (k != 2 || v[0] < 1 || v[1] < 1 || v[0] > 1024 || v[1] > 1024)
            return fail(c, "strides must be two positive values");
        w->sh = (int)v[0];
        w->sw = (int)v[1];
    }
    if ((k = attr_list(c, n, "dilations", v, 8)) < -1)
        return -1;
    if (k >= 0) {
        if (k != 2 || v[0] < 1 || v[1] < 1 || v[0] > 1024 || v[1] > 1024)
            return fail(c, "dilations must be two positive values");
        w->dh = (int)v[0];
        w->dw = (int)v[1];
    }
    if ((k = attr_list(c, n, "pads", v, 8)) < -1)
        return -1;
    if (k >= 0) {
        if (k != 4)
            return fail(c, "pads must have four values");
        for (int i = 0; i < 4; i++)
            if (v[i] < 0 || v[i] > 65536)
                return fail(c, "pads must be small and non-negative");
        w->pt = (int)v[0];
        w->pl = (int)v[1];
        w->pb = (int)v[2];
        w->pr = (int)v[3];
    }
    span ap = attr_str(n, "auto_pad", "NOTSET");
    if (span_is(ap, "NOTSET"))
        w->auto_pad = 0;
    else if (span_is(ap, "SAME_UPPER"))
        w->auto_pad = 1;
    else if (span_is(ap, "SAME_LOWER"))
        w->auto_pad = 2;
    else if (span_is(ap, "VALID"))
        w->auto_pad = 3;
    else
        return fail(c, "auto_pad '%.*s' is not supported", (int)(ap.n > 40 ? 40 : ap.n), (const char *)ap.p);
    return 0;
}

/* Resolves auto_pad for input size `in`; the output size (0: does not fit). */
static int window_size(int in, int k, int s, int d, int mode, int *before, int *after)
{
    long eff = (long)(k - 1) * d + 1;
    if (mode == 1 || mode == 2) {
        long out = (in + s - 1) / s;
        long total = (out - 1) * s + eff - in;
        if (total < 0)
            total = 0;
        *before = (int)(mode == 1 ? total / 2 : total - total / 2);
        *after = (int)(total - *before);
    } else if (mode == 3) {
        *before = *after = 0;
    }
    long span = (long)in + *before + *after - eff;
    return span < 0 ? 0 : (int)(span / s + 1);
}

static void op_window(nn_op *op, const window *w)
{
    op->kernel_h = w->kh;
    op->kernel_w = w->kw;
    op->stride_h = w->sh;
    op->stride_w = w->sw;
    op->dilation_h = w->dh;
    op->dilation_w = w->dw;
    op->pad_top = w->pt;
    op->pad_left = w->pl;
    op->pad_bottom = w->pb;
    op->pad_right = w->pr;
}

/* Channels [from, from+count) of an NHWC tensor (a slice, or itself). */
static int channel_slice(ctx *c, int t, int from, int count, const char *name)
{
    const nn_tensor *x = T(c, t);
    if (from == 0 && count == x->dims[3])
        return t;
    int dims[4] = {x->dims[0], x->dims[1], x->dims[2], count};
    int o = add_op(c, NN_OP_SLICE, 1, &t);
    if (o < 0)
        return -1;
    c->g->ops[o].begin[3] = from;
    return finish_op(c, o, name, 4, dims);
}

static int conv_conv(ctx *c, const node *n)
{
    if (check_attrs(c, n, "auto_pad,dilations,group,kernel_shape,pads,strides"))
        return -1;
    val *xv = input_val(c, n, 0), *wv = xv ? input_val(c, n, 1) : NULL;
    if (!wv)
        return -1;
    if (!val_is_const(c, wv))
        return fail(c, "weights must be a constant");
    if (val_rank(c, xv) != 4 || val_rank(c, wv) != 4)
        return fail(c, "only 2-D convolutions (rank-4 input and weights) are supported");
    int x = get_nhwc(c, xv), wl = get_logical(c, wv);
    if (x < 0 || wl < 0)
        return -1;
    const nn_tensor *xt = T(c, x), *wt = T(c, wl);
    int O = wt->dims[0], Ig = wt->dims[1], KH = wt->dims[2], KW = wt->dims[3], C = xt->dims[3];
    int64_t group = attr_int(n, "group", 1);
    if (group < 1 || group > C || C % group || O % group || Ig * group != C)
        return fail(c, "group %lld does not match %d input channels and weights for %d", (long long)group, C, Ig);
    window w;
    if (read_window(c, n, KH, KW, &w))
        return -1;
    int ho = window_size(xt->dims[1], KH, w.sh, w.dh, w.auto_pad, &w.pt, &w.pb);
    int wo = window_size(xt->dims[2], KW, w.sw, w.dw, w.auto_pad, &w.pl, &w.pr);
    if (ho < 1 || wo < 1)
        return fail(c, "the window does not fit the input");
    const float *bias = NULL;
    size_t nb = 0;
    if (has_input(n, 2)) {
        if (!(bias = const_input(c, n, 2, &nb)))
            return -1;
        if (nb != (size_t)O)
            return fail(c, "bias has %zu values for %d output channels", nb, O);
    }
    char nm[300], base[280];
    out_name(n, 0, base, sizeof base);
    int G = (int)group, Og = O / G;
    int depthwise = G == C && Ig == 1 && G > 1;
    int outs[MAX_IO];
    if (!depthwise && G > MAX_IO)
        return fail(c, "group %d is larger than %d (and not depthwise)", G, MAX_IO);
    for (int gi = 0; gi < (depthwise ? 1 : G); gi++) {
        /* Weights: OIHW → OHWI for a convolution, → 1HW(O) for depthwise. */
        int oc = depthwise ? O : Og;
        size_t kc = (size_t)KH * KW * (size_t)Ig;
        const float *wsrc = wt->data; /* wt may move as tensors are added */
        float *wd = malloc((size_t)oc * kc * sizeof *wd), *bd = malloc((size_t)oc * sizeof *bd);
        if (!wd || !bd) {
            free(wd);
            free(bd);
            return oom(c);
        }
        for (int o = 0; o < oc; o++) {
            int og = depthwise ? o : gi * Og + o;
            for (int ky = 0; ky < KH; ky++)
                for (int kx = 0; kx < KW; kx++)
                    for (int i = 0; i < Ig; i++) {
                        float v = wsrc[(((size_t)og * Ig + i) * KH + ky) * KW + kx];
                        if (depthwise)
                            wd[((size_t)ky * KW + kx) * O + o] = v;
                        else
                            wd[(((size_t)o * KH + ky) * KW + kx) * Ig + i] = v;
                    }
            bd[o] = bias ? bias[og] : 0.0f;
        }
        int wdims[4] = {depthwise ? 1 : oc, KH, KW, depthwise ? O : Ig}, bdims[1] = {oc};
        snprintf(nm, sizeof nm, "%s:w%d", base, gi);
        int wtn = add_tensor(c, nm, 4, wdims, wd);
        if (wtn < 0) {
            free(bd);
            return -1;
        }
        snprintf(nm, sizeof nm, "%s:b%d", base, gi);
        int btn = add_tensor(c, nm, 1, bdims, bd);
        if (btn < 0)
            return -1;
        snprintf(nm, sizeof nm, "%s:in%d", base, gi);
        int xin = depthwise ? x : channel_slice(c, x, gi * Ig, Ig, nm);
        if (xin < 0)
            return -1;
        int ins[3] = {xin, wtn, btn};
        int o = add_op(c, depthwise ? NN_OP_DWCONV2D : NN_OP_CONV2D, 3, ins);
        if (o < 0)
            return -1;
        op_window(&c->g->ops[o], &w);
        c->g->ops[o].depth_multiplier = depthwise ? O / C : 1;
        int ydims[4] = {xt->dims[0], ho, wo, oc};
        snprintf(nm, sizeof nm, G > 1 && !depthwise ? "%s:g%d" : "%s", base, gi);
        xt = NULL;
        outs[gi] = finish_op(c, o, nm, 4, ydims);
        if (outs[gi] < 0)
            return -1;
        xt = T(c, x);
        wt = T(c, wl);
    }
    int y = outs[0];
    if (!depthwise && G > 1) {
        int o = add_op(c, NN_OP_CONCAT, G, outs);
        if (o < 0)
            return -1;
        c->g->ops[o].axis = 3;
        int ydims[4] = {T(c, x)->dims[0], ho, wo, O};
        if ((y = finish_op(c, o, base, 4, ydims)) < 0)
            return -1;
    }
    return define_out(c, n, 0, -1, y);
}

static int conv_conv_transpose(ctx *c, const node *n)
{
    if (check_attrs(c, n, "auto_pad,dilations,group,kernel_shape,output_padding,output_shape,pads,strides"))
        return -1;
    val *xv = input_val(c, n, 0), *wv = xv ? input_val(c, n, 1) : NULL;
    if (!wv)
        return -1;
    if (!val_is_const(c, wv) || val_rank(c, xv) != 4 || val_rank(c, wv) != 4)
        return fail(c, "only 2-D transposed convolutions with constant weights are supported");
    if (attr_int(n, "group", 1) != 1)
        return fail(c, "group other than 1 is not supported");
    int x = get_nhwc(c, xv), wl = get_logical(c, wv);
    if (x < 0 || wl < 0)
        return -1;
    int C = T(c, wl)->dims[0], O = T(c, wl)->dims[1], KH = T(c, wl)->dims[2], KW = T(c, wl)->dims[3];
    int H = T(c, x)->dims[1], W = T(c, x)->dims[2], N = T(c, x)->dims[0];
    if (C != T(c, x)->dims[3])
        return fail(c, "weights are for %d input channels, the input has %d", C, T(c, x)->dims[3]);
    window w;
    if (read_window(c, n, KH, KW, &w))
        return -1;
    double v[8];
    int op_h = 0, op_w = 0, k;
    if ((k = attr_list(c, n, "output_padding", v, 8)) < -1)
        return -1;
    if (k >= 0) {
        if (k != 2 || v[0] < 0 || v[1] < 0 || v[0] > 1024 || v[1] > 1024)
            return fail(c, "output_padding must be two small values");
        op_h = (int)v[0];
        op_w = (int)v[1];
    }
    long full_h = (long)w.sh * (H - 1) + op_h + (long)(KH - 1) * w.dh + 1;
    long full_w = (long)w.sw * (W - 1) + op_w + (long)(KW - 1) * w.dw + 1;
    long ho, wo;
    if ((k = attr_list(c, n, "output_shape", v, 8)) < -1)
        return -1;
    if (k >= 0) {
        if (k != 2 || v[0] < 1 || v[1] < 1)
            return fail(c, "output_shape must give two sizes");
        ho = (long)v[0];
        wo = (long)v[1];
        if (ho > 65536 || wo > 65536)
            return fail(c, "output_shape is too large");
        /* ONNX's rule (floor division: a negative total grows the output). */
        long th = full_h - ho, tw = full_w - wo;
        long hh = th >= 0 ? th / 2 : -((-th + 1) / 2), hw = tw >= 0 ? tw / 2 : -((-tw + 1) / 2);
        w.pt = (int)(w.auto_pad == 1 ? hh : th - hh);
        w.pl = (int)(w.auto_pad == 1 ? hw : tw - hw);
        w.pb = (int)(th - w.pt);
        w.pr = (int)(tw - w.pl);
    } else {
        if (w.auto_pad == 1 || w.auto_pad == 2) {
            long th = full_h - (long)H * w.sh, tw = full_w - (long)W * w.sw;
            if (th < 0) th = 0;
            if (tw < 0) tw = 0;
            w.pt = (int)(w.auto_pad == 2 ? th - th / 2 : th / 2);
            w.pb = (int)(th - w.pt);
            w.pl = (int)(w.auto_pad == 2 ? tw - tw / 2 : tw / 2);
            w.pr = (int)(tw - w.pl);
        } else if (w.auto_pad == 3) {
            w.pt = w.pb = w.pl = w.pr = 0;
        }
        ho = full_h - w.pt - w.pb;
        wo = full_w - w.pl - w.pr;
    }
    if (ho < 1 || wo < 1 || ho > 65536 || wo > 65536)
        return fail(c, "output size %ldx%ld is not usable", ho, wo);
    const float *bias = NULL;
    size_t nb = 0;
    if (has_input(n, 2)) {
        if (!(bias = const_input(c, n, 2, &nb)))
            return -1;
        if (nb != (size_t)O)
            return fail(c, "bias has %zu values for %d output channels", nb, O);
    }
    /* IOHW → OHWI */
    float *wd = malloc((size_t)O * KH * KW * C * sizeof *wd);
    if (!wd)
        return oom(c);
    const float *ws = T(c, wl)->data;
    for (int i = 0; i < C; i++)
        for (int o = 0; o < O; o++)
            for (int ky = 0; ky < KH; ky++)
                for (int kx = 0; kx < KW; kx++)
                    wd[(((size_t)o * KH + ky) * KW + kx) * C + i] = ws[(((size_t)i * O + o) * KH + ky) * KW + kx];
    char nm[300], base[280];
    out_name(n, 0, base, sizeof base);
    snprintf(nm, sizeof nm, "%s:w", base);
    int wdims[4] = {O, KH, KW, C};
    int wtn = add_tensor(c, nm, 4, wdims, wd);
    if (wtn < 0)
        return -1;
    int ins[3] = {x, wtn, -1}, nin = 2;
    if (bias) {
        snprintf(nm, sizeof nm, "%s:b", base);
        int bdims[1] = {O};
        if ((ins[2] = add_const(c, nm, 1, bdims, bias, (size_t)O)) < 0)
            return -1;
        nin = 3;
    }
    int o = add_op(c, NN_OP_DECONV2D, nin, ins);
    if (o < 0)
        return -1;
    op_window(&c->g->ops[o], &w);
    int ydims[4] = {N, (int)ho, (int)wo, O};
    int y = finish_op(c, o, base, 4, ydims);
    return y < 0 ? -1 : define_out(c, n, 0, -1, y);
}

static int conv_pool(ctx *c, const node *n, int avg)
{
    if (check_attrs(c, n, avg ? "auto_pad,ceil_mode,count_include_pad,kernel_shape,pads,strides,dilations"
                              : "auto_pad,ceil_mode,dilations,kernel_shape,pads,storage_order,strides"))
        return -1;
    if (attr_int(n, "ceil_mode", 0) != 0)
        return fail(c, "ceil_mode 1 is not supported");
    if (n->n_out > 1 && n->out[1].n)
        return fail(c, "the Indices output is not supported");
    val *xv = input_val(c, n, 0);
    if (!xv)
        return -1;
    if (val_rank(c, xv) != 4)
        return fail(c, "only 2-D pooling (rank-4 input) is supported");
    int x = get_nhwc(c, xv);
    if (x < 0)
        return -1;
    window w;
    if (read_window(c, n, -1, -1, &w))
        return -1;
    if (w.dh != 1 || w.dw != 1)
        return fail(c, "dilations other than 1 are not supported");
    int ho = window_size(T(c, x)->dims[1], w.kh, w.sh, 1, w.auto_pad, &w.pt, &w.pb);
    int wo = window_size(T(c, x)->dims[2], w.kw, w.sw, 1, w.auto_pad, &w.pl, &w.pr);
    if (ho < 1 || wo < 1)
        return fail(c, "the window does not fit the input");
    int o = add_op(c, avg ? NN_OP_AVGPOOL2D : NN_OP_MAXPOOL2D, 1, &x);
    if (o < 0)
        return -1;
    op_window(&c->g->ops[o], &w);
    c->g->ops[o].mode = avg && attr_int(n, "count_include_pad", 0) ? 1 : 0;
    int ydims[4] = {T(c, x)->dims[0], ho, wo, T(c, x)->dims[3]};
    char nm[300];
    out_name(n, 0, nm, sizeof nm);
    int y = finish_op(c, o, nm, 4, ydims);
    return y < 0 ? -1 : define_out(c, n, 0, -1, y);
}

/* Reduction over `mask` of tensor t (keepdims), then dims dropped unless keep. */
static int emit_reduce(ctx *c, const node *n, int t, int mask, int mode, int keep, int nhwc)
{
    const nn_tensor *x = T(c, t);
    int rank = x->rank, dims[NN_MAX_RANK], kd[NN_MAX_RANK], kr = 0;
    for (int d = 0; d < rank; d++) {
        int red = (mask >> d) & 1;
        dims[d] = red ? 1 : x->dims[d];
        if (!red)
            kd[kr++] = x->dims[d];
    }
    int o = add_op(c, NN_OP_REDUCE, 1, &t);
    if (o < 0)
        return -1;
    c->g->ops[o].mode = mode;
    c->g->ops[o].axis_mask = mask;
    char nm[300];
    out_name(n, 0, nm, sizeof nm);
    if (!keep)
        strncat(nm, ":keep", sizeof nm - strlen(nm) - 1);
    int y = finish_op(c, o, nm, rank, dims);
    if (y < 0)
        return -1;
    if (!keep) {
        out_name(n, 0, nm, sizeof nm);
        if ((y = emit_reshape(c, y, kr, kd, nm)) < 0)
            return -1;
    }
    return define_out(c, n, 0, nhwc ? -1 : y, nhwc ? y : -1);
}

static int conv_reduce(ctx *c, const node *n, int mode)
{
    if (check_attrs(c, n, "axes,keepdims,noop_with_empty_axes"))
        return -1;
    val *xv = input_val(c, n, 0);
    if (!xv)
        return -1;
    int rank = val_rank(c, xv), mask = 0;
    double ax[8];
    int na = attr_list(c, n, "axes", ax, 8);
    if (na == -1 && has_input(n, 1)) {
        size_t cnt;
        const float *p = const_input(c, n, 1, &cnt);
        if (!p)
            return -1;
        if (cnt > 8)
            return fail(c, "too many axes");
        for (size_t k = 0; k < cnt; k++)
            ax[k] = p[k];
        na = (int)cnt;
    } else if (na < -1) {
        return -1;
    }
    if (na <= 0) {
        if (attr_int(n, "noop_with_empty_axes", 0))
            return conv_alias(c, n);
        mask = (1 << rank) - 1;
    }
    for (int k = 0; k < na; k++) {
        int a;
        if (norm_axis(c, (int64_t)ax[k], rank, &a))
            return -1;
        mask |= 1 << a;
    }
    int keep = (int)attr_int(n, "keepdims", 1);
    if (xv->nt >= 0 && keep) {
        int m = 0;
        for (int d = 0; d < 4; d++)
            if ((mask >> d) & 1)
                m |= 1 << NHWC_AXIS[d];
        return emit_reduce(c, n, xv->nt, m, mode, 1, 1);
    }
    int t = get_logical(c, xv);
    return t < 0 ? -1 : emit_reduce(c, n, t, mask, mode, keep, 0);
}

static int conv_global_avg(ctx *c, const node *n)
{
    if (check_attrs(c, n, ""))
        return -1;
    val *xv = input_val(c, n, 0);
    if (!xv)
        return -1;
    if (val_rank(c, xv) != 4)
        return fail(c, "only rank-4 inputs are supported");
    int t = get_nhwc(c, xv);
    return t < 0 ? -1 : emit_reduce(c, n, t, (1 << 1) | (1 << 2), NN_RED_MEAN, 1, 1);
}

static int conv_softmax(ctx *c, const node *n)
{
    if (check_attrs(c, n, "axis"))
        return -1;
    val *xv = input_val(c, n, 0);
    if (!xv)
        return -1;
    int t = get_logical(c, xv);
    if (t < 0)
        return -1;
    int rank = T(c, t)->rank, axis;
    if (norm_axis(c, attr_int(n, "axis", c->opset >= 13 ? -1 : 1), rank, &axis))
        return -1;
    int o = add_op(c, NN_OP_SOFTMAX, 1, &t);
    if (o < 0)
        return -1;
    c->g->ops[o].axis = axis;
    /* Before opset 13 the input is coerced to 2-D at the axis. */
    c->g->ops[o].span = c->opset >= 13 ? 1 : rank - axis;
    char nm[300];
    out_name(n, 0, nm, sizeof nm);
    int dims[NN_MAX_RANK];
    memcpy(dims, T(c, t)->dims, sizeof dims);
    int y = finish_op(c, o, nm, rank, dims);
    return y < 0 ? -1 : define_out(c, n, 0, y, -1);
}

static int conv_reshape_like(ctx *c, const node *n, const char *op)
{
    val *xv = input_val(c, n, 0);
    if (!xv)
        return -1;
    int x = get_logical(c, xv);
    if (x < 0)
        return -1;
    const nn_tensor *xt = T(c, x);
    int rank = xt->rank, in[NN_MAX_RANK], dims[8], nd = 0;
    memcpy(in, xt->dims, sizeof in);
    double ax[8];
    int na = -1;
    if (!strcmp(op, "Reshape")) {
        if (check_attrs(c, n, "allowzero"))
            return -1;
        size_t cnt;
        const float *s = const_input(c, n, 1, &cnt);
        if (!s)
            return -1;
        if (cnt > NN_MAX_RANK)
            return fail(c, "target shape has rank %zu (at most %d supported)", cnt, NN_MAX_RANK);
        int infer = -1, allowzero = (int)attr_int(n, "allowzero", 0);
        size_t known = 1;
        for (size_t k = 0; k < cnt; k++) {
            long v = (long)s[k];
            if (v == 0 && !allowzero) {
                if ((int)k >= rank)
                    return fail(c, "shape copies dim %zu, which the input lacks", k);
                v = in[k];
            }
            if (v == -1) {
                if (infer >= 0)
                    return fail(c, "shape has more than one -1");
                infer = (int)k;
                v = 1;
            } else if (v < 0 || v > INT_MAX) {
                return fail(c, "shape has dim %ld", v);
            }
            dims[nd++] = (int)v;
            if (v && known > SIZE_MAX / (size_t)v)
                return fail(c, "shape is too large");
            known *= (size_t)v;
        }
        if (infer >= 0) {
            if (known == 0 || xt->count % known)
                return fail(c, "shape does not divide the input's %zu elements", xt->count);
            dims[infer] = (int)(xt->count / known);
        }
    } else if (!strcmp(op, "Flatten")) {
        if (check_attrs(c, n, "axis"))
            return -1;
        int64_t a = attr_int(n, "axis", 1);
        if (a < -rank || a > rank)
            return fail(c, "axis %lld is outside rank %d", (long long)a, rank);
        int axis = (int)(a < 0 ? a + rank : a);
        size_t outer = 1;
        for (int d = 0; d < axis; d++)
            outer *= (size_t)in[d];
        dims[0] = (int)outer;
        dims[1] = outer ? (int)(xt->count / outer) : 0;
        nd = 2;
    } else {
        if (check_attrs(c, n, "axes"))
            return -1;
        na = attr_list(c, n, "axes", ax, 8);
        if (na == -1 && has_input(n, 1)) {
            size_t cnt;
            const float *p = const_input(c, n, 1, &cnt);
            if (!p)
                return -1;
            if (cnt > 8)
                return fail(c, "too many axes");
            for (size_t k = 0; k < cnt; k++)
                ax[k] = p[k];
            na = (int)cnt;
        } else if (na < -1) {
            return -1;
        }
        if (!strcmp(op, "Squeeze")) {
            int mask = 0;
            for (int k = 0; k < na; k++) {
                int a;
                if (norm_axis(c, (int64_t)ax[k], rank, &a))
                    return -1;
                if (in[a] != 1)
                    return fail(c, "squeezes dim %d of size %d", a, in[a]);
                mask |= 1 << a;
            }
            for (int d = 0; d < rank; d++)
                if (!(na > 0 ? (mask >> d) & 1 : in[d] == 1))
                    dims[nd++] = in[d];
        } else { /* Unsqueeze */
            if (na < 1)
                return fail(c, "needs axes");
            int out_rank = rank + na, mask = 0;
            if (out_rank > NN_MAX_RANK)
                return fail(c, "output rank %d is above %d", out_rank, NN_MAX_RANK);
            for (int k = 0; k < na; k++) {
                int a;
                if (norm_axis(c, (int64_t)ax[k], out_rank, &a))
                    return -1;
                if ((mask >> a) & 1)
                    return fail(c, "axes repeat");
                mask |= 1 << a;
            }
            for (int d = 0, src = 0; d < out_rank; d++)
                dims[nd++] = (mask >> d) & 1 ? 1 : in[src++];
        }
    }
    if (nd > NN_MAX_RANK)
        return fail(c, "output rank %d is above %d", nd, NN_MAX_RANK);
    size_t count = 1;
    for (int d = 0; d < nd; d++)
        count *= (size_t)dims[d];
    if (count != xt->count)
        return fail(c, "shape has %zu elements, the input %zu", count, xt->count);
    char nm[300];
    out_name(n, 0, nm, sizeof nm);
    int y = emit_reshape(c, x, nd, dims, nm);
    return y < 0 ? -1 : define_out(c, n, 0, y, -1);
}

static int conv_transpose(ctx *c, const node *n)
{
    if (check_attrs(c, n, "perm"))
        return -1;
    val *xv = input_val(c, n, 0);
    if (!xv)
        return -1;
    int rank = val_rank(c, xv), perm[NN_MAX_RANK];
    double p[8];
    int k = attr_list(c, n, "perm", p, 8);
    if (k < -1)
        return -1;
    if (k == -1) {
        for (int d = 0; d < rank; d++)
            perm[d] = rank - 1 - d;
    } else {
        if (k != rank)
            return fail(c, "perm has %d values for rank %d", k, rank);
        int seen = 0;
        for (int d = 0; d < rank; d++) {
            if (p[d] < 0 || p[d] >= rank || (seen >> (int)p[d]) & 1)
                return fail(c, "perm is not a permutation");
            perm[d] = (int)p[d];
            seen |= 1 << perm[d];
        }
    }
    /* Moves between logical and NHWC storage need no work. */
    if (rank == 4) {
        int to_nhwc = !memcmp(perm, TO_NHWC, sizeof perm), to_nchw = !memcmp(perm, TO_NCHW, sizeof perm);
        if (to_nhwc && xv->nt >= 0)
            return define_out(c, n, 0, xv->nt, -1);
        if (to_nchw && xv->lt >= 0)
            return define_out(c, n, 0, -1, xv->lt);
    }
    int x = get_logical(c, xv);
    if (x < 0)
        return -1;
    char nm[300];
    out_name(n, 0, nm, sizeof nm);
    int y = emit_transpose(c, x, perm, nm);
    return y < 0 ? -1 : define_out(c, n, 0, y, -1);
}

static int conv_concat(ctx *c, const node *n)
{
    if (check_attrs(c, n, "axis"))
        return -1;
    if (n->n_in < 1)
        return fail(c, "needs inputs");
    val *v[MAX_IO];
    for (int k = 0; k < n->n_in; k++)
        if (!(v[k] = input_val(c, n, k)))
            return -1;
    int rank = val_rank(c, v[0]), axis;
    if (norm_axis(c, attr_int(n, "axis", c->opset < 4 ? 1 : 0), rank, &axis))
        return -1;
    int nhwc = rank == 4, any = 0;
    for (int k = 0; k < n->n_in; k++) {
        if (val_rank(c, v[k]) != rank)
            return fail(c, "inputs differ in rank");
        if (!val_is_const(c, v[k]) && v[k]->nt >= 0)
            any = 1;
    }
    nhwc = nhwc && any;
    int ts[MAX_IO], sax = nhwc ? NHWC_AXIS[axis] : axis, dims[NN_MAX_RANK];
    for (int k = 0; k < n->n_in; k++)
        if ((ts[k] = nhwc ? get_nhwc(c, v[k]) : get_logical(c, v[k])) < 0)
            return -1;
    memcpy(dims, T(c, ts[0])->dims, sizeof dims);
    dims[sax] = 0;
    for (int k = 0; k < n->n_in; k++) {
        const nn_tensor *t = T(c, ts[k]);
        for (int d = 0; d < rank; d++)
            if (d != sax && t->dims[d] != dims[d])
                return fail(c, "inputs differ off the axis");
        dims[sax] += t->dims[sax];
    }
    int y;
    char nm[300];
    out_name(n, 0, nm, sizeof nm);
    if (n->n_in == 1) {
        y = ts[0];
    } else {
        int o = add_op(c, NN_OP_CONCAT, n->n_in, ts);
        if (o < 0)
            return -1;
        c->g->ops[o].axis = sax;
        if ((y = finish_op(c, o, nm, rank, dims)) < 0)
            return -1;
    }
    return define_out(c, n, 0, nhwc ? -1 : y, nhwc ? y : -1);
}

/* A slice of tensor t (in its own layout) along storage dims. */
static int emit_slice(ctx *c, int t, const int *begin, const int *step, const int *dims, const char *name)
{
    int o = add_op(c, NN_OP_SLICE, 1, &t);
    if (o < 0)
        return -1;
    int rank = T(c, t)->rank;
    for (int d = 0; d < rank; d++) {
        c->g->ops[o].begin[d] = begin[d];
        c->g->ops[o].step[d] = step[d];
    }
    return finish_op(c, o, name, rank, dims);
}

static int conv_split(ctx *c, const node *n)
{
    if (check_attrs(c, n, "axis,split,num_outputs"))
        return -1;
    val *xv = input_val(c, n, 0);
    if (!xv)
        return -1;
    int rank = val_rank(c, xv), axis;
    if (norm_axis(c, attr_int(n, "axis", 0), rank, &axis))
        return -1;
    int nhwc = xv->nt >= 0;
    int x = nhwc ? xv->nt : get_logical(c, xv);
    if (x < 0)
        return -1;
    int sax = nhwc ? NHWC_AXIS[axis] : axis, len = T(c, x)->dims[sax];
    double sz[16];
    int ns = attr_list(c, n, "split", sz, 16);
    if (ns < -1)
        return -1;
    if (ns == -1 && has_input(n, 1)) {
        size_t cnt;
        const float *p = const_input(c, n, 1, &cnt);
        if (!p)
            return -1;
        if (cnt > 16)
            return fail(c, "too many parts");
        for (size_t k = 0; k < cnt; k++)
            sz[k] = p[k];
        ns = (int)cnt;
    }
    if (ns == -1) {
        ns = n->n_out;
        int each = (len + ns - 1) / ns;
        for (int k = 0; k < ns; k++)
            sz[k] = k < ns - 1 ? each : len - each * (ns - 1);
    }
    if (ns != n->n_out)
        return fail(c, "has %d parts for %d outputs", ns, n->n_out);
    int from = 0;
    for (int k = 0; k < ns; k++) {
        if (sz[k] < 1 || from + sz[k] > len)
            return fail(c, "parts do not fit the input");
        int begin[NN_MAX_RANK] = {0}, step[NN_MAX_RANK] = {1, 1, 1, 1}, dims[NN_MAX_RANK];
        memcpy(dims, T(c, x)->dims, sizeof dims);
        begin[sax] = from;
        dims[sax] = (int)sz[k];
        char nm[300];
        out_name(n, k, nm, sizeof nm);
        int y = emit_slice(c, x, begin, step, dims, nm);
        if (y < 0 || define_out(c, n, k, nhwc ? -1 : y, nhwc ? y : -1))
            return -1;
        from += (int)sz[k];
    }
    if (from != len)
        return fail(c, "parts do not cover the input");
    return 0;
}

static int conv_slice(ctx *c, const node *n)
{
    if (check_attrs(c, n, "starts,ends,axes"))
        return -1;
    val *xv = input_val(c, n, 0);
    if (!xv)
        return -1;
    int rank = val_rank(c, xv);
    double st[8], en[8], ax[8], sp[8];
    int ns, ne, na = -1, np = -1;
    if (c->opset < 10) {
        ns = attr_list(c, n, "starts", st, 8);
        ne = attr_list(c, n, "ends", en, 8);
        na = attr_list(c, n, "axes", ax, 8);
        if (ns < -1 || ne < -1 || na < -1)
            return -1;
    } else {
        double *dst[4] = {st, en, ax, sp};
        int *cnt[4] = {&ns, &ne, &na, &np};
        for (int k = 0; k < 4; k++) {
            *cnt[k] = -1;
            if (!has_input(n, k + 1))
                continue;
            size_t m;
            const float *p = const_input(c, n, k + 1, &m);
            if (!p)
                return -1;
            if (m > 8)
                return fail(c, "too many slice values");
            for (size_t i = 0; i < m; i++)
                dst[k][i] = p[i];
            *cnt[k] = (int)m;
        }
    }
    if (ns < 0 || ns != ne || (na >= 0 && na != ns) || (np >= 0 && np != ns))
        return fail(c, "starts, ends, axes and steps differ in length");
    int nhwc = xv->nt >= 0;
    int x = nhwc ? xv->nt : get_logical(c, xv);
    if (x < 0)
        return -1;
    int begin[NN_MAX_RANK] = {0}, step[NN_MAX_RANK] = {1, 1, 1, 1}, dims[NN_MAX_RANK], seen = 0;
    memcpy(dims, T(c, x)->dims, sizeof dims);
    for (int k = 0; k < ns; k++) {
        int a;
        if (norm_axis(c, na >= 0 ? (int64_t)ax[k] : k, rank, &a))
            return -1;
        if ((seen >> a) & 1)
            return fail(c, "axes repeat");
        seen |= 1 << a;
        int sa = nhwc ? NHWC_AXIS[a] : a;
        long dim = T(c, x)->dims[sa], s = (long)st[k], e = (long)en[k], p = np >= 0 ? (long)sp[k] : 1;
        if (p == 0)
            return fail(c, "step 0");
        if (s < 0)
            s += dim;
        if (e < 0)
            e += dim;
        if (p > 0) {
            s = s < 0 ? 0 : s > dim ? dim : s;
            e = e < 0 ? 0 : e > dim ? dim : e;
        } else {
            s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
            e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
        }
        long count = p > 0 ? (e - s + p - 1) / p : (s - e + (-p) - 1) / (-p);
        if (count < 1)
            return fail(c, "slice of axis %d is empty (empty tensors are not supported)", a);
        begin[sa] = (int)s;
        step[sa] = (int)p;
        dims[sa] = (int)count;
    }
    char nm[300];
    out_name(n, 0, nm, sizeof nm);
    int y = emit_slice(c, x, begin, step, dims, nm);
    return y < 0 ? -1 : define_out(c, n, 0, nhwc ? -1 : y, nhwc ? y : -1);
}

static int conv_gather(ctx *c, const node *n)
{
    if (check_attrs(c, n, "axis"))
        return -1;
    val *xv = input_val(c, n, 0), *iv = xv ? input_val(c, n, 1) : NULL;
    if (!iv)
        return -1;
    if (!val_is_const(c, iv))
        return fail(c, "indices must be constant");
    int x = get_logical(c, xv), it = get_logical(c, iv);
    if (x < 0 || it < 0)
        return -1;
    int rank = T(c, x)->rank, axis;
    if (norm_axis(c, attr_int(n, "axis", 0), rank, &axis))
        return -1;
    const nn_tensor *ix = T(c, it);
    int out_rank = rank - 1 + ix->rank, dims[8], nd = 0;
    if (out_rank > NN_MAX_RANK)
        return fail(c, "output rank %d is above %d", out_rank, NN_MAX_RANK);
    int dim = T(c, x)->dims[axis];
    float *norm = malloc(ix->count ? ix->count * sizeof *norm : sizeof *norm);
    if (!norm)
        return oom(c);
    for (size_t k = 0; k < ix->count; k++) {
        float v = ix->data[k] < 0 ? ix->data[k] + (float)dim : ix->data[k];
        if (!(v >= 0 && v < (float)dim)) {
            free(norm);
            return fail(c, "index %g is outside dim %d", (double)ix->data[k], dim);
        }
        norm[k] = floorf(v);
    }
    for (int d = 0; d < axis; d++)
        dims[nd++] = T(c, x)->dims[d];
    for (int d = 0; d < ix->rank; d++)
        dims[nd++] = ix->dims[d];
    for (int d = axis + 1; d < rank; d++)
        dims[nd++] = T(c, x)->dims[d];
    char nm[300], base[280];
    out_name(n, 0, base, sizeof base);
    snprintf(nm, sizeof nm, "%s:idx", base);
    int irank = ix->rank, idims[NN_MAX_RANK];
    memcpy(idims, ix->dims, sizeof idims);
    int nt = add_tensor(c, nm, irank, idims, norm);
    if (nt < 0)
        return -1;
    int ins[2] = {x, nt};
    int o = add_op(c, NN_OP_GATHER, 2, ins);
    if (o < 0)
        return -1;
    c->g->ops[o].axis = axis;
    int y = finish_op(c, o, base, out_rank, dims);
    return y < 0 ? -1 : define_out(c, n, 0, y, -1);
}

static int conv_shape(ctx *c, const node *n)
{
    if (check_attrs(c, n, "start,end"))
        return -1;
    val *xv = input_val(c, n, 0);
    if (!xv)
        return -1;
    int dims[NN_MAX_RANK], rank = val_dims(c, xv, dims);
    int64_t s = attr_int(n, "start", 0), e = attr_int(n, "end", rank);
    if (s < 0) s += rank;
    if (e < 0) e += rank;
    s = s < 0 ? 0 : s > rank ? rank : s;
    e = e < 0 ? 0 : e > rank ? rank : e;
    float v[NN_MAX_RANK];
    int k = 0;
    for (int64_t d = s; d < e; d++)
        v[k++] = (float)dims[d];
    char nm[300];
    out_name(n, 0, nm, sizeof nm);
    int one[1] = {k};
    int y = add_const(c, nm, 1, one, v, (size_t)k);
    return y < 0 ? -1 : define_out(c, n, 0, y, -1);
}

/* A constant from a TensorProto attribute value. */
static int tensor_attr(ctx *c, const attr *a, const char *name)
{
    tproto tp;
    if (parse_tensor(c, a->t, &tp))
        return -1;
    return load_tensor(c, &tp, name);
}

static int conv_constant(ctx *c, const node *n)
{
    if (n->n_attr != 1)
        return fail(c, "needs exactly one value attribute");
    const attr *a = &n->at[0];
    char nm[300];
    out_name(n, 0, nm, sizeof nm);
    int y;
    if (span_is(a->name, "value")) {
        y = tensor_attr(c, a, nm);
    } else if (span_is(a->name, "value_float")) {
        y = add_const(c, nm, 0, NULL, &a->f, 1);
    } else if (span_is(a->name, "value_int")) {
        float f = int_float(a->i);
        y = add_const(c, nm, 0, NULL, &f, 1);
    } else if (span_is(a->name, "value_floats") || span_is(a->name, "value_ints")) {
        double v[4096];
        float f[4096];
        int k = attr_list(c, n, span_is(a->name, "value_ints") ? "value_ints" : "value_floats", v, 4096);
        if (k < 0)
            return -1;
        for (int i = 0; i < k; i++)
            f[i] = span_is(a->name, "value_ints") ? int_float((int64_t)v[i]) : (float)v[i];
        int one[1] = {k};
        y = add_const(c, nm, 1, one, f, (size_t)k);
    } else {
        return fail(c, "attribute '%.*s' is not supported", (int)(a->name.n > 40 ? 40 : a->name.n), (const char *)a->name.p);
    }
    return y < 0 ? -1 : define_out(c, n, 0, y, -1);
}

static int conv_constant_of_shape(ctx *c, const node *n)
{
    if (check_attrs(c, n, "value"))
        return -1;
    size_t cnt;
    const float *s = const_input(c, n, 0, &cnt);
    if (!s)
        return -1;
    if (cnt > NN_MAX_RANK)
        return fail(c, "shape has rank %zu", cnt);
    int dims[NN_MAX_RANK];
    size_t total = 1;
    for (size_t k = 0; k < cnt; k++) {
        if (s[k] < 0 || s[k] > (float)NN_MAX_TENSOR_ELEMS)
            return fail(c, "shape has dim %g", (double)s[k]);
        dims[k] = (int)s[k];
        total *= (size_t)dims[k];
        if (total > ((size_t)1 << 24))
            return fail(c, "shape is too large");
    }
    float value = 0.0f;
    const attr *a = find_attr(n, "value");
    if (a) {
        int t = tensor_attr(c, a, "constant_of_shape:value");
        if (t < 0)
            return -1;
        if (T(c, t)->count != 1)
            return fail(c, "value must have one element");
        value = T(c, t)->data[0];
    }
    float *d = malloc(total ? total * sizeof *d : sizeof *d);
    if (!d)
        return oom(c);
    for (size_t k = 0; k < total; k++)
        d[k] = value;
    char nm[300];
    out_name(n, 0, nm, sizeof nm);
    int y = add_tensor(c, nm, (int)cnt, dims, d);
    return y < 0 ? -1 : define_out(c, n, 0, y, -1);
}

static int conv_pad(ctx *c, const node *n)
{
    if (check_attrs(c, n, "mode,pads,value"))
        return -1;
    val *xv = input_val(c, n, 0);
    if (!xv)
        return -1;
    int rank = val_rank(c, xv);
    double p[16], axv[8];
    int np, na = -1;
    float value = attr_float(n, "value", 0.0f);
    if (c->opset < 11) {
        if ((np = attr_list(c, n, "pads", p, 16)) < 0)
            return np == -1 ? fail(c, "needs pads") : -1;
    } else {
        size_t cnt;
        const float *q = const_input(c, n, 1, &cnt);
        if (!q)
            return -1;
        if (cnt > 16)
            return fail(c, "too many pads");
        for (size_t k = 0; k < cnt; k++)
            p[k] = q[k];
        np = (int)cnt;
        if (has_input(n, 2)) {
            const float *v = const_input(c, n, 2, &cnt);
            if (!v)
                return -1;
            if (cnt != 1)
                return fail(c, "constant_value must be a scalar");
            value = v[0];
        }
        if (has_input(n, 3)) {
            const float *a = const_input(c, n, 3, &cnt);
            if (!a)
                return -1;
            if (cnt > 8)
                return fail(c, "too many axes");
            for (size_t k = 0; k < cnt; k++)
                axv[k] = a[k];
            na = (int)cnt;
        }
    }
    int axes[8], nax = na >= 0 ? na : rank;
    for (int k = 0; k < nax; k++)
        if (norm_axis(c, na >= 0 ? (int64_t)axv[k] : k, rank, &axes[k]))
            return -1;
    if (np != 2 * nax)
        return fail(c, "has %d pads for %d axes", np, nax);
    span mode = attr_str(n, "mode", "constant");
    int m = span_is(mode, "constant") ? NN_PAD_CONSTANT : span_is(mode, "reflect") ? NN_PAD_REFLECT
            : span_is(mode, "edge") ? NN_PAD_EDGE : -1;
    if (m < 0)
        return fail(c, "mode '%.*s' is not supported", (int)(mode.n > 20 ? 20 : mode.n), (const char *)mode.p);
    int nhwc = xv->nt >= 0;
    int x = nhwc ? xv->nt : get_logical(c, xv);
    if (x < 0)
        return -1;
    int pads[NN_MAX_RANK][2] = {{0}}, dims[NN_MAX_RANK];
    memcpy(dims, T(c, x)->dims, sizeof dims);
    for (int k = 0; k < nax; k++) {
        int sa = nhwc ? NHWC_AXIS[axes[k]] : axes[k];
        if (p[k] < 0 || p[nax + k] < 0 || p[k] > 65536 || p[nax + k] > 65536)
            return fail(c, "negative or huge pads are not supported");
        pads[sa][0] = (int)p[k];
        pads[sa][1] = (int)p[nax + k];
        dims[sa] += pads[sa][0] + pads[sa][1];
    }
    int plain = m == NN_PAD_CONSTANT && value == 0.0f;
    int o = add_op(c, plain ? NN_OP_PAD : NN_OP_PAD_EX, 1, &x);
    if (o < 0)
        return -1;
    memcpy(c->g->ops[o].pads, pads, sizeof pads);
    c->g->ops[o].mode = m;
    c->g->ops[o].alpha = value;
    char nm[300];
    out_name(n, 0, nm, sizeof nm);
    int y = finish_op(c, o, nm, rank, dims);
    return y < 0 ? -1 : define_out(c, n, 0, nhwc ? -1 : y, nhwc ? y : -1);
}

static int conv_matmul(ctx *c, const node *n, int gemm)
{
    if (check_attrs(c, n, gemm ? "alpha,beta,transA,transB" : ""))
        return -1;
    val *av = input_val(c, n, 0), *bv = av ? input_val(c, n, 1) : NULL;
    if (!bv)
        return -1;
    int a = get_logical(c, av), b = get_logical(c, bv);
    if (a < 0 || b < 0)
        return -1;
    char nm[300], base[280];
    out_name(n, 0, base, sizeof base);
    int ra = T(c, a)->rank, rb = T(c, b)->rank;
    if (gemm) {
        if (ra != 2 || rb != 2)
            return fail(c, "Gemm needs 2-D inputs");
        static const int swap[2] = {1, 0};
        snprintf(nm, sizeof nm, "%s:a", base);
        if (attr_int(n, "transA", 0) && (a = emit_transpose(c, a, swap, nm)) < 0)
            return -1;
        snprintf(nm, sizeof nm, "%s:b", base);
        if (attr_int(n, "transB", 0) && (b = emit_transpose(c, b, swap, nm)) < 0)
            return -1;
    }
    if (ra < 1 || rb < 1)
        return fail(c, "needs inputs of rank 1 or more");
    /* 1-D operands become matrices, and their unit dim leaves the result. */
    int a_vec = ra == 1, b_vec = rb == 1;
    if (a_vec) {
        int d2[2] = {1, T(c, a)->dims[0]};
        snprintf(nm, sizeof nm, "%s:a2", base);
        if ((a = emit_reshape(c, a, 2, d2, nm)) < 0)
            return -1;
    }
    if (b_vec) {
        int d2[2] = {T(c, b)->dims[0], 1};
        snprintf(nm, sizeof nm, "%s:b2", base);
        if ((b = emit_reshape(c, b, 2, d2, nm)) < 0)
            return -1;
    }
    const nn_tensor *at = T(c, a), *bt = T(c, b);
    int M = at->dims[at->rank - 2], K = at->dims[at->rank - 1], N = bt->dims[bt->rank - 1];
    if (bt->dims[bt->rank - 2] != K)
        return fail(c, "inner dims differ (%d and %d)", K, bt->dims[bt->rank - 2]);
    int rank = at->rank > bt->rank ? at->rank : bt->rank, dims[NN_MAX_RANK];
    for (int d = 2; d < rank; d++) {
        int ad = d < at->rank ? at->dims[at->rank - 1 - d] : 1, bd = d < bt->rank ? bt->dims[bt->rank - 1 - d] : 1;
        if (ad != bd && ad != 1 && bd != 1)
            return fail(c, "batch dims do not broadcast");
        dims[rank - 1 - d] = ad > bd ? ad : bd;
    }
    dims[rank - 2] = M;
    dims[rank - 1] = N;
    int ins[2] = {a, b};
    int o = add_op(c, NN_OP_MATMUL, 2, ins);
    if (o < 0)
        return -1;
    int plain_out = !gemm && !a_vec && !b_vec;
    snprintf(nm, sizeof nm, plain_out ? "%s" : "%s:mm", base);
    int y = finish_op(c, o, nm, rank, dims);
    if (y < 0)
        return -1;
    if (a_vec || b_vec) {
        int od[NN_MAX_RANK], nd = 0;
        for (int d = 0; d < rank; d++)
            if (!((a_vec && d == rank - 2) || (b_vec && d == rank - 1)))
                od[nd++] = dims[d];
        if ((y = emit_reshape(c, y, nd, od, base)) < 0)
            return -1;
    }
    if (gemm) {
        float alpha = attr_float(n, "alpha", 1.0f), beta = attr_float(n, "beta", 1.0f);
        if (alpha != 1.0f) {
            snprintf(nm, sizeof nm, "%s:alpha", base);
            int s = add_const(c, nm, 0, NULL, &alpha, 1);
            int in2[2] = {y, s};
            int o2 = s < 0 ? -1 : add_op(c, NN_OP_BINARY, 2, in2);
            if (o2 < 0)
                return -1;
            c->g->ops[o2].mode = NN_BIN_MUL;
            snprintf(nm, sizeof nm, "%s:scaled", base);
            if ((y = finish_op(c, o2, has_input(n, 2) ? nm : base, 2, dims)) < 0)
                return -1;
        }
        if (has_input(n, 2)) {
            val *cv = input_val(c, n, 2);
            int ct = cv ? get_logical(c, cv) : -1;
            if (ct < 0)
                return -1;
            if (beta != 1.0f) {
                snprintf(nm, sizeof nm, "%s:beta", base);
                int s = add_const(c, nm, 0, NULL, &beta, 1);
                int in2[2] = {ct, s};
                int o2 = s < 0 ? -1 : add_op(c, NN_OP_BINARY, 2, in2);
                if (o2 < 0)
                    return -1;
                c->g->ops[o2].mode = NN_BIN_MUL;
                snprintf(nm, sizeof nm, "%s:c", base);
                int cdims[NN_MAX_RANK], cr = T(c, ct)->rank;
                memcpy(cdims, T(c, ct)->dims, sizeof cdims);
                if ((ct = finish_op(c, o2, nm, cr, cdims)) < 0)
                    return -1;
            }
            int two[2] = {y, ct}, bd[NN_MAX_RANK];
            if (broadcast_dims(c, two, 2, bd) != 2 || bd[0] != dims[0] || bd[1] != dims[1])
                return fail(c, "C does not broadcast to the product");
            int o2 = add_op(c, NN_OP_ADD, 2, two);
            if (o2 < 0 || (y = finish_op(c, o2, base, 2, dims)) < 0)
                return -1;
        }
    }
    return define_out(c, n, 0, y, -1);
}

/* Per-channel y = x*a + b on the channel axis (BatchNormalization at inference). */
static int conv_batchnorm(ctx *c, const node *n)
{
    if (check_attrs(c, n, "epsilon,momentum,spatial,training_mode"))
        return -1;
    if (attr_int(n, "training_mode", 0))
        return fail(c, "training_mode is not supported");
    if (n->n_out > 1)
        return fail(c, "training outputs (mean, var) are not supported");
    val *xv = input_val(c, n, 0);
    if (!xv)
        return -1;
    size_t cs, cb, cm, cv;
    const float *scale = const_input(c, n, 1, &cs), *bias = scale ? const_input(c, n, 2, &cb) : NULL;
    const float *mean = bias ? const_input(c, n, 3, &cm) : NULL, *var = mean ? const_input(c, n, 4, &cv) : NULL;
    if (!var)
        return -1;
    int dims[NN_MAX_RANK], rank = val_dims(c, xv, dims);
    if (rank < 2)
        return fail(c, "needs an input with a channel axis");
    size_t C = (size_t)dims[1];
    if (cs != C || cb != C || cm != C || cv != C)
        return fail(c, "needs one scale, bias, mean and variance per channel (%zu)", C);
    float eps = attr_float(n, "epsilon", 1e-5f);
    float *a = malloc(C * sizeof *a), *b = malloc(C * sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        return oom(c);
    }
    for (size_t k = 0; k < C; k++) {
        a[k] = scale[k] / sqrtf(var[k] + eps);
        b[k] = bias[k] - mean[k] * a[k];
    }
    char nm[300], base[280];
    out_name(n, 0, base, sizeof base);
    int nhwc = rank == 4 && xv->nt >= 0;
    int x = nhwc ? xv->nt : get_logical(c, xv);
    if (x < 0) {
        free(a);
        free(b);
        return -1;
    }
    /* Folded into the convolution that writes x when only this node reads it. */
    int prod = T(c, x)->producer;
    int readers = 0;
    for (int i = 0; i < c->n_nodes; i++)
        for (int k = 0; k < c->nodes[i].n_in; k++)
            readers += c->nodes[i].in[k].n == strlen(xv->name) && !memcmp(c->nodes[i].in[k].p, xv->name, c->nodes[i].in[k].n);
    for (int k = 0; k < c->n_graph_outputs; k++)
        readers += span_is(c->graph_outputs[k], xv->name) ? 2 : 0;
    if (nhwc && prod >= 0 && readers == 1 && xv->lt < 0 &&
        (c->g->ops[prod].kind == NN_OP_CONV2D || c->g->ops[prod].kind == NN_OP_DWCONV2D) &&
        c->g->ops[prod].n_inputs == 3 && c->g->ops[prod].act_max == INFINITY) {
        nn_op *cv2 = &c->g->ops[prod];
        nn_tensor *w = &c->g->tensors[cv2->inputs[1]], *bt = &c->g->tensors[cv2->inputs[2]];
        size_t O = bt->count;
        if (O == C) {
            for (size_t k = 0; k < w->count; k++)
                w->data[k] *= a[cv2->kind == NN_OP_CONV2D ? k / (w->count / O) : k % O];
            for (size_t k = 0; k < O; k++)
                bt->data[k] = bt->data[k] * a[k] + b[k];
            free(a);
            free(b);
            return define_out(c, n, 0, -1, x);
        }
    }
    int cd[NN_MAX_RANK], cr;
    if (nhwc) {
        cr = 1;
        cd[0] = (int)C;
    } else {
        cr = rank - 1;
        cd[0] = (int)C;
        for (int d = 1; d < cr; d++)
            cd[d] = 1;
    }
    snprintf(nm, sizeof nm, "%s:scale", base);
    int at = add_tensor(c, nm, cr, cd, a);
    snprintf(nm, sizeof nm, "%s:shift", base);
    int btn = add_tensor(c, nm, cr, cd, b);
    if (at < 0 || btn < 0)
        return -1;
    int ins[2] = {x, at};
    int o = add_op(c, NN_OP_BINARY, 2, ins);
    if (o < 0)
        return -1;
    c->g->ops[o].mode = NN_BIN_MUL;
    int xr = T(c, x)->rank, xd[NN_MAX_RANK];
    memcpy(xd, T(c, x)->dims, sizeof xd);
    snprintf(nm, sizeof nm, "%s:mul", base);
    int y = finish_op(c, o, nm, xr, xd);
    if (y < 0)
        return -1;
    int ins2[2] = {y, btn};
    if ((o = add_op(c, NN_OP_ADD, 2, ins2)) < 0 || (y = finish_op(c, o, base, xr, xd)) < 0)
        return -1;
    return define_out(c, n, 0, nhwc ? -1 : y, nhwc ? y : -1);
}

static int conv_instance_norm(ctx *c, const node *n)
{
    if (check_attrs(c, n, "epsilon"))
        return -1;
    val *xv = input_val(c, n, 0);
    if (!xv)
        return -1;
    if (val_rank(c, xv) != 4)
        return fail(c, "only rank-4 inputs are supported");
    int x = get_nhwc(c, xv);
    size_t cs, cb;
    const float *s = x < 0 ? NULL : const_input(c, n, 1, &cs), *b = s ? const_input(c, n, 2, &cb) : NULL;
    if (!b)
        return -1;
    int C = T(c, x)->dims[3];
    if (cs != (size_t)C || cb != (size_t)C)
        return fail(c, "needs one scale and bias per channel");
    char nm[300], base[280];
    out_name(n, 0, base, sizeof base);
    int one[1] = {C};
    snprintf(nm, sizeof nm, "%s:scale", base);
    int st = add_const(c, nm, 1, one, s, cs);
    snprintf(nm, sizeof nm, "%s:bias", base);
    b = const_input(c, n, 2, &cb); /* tensors may have moved */
    int bt = st < 0 || !b ? -1 : add_const(c, nm, 1, one, b, cb);
    if (bt < 0)
        return -1;
    int ins[3] = {x, st, bt};
    int o = add_op(c, NN_OP_INSTANCE_NORM, 3, ins);
    if (o < 0)
        return -1;
    c->g->ops[o].alpha = attr_float(n, "epsilon", 1e-5f);
    int dims[4];
    memcpy(dims, T(c, x)->dims, sizeof dims);
    int y = finish_op(c, o, base, 4, dims);
    return y < 0 ? -1 : define_out(c, n, 0, -1, y);
}

static int conv_depth_space(ctx *c, const node *n, int to_space)
{
    if (check_attrs(c, n, to_space ? "blocksize,mode" : "blocksize"))
        return -1;
    val *xv = input_val(c, n, 0);
    if (!xv)
        return -1;
    if (val_rank(c, xv) != 4)
        return fail(c, "needs a rank-4 input");
    int x = get_nhwc(c, xv);
    if (x < 0)
        return -1;
    int64_t b = attr_int(n, "blocksize", 0);
    const nn_tensor *t = T(c, x);
    if (b < 1 || b > 64)
        return fail(c, "blocksize %lld is not usable", (long long)b);
    int B = (int)b, dims[4];
    if (to_space) {
        if (t->dims[3] % (B * B))
            return fail(c, "channels %d do not divide by blocksize^2", t->dims[3]);
        dims[0] = t->dims[0]; dims[1] = t->dims[1] * B; dims[2] = t->dims[2] * B; dims[3] = t->dims[3] / (B * B);
    } else {
        if (t->dims[1] % B || t->dims[2] % B)
            return fail(c, "height and width do not divide by blocksize");
        dims[0] = t->dims[0]; dims[1] = t->dims[1] / B; dims[2] = t->dims[2] / B; dims[3] = t->dims[3] * B * B;
    }
    span mode = attr_str(n, "mode", "DCR");
    if (!span_is(mode, "DCR") && !span_is(mode, "CRD"))
        return fail(c, "mode '%.*s' is not supported", (int)(mode.n > 20 ? 20 : mode.n), (const char *)mode.p);
    int o = add_op(c, to_space ? NN_OP_DEPTH_TO_SPACE : NN_OP_SPACE_TO_DEPTH, 1, &x);
    if (o < 0)
        return -1;
    c->g->ops[o].kernel_h = B;
    c->g->ops[o].mode = span_is(mode, "CRD");
    char nm[300];
    out_name(n, 0, nm, sizeof nm);
    int y = finish_op(c, o, nm, 4, dims);
    return y < 0 ? -1 : define_out(c, n, 0, -1, y);
}

static int conv_resize(ctx *c, const node *n, int upsample)
{
    if (check_attrs(c, n, upsample ? "mode,scales"
                                   : "mode,coordinate_transformation_mode,nearest_mode,cubic_coeff_a,exclude_outside,"
                                     "extrapolation_value,antialias,keep_aspect_ratio_policy"))
        return -1;
    if (attr_int(n, "antialias", 0) || attr_int(n, "exclude_outside", 0))
        return fail(c, "antialias and exclude_outside are not supported");
    val *xv = input_val(c, n, 0);
    if (!xv)
        return -1;
    if (val_rank(c, xv) != 4)
        return fail(c, "only rank-4 inputs are supported");
    int ld[4];
    val_dims(c, xv, ld);
    double sc[4];
    int ns = -1, nz = -1;
    long sizes[4];
    if (upsample && c->opset < 9) {
        if ((ns = attr_list(c, n, "scales", sc, 4)) < 0)
            return ns == -1 ? fail(c, "needs scales") : -1;
    } else {
        /* Resize-10: (X, scales); Resize-11+: (X, roi, scales, sizes); Upsample-9: (X, scales). */
        int si = (upsample || c->opset < 11) ? 1 : 2;
        size_t cnt;
        if (has_input(n, si)) {
            const float *p = const_input(c, n, si, &cnt);
            if (!p)
                return -1;
            if (cnt != 0) {
                if (cnt != 4)
                    return fail(c, "needs 4 scales");
                for (int k = 0; k < 4; k++)
                    sc[k] = p[k];
                ns = 4;
            }
        }
        if (!upsample && c->opset >= 11 && has_input(n, 3)) {
            const float *p = const_input(c, n, 3, &cnt);
            if (!p)
                return -1;
            if (cnt != 0) {
                if (cnt != 4)
                    return fail(c, "needs 4 sizes");
                for (int k = 0; k < 4; k++)
                    sizes[k] = (long)p[k];
                nz = 4;
            }
        }
    }
    if ((ns == 4) == (nz == 4))
        return fail(c, "needs either scales or sizes");
    long out[4];
    double s_h, s_w;
    if (ns == 4) {
        for (int k = 0; k < 4; k++) {
            if (!(sc[k] > 0) || sc[k] > 1024)
                return fail(c, "scale %g is not usable", sc[k]);
            out[k] = (long)floor(ld[k] * sc[k]);
        }
        s_h = sc[2];
        s_w = sc[3];
    } else {
        span kp = attr_str(n, "keep_aspect_ratio_policy", "stretch");
        if (!span_is(kp, "stretch"))
            return fail(c, "keep_aspect_ratio_policy other than stretch is not supported");
        for (int k = 0; k < 4; k++)
            out[k] = sizes[k];
        s_h = (double)out[2] / ld[2];
        s_w = (double)out[3] / ld[3];
    }
    if (out[0] != ld[0] || out[1] != ld[1])
        return fail(c, "only height and width may be resized");
    if (out[2] < 1 || out[3] < 1 || out[2] > 65536 || out[3] > 65536)
        return fail(c, "output size %ldx%ld is not usable", out[2], out[3]);
    span mode = attr_str(n, "mode", "nearest");
    int m = span_is(mode, "nearest") ? NN_RS_NEAREST
            : (span_is(mode, "linear") || span_is(mode, "bilinear")) ? NN_RS_LINEAR : -1;
    if (m < 0)
        return fail(c, "mode '%.*s' is not supported", (int)(mode.n > 20 ? 20 : mode.n), (const char *)mode.p);
    int old = upsample || c->opset < 11;
    span ct = attr_str(n, "coordinate_transformation_mode", old ? "asymmetric" : "half_pixel");
    int cm = span_is(ct, "half_pixel") ? NN_CT_HALF_PIXEL : span_is(ct, "asymmetric") ? NN_CT_ASYMMETRIC
             : span_is(ct, "align_corners") ? NN_CT_ALIGN_CORNERS
             : span_is(ct, "pytorch_half_pixel") ? NN_CT_PYTORCH_HALF_PIXEL : -1;
    if (cm < 0)
        return fail(c, "coordinate_transformation_mode '%.*s' is not supported", (int)(ct.n > 30 ? 30 : ct.n),
                    (const char *)ct.p);
    span nmode = attr_str(n, "nearest_mode", old ? "floor" : "round_prefer_floor");
    int nm_ = span_is(nmode, "round_prefer_floor") ? NN_NR_ROUND_PREFER_FLOOR
              : span_is(nmode, "round_prefer_ceil") ? NN_NR_ROUND_PREFER_CEIL
              : span_is(nmode, "floor") ? NN_NR_FLOOR : span_is(nmode, "ceil") ? NN_NR_CEIL : -1;
    if (nm_ < 0)
        return fail(c, "nearest_mode is not supported");
    int x = get_nhwc(c, xv);
    if (x < 0)
        return -1;
    int o = add_op(c, NN_OP_RESIZE, 1, &x);
    if (o < 0)
        return -1;
    nn_op *op = &c->g->ops[o];
    op->mode = m;
    op->coord_mode = cm;
    op->nearest_mode = nm_;
    op->scale_h = (float)s_h;
    op->scale_w = (float)s_w;
    int dims[4] = {ld[0], (int)out[2], (int)out[3], ld[1]};
    char nm[300];
    out_name(n, 0, nm, sizeof nm);
    int y = finish_op(c, o, nm, 4, dims);
    return y < 0 ? -1 : define_out(c, n, 0, -1, y);
}

static int convert_node(ctx *c, const node *n)
{
    if (n->domain.n && !span_is(n->domain, "ai.onnx"))
        return fail(c, "operator domain '%.*s' is not supported", (int)(n->domain.n > 40 ? 40 : n->domain.n),
                    (const char *)n->domain.p);
    if (n->n_out < 1)
        return fail(c, "has no output");
    span op = n->op;
#define IS(s) span_is(op, s)
    if (IS("Conv")) return conv_conv(c, n);
    if (IS("ConvTranspose")) return conv_conv_transpose(c, n);
    if (IS("Add")) return conv_binary(c, n, NN_BIN_ADD);
    if (IS("Sub")) return conv_binary(c, n, NN_BIN_SUB);
    if (IS("Mul")) return conv_binary(c, n, NN_BIN_MUL);
    if (IS("Div")) return conv_binary(c, n, NN_BIN_DIV);
    if (IS("Pow")) return conv_binary(c, n, NN_BIN_POW);
    if (IS("Relu")) {
        if (check_attrs(c, n, ""))
            return -1;
        return conv_elementwise(c, n, NN_OP_CLAMP, 0, 1, 0.0f, INFINITY, 0);
    }
    if (IS("LeakyRelu")) return conv_unary(c, n, NN_UN_LEAKY_RELU, "alpha", attr_float(n, "alpha", 0.01f));
    if (IS("PRelu")) {
        if (check_attrs(c, n, ""))
            return -1;
        return conv_elementwise(c, n, NN_OP_PRELU, 0, 2, -INFINITY, INFINITY, 0);
    }
    if (IS("Sigmoid")) return conv_unary(c, n, NN_UN_SIGMOID, "", 0);
    if (IS("Tanh")) return conv_unary(c, n, NN_UN_TANH, "", 0);
    if (IS("Erf")) return conv_unary(c, n, NN_UN_ERF, "", 0);
    if (IS("Sqrt")) return conv_unary(c, n, NN_UN_SQRT, "", 0);
    if (IS("Exp")) return conv_unary(c, n, NN_UN_EXP, "", 0);
    if (IS("Neg")) return conv_unary(c, n, NN_UN_NEG, "", 0);
    if (IS("Reciprocal")) return conv_unary(c, n, NN_UN_RECIPROCAL, "", 0);
    if (IS("Clip")) return conv_clip(c, n);
    if (IS("DepthToSpace")) return conv_depth_space(c, n, 1);
    if (IS("SpaceToDepth")) return conv_depth_space(c, n, 0);
    if (IS("Resize")) return conv_resize(c, n, 0);
    if (IS("Upsample")) return conv_resize(c, n, 1);
    if (IS("Pad")) return conv_pad(c, n);
    if (IS("Reshape") || IS("Flatten") || IS("Squeeze") || IS("Unsqueeze")) {
        char o[16];
        snprintf(o, sizeof o, "%.*s", (int)op.n, (const char *)op.p);
        return conv_reshape_like(c, n, o);
    }
    if (IS("Transpose")) return conv_transpose(c, n);
    if (IS("Concat")) return conv_concat(c, n);
    if (IS("Split")) return conv_split(c, n);
    if (IS("Slice")) return conv_slice(c, n);
    if (IS("Gather")) return conv_gather(c, n);
    if (IS("Shape")) return conv_shape(c, n);
    if (IS("Gemm")) return conv_matmul(c, n, 1);
    if (IS("MatMul")) return conv_matmul(c, n, 0);
    if (IS("BatchNormalization")) return conv_batchnorm(c, n);
    if (IS("InstanceNormalization")) return conv_instance_norm(c, n);
    if (IS("ReduceMean")) return conv_reduce(c, n, NN_RED_MEAN);
    if (IS("ReduceSum")) return conv_reduce(c, n, NN_RED_SUM);
    if (IS("ReduceMax")) return conv_reduce(c, n, NN_RED_MAX);
    if (IS("Softmax")) return conv_softmax(c, n);
    if (IS("GlobalAveragePool")) return conv_global_avg(c, n);
    if (IS("MaxPool")) return conv_pool(c, n, 0);
    if (IS("AveragePool")) return conv_pool(c, n, 1);
    if (IS("Identity")) return check_attrs(c, n, "") ? -1 : conv_alias(c, n);
    if (IS("Dropout")) {
        if (check_attrs(c, n, "ratio,seed,is_test") || (n->n_out > 1 && n->out[1].n))
            return fail(c, "only inference Dropout (one output) is supported");
        return conv_alias(c, n);
    }
    if (IS("Cast")) return conv_cast(c, n);
    if (IS("Constant")) return conv_constant(c, n);
    if (IS("ConstantOfShape")) return conv_constant_of_shape(c, n);
#undef IS
    return fail(c, "operator '%.*s' is not supported", (int)(op.n > 40 ? 40 : op.n), (const char *)op.p);
}

/* ---- model and graph ---- */

/* A graph input's float type and static shape (first dim may be symbolic: 1). */
static int read_value_info(ctx *c, span msg, span *name, int *rank, int *dims)
{
    rd r = rd_of(msg);
    uint32_t f;
    int w, rc;
    uint64_t v;
    span s, type = {0};
    *name = (span){0};
    while ((rc = rd_field(&r, &f, &w, &v, &s)) > 0) {
        if (f == 1 && w == WIRE_LEN)
            *name = s;
        else if (f == 2 && w == WIRE_LEN)
            type = s;
    }
    if (rc < 0)
        return fail(c, "a graph input or output is malformed");
    span tensor = {0}, shape = {0};
    int elem = 0, has_shape = 0;
    r = rd_of(type);
    while ((rc = rd_field(&r, &f, &w, &v, &s)) > 0)
        if (f == 1 && w == WIRE_LEN)
            tensor = s;
    if (rc < 0 || !tensor.p)
        return fail(c, "input '%.*s' is not a tensor", (int)(name->n > 80 ? 80 : name->n), (const char *)name->p);
    r = rd_of(tensor);
    while ((rc = rd_field(&r, &f, &w, &v, &s)) > 0) {
        if (f == 1 && w == WIRE_VARINT)
            elem = (int)v;
        else if (f == 2 && w == WIRE_LEN) {
            shape = s;
            has_shape = 1;
        }
    }
    if (rc < 0)
        return fail(c, "input '%.*s' has a malformed type", (int)(name->n > 80 ? 80 : name->n), (const char *)name->p);
    if (elem != DT_FLOAT)
        return fail(c, "input '%.*s' has data type %d (only float inputs are supported)",
                    (int)(name->n > 80 ? 80 : name->n), (const char *)name->p, elem);
    if (!has_shape)
        return fail(c, "input '%.*s' has no shape", (int)(name->n > 80 ? 80 : name->n), (const char *)name->p);
    *rank = 0;
    r = rd_of(shape);
    while ((rc = rd_field(&r, &f, &w, &v, &s)) > 0) {
        if (f != 1 || w != WIRE_LEN)
            continue;
        if (*rank >= NN_MAX_RANK)
            return fail(c, "input '%.*s' has more than %d dims", (int)(name->n > 80 ? 80 : name->n),
                        (const char *)name->p, NN_MAX_RANK);
        rd q = rd_of(s);
        uint32_t f2;
        int w2, rc2;
        int64_t value = -1;
        while ((rc2 = rd_field(&q, &f2, &w2, &v, &s)) > 0)
            if (f2 == 1 && w2 == WIRE_VARINT)
                value = (int64_t)v;
        if (rc2 < 0)
            return fail(c, "a shape is malformed");
        if (value < 0 && *rank == 0)
            value = 1; /* a symbolic batch: one image at a time */
        if (value < 1 || value > INT_MAX)
            return fail(c, "input '%.*s' has a dynamic or empty dim %d (only static shapes are supported)",
                        (int)(name->n > 80 ? 80 : name->n), (const char *)name->p, *rank);
        dims[(*rank)++] = (int)value;
    }
    if (rc < 0)
        return fail(c, "a shape is malformed");
    return 0;
}

#define MAX_LIST 200000

typedef struct graph_parts {
    span *nodes, *inits, *inputs, *outputs;
    int n_nodes, n_inits, n_inputs, n_outputs;
} graph_parts;

static int collect(ctx *c, span graph, graph_parts *gp)
{
    rd r = rd_of(graph);
    uint32_t f;
    int w, rc;
    uint64_t v;
    span s;
    int counts[4] = {0};
    while ((rc = rd_field(&r, &f, &w, &v, &s)) > 0) {
        if (w != WIRE_LEN)
            continue;
        if (f == 1) counts[0]++;
        else if (f == 5) counts[1]++;
        else if (f == 11) counts[2]++;
        else if (f == 12) counts[3]++;
        else if (f == 15) return fail(c, "sparse initializers are not supported");
    }
    if (rc < 0)
        return fail(c, "the graph is malformed (truncated or bad field)");
    for (int k = 0; k < 4; k++)
        if (counts[k] > MAX_LIST)
            return fail(c, "the graph has too many entries");
    gp->nodes = calloc((size_t)counts[0] + 1, sizeof(span));
    gp->inits = calloc((size_t)counts[1] + 1, sizeof(span));
    gp->inputs = calloc((size_t)counts[2] + 1, sizeof(span));
    gp->outputs = calloc((size_t)counts[3] + 1, sizeof(span));
    if (!gp->nodes || !gp->inits || !gp->inputs || !gp->outputs)
        return oom(c);
    r = rd_of(graph);
    while (rd_field(&r, &f, &w, &v, &s) > 0) {
        if (w != WIRE_LEN)
            continue;
        if (f == 1) gp->nodes[gp->n_nodes++] = s;
        else if (f == 5) gp->inits[gp->n_inits++] = s;
        else if (f == 11) gp->inputs[gp->n_inputs++] = s;
        else if (f == 12) gp->outputs[gp->n_outputs++] = s;
    }
    return 0;
}

static int read_graph(ctx *c, span graph)
{
    graph_parts gp = {0};
    int rc = -1;
    if (collect(c, graph, &gp))
        goto out;
    if (gp.n_nodes > MAX_NODES) {
        fail(c, "the graph has more than %d nodes", MAX_NODES);
        goto out;
    }
    if (gp.n_outputs < 1 || gp.n_outputs > MAX_IO * 4) {
        fail(c, "the graph has %d outputs", gp.n_outputs);
        goto out;
    }
    int est = gp.n_nodes * 2 + gp.n_inits + gp.n_inputs + 16;
    c->n_bucket = 64;
    while (c->n_bucket < est * 2 && c->n_bucket < (1 << 24))
        c->n_bucket *= 2;
    c->bucket = malloc((size_t)c->n_bucket * sizeof *c->bucket);
    c->nodes = calloc((size_t)gp.n_nodes + 1, sizeof *c->nodes);
    if (!c->bucket || !c->nodes) {
        oom(c);
        goto out;
    }
    for (int i = 0; i < c->n_bucket; i++)
        c->bucket[i] = -1;
    for (int i = 0; i < gp.n_nodes; i++)
        if (parse_node(c, gp.nodes[i], &c->nodes[i]))
            goto out;
    c->n_nodes = gp.n_nodes;
    /* Initializers: constants. */
    for (int i = 0; i < gp.n_inits; i++) {
        tproto tp;
        if (parse_tensor(c, gp.inits[i], &tp))
            goto out;
        char nm[300];
        snprintf(nm, sizeof nm, "%.*s", (int)(tp.name.n > 250 ? 250 : tp.name.n), (const char *)tp.name.p);
        if (tp.name.n == 0) {
            fail(c, "initializer %d has no name", i);
            goto out;
        }
        int t = load_tensor(c, &tp, nm);
        if (t < 0 || set_val(c, tp.name, t, -1))
            goto out;
    }
    /* Graph inputs (those that are not initializers); bound ones become constants. */
    for (int i = 0, k = 0; i < gp.n_inputs; i++) {
        span name;
        int rank = 0, dims[NN_MAX_RANK];
        rd r = rd_of(gp.inputs[i]);
        uint32_t f;
        int w;
        uint64_t v;
        span s;
        name = (span){0};
        while (rd_field(&r, &f, &w, &v, &s) > 0)
            if (f == 1 && w == WIRE_LEN)
                name = s;
        if (name.n == 0) {
            fail(c, "graph input %d has no name", i);
            goto out;
        }
        if (find_val(c, name))
            continue;
        char nm[300];
        if (k < c->n_bind && c->bind[k].data) {
            tproto tp;
            snprintf(nm, sizeof nm, "%.*s", (int)(name.n > 250 ? 250 : name.n), (const char *)name.p);
            if (parse_tensor(c, (span){c->bind[k].data, c->bind[k].size}, &tp))
                goto out;
            int t = load_tensor(c, &tp, nm);
            if (t < 0 || set_val(c, name, t, -1))
                goto out;
            k++;
            continue;
        }
        k++;
        if (read_value_info(c, gp.inputs[i], &name, &rank, dims))
            goto out;
        snprintf(nm, sizeof nm, "%.*s", (int)(name.n > 250 ? 250 : name.n), (const char *)name.p);
        int t = add_tensor(c, nm, rank, dims, NULL);
        if (t < 0 || set_val(c, name, t, -1))
            goto out;
        c->g->tensors[t].is_input = 1;
    }
    c->n_graph_outputs = 0;
    for (int i = 0; i < gp.n_outputs; i++) {
        span name = {0}, s;
        rd r = rd_of(gp.outputs[i]);
        uint32_t f;
        int w;
        uint64_t v;
        while (rd_field(&r, &f, &w, &v, &s) > 0)
            if (f == 1 && w == WIRE_LEN)
                name = s;
        c->graph_outputs[c->n_graph_outputs++] = name;
    }
    for (int i = 0; i < c->n_nodes; i++) {
        c->cur = &c->nodes[i];
        c->cur_index = i;
        if (convert_node(c, &c->nodes[i]))
            goto out;
    }
    c->cur = NULL;
    /* Graph inputs and outputs. */
    nn_graph *g = c->g;
    g->inputs = malloc(((size_t)g->n_tensors + 1) * sizeof *g->inputs);
    g->outputs = malloc((size_t)c->n_graph_outputs * sizeof *g->outputs);
    if (!g->inputs || !g->outputs) {
        oom(c);
        goto out;
    }
    for (int t = 0; t < g->n_tensors; t++)
        if (g->tensors[t].is_input)
            g->inputs[g->n_inputs++] = t;
    if (g->n_inputs == 0) {
        fail(c, "the graph has no computed input");
        goto out;
    }
    for (int i = 0; i < c->n_graph_outputs; i++) {
        span name = c->graph_outputs[i];
        val *v = find_val(c, name);
        if (!v) {
            fail(c, "graph output '%.*s' is never written", (int)(name.n > 80 ? 80 : name.n), (const char *)name.p);
            goto out;
        }
        int t = get_logical(c, v);
        if (t < 0)
            goto out;
        nn_tensor *tt = &g->tensors[t];
        /* An output that is a constant, an input or another output gets its own copy. */
        if (tt->data || tt->is_input || tt->is_output) {
            int o = add_op(c, NN_OP_UNARY, 1, &t);
            if (o < 0)
                goto out;
            g->ops[o].mode = NN_UN_COPY;
            int rank = tt->rank, dims[NN_MAX_RANK];
            memcpy(dims, tt->dims, sizeof dims);
            if ((t = finish_op(c, o, v->name, rank, dims)) < 0)
                goto out;
            tt = &g->tensors[t];
        } else {
            char *nm = strdup(v->name);
            if (!nm) {
                oom(c);
                goto out;
            }
            free(tt->name);
            tt->name = nm;
        }
        tt->is_output = 1;
        g->outputs[g->n_outputs++] = t;
    }
    rc = 0;
out:
    free(gp.nodes);
    free(gp.inits);
    free(gp.inputs);
    free(gp.outputs);
    return rc;
}

int nn_is_tflite(const void *data, size_t size)
{
    return size >= 8 && memcmp((const uint8_t *)data + 4, "TFL3", 4) == 0;
}

static int read_onnx(const void *data, size_t size, const char *name, const char *dir, const nn_onnx_binding *bind,
                     int n_bind, int mapped, nn_graph **out, ptim_error *err);

int nn_onnx_read(const void *data, size_t size, const char *name, const char *dir, nn_graph **out, ptim_error *err)
{
    return read_onnx(data, size, name, dir, NULL, 0, 0, out, err);
}

int nn_onnx_read_mapped(const void *data, size_t size, const char *name, const char *dir, nn_graph **out,
                        ptim_error *err)
{
    return read_onnx(data, size, name, dir, NULL, 0, 1, out, err);
}

int nn_onnx_read_bound(const void *data, size_t size, const char *name, const char *dir,
                       const nn_onnx_binding *bind, int n_bind, nn_graph **out, ptim_error *err)
{
    return read_onnx(data, size, name, dir, bind, n_bind, 0, out, err);
}

static int read_onnx(const void *data, size_t size, const char *name, const char *dir, const nn_onnx_binding *bind,
                     int n_bind, int mapped, nn_graph **out, ptim_error *err)
{
    *out = NULL;
    ptim_error local = {0};
    ctx c = {.file = name, .dir = dir, .err = err ? err : &local, .bind = bind, .n_bind = n_bind,
             .drop_pages = mapped};
    c.err->message[0] = 0;
    c.g = calloc(1, sizeof *c.g);
    if (!c.g || !(c.g->name = strdup(name))) {
        if (c.g)
            free(c.g);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", name);
    }
    int rc = -1;
    rd r = {data, (const uint8_t *)data + size};
    uint32_t f;
    int w, st;
    uint64_t v;
    span s, graph = {0};
    int have_opset = 0, ir = -1;
    while ((st = rd_field(&r, &f, &w, &v, &s)) > 0) {
        if (f == 1 && w == WIRE_VARINT)
            ir = (int)v;
        else if (f == 7 && w == WIRE_LEN)
            graph = s;
        else if (f == 8 && w == WIRE_LEN) {
            rd q = rd_of(s);
            span domain = {0};
            int64_t version = -1;
            uint32_t f2;
            int w2, st2;
            span s2;
            while ((st2 = rd_field(&q, &f2, &w2, &v, &s2)) > 0) {
                if (f2 == 1 && w2 == WIRE_LEN)
                    domain = s2;
                else if (f2 == 2 && w2 == WIRE_VARINT)
                    version = (int64_t)v;
            }
            if (st2 < 0) {
                fail(&c, "an opset entry is malformed");
                goto out;
            }
            if (domain.n == 0 || span_is(domain, "ai.onnx")) {
                if (version < ONNX_MIN_OPSET || version > ONNX_MAX_OPSET) {
                    fail(&c, "opset %lld is not supported (%d to %d are)", (long long)version, ONNX_MIN_OPSET,
                         ONNX_MAX_OPSET);
                    goto out;
                }
                c.opset = (int)version;
                have_opset = 1;
            }
        }
    }
    if (st < 0) {
        fail(&c, "is not an ONNX model (malformed protobuf, or truncated)");
        goto out;
    }
    if (ir < 3 || !graph.p) {
        fail(&c, "is not an ONNX model (no IR version or graph)");
        goto out;
    }
    if (!have_opset) {
        fail(&c, "has no opset for the default (ai.onnx) domain");
        goto out;
    }
    if (read_graph(&c, graph))
        goto out;
    if (nn_graph_validate(c.g, c.err))
        goto out;
    rc = 0;
out:
    for (int i = 0; i < c.n_vals; i++)
        free(c.vals[i].name);
    free(c.vals);
    free(c.chain);
    free(c.bucket);
    free(c.nodes);
    if (rc) {
        nn_graph_free(c.g);
        return -1;
    }
    *out = c.g;
    return 0;
}

int nn_onnx_read_tensor(const void *data, size_t size, const char *name, int *rank, int *dims, int *dtype,
                        float **values, ptim_error *err)
{
    *values = NULL;
    ptim_error local = {0};
    ctx c = {.file = name, .err = err ? err : &local};
    c.g = calloc(1, sizeof *c.g);
    if (!c.g)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "tensor %s: out of memory", name);
    tproto tp;
    int rc = -1;
    if (parse_tensor(&c, (span){data, size}, &tp) == 0) {
        *dtype = tp.dtype;
        int t = load_tensor(&c, &tp, name);
        if (t >= 0) {
            nn_tensor *tt = &c.g->tensors[t];
            *rank = tt->rank;
            for (int d = 0; d < tt->rank; d++)
                dims[d] = tt->dims[d];
            *values = tt->data;
            tt->data = NULL;
            rc = 0;
        }
    }
    nn_graph_free(c.g);
    return rc;
}

int nn_onnx_last_initializer(const void *data, size_t size, const char *name, const char *dir, int *rank,
                             int *dims, float **values, ptim_error *err)
{
    *values = NULL;
    ptim_error local = {0};
    ctx c = {.file = name, .dir = dir, .err = err ? err : &local};
    c.g = calloc(1, sizeof *c.g);
    if (!c.g)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", name);
    rd r = {data, (const uint8_t *)data + size};
    uint32_t f;
    int w, st;
    uint64_t v;
    span s, graph = {0};
    while ((st = rd_field(&r, &f, &w, &v, &s)) > 0)
        if (f == 7 && w == WIRE_LEN)
            graph = s;
    graph_parts gp = {0};
    tproto tp;
    int rc = -1;
    if (st < 0 || !graph.p)
        fail(&c, "is not an ONNX model (malformed protobuf, or no graph)");
    else if (collect(&c, graph, &gp) == 0) {
        if (gp.n_inits < 1)
            fail(&c, "has no initializers");
        else if (parse_tensor(&c, gp.inits[gp.n_inits - 1], &tp) == 0) {
            int t = load_tensor(&c, &tp, "last initializer");
            if (t >= 0) {
                nn_tensor *tt = &c.g->tensors[t];
                *rank = tt->rank;
                for (int d = 0; d < tt->rank; d++)
                    dims[d] = tt->dims[d];
                *values = tt->data;
                tt->data = NULL;
                rc = 0;
            }
        }
    }
    free(gp.nodes);
    free(gp.inits);
    free(gp.inputs);
    free(gp.outputs);
    nn_graph_free(c.g);
    return rc;
}
