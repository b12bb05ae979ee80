/* img/filter — blur (3 x box, running sums), pixelate (cell means), fill,
 * blend. All integer arithmetic; division by the box width is a multiply by
 * a 20-bit reciprocal (exact to a quarter level for any radius we use). */
#include "img/filter.h"

#include <math.h>
#include <string.h>

/* GCC vectorizes these row loops only at -O3; clang has no per-function
 * optimize attribute (and vectorizes them at -O2 anyway). */
#if defined(__GNUC__) && !defined(__clang__)
#define PTIM_HOT_LOOP __attribute__((optimize("O3")))
#else
#define PTIM_HOT_LOOP
#endif

#define RECIP_SHIFT 20

static inline int mini(int a, int b) { return a < b ? a : b; }
static inline int maxi(int a, int b) { return a > b ? a : b; }

int img_box_radius(float sigma)
{
    if (!(sigma > 0))
        return 0;
    int r = (int)lrint((sqrt(1.0 + 4.0 * sigma * sigma) - 1.0) / 2.0);
    return r < 1 ? 1 : r;
}

/* One box pass along a row of w pixels with c interleaved channels, edges
 * replicated; outputs columns [x0, x1) only (others left as they are). */
static void hbox(const uint8_t *in, uint8_t *out, int w, int c, int r, int x0, int x1)
{
    uint32_t mul = (uint32_t)(((1u << RECIP_SHIFT) + r) / (2 * r + 1));
    for (int ch = 0; ch < c; ch++) {
        const uint8_t *s = in + ch;
        uint8_t *d = out + ch;
        uint32_t sum = 0;
        for (int k = x0 - r; k <= x0 + r; k++)
            sum += s[c * mini(maxi(k, 0), w - 1)];
        int x = x0;
        /* Left edge, middle (no clamping) and right edge. */
        int mid0 = mini(maxi(x0, r), x1), mid1 = maxi(mini(x1, w - r - 1), mid0);
        for (; x < mid0; x++) {
            d[c * x] = (uint8_t)((sum * mul + (1u << (RECIP_SHIFT - 1))) >> RECIP_SHIFT);
            sum += s[c * mini(x + r + 1, w - 1)] - s[c * maxi(x - r, 0)];
        }
        for (; x < mid1; x++) {
            d[c * x] = (uint8_t)((sum * mul + (1u << (RECIP_SHIFT - 1))) >> RECIP_SHIFT);
            sum += s[c * (x + r + 1)] - s[c * (x - r)];
        }
        for (; x < x1; x++) {
            d[c * x] = (uint8_t)((sum * mul + (1u << (RECIP_SHIFT - 1))) >> RECIP_SHIFT);
            sum += s[c * mini(x + r + 1, w - 1)] - s[c * maxi(x - r, 0)];
        }
    }
}

/* Column running sums over rows of `wc` bytes: the box of radius r around
 * row y is written to out row y for y in [y0, y1), edges replicated. When
 * `emit` is set it is called per row instead of storing (the last pass
 * blends straight into the frame). */
/* One output row of a vertical pass; restrict lets the compiler vectorise it. */
PTIM_HOT_LOOP static void vrow(uint8_t *restrict o, uint32_t *restrict sum, const uint8_t *restrict add,
                 const uint8_t *restrict sub, int wc, uint32_t mul)
{
    for (int x = 0; x < wc; x++) {
        o[x] = (uint8_t)((sum[x] * mul + (1u << (RECIP_SHIFT - 1))) >> RECIP_SHIFT);
        sum[x] += (uint32_t)add[x] - sub[x];
    }
}

typedef void (*row_sink)(void *ctx, int y, const uint8_t *row);

static void vbox(const uint8_t *in, int is, uint8_t *out, int os, int wc, int h, int r, int y0,
                 int y1, uint32_t *sum, uint8_t *tmp_row, row_sink emit, void *ctx)
{
    uint32_t mul = (uint32_t)(((1u << RECIP_SHIFT) + r) / (2 * r + 1));
    memset(sum, 0, sizeof *sum * wc);
    for (int k = y0 - r; k <= y0 + r; k++) {
        const uint8_t *row = in + (size_t)mini(maxi(k, 0), h - 1) * is;
        for (int x = 0; x < wc; x++)
            sum[x] += row[x];
    }
    for (int y = y0; y < y1; y++) {
        const uint8_t *add = in + (size_t)mini(y + r + 1, h - 1) * is;
        const uint8_t *sub = in + (size_t)maxi(y - r, 0) * is;
        uint8_t *o = emit ? tmp_row : out + (size_t)y * os;
        vrow(o, sum, add, sub, wc, mul);
        if (emit)
            emit(ctx, y, o);
    }
}

