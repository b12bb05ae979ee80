/* img/alpha — mask rasterisation with exact outside-zero guarantees. */
#include "img/alpha.h"

#include <math.h>
#include <string.h>

#define POLY_MAX 512

typedef struct poly {
    int n;
    float nx[POLY_MAX], ny[POLY_MAX], c[POLY_MAX]; /* inward unit normal, n.P */
} poly;

/* depth(p) = min over edges of nx*x + ny*y - c: distance inside (negative outside). */
static int poly_build(poly *P, const float (*pts)[2], int n)
{
    P->n = 0;
    if (n < 3 || n > POLY_MAX)
        return -1;
    double area = 0;
    for (int i = 0; i < n; i++) {
        const float *a = pts[i], *b = pts[(i + 1) % n];
        area += (double)a[0] * b[1] - (double)b[0] * a[1];
    }
    if (fabs(area) < 1e-6)
        return -1;
    float sign = area > 0 ? 1.f : -1.f;
    for (int i = 0; i < n; i++) {
        const float *a = pts[i], *b = pts[(i + 1) % n];
        float dx = b[0] - a[0], dy = b[1] - a[1];
        float len = sqrtf(dx * dx + dy * dy);
        if (len < 1e-6f)
            continue;
        float nx = -dy / len * sign, ny = dx / len * sign;
        P->nx[P->n] = nx;
        P->ny[P->n] = ny;
        P->c[P->n] = nx * a[0] + ny * a[1];
        P->n++;
    }
    return P->n >= 3 ? 0 : -1;
}

static inline float poly_depth(const poly *P, float x, float y)
{
    float d = INFINITY;
    for (int i = 0; i < P->n; i++) {
        float e = P->nx[i] * x + P->ny[i] * y - P->c[i];
        d = e < d ? e : d;
    }
    return d;
}

/* Columns [*i0, *i1) (absolute pixel indices) whose centres on row centre yc
 * have depth >= t; empty when *i0 >= *i1. */
static void poly_row(const poly *P, float yc, float t, int *i0, int *i1)
{
    double lo = -1e30, hi = 1e30;
    for (int i = 0; i < P->n; i++) {
        double r = (double)t - (double)P->ny[i] * yc + P->c[i];
        double nx = P->nx[i];
        if (nx > 1e-9)
            lo = fmax(lo, r / nx);
        else if (nx < -1e-9)
            hi = fmin(hi, r / nx);
        else if (r > 0)
            lo = 1e30;
    }
    if (lo > hi || lo > 1e8 || hi < -1e8) {
        *i0 = *i1 = 0;
        return;
    }
    *i0 = (int)ceil(lo - 0.5);
    *i1 = (int)floor(hi - 0.5) + 1;
}

static inline uint8_t ramp(float depth, float inset, float feather)
{
    if (feather <= 0)
        return depth >= inset ? 255 : 0;
    float v = (depth - inset) / feather;
    if (v <= 0)
        return 0;
    if (v >= 1)
        return 255;
    return (uint8_t)(v * 255.f + 0.5f);
}

/* The soft band [a, b) of a row: depth exactly every 4th pixel and at the
 * ends, linear in between. Depth (a minimum of linear functions) is concave,
 * so the chord never exceeds it: coverage is never overstated. */
static void band(const poly *P, uint8_t *row, int x0, float yc, int a, int b, float inset, float fe)
{
    if (a >= b)
        return;
    float prev = poly_depth(P, x0 + a + 0.5f, yc);
    row[a] = ramp(prev, inset, fe);
    for (int i = a; i + 1 < b;) {
        int j = i + 4 < b - 1 ? i + 4 : b - 1;
        float next = poly_depth(P, x0 + j + 0.5f, yc);
        for (int k = i + 1; k <= j; k++)
            row[k] = ramp(prev + (next - prev) * (float)(k - i) / (float)(j - i), inset, fe);
        prev = next;
        i = j;
    }
}

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

static int alpha_begin(img_alpha *m, float x0, float y0, float x1, float y1, int pw, int ph, int align)
{
    m->width = m->height = 0;
    if (!(x0 < x1) || !(y0 < y1) || pw <= 0 || ph <= 0 || x1 <= 0 || y1 <= 0 || x0 >= pw || y0 >= ph)
        return 1;
    int ix0 = clampi((int)floorf(x0), 0, pw), iy0 = clampi((int)floorf(y0), 0, ph);
    if (align)
        ix0 &= ~1, iy0 &= ~1;
    int ix1 = clampi((int)ceilf(x1), 0, pw), iy1 = clampi((int)ceilf(y1), 0, ph);
    if (ix1 <= ix0 || iy1 <= iy0)
        return 1;
    int w = ix1 - ix0, h = iy1 - iy0, stride = (w + 15) & ~15;
    size_t bytes = (size_t)stride * h + 2 * sizeof(int) * (size_t)h + 64;
    uint8_t *mem = img_scratch_get(&m->mem, bytes);
    if (!mem)
        return -1;
    m->x = ix0;
    m->y = iy0;
    m->width = w;
    m->height = h;
    m->stride = stride;
    m->a = mem;
    m->lo = (int *)(void *)(mem + (((size_t)stride * h + 15) & ~(size_t)15));
    m->hi = m->lo + h;
    memset(m->a, 0, (size_t)stride * h);
    for (int j = 0; j < h; j++)
        m->lo[j] = m->hi[j] = 0;
    return 0;
}

