/* face/masker — per face: build the mask (contour / ellipse / box), then
 * apply the mode plane by plane at each plane's resolution. */
#include "face/masker.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face/swap.h"
#include "face/nswap.h"
#include "face/detector.h"
#include "face/landmarks.h"
#include "img/alpha.h"
#include "img/color.h"
#include "img/draw.h"
#include "img/filter.h"
#include "img/scratch.h"
#include "img/warp.h"

enum mode { MODE_BLUR, MODE_PIXELATE, MODE_SOLID, MODE_IMAGE, MODE_SWAP, MODE_NONE };
enum shape { SHAPE_CONTOUR, SHAPE_ELLIPSE, SHAPE_BOX };
enum draw { DRAW_NONE, DRAW_BOXES, DRAW_LANDMARKS, DRAW_IDS };

typedef struct masker_settings {
    enum mode mode;
    enum shape shape;
    float scale, feather, blur_strength;
    int cells;
    bool pixelate_smooth;
    uint8_t color[3];
    enum draw draw;
    face_swap_params swap;
    face_nswap_params nswap;
    bool underlay;
    char model[1024], encoder[1024]; /* swap.model, swap.encoder */
    int threads;
    int max_swap; /* detector.max_faces: most faces swapped per frame (0 = all); the rest are blurred */
} masker_settings;

struct face_masker {
    masker_settings set;
    img_alpha luma, chroma;
    img_scratch work, rgb;
    img_image overlay; /* RGBA copy of mask.image */
    face_swap *swap;
    face_nswap *nswap;  /* swap.model loaded: used instead of the mesh warp */
    char nswap_model[1024], nswap_encoder[1024]; /* what nswap was loaded from */
    const img_view *nswap_identity;
    int nswap_threads;
    const img_view *swap_from, *overlay_from; /* the asset views the copies were made from */
    face box_face; /* a face_box as a face (box, score, no landmarks) for masking */
};

static int pick(const char *v, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v, names[i]))
            return i;
    return 0;
}

static int parse_color(const char *s, uint8_t rgb[3])
{
    if (!s || s[0] != '#' || strlen(s) != 7)
        return -1;
    for (int i = 1; i < 7; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
            return -1;
    unsigned long v = strtoul(s + 1, NULL, 16);
    rgb[0] = (uint8_t)(v >> 16), rgb[1] = (uint8_t)(v >> 8), rgb[2] = (uint8_t)v;
    return 0;
}

static int read_settings(const ptim_config *cfg, masker_settings *s, ptim_error *err)
{
    static const char *const modes[] = {"blur", "pixelate", "solid", "image", "swap", "none"};
    static const char *const shapes[] = {"contour", "ellipse", "box"};
    static const char *const draws[] = {"none", "boxes", "landmarks", "ids"};
    s->mode = pick(ptim_config_str(cfg, "mask.mode"), modes, 6);
    s->shape = pick(ptim_config_str(cfg, "mask.shape"), shapes, 3);
    s->draw = pick(ptim_config_str(cfg, "debug.draw"), draws, 4);
    s->scale = (float)ptim_config_float(cfg, "mask.scale");
    s->feather = (float)ptim_config_float(cfg, "mask.feather");
    s->blur_strength = (float)ptim_config_float(cfg, "mask.blur_strength");
    s->cells = (int)ptim_config_int(cfg, "mask.pixelate_cells");
    s->pixelate_smooth = ptim_config_bool(cfg, "mask.pixelate_smooth");
    if (parse_color(ptim_config_str(cfg, "mask.color"), s->color))
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "mask.color '%s' is not a colour of the form #RRGGBB",
                              ptim_config_str(cfg, "mask.color"));
    s->swap.erode = (float)ptim_config_int(cfg, "merge.erode");
    s->swap.blur = (float)ptim_config_int(cfg, "merge.blur");
    s->swap.opacity = (float)ptim_config_float(cfg, "merge.opacity");
    s->swap.color_transfer = !strcmp(ptim_config_str(cfg, "merge.color_transfer"), "rct");
    s->swap.keep_mouth = ptim_config_bool(cfg, "swap.keep_mouth");
    s->nswap.merge = s->swap;
    s->nswap.morph = (float)ptim_config_float(cfg, "swap.morph_factor");
    s->nswap.coverage = (float)ptim_config_float(cfg, "swap.face_coverage");
    s->nswap.x_offset = (float)ptim_config_float(cfg, "swap.face_x_offset");
    s->nswap.y_offset = (float)ptim_config_float(cfg, "swap.face_y_offset");
    s->nswap.presharpen = (float)ptim_config_float(cfg, "swap.presharpen");
    s->nswap.pre_gamma = (float)ptim_config_float(cfg, "swap.pre_gamma");
    s->nswap.post_gamma = (float)ptim_config_float(cfg, "swap.post_gamma");
    s->underlay = ptim_config_bool(cfg, "swap.underlay");
    snprintf(s->model, sizeof s->model, "%s", ptim_config_str(cfg, "swap.model"));
    snprintf(s->encoder, sizeof s->encoder, "%s", ptim_config_str(cfg, "swap.encoder"));
    s->threads = (int)ptim_config_int(cfg, "swap.threads");
    s->max_swap = (int)ptim_config_int(cfg, "detector.max_faces");
    return 0;
}