typedef struct blend_ctx {
    img_plane *p;
    const img_alpha *m;
    int oy; /* row of the mask's first row in the blurred block */
} blend_ctx;

static void blend_row(void *vctx, int y, const uint8_t *row)
{
    blend_ctx *b = vctx;
    int j = y - b->oy, c = b->p->channels;
    int lo = b->m->lo[j], hi = b->m->hi[j];
    const uint8_t *a = b->m->a + (size_t)j * b->m->stride;
    uint8_t *dst = b->p->data + (size_t)(b->m->y + j) * b->p->stride + (size_t)b->m->x * c;
    for (int i = lo; i < hi; i++) {
        int al = a[i];
        if (!al)
            continue;
        for (int k = 0; k < c; k++)
            dst[i * c + k] = img_mix(row[i * c + k], dst[i * c + k], al);
    }
}

static int blur_half(img_plane *p, const img_alpha *m, int r, img_scratch *work);

int img_blur_masked(img_plane *p, const img_alpha *m, int r, img_scratch *work)
{
    if (m->width <= 0 || r <= 0)
        return 0;
    if (r >= IMG_BLUR_HALF_MIN_R)
        return blur_half(p, m, r, work);
    int c = p->channels;
    int gx0 = maxi(m->x - 3 * r, 0), gx1 = mini(m->x + m->width + 3 * r, p->width);
    int gy0 = maxi(m->y - 3 * r, 0), gy1 = mini(m->y + m->height + 3 * r, p->height);
    int W = gx1 - gx0, H = gy1 - gy0, ox = m->x - gx0, oy = m->y - gy0;
    int wm = m->width, wmc = wm * c;
    size_t wmc_al = ((size_t)wmc + 63) & ~(size_t)63, wc_al = ((size_t)W * c + 63) & ~(size_t)63;
    size_t need = 2 * wmc_al * H + 2 * wc_al + wmc_al + sizeof(uint32_t) * wmc_al;
    uint8_t *mem = img_scratch_get(work, need);
    if (!mem)
        return -1;
    uint8_t *A = mem, *B = A + wmc_al * H, *t1 = B + wmc_al * H, *t2 = t1 + wc_al;
    uint8_t *trow = t2 + wc_al;
    uint32_t *sum = (uint32_t *)(void *)(trow + wmc_al);

    /* Rows needed by the three vertical passes: mask rows +- 3r. */
    for (int y = 0; y < H; y++) {
        const uint8_t *src = p->data + (size_t)(gy0 + y) * p->stride + (size_t)gx0 * c;
        hbox(src, t1, W, c, r, maxi(ox - 2 * r, 0), mini(ox + wm + 2 * r, W));
        hbox(t1, t2, W, c, r, maxi(ox - r, 0), mini(ox + wm + r, W));
        hbox(t2, t1, W, c, r, ox, ox + wm);
        memcpy(A + wmc_al * y, t1 + (size_t)ox * c, wmc);
    }
    vbox(A, (int)wmc_al, B, (int)wmc_al, wmc, H, r, maxi(oy - 2 * r, 0), mini(oy + m->height + 2 * r, H), sum, NULL, NULL, NULL);
    vbox(B, (int)wmc_al, A, (int)wmc_al, wmc, H, r, maxi(oy - r, 0), mini(oy + m->height + r, H), sum, NULL, NULL, NULL);
    blend_ctx ctx = {p, m, oy};
    vbox(A, (int)wmc_al, NULL, 0, wmc, H, r, oy, oy + m->height, sum, trow, blend_row, &ctx);
    return 0;
}

static size_t box3_need(int w, int h, int c)
{
    size_t wc_al = ((size_t)w * c + 63) & ~(size_t)63;
    return 2 * wc_al * h + 2 * wc_al + sizeof(uint32_t) * wc_al;
}

