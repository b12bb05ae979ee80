/* face/crop — sample a region of a frame straight into a model's float input
 * tensor (NHWC, RGB), in the frame's own pixel format.
 *
 * Only the pixels the tensor samples are read and converted (bilinear, YUV →
 * RGB per sample, BT.601 limited range for YUV420P/NV12); the frame is never
 * converted or copied as a whole. No allocation: the caller owns `out`.
 *
 * Geometry is a 2x3 affine map from tensor pixel coordinates to frame pixel
 * coordinates (both continuous, pixel centres at +0.5):
 *     x = m[0]*u + m[1]*v + m[2],   y = m[3]*u + m[4]*v + m[5]. */
#ifndef PTIM_FACE_CROP_H
#define PTIM_FACE_CROP_H

#include <stdbool.h>

#include "img/image.h"

typedef enum crop_border {
    CROP_BORDER_ZERO,      /* outside the frame is black (letterbox padding) */
    CROP_BORDER_REPLICATE, /* outside the frame repeats the nearest edge pixel */
} crop_border;

/* Fill out[out_h][out_w][3] with value*scale + bias, value = R, G, B in 0..255
 * sampled at m(u+0.5, v+0.5). Returns 0, or -1 for a format it cannot read. */
int crop_to_tensor(const img_view *src, const float m[6], int out_w, int out_h, float scale,
                   float bias, crop_border border, float *out);

/* The same, every sample's taps computed on their own: the reference that
 * crop_to_tensor's shortcut for axis-aligned maps is tested against. */
int crop_to_tensor_per_sample(const img_view *src, const float m[6], int out_w, int out_h,
                              float scale, float bias, crop_border border, float *out);

/* The letterbox map that fits region (rx, ry, rw, rh) of the frame, aspect
 * ratio kept, centred in a size x size tensor (MediaPipe's keep-aspect-ratio
 * input). Writes the tensor→frame map to m. */
void crop_letterbox(float rx, float ry, float rw, float rh, int size, float m[6]);

/* The map for a square crop of side `side` frame pixels centred at (cx, cy),
 * rotated by `rotation` radians, onto a size x size tensor: the tensor's x
 * axis runs along (cos r, sin r) in the frame (y down), so a face whose eye
 * line has that direction comes out upright (MediaPipe's rotated rect). */
void crop_rotated_square(float cx, float cy, float side, float rotation, int size, float m[6]);

/* Apply m to a point; and invert m (returns false when singular). */
void crop_apply(const float m[6], float u, float v, float *x, float *y);
bool crop_invert(const float m[6], float inv[6]);

#endif
