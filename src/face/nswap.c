/* face/nswap — see nswap.h. */
#include "face/nswap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face/align.h"
#include "face/crop.h"
#include "face/embed.h"
#include "img/alpha.h"
#include "img/color.h"
#include "img/scratch.h"
#include "nn/graph.h"
#include "nn/nn.h"

#define LATENT 512
#define ENCODER_SIZE 112

struct face_nswap {
    face_nswap_kind kind;
    int res;
    char name[256];
    nn_model *model;
    nn_runner *runner;
    int in_face, in_morph;            /* input indices (-1: none) */
    int out_face, out_mask, out_cmask; /* output indices (-1: none) */
    float latent[LATENT];
    /* crop-sized buffers, R x R (x3) */
    float *orig;   /* the aligned face, RGB 0..1 */
    float *swap;   /* the model's face, RGB 0..1 */
    float *mask, *tmp;
    float *lab_o, *lab_s;
    uint8_t *rgb8;
    /* frame-sized, grow with the face */
    img_alpha luma, chroma;
    img_scratch paste;
    /* face_nswap_prepare's result, until face_nswap_apply pastes it */
    bool ready;
    float ready_map[6], ready_opacity;
    bool ready_keep_mouth;
    face ready_face;
};

static const char *base_name(const char *p)
{
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

static int find_input(const nn_model *m, const char *name)
{
    for (int i = 0; i < nn_model_input_count(m); i++)
        if (!strcmp(nn_model_input(m, i).name, name))
            return i;
    return -1;
}

static int find_output(const nn_model *m, const char *name)
{
    for (int i = 0; i < nn_model_output_count(m); i++)
        if (!strcmp(nn_model_output(m, i).name, name))
            return i;
    return -1;
}

static bool dims_are(nn_tensor_info t, int rank, int d0, int d1, int d2, int d3)
{
    const int d[4] = {d0, d1, d2, d3};
    if (t.rank != rank)
        return false;
    for (int i = 0; i < rank; i++)
        if (t.dims[i] != d[i])
            return false;
    return true;
}

/* "in_face:0 [1,224,224,3], ..." of every input or output, for messages. */
static void describe(const nn_model *m, int outputs, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    int count = outputs ? nn_model_output_count(m) : nn_model_input_count(m);
    for (int i = 0; i < count && n + 1 < size; i++) {
        nn_tensor_info t = outputs ? nn_model_output(m, i) : nn_model_input(m, i);
        n += (size_t)snprintf(buf + n, size - n, "%s%s [", i ? ", " : "", t.name);
        for (int d = 0; d < t.rank && n + 1 < size; d++)
            n += (size_t)snprintf(buf + n, size - n, "%s%d", d ? "x" : "", t.dims[d]);
        if (n + 1 < size)
            n += (size_t)snprintf(buf + n, size - n, "]");
    }
}

static int refuse(const face_nswap *s, ptim_error *err, const char *expected)
{
    char in[512], out[512];
    describe(s->model, 0, in, sizeof in);
    describe(s->model, 1, out, sizeof out);
    return ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_HIGH,
                          "swap.model %s is not %s: it has inputs %s and outputs %s", s->name, expected, in, out);
}

static int check_dfm(face_nswap *s, ptim_error *err)
{
    const char *want = "a DeepFaceLive .dfm (input in_face:0 1xRxRx3 and optional morph_value:0 [1]; "
                       "outputs out_face_mask:0 1xRxRx1, out_celeb_face:0 1xRxRx3, out_celeb_face_mask:0 1xRxRx1)";
    nn_model *m = s->model;
    s->in_face = find_input(m, "in_face:0");
    s->in_morph = find_input(m, "morph_value:0");
    s->out_mask = find_output(m, "out_face_mask:0");
    s->out_face = find_output(m, "out_celeb_face:0");
    s->out_cmask = find_output(m, "out_celeb_face_mask:0");
    int nin = nn_model_input_count(m);
    if (s->in_face < 0 || s->out_mask < 0 || s->out_face < 0 || s->out_cmask < 0 || nin != 1 + (s->in_morph >= 0))
        return refuse(s, err, want);
    nn_tensor_info fi = nn_model_input(m, s->in_face);
    int r = fi.rank == 4 ? fi.dims[1] : 0;
    if (r < 32 || r > 1024 || !dims_are(fi, 4, 1, r, r, 3) ||
        (s->in_morph >= 0 && nn_model_input(m, s->in_morph).count != 1) ||
        !dims_are(nn_model_output(m, s->out_mask), 4, 1, r, r, 1) ||
        !dims_are(nn_model_output(m, s->out_face), 4, 1, r, r, 3) ||
        !dims_are(nn_model_output(m, s->out_cmask), 4, 1, r, r, 1))
        return refuse(s, err, want);
    s->res = r;
    return 0;
}

