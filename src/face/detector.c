/* face/detector — BlazeFace over the whole frame and, for small faces, over
 * overlapping square tiles; results merged by weighted NMS in frame pixels. */
#include "face/detector.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/fault.h"
#include "face/align.h"
#include "face/blazeface.h"
#include "face/crop.h"
#include "face/models.h"
#include "nn/nn.h"

#define TILE_OVERLAP 0.2f    /* fraction of a tile shared with its neighbour */
#define AUTO_TILE_PX 360.0f  /* auto tiling: tiles at most this wide */
/* FACE_DET_TILES_AUTO_ALL tiles frames up to AUTO_SMALL_FRAME px too, in
 * tiles of at most AUTO_SMALL_TILE_PX: without them a 24-36 px face in a
 * 640 px frame is at or below the whole-frame model's reach, found on one
 * frame and missed on the next (issue 17 item 2). */
#define AUTO_SMALL_FRAME 640
#define AUTO_SMALL_TILE_PX 280.0f
#define MAX_WINDOWS (1 + FACE_DET_TILES_MAX * FACE_DET_TILES_MAX * 2)
#define CAND_START 4096 /* candidates room at create; grows for crowds */
#define NMS_IOU 0.3f

typedef struct bf_net {
    bf_range range;
    int size;
    int n_anchors;
    nn_model *model;
    nn_runner *runner;
    int out_regressors, out_scores;
    float anchors[2 * BF_MAX_ANCHORS];
} bf_net;

typedef struct cand {
    bf_det det;
    int cut; /* touches an inner tile edge: may be part of a face */
} cand;

struct face_detector {
    face_detector_settings s;
    int orientation; /* quarter turns clockwise that show the frame upright (display matrix) */
    bf_net *net[2]; /* [0] short, [1] full; NULL when not loaded */
    /* Every candidate of every window is kept (a crowd of small faces gives
     * thousands): cand and dets grow, never cut; they only grow on a frame
     * with more candidates than any before. */
    cand *cand;
    bf_det *dets;
    int cand_cap;
    bf_det window[BF_MAX_ANCHORS]; /* one window's decoded anchors: all of them fit */
};

/* Room for at least `need` candidates; -1 when out of memory. */
static int cand_reserve(face_detector *d, int need)
{
    if (need <= d->cand_cap)
        return 0;
    int cap = d->cand_cap > 0 ? d->cand_cap : CAND_START;
    while (cap < need)
        cap *= 2;
    cand *c = realloc(d->cand, (size_t)cap * sizeof *c);
    if (!c)
        return -1;
    d->cand = c;
    bf_det *e = realloc(d->dets, (size_t)cap * sizeof *e);
    if (!e)
        return -1;
    d->dets = e;
    d->cand_cap = cap;
    return 0;
}

static const char *model_file(bf_range r)
{
    return r == BF_FULL_RANGE ? "face_detection_full_range.tflite"
                              : "face_detection_short_range.tflite";
}

int face_detector_settings_from_config(const ptim_config *cfg, face_detector_settings *s,
                                       ptim_error *err)
{
    memset(s, 0, sizeof *s);
    const char *model = ptim_config_str(cfg, "detector.model");
    s->models = !strcmp(model, "short") ? FACE_DET_SHORT : FACE_DET_FULL;
    s->auto_model = !strcmp(model, "auto");
    s->threshold = (float)ptim_config_float(cfg, "detector.threshold");
    s->max_faces = (int)ptim_config_int(cfg, "detector.max_faces");
    s->min_face_px = (int)ptim_config_int(cfg, "detector.min_face_px");
    const char *tiles = ptim_config_str(cfg, "detector.tiles");
    if (!strcasecmp(tiles, "auto")) {
        s->tiles = FACE_DET_TILES_AUTO;
    } else if (!strcasecmp(tiles, "off") || !strcmp(tiles, "0")) {
        s->tiles = 0;
    } else {
        char *end;
        long n = strtol(tiles, &end, 10);
        if (*end || n < 1 || n > FACE_DET_TILES_MAX)
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                  "detector.tiles '%s' is not auto, off or a number 1-%d", tiles,
                                  FACE_DET_TILES_MAX);
        s->tiles = (int)n;
    }
    s->threads = face_threads(cfg);
    const char *dir = face_model_dir(cfg);
    if (strlen(dir) >= sizeof s->model_dir)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "system.model_dir is too long");
    strcpy(s->model_dir, dir);
    return 0;
}