/* The identity's face: given, or found with the still-image detector and
 * FaceMesh (run twice: the second crop comes from the first landmarks, as
 * tracking does, which places them more precisely). */
static int identity_face_of(const ptim_config *cfg, const face_masker_assets *a, face *out, ptim_error *err)
{
    const char *name = a->identity_name ? a->identity_name : "(identity photo)";
    if (a->identity_face) {
        *out = *a->identity_face;
        return 0;
    }
    face_detector *d = NULL;
    face_landmarker *lm = NULL;
    face_list *faces = malloc(sizeof *faces);
    ptim_error e = {0};
    int rc = -1;
    if (!faces) {
        ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
        goto done;
    }
    if (face_detector_create(cfg, &d, &e) || face_detector_detect(d, a->identity, faces, &e) ||
        face_landmarker_create(cfg, &lm, &e)) {
        ptim_error_set(err, e.category ? e.category : PTIM_ERR_MODEL, PTIM_SEV_HIGH,
                       "cannot look for the face in identity photo %s: %s", name, e.message);
        goto done;
    }
    if (faces->count != 1) {
        if (faces->count == 0)
            ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                           "identity photo %s: no face found (swap.identity needs a photo of exactly one face)", name);
        else
            ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                           "identity photo %s: %d faces found (swap.identity needs a photo of exactly one face)",
                           name, faces->count);
        goto done;
    }
    *out = faces->faces[0];
    face_roi roi = face_roi_from_detection(out);
    for (int pass = 0; pass < 2; pass++) {
        if (face_landmarker_run(lm, a->identity, &roi, out, &e)) {
            ptim_error_set(err, e.category ? e.category : PTIM_ERR_INFERENCE, PTIM_SEV_HIGH,
                           "identity photo %s: landmarks failed: %s", name, e.message);
            goto done;
        }
        roi = face_roi_from_landmarks(out);
    }
    face_from_landmarks(out);
    if (out->presence < 0.5f) {
        ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                       "identity photo %s: the face is not clear enough for landmarks (presence %.2f)", name,
                       out->presence);
        goto done;
    }
    rc = 0;
done:
    face_landmarker_destroy(lm);
    face_detector_destroy(d);
    free(faces);
    return rc;
}

static int load_assets(face_masker *m, const ptim_config *cfg, const face_masker_assets *a, ptim_error *err)
{
    /* The same pictures handed in again (a reconfigure): keep the copies. */
    if (m->set.mode == MODE_IMAGE && a && a->overlay && a->overlay != m->overlay_from) {
        const img_view *o = a->overlay;
        img_image copy;
        if (img_image_alloc(&copy, IMG_FMT_RGBA, o->width, o->height))
            return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "cannot keep the mask.image picture (%dx%d)", o->width, o->height);
        for (int y = 0; y < o->height; y++) {
            uint8_t *d = copy.view.data[0] + (size_t)y * copy.view.stride[0];
            const uint8_t *s = o->data[0] + (size_t)y * o->stride[0];
            for (int x = 0; x < o->width; x++) {
                if (o->format == IMG_FMT_RGBA)
                    memcpy(d + 4 * x, s + 4 * x, 4);
                else {
                    img_read_rgb(o, x, y, 1, 1, d + 4 * x, 3);
                    d[4 * x + 3] = 255;
                }
            }
        }
        img_image_free(&m->overlay);
        m->overlay = copy;
        m->overlay_from = o;
    }
    /* A trained model (swap.model): loaded here, before the first frame or
     * between frames on a reconfigure, beside the one in use; the old one is
     * kept when the new one fails. */
    if (m->set.mode == MODE_SWAP && m->set.model[0]) {
        const img_view *idv = a ? a->identity : NULL;
        if (!m->nswap || strcmp(m->nswap_model, m->set.model) || strcmp(m->nswap_encoder, m->set.encoder) ||
            m->nswap_identity != idv || m->nswap_threads != m->set.threads) {
            face idf;
            face_nswap *ns;
            bool need_id = idv && m->set.encoder[0];
            if (need_id && identity_face_of(cfg, a, &idf, err))
                return -1;
            if (face_nswap_create(m->set.model, m->set.encoder, need_id ? idv : NULL, need_id ? &idf : NULL,
                                  m->set.threads, &ns, err))
                return -1;
            face_nswap_destroy(m->nswap);
            m->nswap = ns;
            snprintf(m->nswap_model, sizeof m->nswap_model, "%s", m->set.model);
            snprintf(m->nswap_encoder, sizeof m->nswap_encoder, "%s", m->set.encoder);
            m->nswap_identity = idv;
            m->nswap_threads = m->set.threads;
        }
        return 0;
    }
    if (m->nswap && !m->set.model[0]) { /* swap.model cleared: back to the mesh warp or another mode */
        face_nswap_destroy(m->nswap);
        m->nswap = NULL;
    }
    if (m->set.mode == MODE_SWAP && a && a->identity && a->identity != m->swap_from) {
        face idf;
        face_swap *s;
        if (identity_face_of(cfg, a, &idf, err))
            return -1;
        if (face_swap_create(a->identity, &idf, a->identity_name, &s, err))
            return -1;
        face_swap_destroy(m->swap);
        m->swap = s;
        m->swap_from = a->identity;
    }
    if (m->set.mode == MODE_IMAGE && !m->overlay.memory)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "mask.mode=image needs a picture: set mask.image to a PNG file");
    if (m->set.mode == MODE_SWAP && !m->swap)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "mask.mode=swap needs an identity: set swap.identity to a photo of one face");
    return 0;
}