static int check_inswapper(face_nswap *s, ptim_error *err)
{
    const char *want = "an inswapper (inputs target 1x3xRxR and source 1x512, output 1x3xRxR)";
    nn_model *m = s->model;
    s->in_face = find_input(m, "target");
    s->in_morph = find_input(m, "source");
    if (s->in_face < 0 || s->in_morph < 0 || nn_model_input_count(m) != 2 || nn_model_output_count(m) != 1)
        return refuse(s, err, want);
    nn_tensor_info ti = nn_model_input(m, s->in_face);
    int r = ti.rank == 4 ? ti.dims[2] : 0;
    if (r < 32 || r > 1024 || !dims_are(ti, 4, 1, 3, r, r) ||
        !dims_are(nn_model_input(m, s->in_morph), 2, 1, LATENT, 0, 0) ||
        !dims_are(nn_model_output(m, 0), 4, 1, 3, r, r))
        return refuse(s, err, want);
    s->out_face = 0;
    s->out_mask = s->out_cmask = -1;
    s->res = r;
    return 0;
}

/* The identity latent: ArcFace crop → encoder → unit embedding → @ emap →
 * unit latent (InsightFace's convention). */
/* The ArcFace encoder at `encoder` into *out, checked: one input 1x3x112x112,
 * one output of 512. */
static int load_encoder(const char *encoder, nn_model **out, ptim_error *err)
{
    const char *ename = base_name(encoder);
    ptim_error e = {0};
    *out = NULL;
    if (nn_model_load_file(encoder, out, &e))
        return ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_HIGH, "swap.encoder %s: %s", ename, e.message);
    nn_model *em = *out;
    if (nn_model_input_count(em) != 1 || nn_model_output_count(em) != 1 ||
        !dims_are(nn_model_input(em, 0), 4, 1, 3, ENCODER_SIZE, ENCODER_SIZE) ||
        nn_model_output(em, 0).count != LATENT) {
        nn_model_free(em);
        *out = NULL;
        return ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_HIGH,
                              "swap.encoder %s is not an ArcFace encoder (one input 1x3x112x112, one output of 512)",
                              ename);
    }
    return 0;
}

int face_nswap_check_encoder(const char *encoder, ptim_error *err)
{
    nn_model *em;
    if (load_encoder(encoder, &em, err))
        return -1;
    nn_model_free(em);
    return 0;
}

