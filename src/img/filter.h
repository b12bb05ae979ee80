/* img/filter — the anonymizing kernels, one plane at a time, under a mask.
 *
 * Each kernel works on an img_plane (Y, U, V, NV12's UV or packed RGB) and an
 * img_alpha of that plane's resolution; pixels whose mask value is 0 are
 * never written. Work buffers come from the caller's img_scratch (grown
 * rarely), so a call allocates nothing in steady state. */
#ifndef PTIM_IMG_FILTER_H
#define PTIM_IMG_FILTER_H

#include <stdint.h>

#include "img/alpha.h"
#include "img/image.h"
#include "img/scratch.h"

/* Radius r of the box filter that, applied three times, has standard
 * deviation closest to sigma (three passes of radius r: sigma^2 = r(r+1)). */
int img_box_radius(float sigma);

/* Three passes of a box filter of radius r in x, then in y, over the region
 * grown by 3r (clipped to the plane; edges replicate), blended into the plane
 * under the mask. From radius IMG_BLUR_HALF_MIN_R on, the same spread is
 * computed at half resolution and sampled back bilinearly (a quarter of the
 * work, within a couple of levels of the full-resolution result). Returns -1
 * when out of memory (nothing written then). */
#define IMG_BLUR_HALF_MIN_R 6
int img_blur_masked(img_plane *p, const img_alpha *m, int r, img_scratch *work);

/* Cells of `cell` x `cell` plane pixels on a grid anchored at (gx, gy); each
 * cell becomes the mean of its pixels inside the plane (all of them, masked
 * or not), blended in under the mask. */
int img_pixelate_masked(img_plane *p, const img_alpha *m, int cell, int gx, int gy, img_scratch *work);

/* A constant pixel value (p->channels bytes) blended in under the mask. */
void img_fill_masked(img_plane *p, const img_alpha *m, const uint8_t *value);

/* src (p->channels bytes per pixel, src_stride bytes per row) covers the
 * mask's region exactly; blended in under the mask. */
void img_blend_masked(img_plane *p, const img_alpha *m, const uint8_t *src, int src_stride);

/* Reference-free helper for tests and the blur: three horizontal then three
 * vertical box passes of radius r over a w x h block with c channels, edges
 * replicated; dst may not alias src. */
int img_box_blur3(const uint8_t *src, int src_stride, uint8_t *dst, int dst_stride, int w, int h,
                  int c, int r, img_scratch *work);

/* round((v * a + p * (255 - a)) / 255) */
static inline uint8_t img_mix(int v, int p, int a)
{
    int t = v * a + p * (255 - a) + 128;
    return (uint8_t)((t + (t >> 8)) >> 8);
}

#endif
