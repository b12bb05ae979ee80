/* face/swap — triangle-mesh warp, LAB rct, feathered blend. */
#include "face/swap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "img/alpha.h"
#include "img/color.h"
#include "img/scratch.h"
#include "img/triangulate.h"
#include "img/warp.h"

const int face_inner_lips[20] = {78, 191, 80, 81, 82, 13, 312, 311, 310, 415,
                                 308, 324, 318, 402, 317, 14, 87, 178, 88, 95};
#define LIP_UPPER 13
#define LIP_LOWER 14

#define MAX_TRIS (2 * FACE_LANDMARKS)

struct face_swap {
    float *lab;                    /* identity face region, 3 floats per pixel */
    int w, h;                      /* its size */
    float pts[FACE_LANDMARKS][2];  /* identity landmarks in region pixels */
    int tris[MAX_TRIS][3];
    int ntris;
    img_alpha luma, chroma;
    img_scratch lab_buf, rgb_buf, cov_buf, base_buf;
    bool ready; /* prepared (luma, chroma, rgb_buf) and not yet applied */
};

int face_swap_triangles(const face_swap *s) { return s->ntris; }

int face_swap_create(const img_view *id, const face *idf, const char *name, face_swap **out,
                     ptim_error *err)
{
    *out = NULL;
    if (!idf || !(idf->flags & FACE_HAS_LANDMARKS))
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "identity photo %s: its face has no landmarks", name ? name : "(unnamed)");
    float minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (int i = 0; i < FACE_LANDMARKS; i++) {
        minx = fminf(minx, idf->landmarks[i][0]), maxx = fmaxf(maxx, idf->landmarks[i][0]);
        miny = fminf(miny, idf->landmarks[i][1]), maxy = fmaxf(maxy, idf->landmarks[i][1]);
    }
    float mx = (maxx - minx) * 0.05f + 2, my = (maxy - miny) * 0.05f + 2;
    int x0 = (int)fmaxf(0, floorf(minx - mx)), y0 = (int)fmaxf(0, floorf(miny - my));
    int x1 = (int)fminf((float)id->width, ceilf(maxx + mx)), y1 = (int)fminf((float)id->height, ceilf(maxy + my));
    if (!(maxx - minx >= 8 && maxy - miny >= 8) || x1 - x0 < 8 || y1 - y0 < 8)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "identity photo %s: the face is too small or outside the picture",
                              name ? name : "(unnamed)");
    face_swap *s = calloc(1, sizeof *s);
    if (!s)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory loading %s", name);
    s->w = x1 - x0;
    s->h = y1 - y0;
    s->lab = malloc(sizeof(float) * 3 * (size_t)s->w * s->h);
    uint8_t *rgb = malloc((size_t)3 * s->w * s->h);
    if (!s->lab || !rgb) {
        free(rgb);
        face_swap_destroy(s);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory loading %s", name);
    }
    img_read_rgb(id, x0, y0, s->w, s->h, rgb, 3 * s->w);
    for (size_t i = 0; i < (size_t)s->w * s->h; i++)
        img_rgb_to_lab(rgb + 3 * i, s->lab + 3 * i);
    free(rgb);
    for (int i = 0; i < FACE_LANDMARKS; i++) {
        s->pts[i][0] = idf->landmarks[i][0] - x0;
        s->pts[i][1] = idf->landmarks[i][1] - y0;
    }
    s->ntris = img_delaunay((const float(*)[2])s->pts, FACE_LANDMARKS, s->tris, MAX_TRIS);
    if (s->ntris < 100) {
        face_swap_destroy(s);
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "identity photo %s: its landmarks do not form a face mesh", name);
    }
    *out = s;
    return 0;
}

void face_swap_destroy(face_swap *s)
{
    if (!s)
        return;
    free(s->lab);
    img_alpha_free(&s->luma);
    img_alpha_free(&s->chroma);
    img_scratch_free(&s->lab_buf);
    img_scratch_free(&s->rgb_buf);
    img_scratch_free(&s->cov_buf);
    img_scratch_free(&s->base_buf);
    free(s);
}

static inline float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

