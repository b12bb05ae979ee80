/* face/tile_still — the rolling scan's windows that have not changed since
 * they were last scanned (see the header). */
#include "face/tile_still.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CELL 8

typedef struct cells {
    int x0, y0, w, h; /* in cells; w = 0: nothing taken */
    uint8_t *mean;
    size_t cap;
} cells;

typedef struct window_look {
    cells snap, cur; /* at the last scan; at the last look */
    bool valid;      /* snap holds a scanned look */
    int skips;       /* passes since that scan */
} window_look;

struct tile_still {
    window_look w[TILE_STILL_WINDOWS];
    uint32_t *sums; /* one cell row's sums */
    size_t sums_cap;
};

tile_still *tile_still_create(void) { return calloc(1, sizeof(tile_still)); }

void tile_still_destroy(tile_still *s)
{
    if (!s)
        return;
    for (int i = 0; i < TILE_STILL_WINDOWS; i++) {
        free(s->w[i].snap.mean);
        free(s->w[i].cur.mean);
    }
    free(s->sums);
    free(s);
}

void tile_still_reset(tile_still *s)
{
    for (int i = 0; i < TILE_STILL_WINDOWS; i++) {
        s->w[i].valid = false;
        s->w[i].skips = 0;
        s->w[i].snap.w = s->w[i].cur.w = 0;
    }
}

static int bytes_per_pixel(img_format f)
{
    return f == IMG_FMT_RGBA ? 4 : (f == IMG_FMT_RGB24 || f == IMG_FMT_BGR24) ? 3 : 1;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    void *n = realloc(*p, need * elem);
    if (!n)
        return false;
    *p = n;
    *cap = need;
    return true;
}

/* The mean of each 8x8 cell of plane 0 that rect touches, into c. */
static bool take(tile_still *s, const img_view *f, const float rect[4], cells *c)
{
    c->w = 0;
    int gw = (f->width + CELL - 1) / CELL, gh = (f->height + CELL - 1) / CELL;
    int x0 = (int)(rect[0] / CELL), y0 = (int)(rect[1] / CELL);
    int x1 = (int)((rect[0] + rect[2] + CELL - 1) / CELL), y1 = (int)((rect[1] + rect[3] + CELL - 1) / CELL);
    x0 = x0 < 0 ? 0 : x0;
    y0 = y0 < 0 ? 0 : y0;
    x1 = x1 > gw ? gw : x1;
    y1 = y1 > gh ? gh : y1;
    if (x1 <= x0 || y1 <= y0)
        return false;
    int w = x1 - x0, h = y1 - y0, bpp = bytes_per_pixel(f->format);
    if (!grow((void **)&c->mean, &c->cap, (size_t)w * h, 1) ||
        !grow((void **)&s->sums, &s->sums_cap, (size_t)w, sizeof *s->sums))
        return false;
    for (int cy = 0; cy < h; cy++) {
        int py0 = (y0 + cy) * CELL, py1 = py0 + CELL > f->height ? f->height : py0 + CELL;
        memset(s->sums, 0, (size_t)w * sizeof *s->sums);
        for (int y = py0; y < py1; y++) {
            const uint8_t *row = f->data[0] + (size_t)y * f->stride[0];
            for (int cx = 0; cx < w; cx++) {
                int a = (x0 + cx) * CELL, b = a + CELL > f->width ? f->width : a + CELL;
                uint32_t acc = 0;
                for (int i = a * bpp; i < b * bpp; i++)
                    acc += row[i];
                s->sums[cx] += acc;
            }
        }
        for (int cx = 0; cx < w; cx++) {
            int a = (x0 + cx) * CELL, b = a + CELL > f->width ? f->width : a + CELL;
            uint32_t n = (uint32_t)((b - a) * bpp * (py1 - py0));
            c->mean[(size_t)cy * w + cx] = (uint8_t)((s->sums[cx] + n / 2) / n);
        }
    }
    c->x0 = x0;
    c->y0 = y0;
    c->w = w;
    c->h = h;
    return true;
}

static bool same_look(const cells *a, const cells *b)
{
    if (a->w == 0 || a->x0 != b->x0 || a->y0 != b->y0 || a->w != b->w || a->h != b->h)
        return false;
    size_t n = (size_t)a->w * a->h;
    for (size_t i = 0; i < n; i++) {
        int d = (int)a->mean[i] - (int)b->mean[i];
        if (d > TILE_STILL_DIFF || d < -TILE_STILL_DIFF)
            return false;
    }
    return true;
}

bool tile_still_unchanged(tile_still *s, const img_view *frame, int win, const float rect[4])
{
    if (win < 0 || win >= TILE_STILL_WINDOWS)
        return false;
    window_look *l = &s->w[win];
    if (!take(s, frame, rect, &l->cur))
        return false;
    if (!l->valid || l->skips >= TILE_STILL_MAX_SKIPS || !same_look(&l->snap, &l->cur))
        return false;
    l->skips++;
    return true;
}

void tile_still_scanned(tile_still *s, const img_view *frame, int win, const float rect[4], bool take_now)
{
    if (win < 0 || win >= TILE_STILL_WINDOWS)
        return;
    window_look *l = &s->w[win];
    if (take_now && !take(s, frame, rect, &l->cur)) {
        l->valid = false;
        return;
    }
    if (l->cur.w == 0) {
        l->valid = false;
        return;
    }
    cells t = l->snap;
    l->snap = l->cur;
    l->cur = t;
    l->cur.w = 0;
    l->valid = true;
    l->skips = 0;
}