static void box3(const uint8_t *src, int src_stride, uint8_t *dst, int dst_stride, int w, int h, int c,
                 int r, uint8_t *mem)
{
    size_t wc_al = ((size_t)w * c + 63) & ~(size_t)63;
    uint8_t *A = mem, *B = A + wc_al * h, *t1 = B + wc_al * h, *t2 = t1 + wc_al;
    uint32_t *sum = (uint32_t *)(void *)(t2 + wc_al);
    for (int y = 0; y < h; y++) {
        hbox(src + (size_t)y * src_stride, t1, w, c, r, 0, w);
        hbox(t1, t2, w, c, r, 0, w);
        hbox(t2, A + wc_al * y, w, c, r, 0, w);
    }
    vbox(A, (int)wc_al, B, (int)wc_al, w * c, h, r, 0, h, sum, NULL, NULL, NULL);
    vbox(B, (int)wc_al, A, (int)wc_al, w * c, h, r, 0, h, sum, NULL, NULL, NULL);
    vbox(A, (int)wc_al, B, (int)wc_al, w * c, h, r, 0, h, sum, NULL, NULL, NULL);
    for (int y = 0; y < h; y++)
        memcpy(dst + (size_t)y * dst_stride, B + wc_al * y, (size_t)w * c);
}

int img_box_blur3(const uint8_t *src, int src_stride, uint8_t *dst, int dst_stride, int w, int h,
                  int c, int r, img_scratch *work)
{
    if (w <= 0 || h <= 0)
        return 0;
    uint8_t *mem = img_scratch_get(work, box3_need(w, h, c));
    if (!mem)
        return -1;
    box3(src, src_stride, dst, dst_stride, w, h, c, r, mem);
    return 0;
}

/* Strong blurs (r >= IMG_BLUR_HALF_MIN_R) run at half resolution: the grown
 * block is averaged 2x2, blurred with the radius that gives the same total
 * spread, and sampled back bilinearly while blending. A quarter of the work;
 * at these strengths the result differs from the full-resolution filter by
 * a level or two (test_img_kernels measures it). */
/* 2x2 means of two rows of W pixels (c channels); an odd last column repeats. */
PTIM_HOT_LOOP static void downsample_row(const uint8_t *restrict r0, const uint8_t *restrict r1,
                                                           uint8_t *restrict o, int W, int c)
{
    int w2 = W / 2;
    if (c == 1) {
        for (int x = 0; x < w2; x++)
            o[x] = (uint8_t)((r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1] + 2) >> 2);
    } else {
        for (int x = 0; x < w2; x++)
            for (int k = 0; k < c; k++)
                o[x * c + k] = (uint8_t)((r0[2 * x * c + k] + r0[(2 * x + 1) * c + k] + r1[2 * x * c + k] +
                                          r1[(2 * x + 1) * c + k] + 2) >> 2);
    }
    if (W & 1)
        for (int k = 0; k < c; k++)
            o[w2 * c + k] = (uint8_t)((r0[(W - 1) * c + k] + r1[(W - 1) * c + k] + 1) >> 1);
}

/* out = a * (256 - w) + b * w, n values. */
PTIM_HOT_LOOP static void lerp_rows(const uint8_t *restrict a, const uint8_t *restrict b,
                                                      uint16_t *restrict out, int n, int w)
{
    for (int x = 0; x < n; x++)
        out[x] = (uint16_t)(a[x] * (256 - w) + b[x] * w);
}

