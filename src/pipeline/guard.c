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

/* Blur one plane of `w` x `h` samples of `ch` interleaved components. */
static int blur_plane(const uint8_t *src, int sstride, uint8_t *dst, int dstride, int w, int h,
                      int ch, int cell, ptim_cover_scratch *s)
{
    int cw = (w + cell - 1) / cell, chh = (h + cell - 1) / cell;
    if (reserve(&s->cells, &s->cells_cap, (size_t)cw * chh * ch) < 0 ||
        reserve(&s->xmap, &s->xmap_cap, (size_t)w) < 0)
        return -1;
    int32_t *cells = s->cells;
    memset(cells, 0, (size_t)cw * chh * ch * sizeof *cells);
    for (int y = 0; y < h; y++) {
        const uint8_t *row = src + (size_t)y * sstride;
        int32_t *crow = cells + (size_t)(y / cell) * cw * ch;
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++)
                crow[(x / cell) * ch + c] += row[x * ch + c];
    }
    for (int cy = 0; cy < chh; cy++)
        for (int cx = 0; cx < cw; cx++) {
            int bw = (cx + 1) * cell <= w ? cell : w - cx * cell;
            int bh = (cy + 1) * cell <= h ? cell : h - cy * cell;
            int n = bw * bh;
            for (int c = 0; c < ch; c++) {
                int32_t *v = &cells[((size_t)cy * cw + cx) * ch + c];
                *v = (*v + n / 2) / n;
            }
        }
    /* Interpolate between cell centres; weights in 1/256. */
    for (int x = 0; x < w; x++) {
        int fx = ((2 * x + 1) * 256) / (2 * cell) - 128; /* position in cell units, 8.8 */
        if (fx < 0)
            fx = 0;
        int i = fx >> 8, wgt = fx & 255;
        if (i >= cw - 1) {
            i = cw - 1;
            wgt = 0;
        }
        s->xmap[x] = i << 8 | wgt;
    }
    for (int y = 0; y < h; y++) {
        int fy = ((2 * y + 1) * 256) / (2 * cell) - 128;
        if (fy < 0)
            fy = 0;
        int j = fy >> 8, wy = fy & 255;
        if (j >= chh - 1) {
            j = chh - 1;
            wy = 0;
        }
        const int32_t *r0 = cells + (size_t)j * cw * ch;
        const int32_t *r1 = j + 1 < chh ? r0 + (size_t)cw * ch : r0;
        uint8_t *out = dst + (size_t)y * dstride;
        for (int x = 0; x < w; x++) {
            int i = s->xmap[x] >> 8, wx = s->xmap[x] & 255;
            int i1 = i + 1 < cw ? i + 1 : i;
            for (int c = 0; c < ch; c++) {
                int top = r0[i * ch + c] * (256 - wx) + r0[i1 * ch + c] * wx;
                int bot = r1[i * ch + c] * (256 - wx) + r1[i1 * ch + c] * wx;
                out[x * ch + c] = (uint8_t)((top * (256 - wy) + bot * wy + 32768) >> 16);
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
