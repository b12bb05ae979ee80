/* img/alpha — coverage masks (0..255) over a rectangular region of a plane:
 * the "where" of every masking mode. A mask is rasterised from a shape
 * (convex polygon, ellipse) with a soft inner edge, so that every pixel the
 * shape does not cover stays exactly 0 and the frame there is never touched.
 *
 * Coordinates are plane pixels, pixel (i, j) has its centre at (i+0.5, j+0.5).
 * The region is clipped to the plane; its origin is aligned down to even
 * numbers so a luma mask maps exactly onto 2x2-subsampled chroma. */
#ifndef PTIM_IMG_ALPHA_H
#define PTIM_IMG_ALPHA_H

#include <stdint.h>

#include "img/scratch.h"

typedef struct img_alpha {
    int x, y;           /* region origin in plane pixels */
    int width, height;  /* region size; 0 when empty */
    int stride;         /* bytes per row of a[] */
    uint8_t *a;         /* width x height coverage, 0 = untouched, 255 = replaced */
    int *lo, *hi;       /* per row: every nonzero value lies in columns [lo, hi) */
    img_scratch mem;    /* owns a, lo and hi */
} img_alpha;

/* Makes the region [x0,x1) x [y0,y1) clipped to a plane_w x plane_h plane
 * (origin aligned down to even) and clears it. Returns 0 when the region is
 * not empty, 1 when it is (nothing to draw), -1 when out of memory. */
int img_alpha_begin(img_alpha *m, float x0, float y0, float x1, float y1, int plane_w, int plane_h);

/* Convex polygon (either winding): coverage ramps from 0 at depth `inset`
 * inside the edge to 255 at depth inset+feather (pixels). feather <= 0 gives
 * a hard edge. Overwrites the mask. */
void img_alpha_polygon(img_alpha *m, const float (*pts)[2], int n, float inset, float feather);
/* Axis-aligned ellipse, the same ramp measured inward from its outline. */
void img_alpha_ellipse(img_alpha *m, float cx, float cy, float rx, float ry, float feather);
/* Multiplies the mask by (1 - polygon coverage): cuts a convex hole. */
void img_alpha_cut_polygon(img_alpha *m, const float (*pts)[2], int n, float inset, float feather);
/* Multiplies every value by k (0..1). */
void img_alpha_scale(img_alpha *m, float k);
/* Recomputes lo/hi from the values (after editing a[] directly). */
void img_alpha_update_spans(img_alpha *m);
/* The mask of the half-resolution chroma planes of a luma mask: each value
 * is the mean of its 2x2 luma values (those past the plane's edge left out). */
int img_alpha_chroma(const img_alpha *luma, int luma_plane_w, int luma_plane_h, img_alpha *chroma);
/* Number of nonzero values (tests, statistics). */
long img_alpha_count(const img_alpha *m);
void img_alpha_free(img_alpha *m);

/* Convex hull of n points (gift wrapping: no allocation); writes at most n
 * points to hull in order and returns their number (0 when n == 0). */
int img_convex_hull(const float (*pts)[2], int n, float (*hull)[2]);
/* Scales points about (cx, cy) by k, in place. */
void img_points_scale(float (*pts)[2], int n, float cx, float cy, float k);

#endif
