/* nn/tflite — read a .tflite flatbuffer into ptim's graph form.
 *
 * The flatbuffer layout is read by hand: every offset, length and index is
 * checked against the buffer before it is followed, so a truncated or hostile
 * file yields one sentence naming what is wrong, never an out-of-bounds read.
 * Only the schema fields ptim needs are read (schema.fbs field numbers in the
 * F_* constants). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/graph.h"

/* schema.fbs field indices */
enum { F_MODEL_VERSION = 0, F_MODEL_OPCODES = 1, F_MODEL_SUBGRAPHS = 2, F_MODEL_BUFFERS = 4 };
enum { F_OPCODE_DEPRECATED = 0, F_OPCODE_CUSTOM = 1, F_OPCODE_BUILTIN = 3 };
enum { F_SG_TENSORS = 0, F_SG_INPUTS = 1, F_SG_OUTPUTS = 2, F_SG_OPERATORS = 3 };
enum { F_T_SHAPE = 0, F_T_TYPE = 1, F_T_BUFFER = 2, F_T_NAME = 3, F_T_SPARSITY = 6 };
enum { F_OP_OPCODE = 0, F_OP_INPUTS = 1, F_OP_OUTPUTS = 2, F_OP_OPTIONS_TYPE = 3, F_OP_OPTIONS = 4 };
enum { F_BUF_DATA = 0, F_BUF_OFFSET = 1, F_BUF_SIZE = 2 };

/* TensorType */
enum { TT_FLOAT32 = 0, TT_FLOAT16 = 1, TT_INT32 = 2 };

/* BuiltinOperator */
enum {
    BO_ADD = 0, BO_CONCATENATION = 2, BO_CONV_2D = 3, BO_DEPTHWISE_CONV_2D = 4, BO_DEQUANTIZE = 6,
    BO_MAX_POOL_2D = 17, BO_RELU = 19, BO_RELU_N1_TO_1 = 20, BO_RELU6 = 21, BO_RESHAPE = 22,
    BO_RESIZE_BILINEAR = 23, BO_CUSTOM = 32, BO_PAD = 34, BO_PRELU = 54,
};

/* BuiltinOptions union types */
enum {
    OT_CONV2D = 1, OT_DWCONV2D = 2, OT_POOL2D = 5, OT_CONCAT = 10, OT_ADD = 11,
    OT_RESIZE_BILINEAR = 15, OT_RESHAPE = 17, OT_PAD = 22,
};

typedef struct fb {
    const uint8_t *p;
    size_t n;
    const char *name;
    ptim_error *err;
} fb;

typedef struct fbt {
    size_t pos;       /* table start */
    size_t vt;        /* vtable start */
    unsigned nfields; /* entries in the vtable */
} fbt;

