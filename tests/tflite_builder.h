/* A tiny TFLite flatbuffer writer for tests: builds one-subgraph models from
 * a list of tensors and operators, so each operator can be tried on small
 * hand-computed cases through the real reader.
 *
 * Flatbuffer offsets are unsigned and point forward, so the writer lays out
 * parents first and patches each reference when its child is written. */
#ifndef PTIM_TESTS_TFLITE_BUILDER_H
#define PTIM_TESTS_TFLITE_BUILDER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct tb {
    uint8_t *buf;
    size_t len, cap;
} tb;

static inline size_t tb_alloc(tb *b, size_t n, size_t align)
{
    size_t pos = (b->len + align - 1) / align * align;
    if (pos + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < pos + n)
            cap *= 2;
        b->buf = realloc(b->buf, cap);
        memset(b->buf + b->cap, 0, cap - b->cap);
        b->cap = cap;
    }
    b->len = pos + n;
    return pos;
}

static inline void tb_u32(tb *b, size_t at, uint32_t v)
{
    memcpy(b->buf + at, &v, 4);
}

/* Makes the reference stored at `at` point to `target` (target > at). */
static inline void tb_ref(tb *b, size_t at, size_t target)
{
    tb_u32(b, at, (uint32_t)(target - at));
}

/* A field: size 0 = absent; size 1/4/8 = scalar `value`; size 4 with is_ref = reference to patch. */
typedef struct tbf {
    int size;
    int64_t value;
    int is_ref;
} tbf;

#define TBF_ABSENT ((tbf){0, 0, 0})
#define TBF_U8(v) ((tbf){1, (v), 0})
#define TBF_I32(v) ((tbf){4, (v), 0})
#define TBF_REF ((tbf){4, 0, 1})

/* Writes a vtable and its table; field_pos[i] gets each field's position. */
static inline size_t tb_table(tb *b, int n, const tbf *f, size_t *field_pos)
{
    size_t vt = tb_alloc(b, 4 + 2 * (size_t)n, 4);
    size_t tpos = tb_alloc(b, 4, 4);
    int32_t soff = (int32_t)(tpos - vt);
    memcpy(b->buf + tpos, &soff, 4);
    for (int i = 0; i < n; i++) {
        uint16_t off = 0;
        field_pos[i] = 0;
        if (f[i].size) {
            size_t p = tb_alloc(b, (size_t)f[i].size, (size_t)f[i].size);
            memcpy(b->buf + p, &f[i].value, (size_t)f[i].size); /* little-endian */
            off = (uint16_t)(p - tpos);
            field_pos[i] = p;
        }
        memcpy(b->buf + vt + 4 + 2 * i, &off, 2);
    }
    uint16_t vtsize = (uint16_t)(4 + 2 * n), tsize = (uint16_t)(b->len - tpos);
    memcpy(b->buf + vt, &vtsize, 2);
    memcpy(b->buf + vt + 2, &tsize, 2);
    return tpos;
}

/* Writes a vector; returns the position of its length word. */
static inline size_t tb_vec(tb *b, size_t esize, uint32_t n, const void *data)
{
    size_t pos = tb_alloc(b, 4 + esize * n + 1, 4);
    tb_u32(b, pos, n);
    if (data && n)
        memcpy(b->buf + pos + 4, data, esize * n);
    return pos;
}

typedef struct tm_tensor {
    const char *name;
    int rank;
    int dims[4];
    int type;          /* 0 float32, 1 float16, 2 int32 */
    const void *data;  /* constant bytes or NULL */
    size_t nbytes;
} tm_tensor;

typedef struct tm_op {
    int builtin;
    int n_in;
    int in[8];
    int out;
    int opt_type;      /* BuiltinOptions union type, 0 = none */
    int n_opts;
    tbf opts[8];
} tm_op;