static int blur_half(img_plane *p, const img_alpha *m, int r, img_scratch *work)
{
    int c = p->channels;
    int gx0 = maxi(m->x - 3 * r, 0) & ~1, gx1 = mini(m->x + m->width + 3 * r, p->width);
    int gy0 = maxi(m->y - 3 * r, 0) & ~1, gy1 = mini(m->y + m->height + 3 * r, p->height);
    int W = gx1 - gx0, H = gy1 - gy0, w2 = (W + 1) / 2, h2 = (H + 1) / 2;
    /* Full-resolution variance r(r+1) = 4 r2(r2+1) + ~0.75 (2x2 average and bilinear). */
    double var = (double)r * (r + 1) - 0.75;
    int r2 = img_box_radius((float)(sqrt(var > 1 ? var : 1) / 2));
    size_t d_al = ((size_t)w2 * c + 63) & ~(size_t)63;
    size_t need = 2 * d_al * h2 + box3_need(w2, h2, c) + sizeof(int) * 2 * ((size_t)m->width + m->height) +
                  sizeof(uint16_t) * (d_al + 8) + 64;
    uint8_t *mem = img_scratch_get(work, need);
    if (!mem)
        return -1;
    uint8_t *D = mem, *E = D + d_al * h2, *bw = E + d_al * h2;
    int *xi = (int *)(void *)(bw + ((box3_need(w2, h2, c) + 15) & ~(size_t)15));
    int *xw = xi + m->width, *yi = xw + m->width, *yw = yi + m->height;
    uint16_t *rowbuf = (uint16_t *)(void *)(yw + m->height);
    for (int y = 0; y < h2; y++) {
        const uint8_t *r0 = p->data + (size_t)(gy0 + 2 * y) * p->stride + (size_t)gx0 * c;
        const uint8_t *r1 = 2 * y + 1 < H ? r0 + p->stride : r0;
        downsample_row(r0, r1, D + d_al * y, W, c);
    }
    box3(D, (int)d_al, E, (int)d_al, w2, h2, c, r2, bw);
    /* Bilinear taps: plane pixel centre x + 0.5 is at (x + 0.5 - gx0) / 2 - 0.5 in E. */
    for (int i = 0; i < m->width; i++) {
        float u = (m->x + i + 0.5f - gx0) / 2 - 0.5f;
        u = u < 0 ? 0 : u > w2 - 1 ? (float)(w2 - 1) : u;
        xi[i] = (int)u;
        xw[i] = (int)((u - xi[i]) * 256 + 0.5f);
    }
    for (int j = 0; j < m->height; j++) {
        float v = (m->y + j + 0.5f - gy0) / 2 - 0.5f;
        v = v < 0 ? 0 : v > h2 - 1 ? (float)(h2 - 1) : v;
        yi[j] = (int)v;
        yw[j] = (int)((v - yi[j]) * 256 + 0.5f);
    }
    for (int j = 0; j < m->height; j++) {
        if (m->hi[j] <= m->lo[j])
            continue;
        const uint8_t *a = m->a + (size_t)j * m->stride;
        const uint8_t *e0 = E + d_al * yi[j], *e1 = yi[j] + 1 < h2 ? e0 + d_al : e0;
        /* Vertical taps once per row (over the columns this row uses), then horizontal per pixel. */
        int c0 = xi[m->lo[j]], c1 = mini(xi[m->hi[j] - 1] + 2, w2);
        lerp_rows(e0 + c0 * c, e1 + c0 * c, rowbuf + c0 * c, (c1 - c0) * c, yw[j]);
        for (int k = 0; k < c; k++)
            rowbuf[c1 * c + k] = rowbuf[(c1 - 1) * c + k]; /* the x0 + 1 tap at the last column */
        uint8_t *dst = p->data + (size_t)(m->y + j) * p->stride + (size_t)m->x * c;
        if (c == 1) {
            for (int i = m->lo[j]; i < m->hi[j]; i++) {
                int al = a[i], x0 = xi[i], wx = xw[i];
                int v = (rowbuf[x0] * (256 - wx) + rowbuf[x0 + 1] * wx + (1 << 15)) >> 16;
                dst[i] = al == 255 ? (uint8_t)v : img_mix(v, dst[i], al);
            }
            continue;
        }
        for (int i = m->lo[j]; i < m->hi[j]; i++) {
            int al = a[i];
            if (!al)
                continue;
            int x0 = xi[i], x1 = x0 + 1 < w2 ? x0 + 1 : x0, wx = xw[i];
            for (int k = 0; k < c; k++) {
                int v = (rowbuf[x0 * c + k] * (256 - wx) + rowbuf[x1 * c + k] * wx + (1 << 15)) >> 16;
                dst[i * c + k] = img_mix(v, dst[i * c + k], al);
            }
        }
    }
    return 0;
}

