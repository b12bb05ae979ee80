/* img/warp — affine maps, triangle rasterisation with bilinear sampling. */
#include "img/warp.h"

#include <math.h>
#include <string.h>

int img_affine_from_triangles(const float f[3][2], const float t[3][2], float m[6])
{
    double ax = f[1][0] - f[0][0], ay = f[1][1] - f[0][1];
    double bx = f[2][0] - f[0][0], by = f[2][1] - f[0][1];
    double det = ax * by - ay * bx;
    if (fabs(det) < 1e-9)
        return -1;
    /* Solve [ax bx; ay by]^T-style: columns of the linear part map a->a', b->b'. */
    double ux = t[1][0] - t[0][0], uy = t[1][1] - t[0][1];
    double vx = t[2][0] - t[0][0], vy = t[2][1] - t[0][1];
    double i00 = by / det, i01 = -bx / det, i10 = -ay / det, i11 = ax / det;
    m[0] = (float)(ux * i00 + vx * i10);
    m[1] = (float)(ux * i01 + vx * i11);
    m[3] = (float)(uy * i00 + vy * i10);
    m[4] = (float)(uy * i01 + vy * i11);
    m[2] = (float)(t[0][0] - (m[0] * (double)f[0][0] + m[1] * (double)f[0][1]));
    m[5] = (float)(t[0][1] - (m[3] * (double)f[0][0] + m[4] * (double)f[0][1]));
    return 0;
}

int img_affine_invert(const float m[6], float inv[6])
{
    double det = (double)m[0] * m[4] - (double)m[1] * m[3];
    if (fabs(det) < 1e-12)
        return -1;
    double a = m[4] / det, b = -m[1] / det, c = -m[3] / det, d = m[0] / det;
    inv[0] = (float)a, inv[1] = (float)b, inv[3] = (float)c, inv[4] = (float)d;
    inv[2] = (float)(-(a * m[2] + b * m[5]));
    inv[5] = (float)(-(c * m[2] + d * m[5]));
    return 0;
}

int img_similarity_fit(const float (*src)[2], const float (*dst)[2], int n, float m[6])
{
    if (n < 2)
        return -1;
    double sx = 0, sy = 0, dx = 0, dy = 0;
    for (int i = 0; i < n; i++)
        sx += src[i][0], sy += src[i][1], dx += dst[i][0], dy += dst[i][1];
    sx /= n, sy /= n, dx /= n, dy /= n;
    double a = 0, b = 0, var = 0;
    for (int i = 0; i < n; i++) {
        double px = src[i][0] - sx, py = src[i][1] - sy, qx = dst[i][0] - dx, qy = dst[i][1] - dy;
        a += px * qx + py * qy;
        b += px * qy - py * qx;
        var += px * px + py * py;
    }
    if (var < 1e-12)
        return -1;
    double c = a / var, s = b / var; /* scale*cos, scale*sin */
    m[0] = (float)c, m[1] = (float)-s, m[2] = (float)(dx - (c * sx - s * sy));
    m[3] = (float)s, m[4] = (float)c, m[5] = (float)(dy - (s * sx + c * sy));
    return 0;
}

static inline void sample_f3(const float *src, int sw, int sh, int ss, float u, float v, float *o)
{
    u -= 0.5f, v -= 0.5f;
    if (u < 0) u = 0;
    if (v < 0) v = 0;
    if (u > sw - 1) u = (float)(sw - 1);
    if (v > sh - 1) v = (float)(sh - 1);
    int x = (int)u, y = (int)v;
    float fx = u - x, fy = v - y;
    int x1 = x + 1 < sw ? x + 1 : x, y1 = y + 1 < sh ? y + 1 : y;
    const float *p00 = src + (size_t)y * ss + 3 * x, *p01 = src + (size_t)y * ss + 3 * x1;
    const float *p10 = src + (size_t)y1 * ss + 3 * x, *p11 = src + (size_t)y1 * ss + 3 * x1;
    for (int k = 0; k < 3; k++) {
        float top = p00[k] + (p01[k] - p00[k]) * fx;
        float bot = p10[k] + (p11[k] - p10[k]) * fx;
        o[k] = top + (bot - top) * fy;
    }
}