int face_masker_create(const ptim_config *cfg, const face_masker_assets *assets, face_masker **out,
                       ptim_error *err)
{
    *out = NULL;
    face_masker *m = calloc(1, sizeof *m);
    if (!m)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory creating the masker");
    if (read_settings(cfg, &m->set, err) || load_assets(m, cfg, assets, err)) {
        face_masker_destroy(m);
        return -1;
    }
    /* Room for a 1080p close-up from the start, so frames do not allocate. */
    if (!img_scratch_get(&m->work, (size_t)4 << 20) || !img_scratch_get(&m->rgb, (size_t)1 << 20)) {
        face_masker_destroy(m);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory creating the masker");
    }
    m->work.grows = m->rgb.grows = 0;
    *out = m;
    return 0;
}

void face_masker_destroy(face_masker *m)
{
    if (!m)
        return;
    img_alpha_free(&m->luma);
    img_alpha_free(&m->chroma);
    img_scratch_free(&m->work);
    img_scratch_free(&m->rgb);
    img_image_free(&m->overlay);
    face_swap_destroy(m->swap);
    face_nswap_destroy(m->nswap);
    free(m);
}

int face_masker_reconfigure(face_masker *m, const ptim_config *cfg, const face_masker_assets *assets,
                            ptim_error *err)
{
    masker_settings s;
    if (read_settings(cfg, &s, err))
        return -1;
    masker_settings old = m->set;
    m->set = s;
    if (load_assets(m, cfg, assets, err)) {
        m->set = old;
        return -1;
    }
    return 0;
}

/* ---- shapes ---- */

static float face_width(const face *f) { return f->box[2] > 1 ? f->box[2] : 1; }

/* Distance from (cx, cy) to the line through a and b (0 when a == b). */
static float edge_distance(const float a[2], const float b[2], float cx, float cy)
{
    float dx = b[0] - a[0], dy = b[1] - a[1], len = hypotf(dx, dy);
    return len > 1e-6f ? fabsf(dx * (cy - a[1]) - dy * (cx - a[0])) / len : INFINITY;
}

/* A face known by the detector's box alone (no landmarks: too small for
 * FaceMesh, or box-only in a crowd) is masked with BOX_SLACK_PX more on every
 * side. The box of a small face is off by a pixel or two from frame to frame
 * and from one detection window to another; a blurred ellipse that falls
 * short of the face on one side is itself a face shape to the detector (a
 * 19 px Megamind face in a 192 px clip was found again at 0.50-0.54 on up to
 * 15 of 24 frames after a 1 px shift; 3 px more margin leaves none). */
#define BOX_SLACK_PX 3.0f
static float box_slack(const face *f) { return (f->flags & FACE_HAS_LANDMARKS) ? 0.0f : BOX_SLACK_PX; }

/* ---- coverage beyond the shape (issue 17 item 3) ---- */

#define ELLIPSE_POINTS 24
#define COVER_POINTS (2 * (FACE_LANDMARKS + ELLIPSE_POINTS + 4))

static bool wants_cover(const face *f)
{
    return f->sweep[0] != 0.0f || f->sweep[1] != 0.0f || f->grow > 0.0f || f->extra[2] > 0.0f;
}

/* Points on an ellipse whose polygon still holds the ellipse of radii
 * (rx, ry): the vertices sit on radii grown by 1 / cos(pi / n). */
static int ellipse_points(float cx, float cy, float rx, float ry, float (*out)[2])
{
    float k = 1.0f / cosf(3.14159265f / ELLIPSE_POINTS);
    for (int i = 0; i < ELLIPSE_POINTS; i++) {
        float a = 2.0f * 3.14159265f * (float)i / ELLIPSE_POINTS;
        out[i][0] = cx + k * rx * cosf(a);
        out[i][1] = cy + k * ry * sinf(a);
    }
    return ELLIPSE_POINTS;
}

