/* face/crop — bilinear sampling of frame regions into model tensors, converting
 * only the sampled pixels. */
#include "face/crop.h"

#include <math.h>
#include <stdint.h>

static inline float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Bilinear taps along one axis of a plane at continuous pixel coordinate x,
 * where the centre of pixel i is at i + 0.5. Indices clamped to the plane:
 * edge pixels repeat, which is what both border modes want inside the frame.
 * The axes are independent, so an axis-aligned crop computes them once per
 * column and once per row (crop_loop_axis). */
typedef struct axis_taps {
    int i0, i1;
    float f;
} axis_taps;

static inline axis_taps axis_taps_at(float x, int w)
{
    axis_taps t;
    x -= 0.5f;
    if (x >= 0.0f && x < (float)(w - 1)) {
        /* Inside: truncation is floor, no clamping (the common case). */
        t.i0 = (int)x;
        t.f = x - (float)t.i0;
        t.i1 = t.i0 + 1;
        return t;
    }
    float xf = floorf(x);
    t.f = x - xf;
    int xi = (int)xf;
    t.i0 = xi < 0 ? 0 : xi >= w ? w - 1 : xi;
    t.i1 = xi + 1 < 0 ? 0 : xi + 1 >= w ? w - 1 : xi + 1;
    return t;
}

/* The taps of one sample: luma (or the only plane) and, for YUV, chroma. */
typedef struct sample_taps {
    axis_taps x, y, cx, cy;
} sample_taps;

static inline float lerp2(const uint8_t *r0, const uint8_t *r1, int i0, int i1, float fx, float fy)
{
    float top = r0[i0] + (r0[i1] - r0[i0]) * fx;
    float bot = r1[i0] + (r1[i1] - r1[i0]) * fx;
    return top + (bot - top) * fy;
}

static inline void yuv_to_rgb(float y, float u, float v, float rgb[3])
{
    float c = 1.164383f * (y - 16.0f);
    u -= 128.0f;
    v -= 128.0f;
    rgb[0] = clampf(c + 1.596027f * v, 0.0f, 255.0f);
    rgb[1] = clampf(c - 0.391762f * u - 0.812968f * v, 0.0f, 255.0f);
    rgb[2] = clampf(c + 2.017232f * u, 0.0f, 255.0f);
}

static inline bool has_chroma(img_format fmt) { return fmt == IMG_FMT_YUV420P || fmt == IMG_FMT_NV12; }

/* One sample in R, G, B (0..255) from its taps. `fmt` is a constant at every
 * call site below, so each format gets its own loop with the switch folded
 * away. */
static inline __attribute__((always_inline)) void sample_rgb(const img_view *s, img_format fmt,
                                                             axis_taps tx, axis_taps ty,
                                                             axis_taps cx, axis_taps cy, float rgb[3])
{
    const uint8_t *r0 = s->data[0] + (size_t)ty.i0 * s->stride[0];
    const uint8_t *r1 = s->data[0] + (size_t)ty.i1 * s->stride[0];
    switch (fmt) {
    case IMG_FMT_RGB24:
    case IMG_FMT_BGR24:
    case IMG_FMT_RGBA: {
        int bpp = fmt == IMG_FMT_RGBA ? 4 : 3;
        int i0 = tx.i0 * bpp, i1 = tx.i1 * bpp;
        float a = lerp2(r0, r1, i0, i1, tx.f, ty.f);
        float b = lerp2(r0 + 1, r1 + 1, i0, i1, tx.f, ty.f);
        float c = lerp2(r0 + 2, r1 + 2, i0, i1, tx.f, ty.f);
        rgb[0] = fmt == IMG_FMT_BGR24 ? c : a;
        rgb[1] = b;
        rgb[2] = fmt == IMG_FMT_BGR24 ? a : c;
        return;
    }
    case IMG_FMT_GRAY8:
        rgb[0] = rgb[1] = rgb[2] = lerp2(r0, r1, tx.i0, tx.i1, tx.f, ty.f);
        return;
    case IMG_FMT_YUV420P:
    case IMG_FMT_NV12: {
        float Y = lerp2(r0, r1, tx.i0, tx.i1, tx.f, ty.f);
        float U, V;
        if (fmt == IMG_FMT_YUV420P) {
            const uint8_t *u0 = s->data[1] + (size_t)cy.i0 * s->stride[1];
            const uint8_t *u1 = s->data[1] + (size_t)cy.i1 * s->stride[1];
            const uint8_t *v0 = s->data[2] + (size_t)cy.i0 * s->stride[2];
            const uint8_t *v1 = s->data[2] + (size_t)cy.i1 * s->stride[2];
            U = lerp2(u0, u1, cx.i0, cx.i1, cx.f, cy.f);
            V = lerp2(v0, v1, cx.i0, cx.i1, cx.f, cy.f);
        } else {
            const uint8_t *q0 = s->data[1] + (size_t)cy.i0 * s->stride[1];
            const uint8_t *q1 = s->data[1] + (size_t)cy.i1 * s->stride[1];
            U = lerp2(q0, q1, 2 * cx.i0, 2 * cx.i1, cx.f, cy.f);
            V = lerp2(q0 + 1, q1 + 1, 2 * cx.i0, 2 * cx.i1, cx.f, cy.f);
        }
        yuv_to_rgb(Y, U, V, rgb);
        return;
    }
    }
}