static inline int floordiv(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

int img_pixelate_masked(img_plane *p, const img_alpha *m, int cell, int gx, int gy, img_scratch *work)
{
    if (m->width <= 0)
        return 0;
    if (cell < 1)
        cell = 1;
    int c = p->channels;
    int cx0 = floordiv(m->x - gx, cell), cx1 = floordiv(m->x + m->width - 1 - gx, cell) + 1;
    int ncx = cx1 - cx0;
    uint32_t *sums = img_scratch_get(work, sizeof(uint32_t) * ((size_t)ncx * c + (size_t)ncx) +
                                               (size_t)ncx * c + 64);
    if (!sums)
        return -1;
    uint32_t *counts = sums + (size_t)ncx * c;
    uint8_t *mean = (uint8_t *)(counts + ncx);
    int cy0 = floordiv(m->y - gy, cell), cy1 = floordiv(m->y + m->height - 1 - gy, cell) + 1;
    for (int cy = cy0; cy < cy1; cy++) {
        int y0 = gy + cy * cell, y1 = y0 + cell;
        /* Skip bands whose masked rows are all empty. */
        int my0 = maxi(y0, m->y) - m->y, my1 = mini(y1, m->y + m->height) - m->y, any = 0;
        for (int j = my0; j < my1 && !any; j++)
            any = m->hi[j] > m->lo[j];
        if (!any)
            continue;
        memset(sums, 0, sizeof(uint32_t) * ((size_t)ncx * c + ncx));
        int py0 = maxi(y0, 0), py1 = mini(y1, p->height);
        for (int k = 0; k < ncx; k++) {
            int x0 = maxi(gx + (cx0 + k) * cell, 0), x1 = mini(gx + (cx0 + k + 1) * cell, p->width);
            counts[k] = (uint32_t)(maxi(x1 - x0, 0) * (py1 - py0));
        }
        for (int y = py0; y < py1; y++) {
            const uint8_t *row = p->data + (size_t)y * p->stride;
            for (int k = 0; k < ncx; k++) {
                int x0 = maxi(gx + (cx0 + k) * cell, 0), x1 = mini(gx + (cx0 + k + 1) * cell, p->width);
                for (int x = x0; x < x1; x++)
                    for (int ch = 0; ch < c; ch++)
                        sums[k * c + ch] += row[x * c + ch];
            }
        }
        for (int k = 0; k < ncx; k++)
            for (int ch = 0; ch < c; ch++)
                mean[k * c + ch] = counts[k] ? (uint8_t)((sums[k * c + ch] + counts[k] / 2) / counts[k]) : 0;
        for (int j = my0; j < my1; j++) {
            const uint8_t *a = m->a + (size_t)j * m->stride;
            uint8_t *dst = p->data + (size_t)(m->y + j) * p->stride;
            for (int i = m->lo[j]; i < m->hi[j]; i++) {
                int al = a[i];
                if (!al)
                    continue;
                int x = m->x + i, k = floordiv(x - gx, cell) - cx0;
                for (int ch = 0; ch < c; ch++)
                    dst[x * c + ch] = img_mix(mean[k * c + ch], dst[x * c + ch], al);
            }
        }
    }
    return 0;
}

void img_fill_masked(img_plane *p, const img_alpha *m, const uint8_t *value)
{
    int c = p->channels;
    for (int j = 0; j < m->height; j++) {
        const uint8_t *a = m->a + (size_t)j * m->stride;
        uint8_t *dst = p->data + (size_t)(m->y + j) * p->stride + (size_t)m->x * c;
        for (int i = m->lo[j]; i < m->hi[j]; i++) {
            int al = a[i];
            if (al == 255) {
                for (int ch = 0; ch < c; ch++)
                    dst[i * c + ch] = value[ch];
            } else if (al) {
                for (int ch = 0; ch < c; ch++)
                    dst[i * c + ch] = img_mix(value[ch], dst[i * c + ch], al);
            }
        }
    }
}

void img_blend_masked(img_plane *p, const img_alpha *m, const uint8_t *src, int src_stride)
{
    int c = p->channels;
    for (int j = 0; j < m->height; j++) {
        const uint8_t *a = m->a + (size_t)j * m->stride;
        const uint8_t *s = src + (size_t)j * src_stride;
        uint8_t *dst = p->data + (size_t)(m->y + j) * p->stride + (size_t)m->x * c;
        for (int i = m->lo[j]; i < m->hi[j]; i++) {
            int al = a[i];
            if (!al)
                continue;
            for (int ch = 0; ch < c; ch++)
                dst[i * c + ch] = img_mix(s[i * c + ch], dst[i * c + ch], al);
        }
    }
}