/* The face's shape (landmark hull grown by mask.scale, or its ellipse or
 * box), the corners of the box `extra` pushed out by the feather (so the
 * ramp ends before the measured face), all of it moved along `sweep` too, the
 * convex hull of that grown by `grow`: the region the face may occupy on this
 * frame. The feather is clamped as in build_mask, so the shape keeps its
 * full-strength core. (`extra` once joined as an ellipse grown like the
 * shape: on a still face that turned the landmark contour into a big round
 * blob, and blurred it read as a head again: messi5.jpg found at 0.56, as
 * mask.shape=ellipse is.) Returns as build_mask. */
static int build_cover_mask(face_masker *m, const img_view *frame, const face *f, enum shape shape,
                            float feather)
{
    const masker_settings *s = &m->set;
    float pts[COVER_POINTS][2], hull[COVER_POINTS][2];
    int n = 0;
    float g = 2 * s->scale - 1;
    if (shape == SHAPE_CONTOUR && (f->flags & FACE_HAS_LANDMARKS)) {
        float lm[FACE_LANDMARKS][2];
        for (int i = 0; i < FACE_LANDMARKS; i++)
            lm[i][0] = f->landmarks[i][0], lm[i][1] = f->landmarks[i][1];
        n = img_convex_hull((const float(*)[2])lm, FACE_LANDMARKS, pts);
        float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
        for (int i = 0; i < n; i++) {
            x0 = fminf(x0, pts[i][0]), x1 = fmaxf(x1, pts[i][0]);
            y0 = fminf(y0, pts[i][1]), y1 = fmaxf(y1, pts[i][1]);
        }
        if (n >= 3 && x1 - x0 >= 1 && y1 - y0 >= 1 && isfinite(x0 + x1 + y0 + y1)) {
            float cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, near = INFINITY;
            for (int i = 0; i < n; i++)
                near = fminf(near, edge_distance(pts[i], pts[(i + 1) % n], cx, cy));
            feather = fminf(feather, (s->scale - 1) * near);
            img_points_scale(pts, n, cx, cy, s->scale);
        } else {
            n = 0;
        }
    }
    float cx = f->box[0] + f->box[2] / 2, cy = f->box[1] + f->box[3] / 2;
    float hw = f->box[2] * g / 2 + box_slack(f), hh = f->box[3] * g / 2 + box_slack(f);
    if (n == 0 && hw > 0 && hh > 0 && isfinite(cx + cy + hw + hh)) {
        feather = fminf(feather, (s->scale - 1) * fminf(f->box[2], f->box[3]));
        if (shape == SHAPE_BOX) {
            float box[4][2] = {{cx - hw, cy - hh}, {cx + hw, cy - hh}, {cx + hw, cy + hh}, {cx - hw, cy + hh}};
            memcpy(pts, box, sizeof box);
            n = 4;
        } else {
            n = ellipse_points(cx, cy, hw, hh, pts);
        }
    }
    const float *e = f->extra;
    if (n > 0 && e[2] > 0 && e[3] > 0 && isfinite(e[0] + e[1] + e[2] + e[3])) {
        float x0 = e[0] - feather, y0 = e[1] - feather;
        float x1 = e[0] + e[2] + feather, y1 = e[1] + e[3] + feather;
        float box[4][2] = {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
        memcpy(pts + n, box, sizeof box);
        n += 4;
    }
    if (n == 0)
        return 1;
    if ((f->sweep[0] != 0.0f || f->sweep[1] != 0.0f) && isfinite(f->sweep[0] + f->sweep[1])) {
        for (int i = 0; i < n; i++)
            pts[n + i][0] = pts[i][0] + f->sweep[0], pts[n + i][1] = pts[i][1] + f->sweep[1];
        n *= 2;
    }
    int h = img_convex_hull((const float(*)[2])pts, n, hull);
    float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int i = 0; i < h; i++) {
        x0 = fminf(x0, hull[i][0]), x1 = fmaxf(x1, hull[i][0]);
        y0 = fminf(y0, hull[i][1]), y1 = fmaxf(y1, hull[i][1]);
    }
    if (h < 3 || !(x1 - x0 >= 1 && y1 - y0 >= 1) || !isfinite(x0 + x1 + y0 + y1))
        return 1;
    if (f->grow > 0 && isfinite(f->grow)) {
        /* scaled about the centre of the hull's box: the points on that box
         * (the ones farthest out) move out by at least grow */
        float k = 1.0f + f->grow / (0.5f * fminf(x1 - x0, y1 - y0));
        float mx = (x0 + x1) / 2, my = (y0 + y1) / 2;
        img_points_scale(hull, h, mx, my, k);
        x0 = mx - (mx - x0) * k, x1 = mx + (x1 - mx) * k;
        y0 = my - (my - y0) * k, y1 = my + (y1 - my) * k;
    }
    int r = img_alpha_begin(&m->luma, x0 - 1, y0 - 1, x1 + 1, y1 + 1, frame->width, frame->height);
    if (r)
        return r;
    img_alpha_polygon(&m->luma, (const float(*)[2])hull, h, 0, feather);
    return 0;
}