static int make_latent(face_nswap *s, const char *model_path, const void *bytes, size_t size,
                       const char *encoder, const img_view *id, const face *idf, int threads, ptim_error *err)
{
    if (!encoder || !*encoder)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "swap.model %s is an inswapper: set swap.encoder to its ArcFace encoder (w600k_r50.onnx)",
                              s->name);
    if (!id || !idf)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "swap.model %s is an inswapper: set swap.identity to a photo of the face to swap in",
                              s->name);
    /* emap: the swapper's last initializer, from the bytes the model was
     * loaded from (the graph does not keep it). */
    char dir[4096];
    int rank = 0, dims[NN_MAX_RANK] = {0};
    float *emap = NULL;
    ptim_error e = {0};
    int rc = nn_onnx_last_initializer(bytes, size, s->name, nn_model_dir(model_path, dir, sizeof dir), &rank,
                                      dims, &emap, &e);
    if (rc || rank != 2 || dims[0] != LATENT || dims[1] != LATENT) {
        free(emap);
        return ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_HIGH,
                              "swap.model %s has no 512x512 embedding map (emap) as its last initializer%s%s", s->name,
                              rc ? ": " : "", rc ? e.message : "");
    }
    nn_model *em = NULL;
    nn_runner *er = NULL;
    const char *ename = base_name(encoder);
    rc = -1;
    if (load_encoder(encoder, &em, err))
        goto done;
    if (nn_runner_create(em, NN_BACKEND_AUTO, threads, &er, &e)) {
        ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_HIGH, "swap.encoder %s: %s", ename, e.message);
        goto done;
    }
    float m[6];
    float *hwc = malloc(sizeof(float) * 3 * ENCODER_SIZE * ENCODER_SIZE);
    if (!hwc) {
        ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "out of memory reading the identity");
        goto done;
    }
    if (!face_embed_crop_map(idf, m) ||
        crop_to_tensor(id, m, ENCODER_SIZE, ENCODER_SIZE, 1.f / 127.5f, -1.f, CROP_BORDER_REPLICATE, hwc)) {
        free(hwc);
        ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "identity photo: its face cannot be aligned");
        goto done;
    }
    float *in = nn_runner_input(er, 0);
    const int n = ENCODER_SIZE * ENCODER_SIZE;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            in[c * n + i] = hwc[3 * i + c];
    free(hwc);
    if (nn_runner_run(er, &e)) {
        ptim_error_set(err, PTIM_ERR_INFERENCE, PTIM_SEV_HIGH, "swap.encoder %s failed on the identity: %s", ename,
                       e.message);
        goto done;
    }
    const float *emb = nn_runner_output(er, 0);
    double norm = 0;
    for (int i = 0; i < LATENT; i++)
        norm += (double)emb[i] * emb[i];
    double lat[LATENT] = {0}, ln = 0;
    if (norm > 0 && isfinite(norm)) {
        for (int i = 0; i < LATENT; i++) {
            double ei = emb[i] / sqrt(norm);
            const float *row = emap + (size_t)i * LATENT;
            for (int j = 0; j < LATENT; j++)
                lat[j] += ei * row[j];
        }
        for (int j = 0; j < LATENT; j++)
            ln += lat[j] * lat[j];
    }
    if (!(ln > 0) || !isfinite(ln)) {
        ptim_error_set(err, PTIM_ERR_INFERENCE, PTIM_SEV_HIGH,
                       "swap.encoder %s gave no usable embedding of the identity photo", ename);
        goto done;
    }
    for (int j = 0; j < LATENT; j++)
        s->latent[j] = (float)(lat[j] / sqrt(ln));
    rc = 0;
done:
    free(emap);
    nn_runner_destroy(er);
    nn_model_free(em);
    return rc;
}

int face_nswap_check(const char *model, face_nswap_kind *kind, int *res, ptim_error *err)
{
    face_nswap *s = calloc(1, sizeof *s);
    if (!s)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory reading swap.model");
    snprintf(s->name, sizeof s->name, "%s", base_name(model));
    ptim_error e = {0};
    int rc = -1;
    if (nn_model_load_file(model, &s->model, &e))
        ptim_error_set(err, e.category ? e.category : PTIM_ERR_MODEL, PTIM_SEV_HIGH, "swap.model %s cannot be loaded: %s",
                       s->name, e.message);
    else if (find_input(s->model, "in_face:0") >= 0) {
        s->kind = FACE_NSWAP_DFM;
        rc = check_dfm(s, err);
    } else if (find_input(s->model, "target") >= 0 || find_input(s->model, "source") >= 0) {
        s->kind = FACE_NSWAP_INSWAPPER;
        rc = check_inswapper(s, err);
    } else
        refuse(s, err, "a DeepFaceLive .dfm (input in_face:0) or an inswapper (inputs target, source)");
    if (rc == 0) {
        *kind = s->kind;
        *res = s->res;
    }
    face_nswap_destroy(s);
    return rc;
}

