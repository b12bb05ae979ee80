/* img/warp — affine maps, triangle warps and similarity fits.
 * Coordinates are pixels with pixel (i, j) centred at (i+0.5, j+0.5);
 * sampling is bilinear with edge clamping. */
#ifndef PTIM_IMG_WARP_H
#define PTIM_IMG_WARP_H

#include <stdint.h>

/* A 2x3 affine map m: (x, y) -> (m0 x + m1 y + m2, m3 x + m4 y + m5). */
/* The affine map taking triangle `from` onto triangle `to`; -1 when `from` is degenerate. */
int img_affine_from_triangles(const float from[3][2], const float to[3][2], float m[6]);
int img_affine_invert(const float m[6], float inv[6]);
/* Least-squares similarity (rotation, uniform scale, shift) taking src[i]
 * to dst[i] (Umeyama in 2-D); -1 when the points are degenerate. */
int img_similarity_fit(const float (*src)[2], const float (*dst)[2], int n, float m[6]);

/* For each pixel of the region [rx, rx+rw) x [ry, ry+rh) (destination
 * pixels, region-relative output) whose centre lies in triangle `dtri`
 * (edges inclusive, so neighbours leave no gaps), sample `src` (3 floats per
 * pixel, sw x sh, `ss` floats per row) at the matching point of `stri`, write
 * 3 floats to dst (`ds` floats per row) and 255 to cov (if not NULL). */
void img_warp_triangle_f3(const float *src, int sw, int sh, int ss, const float stri[3][2],
                          const float dtri[3][2], float *dst, int ds, uint8_t *cov, int cs, int rx,
                          int ry, int rw, int rh);

/* dst (dw x dh, c channels) = src (sw x sh, c channels) sampled at m(x, y)
 * for every destination pixel centre (m maps destination to source). Pixels
 * mapping outside the source get 0 (and valid[] = 0 when valid is given). */
void img_warp_affine_u8(const uint8_t *src, int sw, int sh, int ss, int c, const float m[6],
                        uint8_t *dst, int dw, int dh, int ds, uint8_t *valid);

#endif