static void net_free(bf_net *n)
{
    if (!n)
        return;
    nn_runner_destroy(n->runner);
    nn_model_free(n->model);
    free(n);
}

static int net_load(const face_detector_settings *s, bf_range range, bf_net **out, ptim_error *err)
{
    char path[1200];
    if (face_model_path(s->model_dir, model_file(range), path, sizeof path, err))
        return -1;
    bf_net *n = calloc(1, sizeof *n);
    if (!n)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory for %s", path);
    n->range = range;
    n->size = bf_input_size(range);
    n->n_anchors = bf_anchors(range, n->anchors, BF_MAX_ANCHORS);
    if (nn_model_load_file(path, &n->model, err))
        goto fail;
    /* Check the model is the BlazeFace we decode for: one [1,S,S,3] input,
     * regressors [.., n, 16] and scores [.., n, 1] in either order. */
    nn_tensor_info in = nn_model_input(n->model, 0);
    if (nn_model_input_count(n->model) != 1 || in.count != (size_t)n->size * n->size * 3 ||
        nn_model_output_count(n->model) != 2) {
        ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_HIGH,
                       "model %s is not a BlazeFace %dx%d detector", path, n->size, n->size);
        goto fail;
    }
    n->out_regressors = n->out_scores = -1;
    for (int i = 0; i < 2; i++) {
        size_t c = nn_model_output(n->model, i).count;
        if (c == (size_t)n->n_anchors * BF_REGRESSORS)
            n->out_regressors = i;
        else if (c == (size_t)n->n_anchors)
            n->out_scores = i;
    }
    if (n->out_regressors < 0 || n->out_scores < 0) {
        ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_HIGH,
                       "model %s: outputs do not match %d anchors", path, n->n_anchors);
        goto fail;
    }
    if (nn_runner_create(n->model, NN_BACKEND_AUTO, s->threads, &n->runner, err))
        goto fail;
    *out = n;
    return 0;
fail:
    net_free(n);
    return -1;
}

int face_detector_create_with(const face_detector_settings *s, face_detector **out,
                              ptim_error *err)
{
    *out = NULL;
    if (!(s->models & (FACE_DET_SHORT | FACE_DET_FULL)))
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "face detector: no model chosen");
    face_detector *d = calloc(1, sizeof *d);
    if (!d)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory for the face detector");
    d->s = *s;
    if (cand_reserve(d, CAND_START)) {
        face_detector_destroy(d);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory for the face detector");
    }
    if (d->s.threads < 1)
        d->s.threads = 1;
    if ((s->models & FACE_DET_SHORT || s->auto_model) &&
        net_load(&d->s, BF_SHORT_RANGE, &d->net[0], err))
        goto fail;
    if ((s->models & FACE_DET_FULL || s->auto_model) &&
        net_load(&d->s, BF_FULL_RANGE, &d->net[1], err))
        goto fail;
    *out = d;
    return 0;
fail:
    face_detector_destroy(d);
    return -1;
}

int face_detector_create(const ptim_config *cfg, face_detector **out, ptim_error *err)
{
    face_detector_settings s;
    *out = NULL;
    if (face_detector_settings_from_config(cfg, &s, err))
        return -1;
    return face_detector_create_with(&s, out, err);
}

void face_detector_destroy(face_detector *d)
{
    if (!d)
        return;
    net_free(d->net[0]);
    net_free(d->net[1]);
    free(d->cand);
    free(d->dets);
    free(d);
}

void face_detector_set_live(face_detector *d, const face_detector_settings *s)
{
    d->s.threshold = s->threshold;
    d->s.max_faces = s->max_faces;
    d->s.min_face_px = s->min_face_px;
    d->s.tiles = s->tiles;
}