int face_nswap_create(const char *model, const char *encoder, const img_view *identity,
                      const face *identity_face, int threads, face_nswap **out, ptim_error *err)
{
    *out = NULL;
    face_nswap *s = calloc(1, sizeof *s);
    if (!s)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory loading swap.model");
    snprintf(s->name, sizeof s->name, "%s", base_name(model));
    ptim_error e = {0};
    /* Read once: an inswapper's emap is in the file but not in the graph. */
    void *bytes = NULL;
    size_t size = 0;
    if (nn_model_read_file(model, &bytes, &size, &e) || nn_model_load_file_bytes(model, bytes, size, &s->model, &e)) {
        nn_model_file_free(bytes, size);
        ptim_error_set(err, e.category ? e.category : PTIM_ERR_MODEL, PTIM_SEV_HIGH, "swap.model %s cannot be loaded: %s",
                       s->name, e.message);
        goto fail;
    }
    if (find_input(s->model, "in_face:0") >= 0) {
        s->kind = FACE_NSWAP_DFM;
        nn_model_file_free(bytes, size);
        if (check_dfm(s, err))
            goto fail;
    } else if (find_input(s->model, "target") >= 0 || find_input(s->model, "source") >= 0) {
        s->kind = FACE_NSWAP_INSWAPPER;
        int rc = check_inswapper(s, err) ||
                 make_latent(s, model, bytes, size, encoder, identity, identity_face, threads, err);
        nn_model_file_free(bytes, size);
        if (rc)
            goto fail;
    } else {
        nn_model_file_free(bytes, size);
        refuse(s, err, "a DeepFaceLive .dfm (input in_face:0) or an inswapper (inputs target, source)");
        goto fail;
    }
    /* One runner per swap model: XNNPACK's packed weights are then its only copy. */
    if (nn_runner_create_sole(s->model, NN_BACKEND_AUTO, threads, &s->runner, &e)) {
        ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_HIGH, "swap.model %s: %s", s->name, e.message);
        goto fail;
    }
    size_t px = (size_t)s->res * s->res;
    s->orig = malloc(sizeof(float) * 3 * px);
    s->swap = malloc(sizeof(float) * 3 * px);
    s->lab_o = malloc(sizeof(float) * 3 * px);
    s->lab_s = malloc(sizeof(float) * 3 * px);
    s->mask = malloc(sizeof(float) * px);
    s->tmp = malloc(sizeof(float) * 3 * px);
    s->rgb8 = malloc(3 * px);
    if (!s->orig || !s->swap || !s->lab_o || !s->lab_s || !s->mask || !s->tmp || !s->rgb8) {
        ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "out of memory loading swap.model %s", s->name);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    face_nswap_destroy(s);
    return -1;
}

void face_nswap_destroy(face_nswap *s)
{
    if (!s)
        return;
    nn_runner_destroy(s->runner);
    nn_model_free(s->model);
    free(s->orig);
    free(s->swap);
    free(s->lab_o);
    free(s->lab_s);
    free(s->mask);
    free(s->tmp);
    free(s->rgb8);
    img_alpha_free(&s->luma);
    img_alpha_free(&s->chroma);
    img_scratch_free(&s->paste);
    free(s);
}

face_nswap_kind face_nswap_kind_of(const face_nswap *s) { return s->kind; }
int face_nswap_resolution(const face_nswap *s) { return s->res; }
const float *face_nswap_latent(const face_nswap *s) { return s->kind == FACE_NSWAP_INSWAPPER ? s->latent : NULL; }

bool face_nswap_crop_map(const face *f, face_nswap_kind kind, int res, float coverage, float x_offset, float y_offset,
                         float m[6])
{
    float pts[5][2], tmpl[5][2], fwd[6], inv[6];
    int n;
    if (res < 1 || !face_embed_points(f, pts, tmpl, &n) ||
        !align_umeyama((const float(*)[2])pts, (const float(*)[2])tmpl, n, fwd) || !crop_invert(fwd, inv))
        return false;
    /* crop pixel (u, v) → template pixel (a u + b, a v + c), then → frame by inv. */
    float a, bx, by;
    if (kind == FACE_NSWAP_DFM) {
        /* DeepFaceLive cuts a .dfm's face from a similarity fit of FaceMesh's
         * rigid points to its own mean face: a square of `coverage` mean-face
         * units, raised 0.08 of one. Measured in this template's units on
         * astronaut, messi5 and a Megamind frame (its method run by hand on
         * ptim's landmarks), that square is centred at (0.503-0.515,
         * 0.588-0.602) and 0.570-0.624 x coverage wide; ptim takes the
         * means. Its own 5 points give that cut within about 5 % of the side
         * (a face's proportions move the two fits apart). */
        const float unit = 0.600f * FACE_EMBED_SIZE, side = coverage * unit;
        /* x/y offsets (DeepFaceLive's): in the same face units, along the
         * face's own axes */
        const float cx = 0.511f * FACE_EMBED_SIZE + x_offset * unit, cy = 0.594f * FACE_EMBED_SIZE + y_offset * unit;
        a = side / (float)res;
        bx = cx - side / 2;
        by = cy - side / 2;
    } else {
        /* InsightFace: R a multiple of 112 scales the template by R/112;
         * otherwise by R/128 with an 8 R/128 px shift to the right. */
        float ratio = res % 112 == 0 ? res / 112.f : res / 128.f;
        float dx = res % 112 == 0 ? 0.f : 8.f * ratio;
        a = 1.f / ratio;
        bx = -dx / ratio;
        by = 0;
    }
    m[0] = inv[0] * a;
    m[1] = inv[1] * a;
    m[2] = inv[0] * bx + inv[1] * by + inv[2];
    m[3] = inv[3] * a;
    m[4] = inv[4] * a;
    m[5] = inv[3] * bx + inv[4] * by + inv[5];
    return isfinite(m[0] + m[1] + m[2] + m[3] + m[4] + m[5]);
}