/* Builds m->luma for face f; returns 0 when there is something to draw, 1
 * when the face is entirely outside the frame, -1 when out of memory.
 * The soft edge (mask.feather) ramps inward from the grown outline but never
 * past the face itself: it is clamped to the margin mask.scale adds around
 * the landmark hull (or the detection box), so the face is always at full
 * strength. (A feather of 20 px once left messi5.jpg's 30 px face lightly
 * blurred and found again at 0.71.) */

static int build_mask(face_masker *m, const img_view *frame, const face *f, enum shape shape)
{
    const masker_settings *s = &m->set;
    float fw = face_width(f);
    float feather = s->feather >= 1 ? s->feather : s->feather * fw;
    if (wants_cover(f))
        return build_cover_mask(m, frame, f, shape, feather);
    if (shape == SHAPE_CONTOUR && (f->flags & FACE_HAS_LANDMARKS)) {
        float pts[FACE_LANDMARKS][2], hull[FACE_LANDMARKS][2];
        for (int i = 0; i < FACE_LANDMARKS; i++)
            pts[i][0] = f->landmarks[i][0], pts[i][1] = f->landmarks[i][1];
        int n = img_convex_hull((const float(*)[2])pts, FACE_LANDMARKS, hull);
        float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
        for (int i = 0; i < n; i++) {
            x0 = fminf(x0, hull[i][0]), x1 = fmaxf(x1, hull[i][0]);
            y0 = fminf(y0, hull[i][1]), y1 = fmaxf(y1, hull[i][1]);
        }
        if (n >= 3 && x1 - x0 >= 1 && y1 - y0 >= 1 && isfinite(x0 + x1 + y0 + y1)) {
            float cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
            /* Scaling by k about (cx, cy) moves each edge out by (k - 1) x its
             * distance from the centre: the narrowest such margin bounds the
             * feather. */
            float near = INFINITY;
            for (int i = 0; i < n; i++)
                near = fminf(near, edge_distance(hull[i], hull[(i + 1) % n], cx, cy));
            feather = fminf(feather, (s->scale - 1) * near);
            img_points_scale(hull, n, cx, cy, s->scale);
            float hw = (x1 - x0) / 2 * s->scale, hh = (y1 - y0) / 2 * s->scale;
            int r = img_alpha_begin(&m->luma, cx - hw - 1, cy - hh - 1, cx + hw + 1, cy + hh + 1,
                                    frame->width, frame->height);
            if (r)
                return r;
            img_alpha_polygon(&m->luma, (const float(*)[2])hull, n, 0, feather);
            return 0;
        }
        shape = SHAPE_ELLIPSE; /* degenerate landmarks: fall back on the box */
    }
    if (shape == SHAPE_CONTOUR)
        shape = SHAPE_ELLIPSE;
    float g = 2 * s->scale - 1;
    /* the box grows by (scale - 1) x its size on each side */
    feather = fminf(feather, (s->scale - 1) * fminf(f->box[2], f->box[3]));
    float cx = f->box[0] + f->box[2] / 2, cy = f->box[1] + f->box[3] / 2;
    float hw = f->box[2] * g / 2 + box_slack(f), hh = f->box[3] * g / 2 + box_slack(f);
    if (!(hw > 0 && hh > 0) || !isfinite(cx + cy + hw + hh))
        return 1;
    int r = img_alpha_begin(&m->luma, cx - hw - 1, cy - hh - 1, cx + hw + 1, cy + hh + 1, frame->width,
                            frame->height);
    if (r)
        return r;
    if (shape == SHAPE_ELLIPSE) {
        img_alpha_ellipse(&m->luma, cx, cy, hw, hh, feather);
    } else {
        float box[4][2] = {{cx - hw, cy - hh}, {cx + hw, cy - hh}, {cx + hw, cy + hh}, {cx - hw, cy + hh}};
        img_alpha_polygon(&m->luma, (const float(*)[2])box, 4, 0, feather);
    }
    return 0;
}

static int is_yuv(const img_view *v) { return v->format == IMG_FMT_YUV420P || v->format == IMG_FMT_NV12; }

/* The chroma mask when the frame has subsampled chroma. */
static int chroma_mask(face_masker *m, const img_view *frame)
{
    if (!is_yuv(frame))
        return 0;
    return img_alpha_chroma(&m->luma, frame->width, frame->height, &m->chroma) < 0 ? -1 : 0;
}

static const img_alpha *mask_for(face_masker *m, const img_plane *p)
{
    return p->shift ? &m->chroma : &m->luma;
}