/* Builds a model; the caller frees *out. */
static inline size_t tm_build(const tm_tensor *t, int nt, const tm_op *ops, int nops, const int *inputs, int ni,
                              const int *outputs, int no, uint8_t **out)
{
    tb b = {0};
    size_t root = tb_alloc(&b, 8, 4);
    memcpy(b.buf + 4, "TFL3", 4);
    tbf mf[5] = {TBF_I32(3), TBF_REF, TBF_REF, TBF_ABSENT, TBF_REF};
    size_t mp[5];
    size_t model = tb_table(&b, 5, mf, mp);
    tb_ref(&b, root, model);
    /* operator codes: one per operator */
    size_t codes = tb_vec(&b, 4, (uint32_t)nops, NULL);
    tb_ref(&b, mp[1], codes);
    for (int i = 0; i < nops; i++) {
        int bi = ops[i].builtin;
        tbf cf[4] = {TBF_U8(bi < 127 ? bi : 127), TBF_ABSENT, TBF_I32(1), TBF_I32(bi)};
        size_t cp[4];
        size_t c = tb_table(&b, 4, cf, cp);
        tb_ref(&b, codes + 4 + 4 * (size_t)i, c);
    }
    /* subgraphs: one */
    size_t subs = tb_vec(&b, 4, 1, NULL);
    tb_ref(&b, mp[2], subs);
    tbf sf[4] = {TBF_REF, TBF_REF, TBF_REF, TBF_REF};
    size_t sp[4];
    size_t sg = tb_table(&b, 4, sf, sp);
    tb_ref(&b, subs + 4, sg);
    size_t tv = tb_vec(&b, 4, (uint32_t)nt, NULL);
    tb_ref(&b, sp[0], tv);
    int nbuf = 1;
    for (int i = 0; i < nt; i++) {
        int buf = t[i].data ? nbuf++ : 0;
        tbf tf[4] = {TBF_REF, TBF_U8(t[i].type), TBF_I32(buf), TBF_REF};
        size_t tp[4];
        size_t tt = tb_table(&b, 4, tf, tp);
        tb_ref(&b, tv + 4 + 4 * (size_t)i, tt);
        size_t shape = tb_vec(&b, 4, (uint32_t)t[i].rank, t[i].dims);
        tb_ref(&b, tp[0], shape);
        const char *name = t[i].name ? t[i].name : "t";
        size_t s = tb_vec(&b, 1, (uint32_t)strlen(name), name);
        tb_ref(&b, tp[3], s);
    }
    size_t iv = tb_vec(&b, 4, (uint32_t)ni, inputs);
    tb_ref(&b, sp[1], iv);
    size_t ov = tb_vec(&b, 4, (uint32_t)no, outputs);
    tb_ref(&b, sp[2], ov);
    size_t opv = tb_vec(&b, 4, (uint32_t)nops, NULL);
    tb_ref(&b, sp[3], opv);
    for (int i = 0; i < nops; i++) {
        tbf of[5] = {TBF_I32(i), TBF_REF, TBF_REF, TBF_U8(ops[i].opt_type), ops[i].n_opts ? TBF_REF : TBF_ABSENT};
        size_t opp[5];
        size_t o = tb_table(&b, 5, of, opp);
        tb_ref(&b, opv + 4 + 4 * (size_t)i, o);
        size_t ins = tb_vec(&b, 4, (uint32_t)ops[i].n_in, ops[i].in);
        tb_ref(&b, opp[1], ins);
        size_t outs = tb_vec(&b, 4, 1, &ops[i].out);
        tb_ref(&b, opp[2], outs);
        if (ops[i].n_opts) {
            size_t op2[8];
            size_t ot = tb_table(&b, ops[i].n_opts, ops[i].opts, op2);
            tb_ref(&b, opp[4], ot);
        }
    }
    /* buffers: the empty sentinel, then one per constant tensor */
    size_t bv = tb_vec(&b, 4, (uint32_t)nbuf, NULL);
    tb_ref(&b, mp[4], bv);
    tbf ef[1] = {TBF_ABSENT};
    size_t ep[1];
    size_t empty = tb_table(&b, 1, ef, ep);
    tb_ref(&b, bv + 4, empty);
    int k = 1;
    for (int i = 0; i < nt; i++) {
        if (!t[i].data)
            continue;
        tbf bf[1] = {TBF_REF};
        size_t bp[1];
        size_t bt = tb_table(&b, 1, bf, bp);
        tb_ref(&b, bv + 4 + 4 * (size_t)k++, bt);
        size_t d = tb_vec(&b, 1, (uint32_t)t[i].nbytes, t[i].data);
        tb_ref(&b, bp[0], d);
    }
    *out = b.buf;
    return b.len;
}

#endif