static inline float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

/* One box pass of radius r over an n x n single-channel image, along x or
 * y; `outside` is the value past the edges (0 for an erode-safe blur). */
static void box1(const float *src, float *dst, int n, int r, int vertical)
{
    const float k = 1.f / (float)(2 * r + 1);
    for (int a = 0; a < n; a++) {
        float acc = 0;
        for (int t = -r; t <= r; t++)
            if (t >= 0 && t < n)
                acc += vertical ? src[t * n + a] : src[a * n + t];
        for (int b = 0; b < n; b++) {
            dst[vertical ? b * n + a : a * n + b] = acc * k;
            int o = b - r, i = b + r + 1;
            if (o >= 0)
                acc -= vertical ? src[o * n + a] : src[a * n + o];
            if (i < n)
                acc += vertical ? src[i * n + a] : src[a * n + i];
        }
    }
}

/* Minimum over a (2r+1) window along x or y, outside the crop counting as 0
 * (so the mask always ends inside the crop). */
static void min1(const float *src, float *dst, int n, int r, int vertical)
{
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++) {
            float v = (b - r < 0 || b + r >= n) ? 0.f : 1.f;
            for (int t = b - r; t <= b + r && v > 0; t++)
                if (t >= 0 && t < n) {
                    float x = vertical ? src[t * n + a] : src[a * n + t];
                    v = x < v ? x : v;
                }
            dst[vertical ? b * n + a : a * n + b] = v;
        }
}

static void refine_mask(face_nswap *s, const face_nswap_params *p)
{
    const int n = s->res;
    const float unit = (float)n / 256.f;
    int er = (int)lroundf(p->merge.erode * unit), br = (int)lroundf(p->merge.blur * unit / 2);
    /* inswapper's mask is the whole crop: like InsightFace, shrink it by a
     * tenth of the crop and feather over another tenth, so the square's
     * edge never shows. */
    if (s->kind == FACE_NSWAP_INSWAPPER)
        er += n / 10, br += n / 10;
    if (er < 1)
        er = 1; /* at least one pixel: the crop's own edge never shows */
    min1(s->mask, s->tmp, n, er, 0);
    min1(s->tmp, s->mask, n, er, 1);
    for (int pass = 0; br > 0 && pass < 3; pass++) {
        box1(s->mask, s->tmp, n, (br + 2) / 3, 0);
        box1(s->tmp, s->mask, n, (br + 2) / 3, 1);
    }
}

/* Unsharp mask of the RGB crop in place (3x3 box as the blur). */
static void presharpen(face_nswap *s, float amount)
{
    const int n = s->res;
    float *o = s->orig, *t = s->tmp;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
            for (int c = 0; c < 3; c++) {
                float acc = 0;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        int yy = y + dy < 0 ? 0 : y + dy >= n ? n - 1 : y + dy;
                        int xx = x + dx < 0 ? 0 : x + dx >= n ? n - 1 : x + dx;
                        acc += o[(yy * n + xx) * 3 + c];
                    }
                float v = o[(y * n + x) * 3 + c];
                t[(y * n + x) * 3 + c] = clampf(v + amount * (v - acc / 9.f), 0.f, 1.f);
            }
    memcpy(o, t, sizeof(float) * 3 * (size_t)n * n);
}