static int apply_blur(face_masker *m, img_view *frame, const face *f)
{
    img_plane planes[3];
    int n = img_view_planes(frame, planes);
    float sigma = m->set.blur_strength * face_width(f);
    for (int i = 0; i < n; i++) {
        int r = img_box_radius(planes[i].shift ? sigma / 2 : sigma);
        if (img_blur_masked(&planes[i], mask_for(m, &planes[i]), r, &m->work))
            return -1;
    }
    return 0;
}

static int apply_pixelate(face_masker *m, img_view *frame, const face *f)
{
    img_plane planes[3];
    int n = img_view_planes(frame, planes);
    int cell = (int)lrintf(face_width(f) / (float)m->set.cells);
    if (cell < 1)
        cell = 1;
    if (is_yuv(frame))
        cell = cell < 2 ? 2 : (cell + 1) & ~1; /* chroma cells line up with luma cells */
    /* A plain mosaic keeps the face's layout (dark cells for eyes, a skin
     * blob under hair) and BlazeFace still finds it (messi5.jpg: 0.77);
     * taking the cell means from the blurred face removes that pattern. The
     * pre-blur is fixed (not mask.blur_strength): strong enough for that, weak
     * enough that neighbouring cells still differ and the mosaic stays one. */
    float sigma = 0.12f * face_width(f);
    for (int i = 0; i < n; i++) {
        const img_alpha *a = mask_for(m, &planes[i]);
        int c = planes[i].shift ? cell / 2 : cell;
        if (m->set.pixelate_smooth &&
            img_blur_masked(&planes[i], a, img_box_radius(planes[i].shift ? sigma / 2 : sigma), &m->work))
            return -1;
        int gx = planes[i].shift ? m->luma.x / 2 : m->luma.x, gy = planes[i].shift ? m->luma.y / 2 : m->luma.y;
        if (img_pixelate_masked(&planes[i], a, c, gx, gy, &m->work))
            return -1;
    }
    return 0;
}

static void apply_solid(face_masker *m, img_view *frame)
{
    img_plane planes[3];
    uint8_t value[3][4];
    int n = img_view_planes(frame, planes);
    img_color_planes(frame->format, m->set.color, value);
    for (int i = 0; i < n; i++)
        img_fill_masked(&planes[i], mask_for(m, &planes[i]), value[i]);
}

/* The overlay picture over the face box grown by mask.scale, turned by the
 * face's roll; its alpha is the mask. */
static int apply_image(face_masker *m, img_view *frame, const face *f)
{
    const img_view *o = &m->overlay.view;
    float g = 2 * m->set.scale - 1;
    float cx = f->box[0] + f->box[2] / 2, cy = f->box[1] + f->box[3] / 2;
    float k = fmaxf(f->box[2] * g / o->width, f->box[3] * g / o->height); /* overlay px -> frame px */
    if (!(k > 0) || !isfinite(cx + cy + k))
        return 0;
    float c = cosf(f->roll), sn = sinf(f->roll);
    float hw = o->width * k / 2, hh = o->height * k / 2;
    float ex = fabsf(c) * hw + fabsf(sn) * hh, ey = fabsf(sn) * hw + fabsf(c) * hh;
    int r = img_alpha_begin(&m->luma, cx - ex - 1, cy - ey - 1, cx + ex + 1, cy + ey + 1, frame->width,
                            frame->height);
    if (r)
        return r > 0 ? 0 : -1;
    img_alpha *a = &m->luma;
    int w = a->width, h = a->height;
    uint8_t *buf = img_scratch_get(&m->rgb, (size_t)w * h * 3);
    if (!buf)
        return -1;
    uint8_t *rgb = buf;
    /* Region pixel (i, j) -> frame (a->x + i, a->y + j) -> overlay. */
    float mat[6];
    mat[0] = c / k, mat[1] = sn / k;
    mat[3] = -sn / k, mat[4] = c / k;
    float ox = a->x - cx, oy = a->y - cy;
    mat[2] = (c * ox + sn * oy) / k + o->width / 2.f;
    mat[5] = (-sn * ox + c * oy) / k + o->height / 2.f;
    /* Walk the region; sample the overlay's alpha first and its colour only
     * where it is not transparent (fixed-point bilinear). */
    const uint8_t *od = o->data[0];
    int os = o->stride[0], ow = o->width, oh = o->height;
    for (int j = 0; j < h; j++) {
        uint8_t *arow = a->a + (size_t)j * a->stride;
        uint8_t *crow = rgb + (size_t)j * w * 3;
        float y = j + 0.5f;
        float u = mat[0] * 0.5f + mat[1] * y + mat[2] - 0.5f, v = mat[3] * 0.5f + mat[4] * y + mat[5] - 0.5f;
        for (int i = 0; i < w; i++, u += mat[0], v += mat[3]) {
            arow[i] = 0;
            if (!(u > -0.5f && v > -0.5f && u < ow - 0.5f && v < oh - 0.5f))
                continue;
            float uc = u < 0 ? 0 : u > ow - 1 ? (float)(ow - 1) : u, vc = v < 0 ? 0 : v > oh - 1 ? (float)(oh - 1) : v;
            int x0 = (int)uc, y0 = (int)vc, x1 = x0 + 1 < ow ? x0 + 1 : x0, y1 = y0 + 1 < oh ? y0 + 1 : y0;
            int fx = (int)((uc - x0) * 256), fy = (int)((vc - y0) * 256);
            const uint8_t *p00 = od + (size_t)y0 * os + 4 * x0, *p01 = od + (size_t)y0 * os + 4 * x1;
            const uint8_t *p10 = od + (size_t)y1 * os + 4 * x0, *p11 = od + (size_t)y1 * os + 4 * x1;
            int al = ((p00[3] * (256 - fx) + p01[3] * fx) * (256 - fy) + (p10[3] * (256 - fx) + p11[3] * fx) * fy + 32768) >> 16;
            if (!al)
                continue;
            arow[i] = (uint8_t)al;
            for (int k = 0; k < 3; k++)
                crow[3 * i + k] = (uint8_t)(((p00[k] * (256 - fx) + p01[k] * fx) * (256 - fy) +
                                             (p10[k] * (256 - fx) + p11[k] * fx) * fy + 32768) >> 16);
        }
    }
    img_alpha_update_spans(a);
    if (chroma_mask(m, frame))
        return -1;
    img_blend_rgb(frame, a, &m->chroma, rgb, 3 * w);
    return 0;
}