const face_detector_settings *face_detector_settings_of(const face_detector *d) { return &d->s; }

/* ---- windows ---- */

typedef struct window {
    float x, y, w, h;
    int tile; /* 0 for the whole frame */
} window;

static int tiles_across(int tiles, int w, int h)
{
    if (tiles != FACE_DET_TILES_AUTO && tiles != FACE_DET_TILES_AUTO_ALL)
        return tiles;
    int l = w > h ? w : h;
    if (l <= AUTO_SMALL_FRAME && tiles == FACE_DET_TILES_AUTO)
        return 0;
    float tile = l <= AUTO_SMALL_FRAME ? AUTO_SMALL_TILE_PX : AUTO_TILE_PX;
    int n = (int)ceilf((l / tile - 1.0f) / (1.0f - TILE_OVERLAP) + 1.0f);
    return n > FACE_DET_TILES_MAX ? FACE_DET_TILES_MAX : n < 2 ? 2 : n;
}

static int axis_count(float len, float t)
{
    if (len <= t * 1.01f)
        return 1;
    return (int)ceilf((len - t) / (t * (1.0f - TILE_OVERLAP)) - 1e-4f) + 1;
}

static int make_windows(int tiles, int w, int h, window *out)
{
    int n = 0;
    out[n++] = (window){0, 0, (float)w, (float)h, 0};
    int across = tiles_across(tiles, w, h);
    if (across < 2)
        return n;
    float l = (float)(w > h ? w : h);
    float t = l / (1.0f + (across - 1) * (1.0f - TILE_OVERLAP));
    float tw = t < w ? t : (float)w, th = t < h ? t : (float)h;
    int nx = axis_count((float)w, tw), ny = axis_count((float)h, th);
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx && n < MAX_WINDOWS; i++) {
            float x = nx > 1 ? i * (w - tw) / (nx - 1) : 0.0f;
            float y = ny > 1 ? j * (h - th) / (ny - 1) : 0.0f;
            out[n++] = (window){x, y, tw, th, 1};
        }
    return n;
}

int face_detector_window_at(const face_detector *d, int w, int h, const float box[4])
{
    window win[MAX_WINDOWS];
    int n = make_windows(d->s.tiles, w, h, win), best = 0;
    /* the part inside the frame: a face cut by the frame's edge (walking in)
     * is still in the edge's tiles */
    float x0 = fmaxf(box[0], 0.0f), y0 = fmaxf(box[1], 0.0f);
    float x1 = fminf(box[0] + box[2], (float)w), y1 = fminf(box[1] + box[3], (float)h);
    float cx = 0.5f * (x0 + x1), cy = 0.5f * (y0 + y1), best_d = INFINITY;
    for (int i = 1; i < n; i++) {
        const window *t = &win[i];
        if (x0 < t->x || y0 < t->y || x1 > t->x + t->w || y1 > t->y + t->h)
            continue;
        float dx = cx - (t->x + 0.5f * t->w), dy = cy - (t->y + 0.5f * t->h);
        if (dx * dx + dy * dy < best_d) {
            best_d = dx * dx + dy * dy;
            best = i;
        }
    }
    return best;
}

int face_detector_window_rect(const face_detector *d, int w, int h, int index, float rect[4])
{
    window win[MAX_WINDOWS];
    int n = make_windows(d->s.tiles, w, h, win);
    if (index < 0 || index >= n)
        return -1;
    rect[0] = win[index].x;
    rect[1] = win[index].y;
    rect[2] = win[index].w;
    rect[3] = win[index].h;
    return 0;
}

int face_detector_window_count(int tiles, int w, int h)
{
    window win[MAX_WINDOWS];
    return make_windows(tiles, w, h, win);
}

/* ---- detection ---- */

/* The tensor→frame map for a window seen turned by `turns` quarter turns
 * clockwise: the window's longer side fills the tensor, centred (the
 * letterbox of crop_letterbox, which this equals for turns 0), and the
 * tensor's x axis runs along the turned view's x axis. Exact for quarter
 * turns (no sin/cos rounding), so boxes map back to whole pixels. */