int img_alpha_begin(img_alpha *m, float x0, float y0, float x1, float y1, int pw, int ph)
{
    return alpha_begin(m, x0, y0, x1, y1, pw, ph, 1);
}

void img_alpha_polygon(img_alpha *m, const float (*pts)[2], int n, float inset, float feather)
{
    poly P;
    if (m->width <= 0)
        return;
    for (int j = 0; j < m->height; j++) {
        memset(m->a + (size_t)j * m->stride, 0, m->width);
        m->lo[j] = m->hi[j] = 0;
    }
    if (poly_build(&P, pts, n))
        return;
    float fe = feather > 0 ? feather : 0;
    for (int j = 0; j < m->height; j++) {
        float yc = m->y + j + 0.5f;
        int o0, o1, i0, i1;
        poly_row(&P, yc, inset + (fe > 0 ? 1e-4f : 0), &o0, &o1);
        o0 = clampi(o0 - m->x, 0, m->width);
        o1 = clampi(o1 - m->x, 0, m->width);
        if (o0 >= o1)
            continue;
        uint8_t *row = m->a + (size_t)j * m->stride;
        if (fe > 0) {
            poly_row(&P, yc, inset + fe, &i0, &i1);
            i0 = clampi(i0 - m->x, o0, o1);
            i1 = clampi(i1 - m->x, o0, o1);
            if (i0 >= i1)
                i0 = i1 = o1;
        } else {
            i0 = o0;
            i1 = o1;
        }
        band(&P, row, m->x, yc, o0, i0, inset, fe);
        memset(row + i0, 255, i1 - i0);
        band(&P, row, m->x, yc, i1, o1, inset, fe);
        m->lo[j] = o0;
        m->hi[j] = o1;
    }
}

/* Half-width of the ellipse row at vertical offset dy, or -1 when outside. */
static double ellipse_half(double rx, double ry, double dy)
{
    if (rx <= 0 || ry <= 0 || fabs(dy) >= ry)
        return -1;
    return rx * sqrt(1.0 - (dy / ry) * (dy / ry));
}

void img_alpha_ellipse(img_alpha *m, float cx, float cy, float rx, float ry, float feather)
{
    if (m->width <= 0)
        return;
    float fe = feather > 0 ? feather : 0;
    for (int j = 0; j < m->height; j++) {
        uint8_t *row = m->a + (size_t)j * m->stride;
        memset(row, 0, m->width);
        m->lo[j] = m->hi[j] = 0;
        double yc = m->y + j + 0.5, dy = yc - cy;
        double ho = ellipse_half(rx, ry, dy);
        if (ho < 0)
            continue;
        int o0 = clampi((int)ceil(cx - ho - 0.5) - m->x, 0, m->width);
        int o1 = clampi((int)floor(cx + ho - 0.5) + 1 - m->x, 0, m->width);
        if (o0 >= o1)
            continue;
        int i0 = o1, i1 = o1;
        double hi_ = fe > 0 ? ellipse_half(rx - fe, ry - fe, dy) : ho;
        if (hi_ >= 0) {
            i0 = clampi((int)ceil(cx - hi_ - 0.5) - m->x, o0, o1);
            i1 = clampi((int)floor(cx + hi_ - 0.5) + 1 - m->x, o0, o1);
            if (i0 >= i1)
                i0 = i1 = o1;
        }
        for (int i = o0; i < o1; i++) {
            if (i >= i0 && i < i1) {
                row[i] = 255;
                continue;
            }
            /* First-order distance to the outline: (1 - q) / |grad q|. */
            double dx = m->x + i + 0.5 - cx;
            double gx = dx / ((double)rx * rx), gy = dy / ((double)ry * ry);
            double q = sqrt(dx * gx + dy * gy);
            double g = sqrt(gx * gx + gy * gy);
            double depth = g > 1e-12 ? (1.0 - q) * q / g : fmin(rx, ry);
            row[i] = ramp((float)depth, 0, fe);
        }
        m->lo[j] = o0;
        m->hi[j] = o1;
    }
}

void img_alpha_cut_polygon(img_alpha *m, const float (*pts)[2], int n, float inset, float feather)
{
    poly P;
    if (m->width <= 0 || poly_build(&P, pts, n))
        return;
    float fe = feather > 0 ? feather : 0;
    for (int j = 0; j < m->height; j++) {
        float yc = m->y + j + 0.5f;
        int o0, o1;
        poly_row(&P, yc, inset + (fe > 0 ? 1e-4f : 0), &o0, &o1);
        o0 = clampi(o0 - m->x, m->lo[j], m->hi[j]);
        o1 = clampi(o1 - m->x, m->lo[j], m->hi[j]);
        uint8_t *row = m->a + (size_t)j * m->stride;
        for (int i = o0; i < o1; i++) {
            int p = ramp(poly_depth(&P, m->x + i + 0.5f, yc), inset, fe);
            row[i] = (uint8_t)((row[i] * (255 - p) + 127) / 255);
        }
    }
}