static void to_lab(const float *rgb, float *lab, size_t px)
{
    for (size_t i = 0; i < px; i++) {
        uint8_t u[3] = {(uint8_t)(clampf(rgb[3 * i], 0, 1) * 255.f + 0.5f),
                        (uint8_t)(clampf(rgb[3 * i + 1], 0, 1) * 255.f + 0.5f),
                        (uint8_t)(clampf(rgb[3 * i + 2], 0, 1) * 255.f + 0.5f)};
        img_rgb_to_lab(u, lab + 3 * i);
    }
}

/* rct: the swapped face's LAB mean and deviation (weighted by the mask)
 * moved onto the person's, then the face as RGB24 into s->rgb8. */
static void colour(face_nswap *s, bool transfer)
{
    const size_t px = (size_t)s->res * s->res;
    if (!transfer) {
        for (size_t i = 0; i < 3 * px; i++)
            s->rgb8[i] = (uint8_t)(clampf(s->swap[i], 0, 1) * 255.f + 0.5f);
        return;
    }
    to_lab(s->orig, s->lab_o, px);
    to_lab(s->swap, s->lab_s, px);
    double w = 0, mo[3] = {0}, ms[3] = {0}, vo[3] = {0}, vs[3] = {0};
    for (size_t i = 0; i < px; i++) {
        double k = s->mask[i];
        w += k;
        for (int c = 0; c < 3; c++)
            mo[c] += k * s->lab_o[3 * i + c], ms[c] += k * s->lab_s[3 * i + c];
    }
    float gain[3] = {1, 1, 1}, bias[3] = {0, 0, 0};
    if (w > 1) {
        for (int c = 0; c < 3; c++)
            mo[c] /= w, ms[c] /= w;
        for (size_t i = 0; i < px; i++) {
            double k = s->mask[i];
            for (int c = 0; c < 3; c++) {
                double a = s->lab_o[3 * i + c] - mo[c], b = s->lab_s[3 * i + c] - ms[c];
                vo[c] += k * a * a, vs[c] += k * b * b;
            }
        }
        for (int c = 0; c < 3; c++) {
            double so = sqrt(vo[c] / w), ss = sqrt(vs[c] / w);
            gain[c] = ss > 1e-3 ? clampf((float)(so / ss), 0.25f, 4.f) : 1.f;
            bias[c] = (float)(mo[c] - gain[c] * ms[c]);
        }
    }
    for (size_t i = 0; i < px; i++) {
        float l[3];
        for (int c = 0; c < 3; c++)
            l[c] = s->lab_s[3 * i + c] * gain[c] + bias[c];
        l[0] = clampf(l[0], 0, 100), l[1] = clampf(l[1], -127, 127), l[2] = clampf(l[2], -127, 127);
        img_lab_to_rgb(l, s->rgb8 + 3 * i);
    }
}

/* Pastes s->rgb8 under s->mask back into the frame through crop→frame map m;
 * keep_mouth (swap.keep_mouth) leaves the person's own open mouth. */