static void view_map(const window *win, int turns, int size, float m[6])
{
    static const float cos_q[4] = {1, 0, -1, 0}, sin_q[4] = {0, 1, 0, -1};
    float side = win->w > win->h ? win->w : win->h, s = side / (float)size, h = 0.5f * size;
    /* The view's x axis in the frame is (cos t, -sin t) for t clockwise. */
    float c = cos_q[turns & 3], n = -sin_q[turns & 3];
    float cx = win->x + 0.5f * win->w, cy = win->y + 0.5f * win->h;
    m[0] = s * c;
    m[1] = -s * n;
    m[2] = cx - s * (c * h - n * h);
    m[3] = s * n;
    m[4] = s * c;
    m[5] = cy - s * (n * h + c * h);
}

static int run_window(face_detector *d, bf_net *net, const img_view *frame, const window *win,
                      int turns, int *count, ptim_error *err)
{
    float m[6];
    view_map(win, turns, net->size, m);
    float *in = nn_runner_input(net->runner, 0);
    if (crop_to_tensor(frame, m, net->size, net->size, 2.0f / 255.0f, -1.0f, CROP_BORDER_ZERO, in))
        return ptim_error_set(err, PTIM_ERR_INFERENCE, PTIM_SEV_HIGH,
                              "face detector cannot read %s frames", img_format_name(frame->format));
    if (nn_runner_run(net->runner, err))
        return ptim_error_prefix(err, "face detection: ");
    const float *reg = nn_runner_output(net->runner, net->out_regressors);
    const float *cls = nn_runner_output(net->runner, net->out_scores);
    int n = bf_decode(reg, cls, net->anchors, net->n_anchors, net->size, d->s.threshold, d->window,
                      BF_MAX_ANCHORS);
    if (cand_reserve(d, *count + n))
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH,
                              "out of memory for %d face candidates", *count + n);
    /* Tensor-normalized → frame pixels through the letterbox map (axis aligned). */
    float S = (float)net->size;
    float margin = 0.01f * win->w;
    for (int i = 0; i < n; i++) {
        bf_det *src = &d->window[i];
        cand *c = &d->cand[(*count)++];
        c->det.score = src->score;
        /* A turned view's box is turned in the frame: its four corners'
         * extent (exact for quarter turns). */
        float bx[4] = {src->box[0], src->box[2], src->box[2], src->box[0]};
        float by[4] = {src->box[1], src->box[1], src->box[3], src->box[3]};
        c->det.box[0] = c->det.box[1] = INFINITY;
        c->det.box[2] = c->det.box[3] = -INFINITY;
        for (int k = 0; k < 4; k++) {
            float x, y;
            crop_apply(m, bx[k] * S, by[k] * S, &x, &y);
            c->det.box[0] = fminf(c->det.box[0], x);
            c->det.box[1] = fminf(c->det.box[1], y);
            c->det.box[2] = fmaxf(c->det.box[2], x);
            c->det.box[3] = fmaxf(c->det.box[3], y);
        }
        for (int k = 0; k < FACE_KEYPOINTS; k++)
            crop_apply(m, src->kp[k][0] * S, src->kp[k][1] * S, &c->det.kp[k][0], &c->det.kp[k][1]);
        c->cut = 0;
        if (win->tile) {
            const float *b = c->det.box;
            c->cut = (b[0] < win->x + margin && win->x > 0.5f) ||
                     (b[1] < win->y + margin && win->y > 0.5f) ||
                     (b[2] > win->x + win->w - margin && win->x + win->w < frame->width - 0.5f) ||
                     (b[3] > win->y + win->h - margin && win->y + win->h < frame->height - 0.5f);
        }
    }
    return 0;
}