void img_alpha_scale(img_alpha *m, float k)
{
    if (k >= 1.f)
        return;
    int f = (int)(k * 256.f + 0.5f);
    if (f < 0)
        f = 0;
    for (int j = 0; j < m->height; j++) {
        uint8_t *row = m->a + (size_t)j * m->stride;
        for (int i = m->lo[j]; i < m->hi[j]; i++)
            row[i] = (uint8_t)((row[i] * f) >> 8);
    }
}

void img_alpha_update_spans(img_alpha *m)
{
    for (int j = 0; j < m->height; j++) {
        const uint8_t *row = m->a + (size_t)j * m->stride;
        int lo = 0, hi = m->width;
        while (lo < hi && !row[lo])
            lo++;
        while (hi > lo && !row[hi - 1])
            hi--;
        m->lo[j] = lo == hi ? 0 : lo;
        m->hi[j] = lo == hi ? 0 : hi;
    }
}

int img_alpha_chroma(const img_alpha *l, int lpw, int lph, img_alpha *c)
{
    if (l->width <= 0) {
        c->width = c->height = 0;
        return 1;
    }
    int cpw = (lpw + 1) / 2, cph = (lph + 1) / 2;
    int r = alpha_begin(c, l->x / 2, l->y / 2, (l->x + l->width + 1) / 2, (l->y + l->height + 1) / 2,
                        cpw, cph, 0);
    if (r)
        return r;
    for (int j = 0; j < c->height; j++) {
        int ly = 2 * j, lo = 1 << 30, hi = 0;
        for (int k = 0; k < 2 && ly + k < l->height; k++)
            if (l->hi[ly + k] > l->lo[ly + k]) {
                lo = l->lo[ly + k] < lo ? l->lo[ly + k] : lo;
                hi = l->hi[ly + k] > hi ? l->hi[ly + k] : hi;
            }
        if (hi <= lo)
            continue;
        int c0 = lo / 2, c1 = (hi + 1) / 2;
        if (c1 > c->width)
            c1 = c->width;
        const uint8_t *r0 = l->a + (size_t)ly * l->stride;
        const uint8_t *r1 = ly + 1 < l->height ? r0 + l->stride : NULL;
        int rows = (l->y + ly + 1 < lph) ? 2 : 1; /* luma rows that exist in the plane */
        uint8_t *out = c->a + (size_t)j * c->stride;
        for (int i = c0; i < c1; i++) {
            int lx = 2 * i, cols = (l->x + lx + 1 < lpw) ? 2 : 1;
            int s = r0[lx] + (lx + 1 < l->width ? r0[lx + 1] : 0);
            if (r1)
                s += r1[lx] + (lx + 1 < l->width ? r1[lx + 1] : 0);
            int cnt = rows * cols;
            out[i] = (uint8_t)((s + cnt / 2) / cnt);
            if (!out[i] && s)
                out[i] = 1; /* any touched luma pixel touches its chroma */
        }
        c->lo[j] = c0;
        c->hi[j] = c1;
    }
    return 0;
}

long img_alpha_count(const img_alpha *m)
{
    long n = 0;
    for (int j = 0; j < m->height; j++)
        for (int i = 0; i < m->width; i++)
            n += m->a[(size_t)j * m->stride + i] != 0;
    return n;
}

void img_alpha_free(img_alpha *m)
{
    if (!m)
        return;
    img_scratch_free(&m->mem);
    memset(m, 0, sizeof *m);
}

int img_convex_hull(const float (*pts)[2], int n, float (*hull)[2])
{
    if (n <= 0)
        return 0;
    int start = 0;
    for (int i = 1; i < n; i++)
        if (pts[i][0] < pts[start][0] || (pts[i][0] == pts[start][0] && pts[i][1] < pts[start][1]))
            start = i;
    int h = 0, p = start;
    do {
        if (h >= n)
            break; /* numerically degenerate input: stop rather than loop */
        hull[h][0] = pts[p][0];
        hull[h][1] = pts[p][1];
        h++;
        int q = (p + 1) % n;
        for (int i = 0; i < n; i++) {
            double ax = pts[q][0] - pts[p][0], ay = pts[q][1] - pts[p][1];
            double bx = pts[i][0] - pts[p][0], by = pts[i][1] - pts[p][1];
            double cr = ax * by - ay * bx;
            /* Take i when it lies further clockwise, or collinear and further away. */
            if (cr < 0 || (cr == 0 && bx * bx + by * by > ax * ax + ay * ay))
                q = i;
        }
        p = q;
    } while (p != start);
    return h;
}

void img_points_scale(float (*pts)[2], int n, float cx, float cy, float k)
{
    for (int i = 0; i < n; i++) {
        pts[i][0] = cx + (pts[i][0] - cx) * k;
        pts[i][1] = cy + (pts[i][1] - cy) * k;
    }
}
