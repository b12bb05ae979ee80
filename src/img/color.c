/* img/color — region conversions (BT.601), sRGB <-> LAB with tables, stats. */
#include "img/color.h"
#include "img/filter.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

void img_read_rgb(const img_view *f, int x0, int y0, int w, int h, uint8_t *rgb, int rs)
{
    for (int j = 0; j < h; j++) {
        int y = y0 + j;
        uint8_t *o = rgb + (size_t)j * rs;
        const uint8_t *Y = f->data[0] + (size_t)y * f->stride[0];
        switch (f->format) {
        case IMG_FMT_RGB24:
            memcpy(o, Y + (size_t)x0 * 3, (size_t)w * 3);
            break;
        case IMG_FMT_BGR24:
            for (int i = 0; i < w; i++) {
                const uint8_t *s = Y + (size_t)(x0 + i) * 3;
                o[3 * i] = s[2], o[3 * i + 1] = s[1], o[3 * i + 2] = s[0];
            }
            break;
        case IMG_FMT_RGBA:
            for (int i = 0; i < w; i++) {
                const uint8_t *s = Y + (size_t)(x0 + i) * 4;
                o[3 * i] = s[0], o[3 * i + 1] = s[1], o[3 * i + 2] = s[2];
            }
            break;
        case IMG_FMT_GRAY8:
            for (int i = 0; i < w; i++)
                o[3 * i] = o[3 * i + 1] = o[3 * i + 2] = Y[x0 + i];
            break;
        case IMG_FMT_YUV420P: {
            const uint8_t *U = f->data[1] + (size_t)(y / 2) * f->stride[1];
            const uint8_t *V = f->data[2] + (size_t)(y / 2) * f->stride[2];
            for (int i = 0; i < w; i++) {
                int x = x0 + i;
                img_yuv_to_rgb(Y[x], U[x / 2], V[x / 2], &o[3 * i], &o[3 * i + 1], &o[3 * i + 2]);
            }
            break;
        }
        case IMG_FMT_NV12: {
            const uint8_t *UV = f->data[1] + (size_t)(y / 2) * f->stride[1];
            for (int i = 0; i < w; i++) {
                int x = x0 + i;
                img_yuv_to_rgb(Y[x], UV[(x / 2) * 2], UV[(x / 2) * 2 + 1], &o[3 * i], &o[3 * i + 1],
                               &o[3 * i + 2]);
            }
            break;
        }
        }
    }
}

void img_blend_rgb(img_view *f, const img_alpha *l, const img_alpha *c, const uint8_t *rgb, int rs)
{
    int bpp = img_format_bytes_per_pixel(f->format);
    for (int j = 0; j < l->height; j++) {
        const uint8_t *a = l->a + (size_t)j * l->stride;
        const uint8_t *s = rgb + (size_t)j * rs;
        uint8_t *d = f->data[0] + (size_t)(l->y + j) * f->stride[0] + (size_t)l->x * bpp;
        for (int i = l->lo[j]; i < l->hi[j]; i++) {
            int al = a[i];
            if (!al)
                continue;
            const uint8_t *p = s + 3 * i;
            switch (f->format) {
            case IMG_FMT_RGB24:
            case IMG_FMT_RGBA:
                for (int k = 0; k < 3; k++)
                    d[i * bpp + k] = img_mix(p[k], d[i * bpp + k], al);
                break;
            case IMG_FMT_BGR24:
                for (int k = 0; k < 3; k++)
                    d[i * 3 + k] = img_mix(p[2 - k], d[i * 3 + k], al);
                break;
            case IMG_FMT_GRAY8:
            case IMG_FMT_YUV420P:
            case IMG_FMT_NV12: {
                uint8_t y, u, v;
                img_rgb_to_yuv(p[0], p[1], p[2], &y, &u, &v);
                d[i] = img_mix(y, d[i], al);
                break;
            }
            }
        }
    }
    if (f->format != IMG_FMT_YUV420P && f->format != IMG_FMT_NV12)
        return;
    /* Chroma: chroma pixel (i, j) of the chroma mask covers luma region
     * columns 2i, 2i+1 and rows 2j, 2j+1 (the luma region starts even). */
    for (int j = 0; j < c->height; j++) {
        const uint8_t *a = c->a + (size_t)j * c->stride;
        int ly = 2 * j, rows = ly + 1 < l->height ? 2 : 1;
        int y = c->y + j;
        for (int i = c->lo[j]; i < c->hi[j]; i++) {
            int al = a[i];
            if (!al)
                continue;
            int lx = 2 * i, cols = lx + 1 < l->width ? 2 : 1, r = 0, g = 0, b = 0;
            for (int dy = 0; dy < rows; dy++)
                for (int dx = 0; dx < cols; dx++) {
                    const uint8_t *p = rgb + (size_t)(ly + dy) * rs + 3 * (lx + dx);
                    r += p[0], g += p[1], b += p[2];
                }
            int n = rows * cols;
            uint8_t yy, u, v;
            img_rgb_to_yuv((r + n / 2) / n, (g + n / 2) / n, (b + n / 2) / n, &yy, &u, &v);
            int x = c->x + i;
            if (f->format == IMG_FMT_YUV420P) {
                uint8_t *U = f->data[1] + (size_t)y * f->stride[1] + x;
                uint8_t *V = f->data[2] + (size_t)y * f->stride[2] + x;
                *U = img_mix(u, *U, al);
                *V = img_mix(v, *V, al);
            } else {
                uint8_t *UV = f->data[1] + (size_t)y * f->stride[1] + 2 * x;
                UV[0] = img_mix(u, UV[0], al);
                UV[1] = img_mix(v, UV[1], al);
            }
        }
    }
}