static int paste(face_nswap *s, img_view *frame, const float m[6], float opacity, bool keep_mouth, const face *f,
                 ptim_error *err)
{
    const int n = s->res;
    float inv[6];
    if (!crop_invert(m, inv))
        return ptim_error_set(err, PTIM_ERR_INTERNAL, PTIM_SEV_MEDIUM, "face %d: degenerate alignment", f->id);
    /* Only where the mask is nonzero: a .dfm's crop is about twice the face
     * wide (coverage 2.2), and most of it is masked out. */
    int mu0 = n, mv0 = n, mu1 = -1, mv1 = -1;
    for (int v = 0; v < n; v++) {
        const float *row = s->mask + (size_t)v * n;
        int a = 0, b = n - 1;
        while (a < n && row[a] <= 0)
            a++;
        if (a == n)
            continue;
        while (row[b] <= 0)
            b--;
        mu0 = a < mu0 ? a : mu0, mu1 = b > mu1 ? b : mu1;
        mv0 = v < mv0 ? v : mv0, mv1 = v;
    }
    if (mu1 < 0)
        return 0; /* nothing to paste */
    float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    /* the nonzero texels' box, grown by the bilinear footprint */
    const float cu0 = (float)mu0 - 0.5f, cv0 = (float)mv0 - 0.5f, cu1 = (float)mu1 + 1.5f, cv1 = (float)mv1 + 1.5f;
    const float corners[4][2] = {{cu0, cv0}, {cu1, cv0}, {cu0, cv1}, {cu1, cv1}};
    for (int k = 0; k < 4; k++) {
        float x, y;
        crop_apply(m, corners[k][0], corners[k][1], &x, &y);
        x0 = fminf(x0, x), x1 = fmaxf(x1, x), y0 = fminf(y0, y), y1 = fmaxf(y1, y);
    }
    if (!isfinite(x0 + x1 + y0 + y1) || x1 - x0 > 16384 || y1 - y0 > 16384)
        return ptim_error_set(err, PTIM_ERR_INTERNAL, PTIM_SEV_MEDIUM, "face %d: alignment out of range", f->id);
    int r = img_alpha_begin(&s->luma, floorf(x0), floorf(y0), ceilf(x1) + 1, ceilf(y1) + 1, frame->width, frame->height);
    if (r > 0)
        return 0;
    if (r < 0)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "out of memory swapping face %d", f->id);
    img_alpha *al = &s->luma;
    int rw = al->width, rh = al->height;
    uint8_t *rgb = img_scratch_get(&s->paste, (size_t)3 * rw * rh);
    if (!rgb)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "out of memory swapping face %d", f->id);
    /* The person's own pixels first: chroma blocks at the edge mix both. */
    img_read_rgb(frame, al->x, al->y, rw, rh, rgb, 3 * rw);
    for (int j = 0; j < rh; j++) {
        uint8_t *a = al->a + (size_t)j * al->stride;
        uint8_t *d = rgb + (size_t)j * 3 * rw;
        float u0, v0;
        crop_apply(inv, al->x + 0.5f, al->y + j + 0.5f, &u0, &v0);
        for (int i = 0; i < rw; i++) {
            /* the map is affine: one step of x moves (u, v) by (inv[0], inv[3]) */
            float u = u0 + inv[0] * (float)i - 0.5f, v = v0 + inv[3] * (float)i - 0.5f;
            if (!(u > -1 && v > -1 && u < n && v < n))
                continue;
            int iu = (int)floorf(u), iv = (int)floorf(v);
            float fu = u - iu, fv = v - iv, mk = 0, col[3] = {0, 0, 0}, wsum = 0;
            for (int dv = 0; dv < 2; dv++)
                for (int du = 0; du < 2; du++) {
                    int xx = iu + du, yy = iv + dv;
                    if (xx < 0 || yy < 0 || xx >= n || yy >= n)
                        continue;
                    float wgt = (du ? fu : 1 - fu) * (dv ? fv : 1 - fv);
                    size_t q = (size_t)yy * n + xx;
                    mk += wgt * s->mask[q];
                    for (int c = 0; c < 3; c++)
                        col[c] += wgt * s->rgb8[3 * q + c];
                    wsum += wgt;
                }
            int av = (int)(clampf(mk * opacity, 0, 1) * 255.f + 0.5f);
            if (av <= 0 || wsum <= 0)
                continue;
            a[i] = (uint8_t)av;
            const float rw_sum = 1.f / wsum;
            for (int c = 0; c < 3; c++)
                d[3 * i + c] = (uint8_t)(clampf(col[c] * rw_sum, 0, 255) + 0.5f);
        }
    }
    img_alpha_update_spans(al);
    float lips[20][2], soft;
    int nl = keep_mouth ? face_swap_open_mouth(f, lips, &soft) : 0;
    if (nl > 0) { /* the cut works within the spans: set above, narrowed after */
        img_alpha_cut_polygon(al, (const float(*)[2])lips, nl, 0, soft);
        img_alpha_update_spans(al);
    }
    if ((frame->format == IMG_FMT_YUV420P || frame->format == IMG_FMT_NV12) &&
        img_alpha_chroma(al, frame->width, frame->height, &s->chroma) < 0)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "out of memory swapping face %d", f->id);
    img_blend_rgb(frame, al, &s->chroma, rgb, 3 * rw);
    return 0;
}

