/* face/embed — ArcFace alignment and MobileFaceNet embeddings. */
#include "face/embed.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "face/align.h"
#include "face/crop.h"
#include "face/models.h"
#include "nn/nn.h"

struct face_embedder {
    nn_model *model;
    nn_runner *runner;
    int dim;
    float scale, bias;
    int have_crop;
    /* The model's answer to a featureless mid-grey crop. Every raw embedding
     * shares this direction (raw cosine of any two faces is above 0.99 on the
     * samples), so it is taken out before comparing: see README. */
    float centre[FACE_EMBED_DIM_MAX];
    float scratch[FACE_EMBED_SIZE * FACE_EMBED_SIZE * 3]; /* blur pass buffer */
};

static void unit(float *v, int n)
{
    double ss = 0;
    for (int k = 0; k < n; k++)
        ss += (double)v[k] * v[k];
    float inv = ss > 1e-20 ? (float)(1.0 / sqrt(ss)) : 0.0f;
    for (int k = 0; k < n; k++)
        v[k] *= inv;
}

/* ArcFace's 112x112 template: image-left eye, image-right eye, nose tip,
 * image-left and image-right mouth corner. */
static const float arcface5[5][2] = {
    {38.2946f, 51.6963f}, {73.5318f, 51.5014f}, {56.0252f, 71.7366f}, {41.5493f, 92.3655f}, {70.7299f, 92.2041f}};

/* FaceMesh indices: eye corners (each eye's two), nose tip, mouth corners. */
enum { LM_EYE_L_OUT = 33, LM_EYE_L_IN = 133, LM_EYE_R_IN = 362, LM_EYE_R_OUT = 263, LM_NOSE = 1,
       LM_MOUTH_L = 61, LM_MOUTH_R = 291 };

int face_embedder_create_with(const char *model_dir, int threads, face_embedder **out, ptim_error *err)
{
    *out = NULL;
    char path[1200];
    if (face_model_path(model_dir, "mobilefacenet.json", path, sizeof path, err))
        return -1;
    face_embedder *e = calloc(1, sizeof *e);
    if (!e)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory for %s", path);
    e->scale = FACE_EMBED_INPUT_SCALE;
    e->bias = FACE_EMBED_INPUT_BIAS;
    if (nn_model_load_file(path, &e->model, err))
        goto fail;
    nn_tensor_info in = nn_model_input(e->model, 0), o = nn_model_output(e->model, 0);
    if (nn_model_input_count(e->model) != 1 || nn_model_output_count(e->model) != 1 ||
        in.count != (size_t)FACE_EMBED_SIZE * FACE_EMBED_SIZE * 3 || o.count < 16 ||
        o.count > FACE_EMBED_DIM_MAX) {
        ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_HIGH,
                       "model %s is not a %dx%d face embedding model with one output of 16 to %d values", path,
                       FACE_EMBED_SIZE, FACE_EMBED_SIZE, FACE_EMBED_DIM_MAX);
        goto fail;
    }
    e->dim = (int)o.count;
    if (nn_runner_create(e->model, NN_BACKEND_AUTO, threads < 1 ? 1 : threads, &e->runner, err))
        goto fail;
    float *grey = nn_runner_input(e->runner, 0);
    for (int k = 0; k < FACE_EMBED_SIZE * FACE_EMBED_SIZE * 3; k++)
        grey[k] = 128.0f * e->scale + e->bias;
    if (nn_runner_run(e->runner, err))
        goto fail;
    memcpy(e->centre, nn_runner_output(e->runner, 0), (size_t)e->dim * sizeof(float));
    unit(e->centre, e->dim);
    *out = e;
    return 0;
fail:
    face_embedder_destroy(e);
    return -1;
}

int face_embedder_create(const ptim_config *cfg, face_embedder **out, ptim_error *err)
{
    return face_embedder_create_with(face_model_dir(cfg), face_threads(cfg), out, err);
}

void face_embedder_destroy(face_embedder *e)
{
    if (!e)
        return;
    nn_runner_destroy(e->runner);
    nn_model_free(e->model);
    free(e);
}

int face_embedder_dim(const face_embedder *e)
{
    return e->dim;
}

void face_embedder_set_input_range(face_embedder *e, float scale, float bias)
{
    e->scale = scale;
    e->bias = bias;
}


static void mid(const float a[3], const float b[3], float out[2])
{
    out[0] = 0.5f * (a[0] + b[0]);
    out[1] = 0.5f * (a[1] + b[1]);
}

