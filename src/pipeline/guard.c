/* pipeline/guard — the decision and the whole-frame covers.
 * The blur is a block average followed by bilinear interpolation between
 * block centres: as unrecognisable as a huge Gaussian and O(pixels), so a
 * covered frame costs about as much as a masked one. */
#include "pipeline/guard.h"

#include <stdlib.h>
#include <string.h>

ptim_guard_action ptim_guard_check(const ptim_guard_policy *p, bool analyzed,
                                   int64_t result_age_ms, ptim_guard_reason *reason)
{
    *reason = PTIM_GUARD_REASON_NONE;
    if (!analyzed)
        *reason = PTIM_GUARD_REASON_NOT_ANALYZED;
    else if (result_age_ms < 0 || result_age_ms == PTIM_GUARD_AGE_EXPIRED ||
             (p->max_result_age_ms >= 0 && result_age_ms > p->max_result_age_ms))
        *reason = PTIM_GUARD_REASON_STALE;
    if (*reason == PTIM_GUARD_REASON_NONE)
        return PTIM_GUARD_MASKED;
    return p->unsafe_passthrough ? PTIM_GUARD_PASSTHROUGH : PTIM_GUARD_COVER;
}

int ptim_cover_parse(const char *name)
{
    if (!strcmp(name, "blur_frame"))
        return PTIM_COVER_BLUR;
    if (!strcmp(name, "black_frame"))
        return PTIM_COVER_BLACK;
    if (!strcmp(name, "drop"))
        return PTIM_COVER_DROP;
    return -1;
}

const char *ptim_cover_name(ptim_cover c)
{
    static const char *names[] = {"blur_frame", "black_frame", "drop"};
    return (unsigned)c < 3 ? names[c] : "unknown";
}

const char *ptim_guard_reason_name(ptim_guard_reason r)
{
    static const char *names[] = {"none", "not_analyzed", "stale_result", "render_failed"};
    return (unsigned)r < PTIM_GUARD_REASON__COUNT ? names[r] : "unknown";
}

void ptim_cover_scratch_free(ptim_cover_scratch *s)
{
    free(s->cells);
    free(s->xmap);
    free(s->row);
    memset(s, 0, sizeof *s);
}