static float overlap_of_first(const float a[4], const float b[4])
{
    float ix = fminf(a[2], b[2]) - fmaxf(a[0], b[0]);
    float iy = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
    float area = (a[2] - a[0]) * (a[3] - a[1]);
    return (ix <= 0 || iy <= 0 || area <= 0) ? 0.0f : ix * iy / area;
}

static void to_face(const bf_det *det, face *f)
{
    memset(f, 0, sizeof *f);
    f->flags = FACE_DETECTED;
    f->score = det->score;
    f->box[0] = det->box[0];
    f->box[1] = det->box[1];
    f->box[2] = det->box[2] - det->box[0];
    f->box[3] = det->box[3] - det->box[1];
    memcpy(f->keypoints, det->kp, sizeof f->keypoints);
    f->roll = atan2f(det->kp[1][1] - det->kp[0][1], det->kp[1][0] - det->kp[0][0]);
    align_face(f);
}

static int merge_candidates(face_detector *d, int count, face_list *out);

/* Run windows [first, first + count) of the frame's window list, each seen
 * turned by `turns` quarter turns past the orientation, and merge. */
static int detect_windows(face_detector *d, const img_view *frame, unsigned models, int tiles,
                          int first, int count_w, int turns, face_list *out, ptim_error *err)
{
    turns = (d->orientation + turns) & 3;
    face_list_clear(out);
    if (!models)
        models = d->s.models;
    if (!frame || frame->width <= 0 || frame->height <= 0 || !frame->data[0])
        return ptim_error_set(err, PTIM_ERR_INFERENCE, PTIM_SEV_HIGH, "face detector: empty frame");
    if (ptim_fault_hit(PTIM_FAULT_DETECT))
        return ptim_error_set(err, PTIM_ERR_INFERENCE, PTIM_SEV_HIGH,
                              "face detection failed (injected fault)");
    window win[MAX_WINDOWS];
    int nwin = make_windows(tiles, frame->width, frame->height, win);
    int last = first + count_w < nwin ? first + count_w : nwin;
    int count = 0;
    for (int w = first < 0 ? 0 : first; w < last; w++) {
        for (int r = 0; r < 2; r++) {
            bf_net *net = d->net[r];
            unsigned bit = r ? FACE_DET_FULL : FACE_DET_SHORT;
            if (!(models & bit))
                continue;
            if (!net) /* a model not loaded at create: use the other one */
                net = d->net[!r];
            /* Tiles exist for small faces: the full-range model when loaded. */
            if (win[w].tile && d->net[1] && net != d->net[1])
                continue;
            if (run_window(d, net, frame, &win[w], turns, &count, err))
                return -1;
        }
    }
    return merge_candidates(d, count, out);
}

/* Candidates d->cand[0..count) → faces in out, best first. */
static int merge_candidates(face_detector *d, int count, face_list *out)
{
    face_list_clear(out);
    /* A tile detection cut by the tile's inner edge is dropped when a detection
     * from another window covers it; otherwise it is kept, partial as it is. */
    int n = 0;
    for (int i = 0; i < count; i++) {
        int drop = 0;
        if (d->cand[i].cut)
            for (int j = 0; j < count && !drop; j++)
                drop = j != i && !d->cand[j].cut &&
                       overlap_of_first(d->cand[i].det.box, d->cand[j].det.box) > 0.5f;
        if (!drop)
            d->dets[n++] = d->cand[i].det;
    }
    n = bf_weighted_nms(d->dets, n, NMS_IOU);
    /* Faces do not nest: a box lying mostly inside a better one, or holding
     * most of a better one, is the same face seen partly or loosely (a
     * tile's view at another scale) and goes. */
    int kept = 0;
    for (int i = 0; i < n; i++) {
        bool inside = false;
        for (int j = 0; j < kept && !inside; j++)
            inside = overlap_of_first(d->dets[i].box, d->dets[j].box) > 0.6f ||
                     overlap_of_first(d->dets[j].box, d->dets[i].box) > 0.6f;
        if (!inside)
            d->dets[kept++] = d->dets[i];
    }
    n = kept;
    /* Best first: the first max_faces (at most FACE_LIST_MAX) as full
     * records, every other one as a box, so it is still masked. */
    int max = d->s.max_faces > 0 && d->s.max_faces < FACE_LIST_MAX ? d->s.max_faces : FACE_LIST_MAX;
    for (int i = 0; i < n; i++) {
        const bf_det *det = &d->dets[i];
        float w = det->box[2] - det->box[0];
        if (w <= 0.0f || w < (float)d->s.min_face_px)
            continue;
        if (out->count < max) {
            to_face(det, &out->faces[out->count++]);
        } else {
            face_box b = {{det->box[0], det->box[1], w, det->box[3] - det->box[1]}, det->score};
            face_list_add_box(out, &b);
        }
    }
    return 0;
}