static void draw_debug(face_masker *m, img_view *frame, const face_list *faces)
{
    static const uint8_t green[3] = {0, 255, 0}, yellow[3] = {255, 255, 0}, red[3] = {255, 0, 0},
                         cyan[3] = {0, 255, 255};
    int t = frame->width / 400 + 1;
    for (int i = 0; i < faces->count; i++) {
        const face *f = &faces->faces[i];
        const uint8_t *col = (f->flags & FACE_HELD) ? red : (f->flags & FACE_DETECTED) ? green : yellow;
        int x0 = (int)floorf(f->box[0]), y0 = (int)floorf(f->box[1]);
        int x1 = (int)ceilf(f->box[0] + f->box[2]), y1 = (int)ceilf(f->box[1] + f->box[3]);
        if (!isfinite(f->box[0] + f->box[1] + f->box[2] + f->box[3]))
            continue;
        if (m->set.draw == DRAW_BOXES || m->set.draw == DRAW_IDS)
            img_draw_rect(frame, x0, y0, x1, y1, t, col);
        if (m->set.draw == DRAW_LANDMARKS) {
            if (f->flags & FACE_HAS_LANDMARKS)
                for (int k = 0; k < FACE_LANDMARKS; k++)
                    img_draw_dot(frame, (int)f->landmarks[k][0], (int)f->landmarks[k][1], t / 2, cyan);
            for (int k = 0; k < FACE_KEYPOINTS; k++)
                img_draw_dot(frame, (int)f->keypoints[k][0], (int)f->keypoints[k][1], t, col);
        }
        if (m->set.draw == DRAW_IDS) {
            char text[16];
            snprintf(text, sizeof text, "%d", f->id);
            int sc = (int)(face_width(f) / 40) + 1;
            img_draw_text(frame, x0, y0 - 6 * sc, sc, text, col);
        }
    }
}

/* Under a swapped face (swap.underlay), the face itself blurred: its
 * landmark hull grown by a tenth, and the region this frame's measurement and
 * motion add (the detector's raw box, the sweep along the face's motion).
 * Wherever the swap's own mask is thin or short of the face (a model's mask,
 * the mesh warp's hull, which ends at the brows; landmarks fitted to a false
 * detection), the person does not show through. -1 only when out of memory. */
static int swap_underlay(face_masker *m, img_view *frame, const face *f)
{
    if (!m->set.underlay)
        return 0;
    float scale = m->set.scale;
    m->set.scale = 1.1f;
    int r = build_mask(m, frame, f, SHAPE_CONTOUR);
    m->set.scale = scale;
    if (r)
        return r < 0 ? -1 : 0;
    /* swap.keep_mouth: the person's own mouth, chosen to show, stays sharp */
    float lips[20][2], soft;
    int n = m->set.swap.keep_mouth ? face_swap_open_mouth(f, lips, &soft) : 0;
    if (n > 0) {
        img_alpha_cut_polygon(&m->luma, (const float(*)[2])lips, n, 0, soft);
        img_alpha_update_spans(&m->luma);
    }
    return chroma_mask(m, frame) || apply_blur(m, frame, f) ? -1 : 0;
}