static int reserve(int32_t **p, size_t *cap, size_t n)
{
    if (*cap >= n)
        return 0;
    int32_t *q = realloc(*p, n * sizeof *q);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

/* Position of sample i's centre in cell units minus one half, as 8.8 fixed
 * point, split into the left cell and the weight of the right one. */
static void cell_coord(int i, int cell, int n_cells, int *left, int *weight)
{
    int f = ((2 * i + 1) * 256) / (2 * cell) - 128;
    if (f < 0)
        f = 0;
    *left = f >> 8;
    *weight = f & 255;
    if (*left >= n_cells - 1) {
        *left = n_cells - 1;
        *weight = 0;
    }
}

/* Blur one plane of `w` x `h` samples of `ch` interleaved components:
 * average cell x cell blocks, then interpolate bilinearly between block
 * centres (vertically once per row into s->row, horizontally per sample). */
static int blur_plane(const uint8_t *src, int sstride, uint8_t *dst, int dstride, int w, int h,
                      int ch, int cell, ptim_cover_scratch *s)
{
    int cw = (w + cell - 1) / cell, chh = (h + cell - 1) / cell, n = cw * ch;
    if (reserve(&s->cells, &s->cells_cap, (size_t)n * chh) < 0 ||
        reserve(&s->xmap, &s->xmap_cap, (size_t)w) < 0 || reserve(&s->row, &s->row_cap, (size_t)n + ch) < 0)
        return -1;
    int32_t *cells = s->cells;
    memset(cells, 0, (size_t)n * chh * sizeof *cells);
    for (int y = 0; y < h; y++) {
        const uint8_t *r = src + (size_t)y * sstride;
        int32_t *crow = cells + (size_t)(y / cell) * n;
        for (int cx = 0; cx < cw; cx++) {
            int x0 = cx * cell, x1 = x0 + cell < w ? x0 + cell : w;
            for (int c = 0; c < ch; c++) {
                int32_t sum = 0;
                for (int x = x0; x < x1; x++)
                    sum += r[x * ch + c];
                crow[cx * ch + c] += sum;
            }
        }
    }
    for (int cy = 0; cy < chh; cy++) {
        int bh = (cy + 1) * cell <= h ? cell : h - cy * cell;
        for (int cx = 0; cx < cw; cx++) {
            int bw = (cx + 1) * cell <= w ? cell : w - cx * cell, area = bw * bh;
            for (int c = 0; c < ch; c++) {
                int32_t *v = &cells[(size_t)cy * n + cx * ch + c];
                *v = (*v + area / 2) / area;
            }
        }
    }
    for (int x = 0; x < w; x++) {
        int i, wx;
        cell_coord(x, cell, cw, &i, &wx);
        s->xmap[x] = i << 8 | wx;
    }
    int32_t *row = s->row;
    for (int y = 0; y < h; y++) {
        int j, wy;
        cell_coord(y, cell, chh, &j, &wy);
        const int32_t *r0 = cells + (size_t)j * n;
        const int32_t *r1 = j + 1 < chh ? r0 + n : r0;
        for (int k = 0; k < n; k++)
            row[k] = r0[k] * (256 - wy) + r1[k] * wy; /* value x 256 */
        for (int c = 0; c < ch; c++) /* one spare cell: the right neighbour of the last */
            row[n + c] = row[n - ch + c];
        uint8_t *out = dst + (size_t)y * dstride;
        if (ch == 1) {
            for (int x = 0; x < w; x++) {
                int i = s->xmap[x] >> 8, wx = s->xmap[x] & 255;
                out[x] = (uint8_t)((row[i] * (256 - wx) + row[i + 1] * wx + 32768) >> 16);
            }
        } else {
            for (int x = 0; x < w; x++) {
                int i = (s->xmap[x] >> 8) * ch, wx = s->xmap[x] & 255;
                for (int c = 0; c < ch; c++)
                    out[x * ch + c] =
                        (uint8_t)((row[i + c] * (256 - wx) + row[i + ch + c] * wx + 32768) >> 16);
            }
        }
    }
    return 0;
}

static void fill_plane(uint8_t *dst, int stride, int bytes, int h, uint8_t v)
{
    for (int y = 0; y < h; y++)
        memset(dst + (size_t)y * stride, v, (size_t)bytes);
}

int ptim_cover_frame(const img_view *src, img_view *dst, ptim_cover cover, bool full_range,
                     int cells_across, ptim_cover_scratch *scratch)
{
    if (cover == PTIM_COVER_DROP)
        return -1;
    int w = src->width, h = src->height, cw = (w + 1) / 2, chh = (h + 1) / 2;
    if (cells_across < 2)
        cells_across = 2;
    int cell = (w > h ? w : h) / cells_across;
    if (cell < 4)
        cell = 4;
    int ccell = cell / 2 > 2 ? cell / 2 : 2;
    uint8_t black_y = full_range ? 0 : 16;
    switch (src->format) {
    case IMG_FMT_YUV420P:
        if (cover == PTIM_COVER_BLACK) {
            fill_plane(dst->data[0], dst->stride[0], w, h, black_y);
            fill_plane(dst->data[1], dst->stride[1], cw, chh, 128);
            fill_plane(dst->data[2], dst->stride[2], cw, chh, 128);
            return 0;
        }
        return blur_plane(src->data[0], src->stride[0], dst->data[0], dst->stride[0], w, h, 1, cell, scratch) ||
               blur_plane(src->data[1], src->stride[1], dst->data[1], dst->stride[1], cw, chh, 1, ccell, scratch) ||
               blur_plane(src->data[2], src->stride[2], dst->data[2], dst->stride[2], cw, chh, 1, ccell, scratch)
                   ? -1 : 0;
    case IMG_FMT_NV12:
        if (cover == PTIM_COVER_BLACK) {
            fill_plane(dst->data[0], dst->stride[0], w, h, black_y);
            fill_plane(dst->data[1], dst->stride[1], 2 * cw, chh, 128);
            return 0;
        }
        return blur_plane(src->data[0], src->stride[0], dst->data[0], dst->stride[0], w, h, 1, cell, scratch) ||
               blur_plane(src->data[1], src->stride[1], dst->data[1], dst->stride[1], cw, chh, 2, ccell, scratch)
                   ? -1 : 0;
    case IMG_FMT_GRAY8:
    case IMG_FMT_RGB24:
    case IMG_FMT_BGR24:
    case IMG_FMT_RGBA: {
        int ch = img_format_bytes_per_pixel(src->format);
        if (cover == PTIM_COVER_BLACK) {
            uint8_t v = src->format == IMG_FMT_GRAY8 ? black_y : 0;
            fill_plane(dst->data[0], dst->stride[0], w * ch, h, v);
            if (src->format == IMG_FMT_RGBA)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        dst->data[0][(size_t)y * dst->stride[0] + x * 4 + 3] = 255;
            return 0;
        }
        return blur_plane(src->data[0], src->stride[0], dst->data[0], dst->stride[0], w, h, ch, cell, scratch);
    }
    }
    return -1;
}