static inline void store(float *o, const float rgb[3], float scale, float bias)
{
    o[0] = rgb[0] * scale + bias;
    o[1] = rgb[1] * scale + bias;
    o[2] = rgb[2] * scale + bias;
}

/* Any affine map: taps per sample. */
static inline __attribute__((always_inline)) void crop_loop(const img_view *src, img_format fmt,
                                                            const float m[6], int out_w, int out_h,
                                                            float scale, float bias,
                                                            crop_border border, float *out)
{
    const float W = (float)src->width, H = (float)src->height;
    const int w = src->width, h = src->height, cw = (w + 1) / 2, ch = (h + 1) / 2;
    for (int v = 0; v < out_h; v++) {
        float vc = v + 0.5f;
        /* Walk the row incrementally: one add per coordinate per sample. */
        float x = m[0] * 0.5f + m[1] * vc + m[2];
        float y = m[3] * 0.5f + m[4] * vc + m[5];
        float *o = out + (size_t)v * out_w * 3;
        for (int u = 0; u < out_w; u++, x += m[0], y += m[3], o += 3) {
            float rgb[3] = {0.0f, 0.0f, 0.0f};
            if (border != CROP_BORDER_ZERO || !(x < 0.0f || y < 0.0f || x >= W || y >= H)) {
                axis_taps tx = axis_taps_at(x, w), ty = axis_taps_at(y, h), cx = tx, cy = ty;
                if (has_chroma(fmt)) {
                    cx = axis_taps_at(x * 0.5f, cw);
                    cy = axis_taps_at(y * 0.5f, ch);
                }
                sample_rgb(src, fmt, tx, ty, cx, cy, rgb);
            }
            store(o, rgb, scale, bias);
        }
    }
}

/* An axis-aligned map (m[1] = m[3] = 0: the detector's windows, most of the
 * samples ptim takes): x depends on the column only and y on the row only,
 * so the taps are computed once per column (tx, cx) and once per row.
 * The coordinates are produced by the same additions as crop_loop's, so the
 * tensor is the same to the bit (test_face_crop checks it). */
#define AXIS_COLS_MAX 512

static inline __attribute__((always_inline)) void crop_loop_axis(const img_view *src, img_format fmt,
                                                                 const float m[6], int out_w, int out_h,
                                                                 float scale, float bias,
                                                                 crop_border border, float *out)
{
    const float W = (float)src->width, H = (float)src->height;
    const int w = src->width, h = src->height, cw = (w + 1) / 2, ch = (h + 1) / 2;
    axis_taps tx[AXIS_COLS_MAX], cx[AXIS_COLS_MAX];
    bool outside[AXIS_COLS_MAX];
    const float vc0 = 0.5f;
    float x = m[0] * 0.5f + m[1] * vc0 + m[2];
    for (int u = 0; u < out_w; u++, x += m[0]) {
        outside[u] = border == CROP_BORDER_ZERO && (x < 0.0f || x >= W);
        tx[u] = axis_taps_at(x, w);
        cx[u] = has_chroma(fmt) ? axis_taps_at(x * 0.5f, cw) : tx[u];
    }
    for (int v = 0; v < out_h; v++) {
        float vc = v + 0.5f;
        float y = m[3] * 0.5f + m[4] * vc + m[5];
        float *o = out + (size_t)v * out_w * 3;
        if (border == CROP_BORDER_ZERO && (y < 0.0f || y >= H)) {
            const float zero[3] = {0.0f, 0.0f, 0.0f};
            for (int u = 0; u < out_w; u++, o += 3)
                store(o, zero, scale, bias);
            continue;
        }
        axis_taps ty = axis_taps_at(y, h), cy = has_chroma(fmt) ? axis_taps_at(y * 0.5f, ch) : ty;
        for (int u = 0; u < out_w; u++, o += 3) {
            float rgb[3] = {0.0f, 0.0f, 0.0f};
            if (!outside[u])
                sample_rgb(src, fmt, tx[u], ty, cx[u], cy, rgb);
            store(o, rgb, scale, bias);
        }
    }
}