void img_color_planes(img_format format, const uint8_t rgb[3], uint8_t value[3][4])
{
    memset(value, 0, 12);
    uint8_t y, u, v;
    img_rgb_to_yuv(rgb[0], rgb[1], rgb[2], &y, &u, &v);
    switch (format) {
    case IMG_FMT_RGB24:
    case IMG_FMT_RGBA:
        value[0][0] = rgb[0], value[0][1] = rgb[1], value[0][2] = rgb[2], value[0][3] = 255;
        break;
    case IMG_FMT_BGR24:
        value[0][0] = rgb[2], value[0][1] = rgb[1], value[0][2] = rgb[0];
        break;
    case IMG_FMT_GRAY8:
        value[0][0] = y;
        break;
    case IMG_FMT_YUV420P:
        value[0][0] = y, value[1][0] = u, value[2][0] = v;
        break;
    case IMG_FMT_NV12:
        value[0][0] = y, value[1][0] = u, value[1][1] = v;
        break;
    }
}

/* ---- LAB ---- */

#define LIN_TABLE 4096
static float srgb_to_lin[256];
static uint8_t lin_to_srgb[LIN_TABLE + 1];
#define CBRT_TABLE 4096
static float cbrt_table[CBRT_TABLE + 2]; /* f(t) for t in [0, 1] (and a little above) */
static pthread_once_t lab_once = PTHREAD_ONCE_INIT;

static const float WX = 0.950456f, WZ = 1.088754f;

static float lab_f(double t) { return (float)(t > 0.008856 ? cbrt(t) : 7.787 * t + 16.0 / 116.0); }

static void lab_init(void)
{
    for (int i = 0; i < 256; i++) {
        double c = i / 255.0;
        srgb_to_lin[i] = (float)(c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4));
    }
    for (int i = 0; i <= LIN_TABLE; i++) {
        double l = (double)i / LIN_TABLE;
        double c = l <= 0.0031308 ? 12.92 * l : 1.055 * pow(l, 1 / 2.4) - 0.055;
        lin_to_srgb[i] = img_clamp_u8((int)lrint(c * 255.0));
    }
    for (int i = 0; i < CBRT_TABLE + 2; i++)
        cbrt_table[i] = lab_f((double)i / CBRT_TABLE);
}

static inline float f_of(float t)
{
    if (t <= 0)
        return 16.f / 116.f + 7.787f * t;
    if (t >= 1.f)
        return cbrtf(t);
    float p = t * CBRT_TABLE;
    int i = (int)p;
    float fr = p - i;
    return cbrt_table[i] + (cbrt_table[i + 1] - cbrt_table[i]) * fr;
}

void img_rgb_to_lab(const uint8_t *rgb, float *lab)
{
    pthread_once(&lab_once, lab_init);
    float r = srgb_to_lin[rgb[0]], g = srgb_to_lin[rgb[1]], b = srgb_to_lin[rgb[2]];
    float x = (0.412453f * r + 0.357580f * g + 0.180423f * b) / WX;
    float y = 0.212671f * r + 0.715160f * g + 0.072169f * b;
    float z = (0.019334f * r + 0.119193f * g + 0.950227f * b) / WZ;
    float fx = f_of(x), fy = f_of(y), fz = f_of(z);
    lab[0] = 116.f * fy - 16.f;
    lab[1] = 500.f * (fx - fy);
    lab[2] = 200.f * (fy - fz);
}