void img_warp_triangle_f3(const float *src, int sw, int sh, int ss, const float stri[3][2],
                          const float dtri[3][2], float *dst, int ds, uint8_t *cov, int cs, int rx,
                          int ry, int rw, int rh)
{
    float m[6];
    if (img_affine_from_triangles(dtri, stri, m))
        return;
    /* Edge functions e_k(x, y) = a x + b y + c >= 0 inside. */
    double area = ((double)dtri[1][0] - dtri[0][0]) * ((double)dtri[2][1] - dtri[0][1]) -
                  ((double)dtri[1][1] - dtri[0][1]) * ((double)dtri[2][0] - dtri[0][0]);
    double sign = area > 0 ? 1 : -1;
    double ea[3], eb[3], ec[3];
    for (int k = 0; k < 3; k++) {
        const float *p = dtri[k], *q = dtri[(k + 1) % 3];
        ea[k] = -((double)q[1] - p[1]) * sign;
        eb[k] = ((double)q[0] - p[0]) * sign;
        ec[k] = -(ea[k] * p[0] + eb[k] * p[1]);
        double len = sqrt(ea[k] * ea[k] + eb[k] * eb[k]);
        ec[k] += 1e-4 * len; /* inclusive edges, robust to rounding */
    }
    float miny = fminf(dtri[0][1], fminf(dtri[1][1], dtri[2][1]));
    float maxy = fmaxf(dtri[0][1], fmaxf(dtri[1][1], dtri[2][1]));
    int j0 = (int)floorf(miny - 0.5f) - ry, j1 = (int)ceilf(maxy - 0.5f) + 1 - ry;
    if (j0 < 0) j0 = 0;
    if (j1 > rh) j1 = rh;
    for (int j = j0; j < j1; j++) {
        double yc = ry + j + 0.5, lo = -1e30, hi = 1e30;
        for (int k = 0; k < 3; k++) {
            double r = -(eb[k] * yc + ec[k]); /* need ea x >= r */
            if (ea[k] > 1e-12)
                lo = fmax(lo, r / ea[k]);
            else if (ea[k] < -1e-12)
                hi = fmin(hi, r / ea[k]);
            else if (r > 0)
                lo = 1e30;
        }
        if (lo > hi)
            continue;
        int i0 = (int)ceil(lo - 0.5) - rx, i1 = (int)floor(hi - 0.5) + 1 - rx;
        if (i0 < 0) i0 = 0;
        if (i1 > rw) i1 = rw;
        float *o = dst + (size_t)j * ds;
        for (int i = i0; i < i1; i++) {
            float x = rx + i + 0.5f, y = (float)yc;
            sample_f3(src, sw, sh, ss, m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5], o + 3 * i);
        }
        if (cov && i1 > i0)
            memset(cov + (size_t)j * cs + i0, 255, i1 - i0);
    }
}

void img_warp_affine_u8(const uint8_t *src, int sw, int sh, int ss, int c, const float m[6],
                        uint8_t *dst, int dw, int dh, int ds, uint8_t *valid)
{
    for (int j = 0; j < dh; j++) {
        uint8_t *o = dst + (size_t)j * ds;
        for (int i = 0; i < dw; i++) {
            float x = i + 0.5f, y = j + 0.5f;
            float u = m[0] * x + m[1] * y + m[2] - 0.5f, v = m[3] * x + m[4] * y + m[5] - 0.5f;
            int in = u > -0.5f && v > -0.5f && u < sw - 0.5f && v < sh - 0.5f;
            if (valid)
                valid[(size_t)j * dw + i] = (uint8_t)(in ? 255 : 0);
            if (!in) {
                memset(o + (size_t)i * c, 0, c);
                continue;
            }
            if (u < 0) u = 0;
            if (v < 0) v = 0;
            if (u > sw - 1) u = (float)(sw - 1);
            if (v > sh - 1) v = (float)(sh - 1);
            int x0 = (int)u, y0 = (int)v, x1 = x0 + 1 < sw ? x0 + 1 : x0, y1 = y0 + 1 < sh ? y0 + 1 : y0;
            float fx = u - x0, fy = v - y0;
            const uint8_t *a = src + (size_t)y0 * ss, *b = src + (size_t)y1 * ss;
            for (int k = 0; k < c; k++) {
                float top = a[x0 * c + k] + (a[x1 * c + k] - a[x0 * c + k]) * fx;
                float bot = b[x0 * c + k] + (b[x1 * c + k] - b[x0 * c + k]) * fx;
                o[i * c + k] = (uint8_t)(top + (bot - top) * fy + 0.5f);
            }
        }
    }
}