static int crop_dispatch(const img_view *src, const float m[6], int out_w, int out_h, float scale,
                         float bias, crop_border border, float *out, bool separable)
{
    if (src->width <= 0 || src->height <= 0 || out_w <= 0 || out_h <= 0)
        return -1;
    separable = separable && m[1] == 0.0f && m[3] == 0.0f && out_w <= AXIS_COLS_MAX;
#define CROP_CASE(F)                                                                  \
    case F:                                                                           \
        if (separable)                                                                \
            crop_loop_axis(src, F, m, out_w, out_h, scale, bias, border, out);       \
        else                                                                          \
            crop_loop(src, F, m, out_w, out_h, scale, bias, border, out);            \
        return 0;
    switch (src->format) {
        CROP_CASE(IMG_FMT_RGB24)
        CROP_CASE(IMG_FMT_BGR24)
        CROP_CASE(IMG_FMT_RGBA)
        CROP_CASE(IMG_FMT_GRAY8)
        CROP_CASE(IMG_FMT_YUV420P)
        CROP_CASE(IMG_FMT_NV12)
    }
#undef CROP_CASE
    return -1;
}

int crop_to_tensor(const img_view *src, const float m[6], int out_w, int out_h, float scale,
                   float bias, crop_border border, float *out)
{
    return crop_dispatch(src, m, out_w, out_h, scale, bias, border, out, true);
}

int crop_to_tensor_per_sample(const img_view *src, const float m[6], int out_w, int out_h,
                              float scale, float bias, crop_border border, float *out)
{
    return crop_dispatch(src, m, out_w, out_h, scale, bias, border, out, false);
}

void crop_letterbox(float rx, float ry, float rw, float rh, int size, float m[6])
{
    /* One frame pixel spans k tensor pixels; the shorter side is padded equally. */
    float k = (float)size / (rw > rh ? rw : rh);
    float pad_x = (size - rw * k) * 0.5f, pad_y = (size - rh * k) * 0.5f;
    m[0] = 1.0f / k;
    m[1] = 0.0f;
    m[2] = rx - pad_x / k;
    m[3] = 0.0f;
    m[4] = 1.0f / k;
    m[5] = ry - pad_y / k;
}

void crop_rotated_square(float cx, float cy, float side, float rotation, int size, float m[6])
{
    float s = side / (float)size, c = cosf(rotation), n = sinf(rotation);
    float h = 0.5f * size;
    /* x = cx + s*(c*(u-h) - n*(v-h)),  y = cy + s*(n*(u-h) + c*(v-h)) */
    m[0] = s * c;
    m[1] = -s * n;
    m[2] = cx - s * (c * h - n * h);
    m[3] = s * n;
    m[4] = s * c;
    m[5] = cy - s * (n * h + c * h);
}

void crop_apply(const float m[6], float u, float v, float *x, float *y)
{
    *x = m[0] * u + m[1] * v + m[2];
    *y = m[3] * u + m[4] * v + m[5];
}

bool crop_invert(const float m[6], float inv[6])
{
    double det = (double)m[0] * m[4] - (double)m[1] * m[3];
    if (fabs(det) < 1e-12)
        return false;
    double a = m[4] / det, b = -m[1] / det, c = -m[3] / det, d = m[0] / det;
    inv[0] = (float)a;
    inv[1] = (float)b;
    inv[2] = (float)(-(a * m[2] + b * m[5]));
    inv[3] = (float)c;
    inv[4] = (float)d;
    inv[5] = (float)(-(c * m[2] + d * m[5]));
    return true;
}