static inline float finv(float f)
{
    return f > 0.206893f ? f * f * f : (f - 16.f / 116.f) / 7.787f;
}

static inline uint8_t to_srgb(float l)
{
    if (l <= 0)
        return 0;
    if (l >= 1)
        return 255;
    return lin_to_srgb[(int)(l * LIN_TABLE + 0.5f)];
}

void img_lab_to_rgb(const float *lab, uint8_t *rgb)
{
    pthread_once(&lab_once, lab_init);
    float fy = (lab[0] + 16.f) / 116.f, fx = fy + lab[1] / 500.f, fz = fy - lab[2] / 200.f;
    float x = finv(fx) * WX, y = finv(fy), z = finv(fz) * WZ;
    rgb[0] = to_srgb(3.240479f * x - 1.537150f * y - 0.498535f * z);
    rgb[1] = to_srgb(-0.969256f * x + 1.875992f * y + 0.041556f * z);
    rgb[2] = to_srgb(0.055648f * x - 0.204043f * y + 1.057311f * z);
}

static inline float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

void img_lab_row_to_rgb(const float *lab, uint8_t *rgb, const uint8_t *alpha, int lo, int hi,
                        const float gain[3], const float bias[3])
{
    pthread_once(&lab_once, lab_init);
    for (int i = lo; i < hi; i++) {
        if (!alpha[i])
            continue;
        const float *l = lab + 3 * i;
        float L = clampf(l[0] * gain[0] + bias[0], 0, 100);
        float A = clampf(l[1] * gain[1] + bias[1], -127, 127);
        float B = clampf(l[2] * gain[2] + bias[2], -127, 127);
        float fy = (L + 16.f) / 116.f, fx = fy + A / 500.f, fz = fy - B / 200.f;
        float x = finv(fx) * WX, y = finv(fy), z = finv(fz) * WZ;
        uint8_t *o = rgb + 3 * i;
        o[0] = to_srgb(3.240479f * x - 1.537150f * y - 0.498535f * z);
        o[1] = to_srgb(-0.969256f * x + 1.875992f * y + 0.041556f * z);
        o[2] = to_srgb(0.055648f * x - 0.204043f * y + 1.057311f * z);
    }
}

static void stats_finish(double s[3], double s2[3], double w, img_lab_stats *o)
{
    o->weight = w;
    for (int k = 0; k < 3; k++) {
        o->mean[k] = w > 0 ? s[k] / w : 0;
        double var = w > 0 ? s2[k] / w - o->mean[k] * o->mean[k] : 0;
        o->std[k] = var > 0 ? sqrt(var) : 0;
    }
}

void img_lab_stats_masked(const float *lab, int ls, const img_alpha *m, int step, img_lab_stats *o)
{
    double s[3] = {0}, s2[3] = {0}, w = 0;
    if (step < 1)
        step = 1;
    for (int j = 0; j < m->height; j += step) {
        const uint8_t *a = m->a + (size_t)j * m->stride;
        const float *p = lab + (size_t)j * ls;
        for (int i = m->lo[j]; i < m->hi[j]; i += step) {
            if (!a[i])
                continue;
            double wt = (a[i] / 255.0) * (a[i] / 255.0);
            for (int k = 0; k < 3; k++) {
                double v = p[3 * i + k];
                s[k] += wt * v;
                s2[k] += wt * v * v;
            }
            w += wt;
        }
    }
    stats_finish(s, s2, w, o);
}

void img_rgb_lab_stats_masked(const uint8_t *rgb, int rs, const img_alpha *m, int step, img_lab_stats *o)
{
    double s[3] = {0}, s2[3] = {0}, w = 0;
    if (step < 1)
        step = 1;
    for (int j = 0; j < m->height; j += step) {
        const uint8_t *a = m->a + (size_t)j * m->stride;
        const uint8_t *p = rgb + (size_t)j * rs;
        for (int i = m->lo[j]; i < m->hi[j]; i += step) {
            if (!a[i])
                continue;
            float lab[3];
            img_rgb_to_lab(p + 3 * i, lab);
            double wt = (a[i] / 255.0) * (a[i] / 255.0);
            for (int k = 0; k < 3; k++) {
                s[k] += wt * lab[k];
                s2[k] += wt * (double)lab[k] * lab[k];
            }
            w += wt;
        }
    }
    stats_finish(s, s2, w, o);
}