/* Masks one face in the settings' mode; -1 only when out of memory. A face
 * that may not be swapped (detector.max_faces reached) is blurred. */
static int mask_face(face_masker *m, img_view *frame, const face *f, bool may_swap, bool *swapped)
{
    enum mode mode = m->set.mode;
    if (mode == MODE_SWAP && m->set.model[0]) {
        ptim_error serr;
        if (!m->nswap || !may_swap)
            mode = MODE_BLUR;
        else {
            /* the network sees the face itself; the underlay goes under its result */
            if (face_nswap_prepare(m->nswap, frame, f, &m->set.nswap, &serr) == 0) {
                if (swap_underlay(m, frame, f))
                    return -1;
                if (face_nswap_apply(m->nswap, frame, &serr) == 0) {
                    *swapped = true;
                    return 0;
                }
            }
            mode = MODE_BLUR; /* fail closed: the face is blurred as the blur mode does */
        }
    }
    if (mode == MODE_SWAP) {
        ptim_error serr;
        if (may_swap && m->swap && (f->flags & FACE_HAS_LANDMARKS)) {
            /* the swap reads the face's own colours before the underlay
             * blurs them, and is drawn over it */
            int r = face_swap_prepare(m->swap, frame, f, &m->set.swap, &serr);
            if (r >= 0) {
                if (swap_underlay(m, frame, f))
                    return -1;
                face_swap_apply(m->swap, frame);
                *swapped = true;
                return 0;
            }
        }
        mode = MODE_BLUR; /* fail closed: a face we cannot swap is blurred */
    }
    if (mode == MODE_IMAGE)
        return apply_image(m, frame, f) ? -1 : 0;
    int r = build_mask(m, frame, f, m->set.shape);
    if (r > 0)
        return 0;
    if (r < 0 || chroma_mask(m, frame))
        return -1;
    if (mode == MODE_BLUR)
        return apply_blur(m, frame, f) ? -1 : 0;
    if (mode == MODE_PIXELATE)
        return apply_pixelate(m, frame, f) ? -1 : 0;
    if (mode == MODE_SOLID)
        apply_solid(m, frame);
    return 0;
}

int face_masker_render(face_masker *m, img_view *frame, const face_list *faces, ptim_error *err)
{
    if (!m || !frame || !faces)
        return ptim_error_set(err, PTIM_ERR_INTERNAL, PTIM_SEV_HIGH, "face_masker_render: missing argument");
    if (frame->width <= 0 || frame->height <= 0 || !frame->data[0])
        return ptim_error_set(err, PTIM_ERR_INTERNAL, PTIM_SEV_HIGH, "cannot mask a %dx%d %s frame",
                                  frame->width, frame->height, img_format_name(frame->format));
    if (m->set.mode == MODE_NONE) { /* masking off on purpose (mask.mode=none) */
        if (m->set.draw != DRAW_NONE)
            draw_debug(m, frame, faces);
        return 0;
    }
    /* A crowd larger than the list holds: what was not kept cannot be masked
     * face by face, so the frame is not masked here (the caller covers it). */
    if (faces->overflow)
        return ptim_error_set(err, PTIM_ERR_INTERNAL, PTIM_SEV_HIGH,
                              "more than %d faces on one frame: the whole frame is covered",
                              FACE_LIST_MAX + FACE_BOXES_MAX);
    /* detector.max_faces limits the faces swapped, never those hidden. A
     * held face (lost on this frame) is blurred where it may be, not
     * swapped: its landmarks are an old frame's, and a face pasted there is
     * a ghost beside the person (on Megamind, swapped into the dark after a
     * cut, and read as a face by verify). */
    int nswapped = 0;
    for (int i = 0; i < faces->count && i < FACE_LIST_MAX; i++) {
        bool swapped = false;
        const face *f = &faces->faces[i];
        if (f->flags & FACE_KEPT)
            continue;
        bool may_swap = !(f->flags & FACE_HELD) && (m->set.max_swap <= 0 || nswapped < m->set.max_swap);
        if (mask_face(m, frame, f, may_swap, &swapped))
            return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "out of memory masking face %d",
                                  faces->faces[i].id);
        nswapped += swapped;
    }
    /* Faces known by their box alone (a crowd beyond the followed faces):
     * masked like a face without landmarks. */
    face *bf = &m->box_face;
    for (int i = 0; i < faces->nboxes && i < FACE_BOXES_MAX; i++) {
        memcpy(bf->box, faces->boxes[i].box, sizeof bf->box);
        bf->score = faces->boxes[i].score;
        bf->flags = FACE_DETECTED;
        bf->id = 0;
        bf->roll = 0.0f;
        bool swapped = false; /* no landmarks: never swapped */
        if (mask_face(m, frame, bf, false, &swapped))
            return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "out of memory masking face box %d", i);
    }
    if (m->set.draw != DRAW_NONE)
        draw_debug(m, frame, faces);
    return 0;
}