int face_swap_open_mouth(const face *f, float (*hull)[2], float *feather)
{
    if (!(f->flags & FACE_HAS_LANDMARKS))
        return 0;
    float x0 = INFINITY, x1 = -INFINITY;
    for (int i = 0; i < FACE_LANDMARKS; i++)
        x0 = fminf(x0, f->landmarks[i][0]), x1 = fmaxf(x1, f->landmarks[i][0]);
    float fw = x1 - x0;
    const float *up = f->landmarks[LIP_UPPER], *lo = f->landmarks[LIP_LOWER];
    if (!(hypotf(up[0] - lo[0], up[1] - lo[1]) > 0.03f * fw))
        return 0; /* closed, or degenerate landmarks */
    float lips[20][2];
    for (int k = 0; k < 20; k++)
        lips[k][0] = f->landmarks[face_inner_lips[k]][0], lips[k][1] = f->landmarks[face_inner_lips[k]][1];
    int n = img_convex_hull((const float(*)[2])lips, 20, hull);
    float cx = 0, cy = 0;
    for (int k = 0; k < n; k++)
        cx += hull[k][0] / n, cy += hull[k][1] / n;
    img_points_scale(hull, n, cx, cy, 1.15f);
    *feather = fmaxf(0.02f * fw, 1.f);
    return n;
}

int face_swap_prepare(face_swap *s, const img_view *frame, const face *f, const face_swap_params *p,
                      ptim_error *err)
{
    s->ready = false;
    if (!(f->flags & FACE_HAS_LANDMARKS))
        return ptim_error_set(err, PTIM_ERR_INTERNAL, PTIM_SEV_MEDIUM, "face %d has no landmarks to swap onto", f->id);
    float pts[FACE_LANDMARKS][2], hull[FACE_LANDMARKS][2];
    for (int i = 0; i < FACE_LANDMARKS; i++)
        pts[i][0] = f->landmarks[i][0], pts[i][1] = f->landmarks[i][1];
    int nh = img_convex_hull((const float(*)[2])pts, FACE_LANDMARKS, hull);
    float minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (int i = 0; i < nh; i++) {
        minx = fminf(minx, hull[i][0]), maxx = fmaxf(maxx, hull[i][0]);
        miny = fminf(miny, hull[i][1]), maxy = fmaxf(maxy, hull[i][1]);
    }
    float fw = maxx - minx;
    if (nh < 3 || !(fw >= 2) || !(maxy - miny >= 2) || !isfinite(fw))
        return ptim_error_set(err, PTIM_ERR_INTERNAL, PTIM_SEV_MEDIUM, "face %d: landmark outline is degenerate", f->id);
    float unit = fw / 256.f;
    float erode = p->erode * unit, feather = fmaxf(p->blur * unit, 1.f);
    int r = img_alpha_begin(&s->luma, minx, miny, maxx + 1, maxy + 1, frame->width, frame->height);
    if (r > 0)
        return 1; /* entirely outside the frame: nothing to draw */
    if (r < 0)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "out of memory swapping face %d", f->id);
    img_alpha *m = &s->luma;
    img_alpha_polygon(m, (const float(*)[2])hull, nh, erode, feather);
    int rw = m->width, rh = m->height;
    float *lab = img_scratch_get(&s->lab_buf, sizeof(float) * 3 * (size_t)rw * rh);
    uint8_t *rgb = img_scratch_get(&s->rgb_buf, (size_t)3 * rw * rh);
    uint8_t *cov = img_scratch_get(&s->cov_buf, (size_t)rw * rh);
    if (!lab || !rgb || !cov)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "out of memory swapping face %d", f->id);
    memset(cov, 0, (size_t)rw * rh);

    /* Warp every identity triangle onto the target's. */
    for (int t = 0; t < s->ntris; t++) {
        float st[3][2], dt[3][2];
        float tx0 = INFINITY, tx1 = -INFINITY, ty0 = INFINITY, ty1 = -INFINITY;
        for (int k = 0; k < 3; k++) {
            int v = s->tris[t][k];
            st[k][0] = s->pts[v][0], st[k][1] = s->pts[v][1];
            dt[k][0] = pts[v][0], dt[k][1] = pts[v][1];
            tx0 = fminf(tx0, dt[k][0]), tx1 = fmaxf(tx1, dt[k][0]);
            ty0 = fminf(ty0, dt[k][1]), ty1 = fmaxf(ty1, dt[k][1]);
        }
        if (tx1 < m->x || ty1 < m->y || tx0 > m->x + rw || ty0 > m->y + rh)
            continue;
        img_warp_triangle_f3(s->lab, s->w, s->h, 3 * s->w, (const float(*)[2])st, (const float(*)[2])dt,
                             lab, 3 * rw, cov, rw, m->x, m->y, rw, rh);
    }
    /* Only pixels the mesh covered may change. */
    for (int j = 0; j < rh; j++) {
        uint8_t *a = m->a + (size_t)j * m->stride;
        const uint8_t *c = cov + (size_t)j * rw;
        for (int i = m->lo[j]; i < m->hi[j]; i++)
            if (!c[i])
                a[i] = 0;
    }

    /* rct: move the warped face's LAB mean and deviation onto the target's. */
    float gain[3] = {1, 1, 1}, bias[3] = {0, 0, 0};
    /* The target's own pixels fill rgb first: chroma blocks at the edge mix
     * swapped and unmasked luma pixels. */
    img_read_rgb(frame, m->x, m->y, rw, rh, rgb, 3 * rw);
    if (p->color_transfer) {
        img_lab_stats src, dst;
        img_rgb_lab_stats_masked(rgb, 3 * rw, m, 2, &dst);
        img_lab_stats_masked(lab, 3 * rw, m, 2, &src);
        if (src.weight > 0 && dst.weight > 0)
            for (int k = 0; k < 3; k++) {
                gain[k] = src.std[k] > 1e-3 ? clampf((float)(dst.std[k] / src.std[k]), 0.25f, 4.f) : 1.f;
                bias[k] = (float)(dst.mean[k] - gain[k] * src.mean[k]);
            }
    }
    for (int j = 0; j < rh; j++)
        img_lab_row_to_rgb(lab + (size_t)j * 3 * rw, rgb + (size_t)j * 3 * rw, m->a + (size_t)j * m->stride,
                           m->lo[j], m->hi[j], gain, bias);

    if (p->keep_mouth) {
        float lh[20][2], soft;
        int n = face_swap_open_mouth(f, lh, &soft);
        if (n > 0)
            img_alpha_cut_polygon(m, (const float(*)[2])lh, n, 0, soft);
    }
    img_alpha_scale(m, p->opacity);
    img_alpha_update_spans(m);
    if (frame->format == IMG_FMT_YUV420P || frame->format == IMG_FMT_NV12) {
        if (img_alpha_chroma(m, frame->width, frame->height, &s->chroma) < 0)
            return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "out of memory swapping face %d", f->id);
    }
    if (!img_scratch_get(&s->base_buf, (size_t)3 * rw * rh))
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "out of memory swapping face %d", f->id);
    s->ready = true;
    return 0;
}