int face_detector_detect_ex(face_detector *d, const img_view *frame, unsigned models, int tiles,
                            face_list *out, ptim_error *err)
{
    return detect_windows(d, frame, models, tiles, 0, MAX_WINDOWS, 0, out, err);
}

int face_detector_detect_windows(face_detector *d, const img_view *frame, unsigned models,
                                 int first, int count, face_list *out, ptim_error *err)
{
    return detect_windows(d, frame, models, d->s.tiles, first, count, 0, out, err);
}

/* ---- orientation and turned views ---- */

void face_detector_set_orientation(face_detector *d, int turns) { d->orientation = turns & 3; }

int face_detector_orientation(const face_detector *d) { return d->orientation; }

int face_detector_detect_turned(face_detector *d, const img_view *frame, unsigned models,
                                int first, int count, int turns, float threshold, face_list *out,
                                ptim_error *err)
{
    float keep = d->s.threshold;
    if (threshold > 0.0f)
        d->s.threshold = threshold;
    int r = detect_windows(d, frame, models, d->s.tiles, first, count, turns, out, err);
    d->s.threshold = keep;
    return r;
}

int face_detector_confirm(face_detector *d, const img_view *frame, const face *f, float *score,
                          ptim_error *err)
{
    *score = 0.0f;
    bf_net *net = d->net[0] ? d->net[0] : d->net[1];
    float cx = f->box[0] + 0.5f * f->box[2], cy = f->box[1] + 0.5f * f->box[3];
    float side = 2.0f * fmaxf(f->box[2], f->box[3]);
    float m[6];
    crop_rotated_square(cx, cy, side, f->roll, net->size, m);
    float *in = nn_runner_input(net->runner, 0);
    if (crop_to_tensor(frame, m, net->size, net->size, 2.0f / 255.0f, -1.0f, CROP_BORDER_ZERO, in))
        return ptim_error_set(err, PTIM_ERR_INFERENCE, PTIM_SEV_HIGH,
                              "face detector cannot read %s frames", img_format_name(frame->format));
    if (nn_runner_run(net->runner, err))
        return ptim_error_prefix(err, "face detection: ");
    int n = bf_decode(nn_runner_output(net->runner, net->out_regressors),
                      nn_runner_output(net->runner, net->out_scores), net->anchors,
                      net->n_anchors, net->size, d->s.threshold, d->window, BF_MAX_ANCHORS);
    /* The face sits in the middle of the crop, about half its width. */
    for (int i = 0; i < n; i++) {
        const bf_det *b = &d->window[i];
        float bx = 0.5f * (b->box[0] + b->box[2]), by = 0.5f * (b->box[1] + b->box[3]);
        float bw = b->box[2] - b->box[0];
        /* turned upright by its eye line, a face has its eyes level */
        float roll = atan2f(b->kp[1][1] - b->kp[0][1], b->kp[1][0] - b->kp[0][0]);
        if (fabsf(bx - 0.5f) < 0.15f && fabsf(by - 0.5f) < 0.15f && bw > 0.25f && bw < 0.9f &&
            fabsf(roll) < 0.35f && b->score > *score)
            *score = b->score;
    }
    return 0;
}

int face_detector_detect(face_detector *d, const img_view *frame, face_list *out, ptim_error *err)
{
    return face_detector_detect_ex(d, frame, d->s.models, d->s.tiles, out, err);
}
