/* img/image — image views and owned images in native pixel formats.
 *
 * An img_view does not own its pixels: it points into a decoder's frame (an
 * AVFrame's planes), a pool buffer or an img_image. Coordinates are pixels,
 * origin top-left. Chroma planes of YUV420P/NV12 are half size, rounded up. */
#ifndef PTIM_IMG_IMAGE_H
#define PTIM_IMG_IMAGE_H

#include <stddef.h>
#include <stdint.h>

typedef enum img_format {
    IMG_FMT_GRAY8,
    IMG_FMT_YUV420P, /* planes Y, U, V */
    IMG_FMT_NV12,    /* planes Y, interleaved UV */
    IMG_FMT_RGB24,   /* one packed plane, R G B */
    IMG_FMT_BGR24,   /* one packed plane, B G R */
    IMG_FMT_RGBA,    /* one packed plane, R G B A (overlay pictures) */
} img_format;

typedef struct img_view {
    img_format format;
    int width, height;
    uint8_t *data[3];
    int stride[3]; /* bytes per row of each plane */
} img_view;

/* An image that owns its pixels (one allocation). */
typedef struct img_image {
    img_view view;
    void *memory;
} img_image;

/* Allocates width x height in `format`; returns 0, or -1 on bad size or no memory. */
int img_image_alloc(img_image *img, img_format format, int width, int height);
void img_image_free(img_image *img);

/* One plane of a view as kernels see it: `channels` interleaved bytes per
 * pixel (1 for Y/U/V, 2 for NV12's UV, 3 for RGB/BGR, 4 for RGBA) and the
 * subsampling shift against plane 0 (1 for the chroma of YUV420P/NV12). */
typedef struct img_plane {
    uint8_t *data;
    int stride, width, height, channels, shift;
} img_plane;

/* Fills planes[] for `view` and returns how many there are (1..3). */
int img_view_planes(const img_view *view, img_plane planes[3]);

int img_format_planes(img_format format);
int img_format_bytes_per_pixel(img_format format); /* of plane 0 */
const char *img_format_name(img_format format);

#endif