void face_swap_apply(face_swap *s, img_view *frame)
{
    if (!s->ready)
        return;
    s->ready = false;
    const img_alpha *m = &s->luma;
    int rw = m->width, rh = m->height;
    /* The blend's chroma averages each 2x2 block of `base`, so the pixels
     * the swap leaves (alpha 0) are the frame's as it is now (the underlay
     * drawn since prepare), not as it was. */
    uint8_t *base = s->base_buf.data;
    const uint8_t *rgb = s->rgb_buf.data;
    img_read_rgb(frame, m->x, m->y, rw, rh, base, 3 * rw);
    for (int j = 0; j < rh; j++) {
        const uint8_t *a = m->a + (size_t)j * m->stride;
        for (int i = m->lo[j]; i < m->hi[j]; i++)
            if (a[i])
                memcpy(base + ((size_t)j * rw + i) * 3, rgb + ((size_t)j * rw + i) * 3, 3);
    }
    img_blend_rgb(frame, m, &s->chroma, base, 3 * rw);
}

int face_swap_render(face_swap *s, img_view *frame, const face *f, const face_swap_params *p,
                     ptim_error *err)
{
    int r = face_swap_prepare(s, frame, f, p, err);
    if (r == 0)
        face_swap_apply(s, frame);
    return r < 0 ? -1 : 0;
}