bool face_embed_points(const face *f, float pts[5][2], float tmpl[5][2], int *n)
{
    if (f->flags & FACE_HAS_LANDMARKS) {
        const float(*lm)[3] = f->landmarks;
        mid(lm[LM_EYE_L_OUT], lm[LM_EYE_L_IN], pts[0]);
        mid(lm[LM_EYE_R_IN], lm[LM_EYE_R_OUT], pts[1]);
        pts[2][0] = lm[LM_NOSE][0];
        pts[2][1] = lm[LM_NOSE][1];
        pts[3][0] = lm[LM_MOUTH_L][0];
        pts[3][1] = lm[LM_MOUTH_L][1];
        pts[4][0] = lm[LM_MOUTH_R][0];
        pts[4][1] = lm[LM_MOUTH_R][1];
        memcpy(tmpl, arcface5, sizeof arcface5);
        *n = 5;
        return true;
    }
    if (f->box[2] <= 0 || f->box[3] <= 0)
        return false;
    /* BlazeFace: right eye (image left), left eye, nose tip, mouth centre. */
    for (int k = 0; k < 4; k++) {
        pts[k][0] = f->keypoints[k][0];
        pts[k][1] = f->keypoints[k][1];
    }
    memcpy(tmpl, arcface5, 3 * sizeof arcface5[0]);
    tmpl[3][0] = 0.5f * (arcface5[3][0] + arcface5[4][0]);
    tmpl[3][1] = 0.5f * (arcface5[3][1] + arcface5[4][1]);
    *n = 4;
    return true;
}

bool face_embed_crop_map(const face *f, float m[6])
{
    float pts[5][2], tmpl[5][2], fwd[6];
    int n;
    if (!face_embed_points(f, pts, tmpl, &n) || !align_umeyama((const float(*)[2])pts, (const float(*)[2])tmpl, n, fwd))
        return false;
    return crop_invert(fwd, m);
}

/* One horizontal or vertical box-blur pass of radius r over a 112x112x3 tensor (edges clamped). */
static void box_pass(const float *src, float *dst, int r, int vertical)
{
    const int n = FACE_EMBED_SIZE;
    for (int a = 0; a < n; a++)
        for (int c = 0; c < 3; c++) {
            float acc = 0;
            for (int k = -r; k <= r; k++) {
                int b = k < 0 ? 0 : k >= n ? n - 1 : k;
                acc += vertical ? src[(b * n + a) * 3 + c] : src[(a * n + b) * 3 + c];
            }
            for (int b = 0; b < n; b++) {
                int idx = vertical ? (b * n + a) * 3 + c : (a * n + b) * 3 + c;
                dst[idx] = acc / (float)(2 * r + 1);
                int out_b = b - r < 0 ? 0 : b - r, in_b = b + r + 1 >= n ? n - 1 : b + r + 1;
                acc += vertical ? src[(in_b * n + a) * 3 + c] - src[(out_b * n + a) * 3 + c]
                                : src[(a * n + in_b) * 3 + c] - src[(a * n + out_b) * 3 + c];
            }
        }
}

static int embed_crop(face_embedder *e, const img_view *frame, const face *f, int blur_px, float *out,
                      ptim_error *err);

int face_embed(face_embedder *e, const img_view *frame, const face *f, float *out, ptim_error *err)
{
    return embed_crop(e, frame, f, 0, out, err);
}

int face_embed_blurred(face_embedder *e, const img_view *frame, const face *f, int blur_px, float *out,
                       ptim_error *err)
{
    return embed_crop(e, frame, f, blur_px < 1 ? 1 : blur_px > 50 ? 50 : blur_px, out, err);
}

static int embed_crop(face_embedder *e, const img_view *frame, const face *f, int blur_px, float *out,
                      ptim_error *err)
{
    float m[6];
    if (!face_embed_crop_map(f, m))
        return ptim_error_set(err, PTIM_ERR_INFERENCE, PTIM_SEV_LOW, "face %d has no usable alignment points",
                              f->id);
    float *in = nn_runner_input(e->runner, 0);
    if (crop_to_tensor(frame, m, FACE_EMBED_SIZE, FACE_EMBED_SIZE, e->scale, e->bias, CROP_BORDER_REPLICATE, in))
        return ptim_error_set(err, PTIM_ERR_INFERENCE, PTIM_SEV_HIGH, "cannot read %s frames for recognition",
                              img_format_name(frame->format));
    e->have_crop = 1;
    for (int pass = 0; pass < (blur_px > 0 ? 3 : 0); pass++) {
        box_pass(in, e->scratch, blur_px, 0);
        box_pass(e->scratch, in, blur_px, 1);
    }
    if (nn_runner_run(e->runner, err))
        return -1;
    const float *y = nn_runner_output(e->runner, 0);
    memcpy(out, y, (size_t)e->dim * sizeof(float));
    unit(out, e->dim);
    for (int k = 0; k < e->dim; k++)
        out[k] -= e->centre[k];
    unit(out, e->dim);
    return 0;
}

int face_embed_last_crop(const face_embedder *e, unsigned char *rgb)
{
    if (!e->have_crop)
        return -1;
    /* The runner's input still holds the last crop (inputs are not overwritten by a run). */
    const float *in = nn_runner_input((nn_runner *)e->runner, 0);
    for (int k = 0; k < FACE_EMBED_SIZE * FACE_EMBED_SIZE * 3; k++) {
        float v = (in[k] - e->bias) / e->scale;
        rgb[k] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f);
    }
    return 0;
}

float face_embed_similarity(const float *a, const float *b, int dim)
{
    double s = 0;
    for (int k = 0; k < dim; k++)
        s += (double)a[k] * b[k];
    return (float)s;
}