static int fail(fb *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(fb *f, const char *fmt, ...)
{
    char msg[PTIM_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ptim_error_set(f->err, PTIM_ERR_MODEL, PTIM_SEV_HIGH, "model %s: %s", f->name, msg);
}

static int in_range(const fb *f, size_t pos, size_t len)
{
    return pos <= f->n && len <= f->n - pos;
}

static uint32_t u32_at(const fb *f, size_t pos)
{
    uint32_t v;
    memcpy(&v, f->p + pos, 4);
    return v;
}

static uint16_t u16_at(const fb *f, size_t pos)
{
    uint16_t v;
    memcpy(&v, f->p + pos, 2);
    return v;
}

/* Opens the table at `pos`; `what` names it in errors. */
static int fb_table(fb *f, size_t pos, fbt *t, const char *what)
{
    if (!in_range(f, pos, 4))
        return fail(f, "%s is out of range", what);
    int32_t soff;
    memcpy(&soff, f->p + pos, 4);
    int64_t vt = (int64_t)pos - (int64_t)soff;
    if (vt < 0 || !in_range(f, (size_t)vt, 4))
        return fail(f, "%s has its field table out of range", what);
    uint16_t vtsize = u16_at(f, (size_t)vt);
    uint16_t tsize = u16_at(f, (size_t)vt + 2);
    if (vtsize < 4 || (vtsize & 1) || !in_range(f, (size_t)vt, vtsize))
        return fail(f, "%s has a malformed field table", what);
    if (tsize < 4 || !in_range(f, pos, tsize))
        return fail(f, "%s is truncated", what);
    t->pos = pos;
    t->vt = (size_t)vt;
    t->nfields = (vtsize - 4) / 2;
    return 0;
}

/* Absolute position of field `idx` holding `size` bytes, or 0 when absent. */
static int fb_field(fb *f, const fbt *t, unsigned idx, size_t size, size_t *pos, const char *what)
{
    *pos = 0;
    if (idx >= t->nfields)
        return 0;
    uint16_t off = u16_at(f, t->vt + 4 + 2 * idx);
    if (off == 0)
        return 0;
    if (!in_range(f, t->pos + off, size))
        return fail(f, "%s field %u is out of range", what, idx);
    *pos = t->pos + off;
    return 0;
}

static int fb_i32(fb *f, const fbt *t, unsigned idx, int32_t def, int32_t *out, const char *what)
{
    size_t pos;
    if (fb_field(f, t, idx, 4, &pos, what))
        return -1;
    if (pos) {
        memcpy(out, f->p + pos, 4);
    } else {
        *out = def;
    }
    return 0;
}

static int fb_u8(fb *f, const fbt *t, unsigned idx, uint8_t def, uint8_t *out, const char *what)
{
    size_t pos;
    if (fb_field(f, t, idx, 1, &pos, what))
        return -1;
    *out = pos ? f->p[pos] : def;
    return 0;
}

/* Follows the offset in field `idx`; *target = 0 when the field is absent. */
static int fb_ref(fb *f, const fbt *t, unsigned idx, size_t *target, const char *what)
{
    size_t pos;
    if (fb_field(f, t, idx, 4, &pos, what))
        return -1;
    *target = 0;
    if (!pos)
        return 0;
    uint64_t tgt = (uint64_t)pos + u32_at(f, pos);
    if (tgt >= f->n)
        return fail(f, "%s points past the end of the file (is it truncated?)", what);
    *target = (size_t)tgt;
    return 0;
}

/* Vector in field `idx` of elements of `esize` bytes; absent → len 0. */
static int fb_vector(fb *f, const fbt *t, unsigned idx, size_t esize, size_t *start, uint32_t *len,
                     const char *what)
{
    size_t v;
    *start = 0;
    *len = 0;
    if (fb_ref(f, t, idx, &v, what))
        return -1;
    if (!v)
        return 0;
    if (!in_range(f, v, 4))
        return fail(f, "%s is truncated", what);
    uint32_t n = u32_at(f, v);
    if ((uint64_t)n * esize > f->n || !in_range(f, v + 4, (size_t)n * esize))
        return fail(f, "%s has length %u, past the end of the file", what, n);
    *start = v + 4;
    *len = n;
    return 0;
}

/* Element i of a vector of tables. */
static int fb_vec_table(fb *f, size_t start, uint32_t i, fbt *t, const char *what)
{
    size_t ep = start + (size_t)i * 4;
    uint64_t tgt = (uint64_t)ep + u32_at(f, ep);
    if (tgt >= f->n)
        return fail(f, "%s is out of range", what);
    return fb_table(f, (size_t)tgt, t, what);
}

/* String field → newly allocated C string (empty when absent). */
static int fb_string(fb *f, const fbt *t, unsigned idx, char **out, const char *what)
{
    size_t start;
    uint32_t len;
    if (fb_vector(f, t, idx, 1, &start, &len, what))
        return -1;
    *out = malloc((size_t)len + 1);
    if (!*out)
        return ptim_error_set(f->err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", f->name);
    if (len)
        memcpy(*out, f->p + start, len);
    (*out)[len] = 0;
    return 0;
}

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { /* subnormal: renormalize */
            int e = -1;
            do {
                e++;
                mant <<= 1;
            } while (!(mant & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ff) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }
    float v;
    memcpy(&v, &bits, 4);
    return v;
}

/* What the importer keeps per TFLite tensor beyond the graph tensor. */
typedef struct tfl_tensor {
    int type;
    const uint8_t *bytes; /* constant bytes inside the file, or NULL */
    size_t nbytes;
} tfl_tensor;

typedef struct importer {
    fb f;
    nn_graph *g;
    tfl_tensor *tt;
    int *opcodes; /* builtin code per operator code */
    uint32_t n_opcodes;
    size_t buffers_start;
    uint32_t n_buffers;
} importer;

static const char *builtin_name(int code)
{
    switch (code) {
    case BO_ADD: return "ADD";
    case 1: return "AVERAGE_POOL_2D";
    case BO_CONCATENATION: return "CONCATENATION";
    case BO_CONV_2D: return "CONV_2D";
    case BO_DEPTHWISE_CONV_2D: return "DEPTHWISE_CONV_2D";
    case BO_DEQUANTIZE: return "DEQUANTIZE";
    case 9: return "FULLY_CONNECTED";
    case 14: return "LOGISTIC";
    case BO_MAX_POOL_2D: return "MAX_POOL_2D";
    case 18: return "MUL";
    case BO_RELU: return "RELU";
    case BO_RELU_N1_TO_1: return "RELU_N1_TO_1";
    case BO_RELU6: return "RELU6";
    case BO_RESHAPE: return "RESHAPE";
    case BO_RESIZE_BILINEAR: return "RESIZE_BILINEAR";
    case 25: return "SOFTMAX";
    case 28: return "TANH";
    case BO_CUSTOM: return "CUSTOM";
    case BO_PAD: return "PAD";
    case 39: return "TRANSPOSE";
    case 40: return "MEAN";
    case 41: return "SUB";
    case 43: return "SQUEEZE";
    case BO_PRELU: return "PRELU";
    default: return NULL;
    }
}

static int read_tensor(importer *im, uint32_t i, const fbt *t)
{
    fb *f = &im->f;
    nn_tensor *nt = &im->g->tensors[i];
    tfl_tensor *tt = &im->tt[i];
    char what[64];
    snprintf(what, sizeof what, "tensor %u", i);
    nt->producer = -1;
    nt->alias_of = -1;
    char fwhat[64];
    snprintf(fwhat, sizeof fwhat, "tensor %u name", i);
    if (fb_string(f, t, F_T_NAME, &nt->name, fwhat))
        return -1;
    size_t sstart;
    uint32_t rank;
    snprintf(fwhat, sizeof fwhat, "tensor %u shape", i);
    if (fb_vector(f, t, F_T_SHAPE, 4, &sstart, &rank, fwhat))
        return -1;
    if (rank > NN_MAX_RANK)
        return fail(f, "tensor %u (%s) has rank %u, more than %d", i, nt->name, rank, NN_MAX_RANK);
    nt->rank = (int)rank;
    size_t count = 1;
    for (uint32_t d = 0; d < rank; d++) {
        int32_t v;
        memcpy(&v, f->p + sstart + 4 * d, 4);
        if (v <= 0 || (size_t)v > NN_MAX_TENSOR_ELEMS)
            return fail(f, "tensor %u (%s) has dimension %u of size %d", i, nt->name, d, (int)v);
        nt->dims[d] = v;
        count *= (size_t)v;
        if (count > NN_MAX_TENSOR_ELEMS)
            return fail(f, "tensor %u (%s) is too large", i, nt->name);
    }
    nt->count = count;
    uint8_t type;
    if (fb_u8(f, t, F_T_TYPE, 0, &type, what))
        return -1;
    tt->type = type;
    size_t sp;
    if (fb_field(f, t, F_T_SPARSITY, 4, &sp, what))
        return -1;
    if (sp)
        return fail(f, "tensor %u (%s) is sparse, which is not supported", i, nt->name);
    int32_t buf;
    if (fb_i32(f, t, F_T_BUFFER, 0, &buf, what))
        return -1;
    if (buf < 0 || (uint32_t)buf >= im->n_buffers)
        return fail(f, "tensor %u buffer out of range", i);
    if (buf == 0)
        return 0; /* buffer 0 is the empty sentinel: a computed tensor */
    fbt bt;
    char bwhat[64];
    snprintf(bwhat, sizeof bwhat, "buffer %d", (int)buf);
    if (fb_vec_table(f, im->buffers_start, (uint32_t)buf, &bt, bwhat))
        return -1;
    size_t dstart;
    uint32_t dlen;
    snprintf(fwhat, sizeof fwhat, "tensor %u buffer data", i);
    if (fb_vector(f, &bt, F_BUF_DATA, 1, &dstart, &dlen, fwhat))
        return -1;
    if (dlen == 0) {
        size_t op;
        if (fb_field(f, &bt, F_BUF_OFFSET, 8, &op, bwhat))
            return -1;
        if (op)
            return fail(f, "tensor %u (%s) keeps its data outside the flatbuffer, which is not supported",
                        i, nt->name);
        return 0;
    }
    size_t esize = type == TT_FLOAT32 ? 4 : type == TT_FLOAT16 ? 2 : type == TT_INT32 ? 4 : 0;
    if (!esize)
        return fail(f, "tensor %u (%s) has unsupported constant type %u", i, nt->name, type);
    if ((size_t)dlen != count * esize)
        return fail(f, "tensor %u (%s) has %u bytes of data, expected %zu", i, nt->name, dlen,
                    count * esize);
    tt->bytes = f->p + dstart;
    tt->nbytes = dlen;
    if (type == TT_FLOAT32 || type == TT_FLOAT16) {
        nt->data = malloc(count * sizeof(float));
        if (!nt->data)
            return ptim_error_set(f->err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory",
                                  f->name);
        if (type == TT_FLOAT32) {
            memcpy(nt->data, tt->bytes, count * 4);
        } else {
            for (size_t k = 0; k < count; k++) {
                uint16_t h;
                memcpy(&h, tt->bytes + 2 * k, 2);
                nt->data[k] = half_to_float(h);
            }
        }
        im->g->param_count += count;
    }
    return 0;
}

static int read_int_list(fb *f, size_t start, uint32_t n, int32_t min_index, int32_t max_index,
                         int **out, const char *what)
{
    *out = malloc(((size_t)n + 1) * sizeof(int));
    if (!*out)
        return ptim_error_set(f->err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", f->name);
    for (uint32_t k = 0; k < n; k++) {
        int32_t v;
        memcpy(&v, f->p + start + 4 * k, 4);
        if (v < min_index || v >= max_index) {
            free(*out);
            *out = NULL;
            return fail(f, "%s refers to tensor %d, out of range", what, (int)v);
        }
        (*out)[k] = v;
    }
    return 0;
}

/* Int32 constant tensor → values, or an error naming the operator. */
static int const_ints(importer *im, int op_index, const char *opname, int tensor, const int32_t **vals,
                      size_t *n)
{
    tfl_tensor *tt = &im->tt[tensor];
    if (tt->type != TT_INT32 || !tt->bytes)
        return fail(&im->f, "operator %d (%s) needs tensor %d to be a constant int32 tensor", op_index,
                    opname, tensor);
    *vals = (const int32_t *)(const void *)tt->bytes; /* read via memcpy below */
    *n = tt->nbytes / 4;
    return 0;
}

static int32_t int_at(const int32_t *vals, size_t k)
{
    int32_t v;
    memcpy(&v, (const uint8_t *)vals + 4 * k, 4);
    return v;
}

static int set_activation(importer *im, int op_index, const char *opname, uint8_t act, nn_op *op)
{
    switch (act) {
    case 0: op->act_min = -INFINITY; op->act_max = INFINITY; return 0;
    case 1: op->act_min = 0; op->act_max = INFINITY; return 0;
    case 2: op->act_min = -1; op->act_max = 1; return 0;
    case 3: op->act_min = 0; op->act_max = 6; return 0;
    default:
        return fail(&im->f, "operator %d (%s) has unsupported fused activation %u", op_index, opname, act);
    }
}

static int check_padding(importer *im, int op_index, const char *opname, uint8_t padding)
{
    if (padding > 1)
        return fail(&im->f, "operator %d (%s) has unknown padding mode %u", op_index, opname, padding);
    return 0;
}

/* SAME padding as TFLite computes it: the extra pixel goes after. */
static void same_pads(int in, int k, int stride, int dil, int *before, int *after)
{
    int eff = (k - 1) * dil + 1;
    int out = (in + stride - 1) / stride;
    long total = (long)(out - 1) * stride + eff - in;
    if (total < 0)
        total = 0;
    *before = (int)(total / 2);
    *after = (int)(total - total / 2);
}

static int read_operator(importer *im, int i, const fbt *t)
{
    fb *f = &im->f;
    nn_graph *g = im->g;
    nn_op *op = &g->ops[i];
    char what[64];
    snprintf(what, sizeof what, "operator %d", i);
    op->output = -1;
    op->act_min = -INFINITY;
    op->act_max = INFINITY;
    int32_t opcode;
    if (fb_i32(f, t, F_OP_OPCODE, 0, &opcode, what))
        return -1;
    if (opcode < 0 || (uint32_t)opcode >= im->n_opcodes)
        return fail(f, "operator %d opcode index %d out of range", i, (int)opcode);
    int code = im->opcodes[opcode];
    const char *opname = builtin_name(code);
    char unknown[32];
    if (!opname) {
        snprintf(unknown, sizeof unknown, "builtin %d", code);
        opname = unknown;
    }
    size_t istart, ostart;
    uint32_t nin, nout;
    char fwhat[64], gwhat[64];
    snprintf(fwhat, sizeof fwhat, "operator %d input list", i);
    snprintf(gwhat, sizeof gwhat, "operator %d output list", i);
    if (fb_vector(f, t, F_OP_INPUTS, 4, &istart, &nin, fwhat) ||
        fb_vector(f, t, F_OP_OUTPUTS, 4, &ostart, &nout, gwhat))
        return -1;
    if (nout != 1)
        return fail(f, "operator %d (%s) has %u outputs, expected 1", i, opname, nout);
    int *outs;
    if (read_int_list(f, ostart, 1, 0, g->n_tensors, &outs, what))
        return -1;
    op->output = outs[0];
    free(outs);
    if (read_int_list(f, istart, nin, -1, g->n_tensors, &op->inputs, what))
        return -1;
    op->n_inputs = (int)nin;
    /* -1 marks an omitted optional input (a convolution without bias). */
    if (op->n_inputs == 3 && op->inputs[2] == -1 && (code == BO_CONV_2D || code == BO_DEPTHWISE_CONV_2D))
        op->n_inputs = 2;
    for (int k = 0; k < op->n_inputs; k++)
        if (op->inputs[k] < 0)
            return fail(f, "operator %d (%s) omits required input %d", i, opname, k);
    uint8_t otype;
    size_t opt;
    snprintf(fwhat, sizeof fwhat, "operator %d options", i);
    if (fb_u8(f, t, F_OP_OPTIONS_TYPE, 0, &otype, what) || fb_ref(f, t, F_OP_OPTIONS, &opt, fwhat))
        return -1;
    fbt o = {0};
    int have_opts = 0;
    if (opt) {
        if (fb_table(f, opt, &o, what))
            return -1;
        have_opts = 1;
    }
    uint8_t u8v;
    int32_t iv;
#define NEED_INPUTS(lo, hi)                                                                        \
    do {                                                                                           \
        if (op->n_inputs < (lo) || op->n_inputs > (hi))                                            \
            return fail(f, "operator %d (%s) has %d inputs, expected %d", i, opname, op->n_inputs, \
                        (lo));                                                                     \
    } while (0)
#define NEED_OPTS(type)                                                                            \
    do {                                                                                           \
        if (!have_opts || otype != (type))                                                         \
            return fail(f, "operator %d (%s) lacks its options", i, opname);                        \
    } while (0)
    switch (code) {
    case BO_CONV_2D:
    case BO_DEPTHWISE_CONV_2D: {
        int dw = code == BO_DEPTHWISE_CONV_2D;
        op->kind = dw ? NN_OP_DWCONV2D : NN_OP_CONV2D;
        NEED_INPUTS(2, 3);
        NEED_OPTS(dw ? OT_DWCONV2D : OT_CONV2D);
        uint8_t padding;
        int32_t sw, sh, dm = 1, dwf, dhf;
        if (fb_u8(f, &o, 0, 0, &padding, what) || fb_i32(f, &o, 1, 0, &sw, what) ||
            fb_i32(f, &o, 2, 0, &sh, what))
            return -1;
        if (dw) {
            if (fb_i32(f, &o, 3, 1, &dm, what) || fb_u8(f, &o, 4, 0, &u8v, what) ||
                fb_i32(f, &o, 5, 1, &dwf, what) || fb_i32(f, &o, 6, 1, &dhf, what))
                return -1;
        } else {
            if (fb_u8(f, &o, 3, 0, &u8v, what) || fb_i32(f, &o, 4, 1, &dwf, what) ||
                fb_i32(f, &o, 5, 1, &dhf, what))
                return -1;
        }
        if (check_padding(im, i, opname, padding) || set_activation(im, i, opname, u8v, op))
            return -1;
        if (sw < 1 || sh < 1 || sw > 64 || sh > 64 || dwf < 1 || dhf < 1 || dwf > 64 || dhf > 64)
            return fail(f, "operator %d (%s) has invalid strides or dilations", i, opname);
        op->stride_w = sw;
        op->stride_h = sh;
        op->dilation_w = dwf;
        op->dilation_h = dhf;
        op->depth_multiplier = dm;
        const nn_tensor *w = &g->tensors[op->inputs[1]];
        const nn_tensor *x = &g->tensors[op->inputs[0]];
        if (w->rank != 4 || x->rank != 4)
            return fail(f, "operator %d (%s) needs rank-4 input and filter", i, opname);
        op->kernel_h = w->dims[1];
        op->kernel_w = w->dims[2];
        if (padding == 0) {
            same_pads(x->dims[1], op->kernel_h, sh, dhf, &op->pad_top, &op->pad_bottom);
            same_pads(x->dims[2], op->kernel_w, sw, dwf, &op->pad_left, &op->pad_right);
        }
        break;
    }
    case BO_MAX_POOL_2D: {
        op->kind = NN_OP_MAXPOOL2D;
        NEED_INPUTS(1, 1);
        NEED_OPTS(OT_POOL2D);
        uint8_t padding;
        int32_t sw, sh, fw, fh;
        if (fb_u8(f, &o, 0, 0, &padding, what) || fb_i32(f, &o, 1, 0, &sw, what) ||
            fb_i32(f, &o, 2, 0, &sh, what) || fb_i32(f, &o, 3, 0, &fw, what) ||
            fb_i32(f, &o, 4, 0, &fh, what) || fb_u8(f, &o, 5, 0, &u8v, what))
            return -1;
        if (check_padding(im, i, opname, padding) || set_activation(im, i, opname, u8v, op))
            return -1;
        if (sw < 1 || sh < 1 || fw < 1 || fh < 1 || sw > 64 || sh > 64 || fw > 64 || fh > 64)
            return fail(f, "operator %d (%s) has invalid window or strides", i, opname);
        op->stride_w = sw;
        op->stride_h = sh;
        op->kernel_w = fw;
        op->kernel_h = fh;
        op->dilation_h = op->dilation_w = 1;
        const nn_tensor *x = &g->tensors[op->inputs[0]];
        if (x->rank != 4)
            return fail(f, "operator %d (%s) needs a rank-4 input", i, opname);
        if (padding == 0) {
            same_pads(x->dims[1], fh, sh, 1, &op->pad_top, &op->pad_bottom);
            same_pads(x->dims[2], fw, sw, 1, &op->pad_left, &op->pad_right);
        }
        break;
    }
    case BO_ADD:
        op->kind = NN_OP_ADD;
        NEED_INPUTS(2, 2);
        if (have_opts && otype == OT_ADD) {
            if (fb_u8(f, &o, 0, 0, &u8v, what) || set_activation(im, i, opname, u8v, op))
                return -1;
        }
        break;
    case BO_RELU:
    case BO_RELU6:
    case BO_RELU_N1_TO_1:
        op->kind = NN_OP_CLAMP;
        NEED_INPUTS(1, 1);
        set_activation(im, i, opname, code == BO_RELU ? 1 : code == BO_RELU6 ? 3 : 2, op);
        break;
    case BO_PRELU:
        op->kind = NN_OP_PRELU;
        NEED_INPUTS(2, 2);
        break;
    case BO_PAD: {
        op->kind = NN_OP_PAD;
        NEED_INPUTS(2, 2);
        const int32_t *v = NULL;
        size_t n = 0;
        if (const_ints(im, i, opname, op->inputs[1], &v, &n))
            return -1;
        const nn_tensor *x = &g->tensors[op->inputs[0]];
        if (n != (size_t)x->rank * 2)
            return fail(f, "operator %d (%s) has %zu padding values for a rank-%d input", i, opname, n,
                        x->rank);
        for (int d = 0; d < x->rank; d++) {
            int32_t b = int_at(v, 2 * d), a = int_at(v, 2 * d + 1);
            if (b < 0 || a < 0 || b > 4096 || a > 4096)
                return fail(f, "operator %d (%s) has invalid padding %d,%d", i, opname, (int)b, (int)a);
            op->pads[d][0] = b;
            op->pads[d][1] = a;
        }
        op->n_inputs = 1;
        break;
    }
    case BO_RESHAPE:
        /* The new shape is the output tensor's shape; the optional shape input is ignored. */
        op->kind = NN_OP_RESHAPE;
        NEED_INPUTS(1, 2);
        op->n_inputs = 1;
        break;
    case BO_CONCATENATION:
        op->kind = NN_OP_CONCAT;
        NEED_INPUTS(1, 1 << 16);
        NEED_OPTS(OT_CONCAT);
        if (fb_i32(f, &o, 0, 0, &iv, what) || fb_u8(f, &o, 1, 0, &u8v, what) ||
            set_activation(im, i, opname, u8v, op))
            return -1;
        op->axis = iv;
        break;
    case BO_RESIZE_BILINEAR: {
        op->kind = NN_OP_RESIZE_BILINEAR;
        NEED_INPUTS(2, 2);
        uint8_t ac = 0, hp = 0;
        if (have_opts && otype == OT_RESIZE_BILINEAR) {
            if (fb_u8(f, &o, 2, 0, &ac, what) || fb_u8(f, &o, 3, 0, &hp, what))
                return -1;
        }
        if (ac && hp)
            return fail(f, "operator %d (%s) sets both align_corners and half_pixel_centers", i, opname);
        op->align_corners = ac;
        op->half_pixel_centers = hp;
        const int32_t *v = NULL;
        size_t n = 0;
        if (const_ints(im, i, opname, op->inputs[1], &v, &n))
            return -1;
        if (n != 2)
            return fail(f, "operator %d (%s) needs a 2-value size", i, opname);
        const nn_tensor *y = &g->tensors[op->output];
        if (y->rank != 4 || y->dims[1] != int_at(v, 0) || y->dims[2] != int_at(v, 1))
            return fail(f, "operator %d (%s) output shape does not match its size input", i, opname);
        op->n_inputs = 1;
        break;
    }
    case BO_DEQUANTIZE:
        op->kind = NN_OP_COPY;
        NEED_INPUTS(1, 1);
        if (im->tt[op->inputs[0]].type != TT_FLOAT16 || !g->tensors[op->inputs[0]].data)
            return fail(f, "operator %d (%s) is supported only on constant float16 tensors", i, opname);
        break;
    default:
        return fail(f, "operator %d uses unsupported operator %s", i, opname);
    }
#undef NEED_INPUTS
#undef NEED_OPTS
    /* Every tensor an operator computes with is float32 (or fp16 folded to it). */
    for (int k = 0; k < op->n_inputs; k++) {
        int ti = op->inputs[k];
        int ty = im->tt[ti].type;
        if (ty != TT_FLOAT32 && !(ty == TT_FLOAT16 && g->tensors[ti].data))
            return fail(f, "operator %d (%s) input tensor %d has unsupported type %d", i, opname, ti, ty);
    }
    if (im->tt[op->output].type != TT_FLOAT32)
        return fail(f, "operator %d (%s) output tensor %d is not float32", i, opname, op->output);
    if (g->tensors[op->output].data || g->tensors[op->output].producer >= 0 || g->tensors[op->output].is_input)
        return fail(f, "operator %d (%s) writes tensor %d, which is constant, an input or already written", i,
                    opname, op->output);
    if (op->kind == NN_OP_COPY) {
        /* fp16 weights become fp32 constants here, so later operators see constant weights. */
        nn_tensor *x = &g->tensors[op->inputs[0]], *y = &g->tensors[op->output];
        if (x->count != y->count)
            return fail(f, "operator %d (%s) output has %zu elements, input %zu", i, opname, y->count, x->count);
        y->data = malloc(y->count * sizeof(float));
        if (!y->data)
            return ptim_error_set(f->err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", f->name);
        memcpy(y->data, x->data, y->count * sizeof(float));
        op->dead = 1;
        return 0;
    }
    g->tensors[op->output].producer = i;
    return 0;
}

static int import(importer *im)
{
    fb *f = &im->f;
    if (f->n < 8)
        return fail(f, "file is too short to be a TFLite model (%zu bytes)", f->n);
    if (memcmp(f->p + 4, "TFL3", 4) != 0)
        return fail(f, "not a TFLite file (identifier is not TFL3)");
    fbt m;
    if (fb_table(f, u32_at(f, 0), &m, "model"))
        return -1;
    int32_t version;
    if (fb_i32(f, &m, F_MODEL_VERSION, 0, &version, "model"))
        return -1;
    if (version != 3)
        return fail(f, "schema version %d is not supported (expected 3)", (int)version);
    size_t cstart, sstart;
    uint32_t nsub;
    if (fb_vector(f, &m, F_MODEL_OPCODES, 4, &cstart, &im->n_opcodes, "operator code list") ||
        fb_vector(f, &m, F_MODEL_SUBGRAPHS, 4, &sstart, &nsub, "subgraph list") ||
        fb_vector(f, &m, F_MODEL_BUFFERS, 4, &im->buffers_start, &im->n_buffers, "buffer list"))
        return -1;
    if (nsub != 1)
        return fail(f, "has %u subgraphs, expected 1", nsub);
    im->opcodes = calloc(im->n_opcodes + 1, sizeof(int));
    if (!im->opcodes)
        return ptim_error_set(f->err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", f->name);
    for (uint32_t k = 0; k < im->n_opcodes; k++) {
        fbt c;
        char what[64];
        snprintf(what, sizeof what, "operator code %u", k);
        if (fb_vec_table(f, cstart, k, &c, what))
            return -1;
        uint8_t dep;
        int32_t code;
        if (fb_u8(f, &c, F_OPCODE_DEPRECATED, 0, &dep, what) ||
            fb_i32(f, &c, F_OPCODE_BUILTIN, 0, &code, what))
            return -1;
        /* Newer files keep the code in the int field; older ones only in the byte. */
        im->opcodes[k] = code > (int32_t)(int8_t)dep ? code : (int8_t)dep;
    }
    fbt sg;
    if (fb_vec_table(f, sstart, 0, &sg, "subgraph 0"))
        return -1;
    size_t tstart, istart, ostart, opstart;
    uint32_t nt, ni, no, nops;
    if (fb_vector(f, &sg, F_SG_TENSORS, 4, &tstart, &nt, "tensor list") ||
        fb_vector(f, &sg, F_SG_INPUTS, 4, &istart, &ni, "subgraph input list") ||
        fb_vector(f, &sg, F_SG_OUTPUTS, 4, &ostart, &no, "subgraph output list") ||
        fb_vector(f, &sg, F_SG_OPERATORS, 4, &opstart, &nops, "operator list"))
        return -1;
    if (nt == 0 || ni == 0 || no == 0 || nops == 0)
        return fail(f, "subgraph has no tensors, inputs, outputs or operators");
    nn_graph *g = im->g;
    g->tensors = calloc(nt, sizeof *g->tensors);
    im->tt = calloc(nt, sizeof *im->tt);
    g->ops = calloc(nops, sizeof *g->ops);
    if (!g->tensors || !im->tt || !g->ops)
        return ptim_error_set(f->err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", f->name);
    g->n_tensors = (int)nt;
    for (uint32_t k = 0; k < nt; k++) {
        g->tensors[k].producer = -1;
        g->tensors[k].alias_of = -1;
    }
    for (uint32_t k = 0; k < nt; k++) {
        fbt t;
        char what[64];
        snprintf(what, sizeof what, "tensor %u", k);
        if (fb_vec_table(f, tstart, k, &t, what) || read_tensor(im, k, &t))
            return -1;
    }
    if (read_int_list(f, istart, ni, 0, (int32_t)nt, &g->inputs, "subgraph input list") ||
        read_int_list(f, ostart, no, 0, (int32_t)nt, &g->outputs, "subgraph output list"))
        return -1;
    g->n_inputs = (int)ni;
    g->n_outputs = (int)no;
    for (uint32_t k = 0; k < ni; k++) {
        nn_tensor *t = &g->tensors[g->inputs[k]];
        if (t->data || im->tt[g->inputs[k]].type != TT_FLOAT32 || t->is_input)
            return fail(f, "input tensor %d (%s) must be a distinct computed float32 tensor", g->inputs[k],
                        t->name);
        t->is_input = 1;
    }
    g->n_ops = (int)nops;
    for (uint32_t k = 0; k < nops; k++) {
        fbt t;
        char what[64];
        snprintf(what, sizeof what, "operator %u", k);
        if (fb_vec_table(f, opstart, k, &t, what) || read_operator(im, (int)k, &t))
            return -1;
    }
    for (uint32_t k = 0; k < no; k++) {
        nn_tensor *t = &g->tensors[g->outputs[k]];
        if (t->producer < 0 || t->is_output)
            return fail(f, "output tensor %d (%s) is not computed by any operator or listed twice",
                        g->outputs[k], t->name);
        t->is_output = 1;
    }
    return 0;
}

int nn_tflite_read(const void *data, size_t size, const char *name, nn_graph **out, ptim_error *err)
{
    *out = NULL;
    importer im = {.f = {.p = data, .n = size, .name = name, .err = err}};
    im.g = calloc(1, sizeof *im.g);
    if (!im.g)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "model %s: out of memory", name);
    im.g->name = strdup(name);
    int rc = im.g->name ? import(&im) : ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH,
                                                       "model %s: out of memory", name);
    if (rc == 0)
        rc = nn_graph_validate(im.g, err);
    free(im.tt);
    free(im.opcodes);
    if (rc) {
        nn_graph_free(im.g);
        return -1;
    }
    *out = im.g;
    return 0;
}
