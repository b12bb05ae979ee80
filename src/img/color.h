/* img/color — colour conversions for a face's region only, and statistics.
 *
 * YUV is BT.601 limited range (Y 16..235, U/V 16..240), the convention of
 * SD/webcam video and of libswscale's default; ptim converts a region to RGB
 * and back with the same matrices, so a round trip is consistent. LAB is CIE
 * L*a*b* (D65, sRGB primaries and transfer), L 0..100, a/b about -128..127. */
#ifndef PTIM_IMG_COLOR_H
#define PTIM_IMG_COLOR_H

#include <stdint.h>

#include "img/alpha.h"
#include "img/image.h"

static inline uint8_t img_clamp_u8(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

static inline void img_rgb_to_yuv(int r, int g, int b, uint8_t *y, uint8_t *u, uint8_t *v)
{
    *y = img_clamp_u8(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16);
    *u = img_clamp_u8(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128);
    *v = img_clamp_u8(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128);
}

static inline void img_yuv_to_rgb(int y, int u, int v, uint8_t *r, uint8_t *g, uint8_t *b)
{
    int c = 298 * (y - 16), d = u - 128, e = v - 128;
    *r = img_clamp_u8((c + 409 * e + 128) >> 8);
    *g = img_clamp_u8((c - 100 * d - 208 * e + 128) >> 8);
    *b = img_clamp_u8((c + 516 * d + 128) >> 8);
}

/* Copies the region [x0,x0+w) x [y0,y0+h) (inside the frame) of any frame
 * format to packed RGB24 (chroma taken from the covering 2x2 block). */
void img_read_rgb(const img_view *frame, int x0, int y0, int w, int h, uint8_t *rgb, int rgb_stride);

/* Blends packed RGB24 `rgb` (covering the luma mask's region) into the frame
 * under the mask, in the frame's own format: luma per pixel, chroma of
 * YUV420P/NV12 from each 2x2 block's mean colour under `chroma` (the mask
 * from img_alpha_chroma; ignored for RGB/BGR frames). */
void img_blend_rgb(img_view *frame, const img_alpha *luma, const img_alpha *chroma,
                   const uint8_t *rgb, int rgb_stride);

/* Fill value of each plane for an RGB colour in the frame's format. */
void img_color_planes(img_format format, const uint8_t rgb[3], uint8_t value[3][4]);

/* sRGB (0..255) <-> LAB. Tables are built on first use (thread-safe). */
void img_rgb_to_lab(const uint8_t *rgb, float *lab);
void img_lab_to_rgb(const float *lab, uint8_t *rgb);

/* For pixels i in [lo, hi) with alpha[i] != 0: LAB = lab * gain + bias
 * (clipped to L 0..100, a/b -127..127), converted to RGB24 in rgb. */
void img_lab_row_to_rgb(const float *lab, uint8_t *rgb, const uint8_t *alpha, int lo, int hi,
                        const float gain[3], const float bias[3]);

/* Mean and standard deviation of LAB values weighted by (mask/255)^2, so the
 * opaque core of a feathered mask counts most (that is where colour shows). */
typedef struct img_lab_stats {
    double mean[3], std[3];
    double weight; /* sum of the weights (alpha/255) */
} img_lab_stats;

/* lab: 3 floats per pixel, `lab_stride` floats per row, covering the mask's
 * region; every `step`-th pixel in x and y is counted. */
void img_lab_stats_masked(const float *lab, int lab_stride, const img_alpha *m, int step,
                          img_lab_stats *out);
/* The same from packed RGB24 covering the mask's region. */
void img_rgb_lab_stats_masked(const uint8_t *rgb, int rgb_stride, const img_alpha *m, int step,
                              img_lab_stats *out);

#endif
