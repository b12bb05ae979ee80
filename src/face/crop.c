/* face/crop — bilinear sampling of frame regions into model tensors, converting
 * only the sampled pixels. */
#include "face/crop.h"

#include <math.h>
#include <stdint.h>

static inline float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Bilinear taps of one plane at continuous pixel coordinate (x, y), where the
 * centre of pixel i is at i + 0.5. Indices clamped to the plane: edge pixels
 * repeat, which is what both border modes want inside the frame. */
typedef struct taps {
    int x0, x1, y0, y1;
    float fx, fy;
} taps;

static inline taps taps_at(float x, float y, int w, int h)
{
    taps t;
    x -= 0.5f;
    y -= 0.5f;
    if (x >= 0.0f && y >= 0.0f && x < (float)(w - 1) && y < (float)(h - 1)) {
        /* Inside: truncation is floor, no clamping (the common case). */
        t.x0 = (int)x;
        t.y0 = (int)y;
        t.fx = x - (float)t.x0;
        t.fy = y - (float)t.y0;
        t.x1 = t.x0 + 1;
        t.y1 = t.y0 + 1;
        return t;
    }
    float xf = floorf(x), yf = floorf(y);
    t.fx = x - xf;
    t.fy = y - yf;
    int xi = (int)xf, yi = (int)yf;
    t.x0 = xi < 0 ? 0 : xi >= w ? w - 1 : xi;
    t.x1 = xi + 1 < 0 ? 0 : xi + 1 >= w ? w - 1 : xi + 1;
    t.y0 = yi < 0 ? 0 : yi >= h ? h - 1 : yi;
    t.y1 = yi + 1 < 0 ? 0 : yi + 1 >= h ? h - 1 : yi + 1;
    return t;
}

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

/* One sample in R, G, B (0..255) at frame point (x, y), inside the frame.
 * `fmt` is a constant at every call site below, so each format gets its own
 * loop with the switch folded away. */
static inline __attribute__((always_inline)) void sample_rgb(const img_view *s, img_format fmt,
                                                             float x, float y, float rgb[3])
{
    int w = s->width, h = s->height;
    taps t = taps_at(x, y, w, h);
    switch (fmt) {
    case IMG_FMT_RGB24:
    case IMG_FMT_BGR24:
    case IMG_FMT_RGBA: {
        int bpp = fmt == IMG_FMT_RGBA ? 4 : 3;
        const uint8_t *r0 = s->data[0] + (size_t)t.y0 * s->stride[0];
        const uint8_t *r1 = s->data[0] + (size_t)t.y1 * s->stride[0];
        int i0 = t.x0 * bpp, i1 = t.x1 * bpp;
        float a = lerp2(r0, r1, i0, i1, t.fx, t.fy);
        float b = lerp2(r0 + 1, r1 + 1, i0, i1, t.fx, t.fy);
        float c = lerp2(r0 + 2, r1 + 2, i0, i1, t.fx, t.fy);
        rgb[0] = fmt == IMG_FMT_BGR24 ? c : a;
        rgb[1] = b;
        rgb[2] = fmt == IMG_FMT_BGR24 ? a : c;
        return;
    }
    case IMG_FMT_GRAY8: {
        const uint8_t *r0 = s->data[0] + (size_t)t.y0 * s->stride[0];
        const uint8_t *r1 = s->data[0] + (size_t)t.y1 * s->stride[0];
        rgb[0] = rgb[1] = rgb[2] = lerp2(r0, r1, t.x0, t.x1, t.fx, t.fy);
        return;
    }
    case IMG_FMT_YUV420P:
    case IMG_FMT_NV12: {
        const uint8_t *r0 = s->data[0] + (size_t)t.y0 * s->stride[0];
        const uint8_t *r1 = s->data[0] + (size_t)t.y1 * s->stride[0];
        float Y = lerp2(r0, r1, t.x0, t.x1, t.fx, t.fy);
        int cw = (w + 1) / 2, ch = (h + 1) / 2;
        taps c = taps_at(x * 0.5f, y * 0.5f, cw, ch);
        float U, V;
        if (fmt == IMG_FMT_YUV420P) {
            const uint8_t *u0 = s->data[1] + (size_t)c.y0 * s->stride[1];
            const uint8_t *u1 = s->data[1] + (size_t)c.y1 * s->stride[1];
            const uint8_t *v0 = s->data[2] + (size_t)c.y0 * s->stride[2];
            const uint8_t *v1 = s->data[2] + (size_t)c.y1 * s->stride[2];
            U = lerp2(u0, u1, c.x0, c.x1, c.fx, c.fy);
            V = lerp2(v0, v1, c.x0, c.x1, c.fx, c.fy);
        } else {
            const uint8_t *q0 = s->data[1] + (size_t)c.y0 * s->stride[1];
            const uint8_t *q1 = s->data[1] + (size_t)c.y1 * s->stride[1];
            U = lerp2(q0, q1, 2 * c.x0, 2 * c.x1, c.fx, c.fy);
            V = lerp2(q0 + 1, q1 + 1, 2 * c.x0, 2 * c.x1, c.fx, c.fy);
        }
        yuv_to_rgb(Y, U, V, rgb);
        return;
    }
    }
}

static inline __attribute__((always_inline)) void crop_loop(const img_view *src, img_format fmt,
                                                            const float m[6], int out_w, int out_h,
                                                            float scale, float bias,
                                                            crop_border border, float *out)
{
    const float W = (float)src->width, H = (float)src->height;
    for (int v = 0; v < out_h; v++) {
        float vc = v + 0.5f;
        /* Walk the row incrementally: one add per coordinate per sample. */
        float x = m[0] * 0.5f + m[1] * vc + m[2];
        float y = m[3] * 0.5f + m[4] * vc + m[5];
        float *o = out + (size_t)v * out_w * 3;
        for (int u = 0; u < out_w; u++, x += m[0], y += m[3], o += 3) {
            float rgb[3];
            if (border == CROP_BORDER_ZERO && (x < 0.0f || y < 0.0f || x >= W || y >= H)) {
                rgb[0] = rgb[1] = rgb[2] = 0.0f;
            } else {
                sample_rgb(src, fmt, x, y, rgb);
            }
            o[0] = rgb[0] * scale + bias;
            o[1] = rgb[1] * scale + bias;
            o[2] = rgb[2] * scale + bias;
        }
    }
}

int crop_to_tensor(const img_view *src, const float m[6], int out_w, int out_h, float scale,
                   float bias, crop_border border, float *out)
{
    if (src->width <= 0 || src->height <= 0 || out_w <= 0 || out_h <= 0)
        return -1;
#define CROP_CASE(F)                                                                  \
    case F: crop_loop(src, F, m, out_w, out_h, scale, bias, border, out); return 0;
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