int face_nswap_prepare(face_nswap *s, const img_view *frame, const face *f, const face_nswap_params *p,
                       ptim_error *err)
{
    s->ready = false;
    const int n = s->res;
    const size_t px = (size_t)n * n;
    float m[6];
    if (!face_nswap_crop_map(f, s->kind, n, p->coverage, p->x_offset, p->y_offset, m))
        return ptim_error_set(err, PTIM_ERR_INFERENCE, PTIM_SEV_MEDIUM, "face %d has no usable alignment points", f->id);
    if (crop_to_tensor(frame, m, n, n, 1.f / 255.f, 0.f, CROP_BORDER_REPLICATE, s->orig))
        return ptim_error_set(err, PTIM_ERR_INFERENCE, PTIM_SEV_HIGH, "cannot read %s frames for the swap",
                              img_format_name(frame->format));
    if (p->presharpen > 0)
        presharpen(s, p->presharpen);
    float *in = nn_runner_input(s->runner, s->in_face);
    const float pre = p->pre_gamma > 0 ? 1.f / p->pre_gamma : 1.f;
    for (size_t i = 0; i < px; i++)
        for (int c = 0; c < 3; c++) {
            float v = s->orig[3 * i + c];
            if (pre != 1.f)
                v = powf(v, pre);
            if (s->kind == FACE_NSWAP_DFM)
                in[3 * i + (2 - c)] = v; /* NHWC BGR */
            else
                in[(size_t)c * px + i] = v; /* NCHW RGB */
        }
    if (s->kind == FACE_NSWAP_DFM) {
        if (s->in_morph >= 0)
            nn_runner_input(s->runner, s->in_morph)[0] = p->morph;
    } else
        memcpy(nn_runner_input(s->runner, s->in_morph), s->latent, sizeof s->latent);
    if (nn_runner_run(s->runner, err))
        return -1;
    const float *face_out = nn_runner_output(s->runner, s->out_face);
    const float post = p->post_gamma > 0 ? 1.f / p->post_gamma : 1.f;
    bool finite = true;
    for (size_t i = 0; i < px; i++)
        for (int c = 0; c < 3; c++) {
            float v = s->kind == FACE_NSWAP_DFM ? face_out[3 * i + (2 - c)] : face_out[(size_t)c * px + i];
            finite &= isfinite(v);
            v = clampf(v, 0.f, 1.f);
            s->swap[3 * i + c] = post != 1.f ? powf(v, post) : v;
        }
    if (s->kind == FACE_NSWAP_DFM) {
        const float *a = nn_runner_output(s->runner, s->out_mask), *b = nn_runner_output(s->runner, s->out_cmask);
        for (size_t i = 0; i < px; i++) {
            finite &= isfinite(a[i]) && isfinite(b[i]);
            s->mask[i] = clampf(a[i], 0, 1) * clampf(b[i], 0, 1);
        }
    } else
        for (size_t i = 0; i < px; i++)
            s->mask[i] = 1.f;
    if (!finite)
        return ptim_error_set(err, PTIM_ERR_INFERENCE, PTIM_SEV_MEDIUM, "swap.model %s gave non-finite values for face %d",
                              s->name, f->id);
    refine_mask(s, p);
    colour(s, p->merge.color_transfer);
    memcpy(s->ready_map, m, sizeof m);
    s->ready_opacity = p->merge.opacity;
    s->ready_keep_mouth = p->merge.keep_mouth;
    s->ready_face = *f;
    s->ready = true;
    return 0;
}

int face_nswap_apply(face_nswap *s, img_view *frame, ptim_error *err)
{
    if (!s->ready)
        return ptim_error_set(err, PTIM_ERR_INTERNAL, PTIM_SEV_HIGH, "face_nswap_apply: no face prepared");
    s->ready = false;
    return paste(s, frame, s->ready_map, s->ready_opacity, s->ready_keep_mouth, &s->ready_face, err);
}

int face_nswap_render(face_nswap *s, img_view *frame, const face *f, const face_nswap_params *p, ptim_error *err)
{
    if (face_nswap_prepare(s, frame, f, p, err))
        return -1;
    return face_nswap_apply(s, frame, err);
}
