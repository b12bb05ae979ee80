/* img/image — allocation and format facts for img_view / img_image. */
#include "img/image.h"

#include <stdlib.h>
#include <string.h>

int img_format_planes(img_format f)
{
    switch (f) {
    case IMG_FMT_YUV420P: return 3;
    case IMG_FMT_NV12: return 2;
    default: return 1;
    }
}

int img_format_bytes_per_pixel(img_format f)
{
    switch (f) {
    case IMG_FMT_RGB24:
    case IMG_FMT_BGR24: return 3;
    case IMG_FMT_RGBA: return 4;
    default: return 1;
    }
}

const char *img_format_name(img_format f)
{
    static const char *names[] = {"gray8", "yuv420p", "nv12", "rgb24", "bgr24", "rgba"};
    return (f >= 0 && f <= IMG_FMT_RGBA) ? names[f] : "unknown";
}

int img_image_alloc(img_image *img, img_format format, int width, int height)
{
    memset(img, 0, sizeof *img);
    if (width <= 0 || height <= 0 || width > 32768 || height > 32768)
        return -1;
    int cw = (width + 1) / 2, ch = (height + 1) / 2;
    int stride0 = ((width * img_format_bytes_per_pixel(format)) + 31) & ~31;
    size_t size0 = (size_t)stride0 * height, size1 = 0, size2 = 0;
    int stride1 = 0, stride2 = 0;
    if (format == IMG_FMT_YUV420P) {
        stride1 = stride2 = (cw + 31) & ~31;
        size1 = size2 = (size_t)stride1 * ch;
    } else if (format == IMG_FMT_NV12) {
        stride1 = (2 * cw + 31) & ~31;
        size1 = (size_t)stride1 * ch;
    }
    /* 64 spare bytes: SIMD kernels may read a little past a row's end. */
    uint8_t *mem = aligned_alloc(64, (size0 + size1 + size2 + 64 + 63) & ~(size_t)63);
    if (!mem)
        return -1;
    img->memory = mem;
    img->view.format = format;
    img->view.width = width;
    img->view.height = height;
    img->view.data[0] = mem;
    img->view.stride[0] = stride0;
    if (size1) {
        img->view.data[1] = mem + size0;
        img->view.stride[1] = stride1;
    }
    if (size2) {
        img->view.data[2] = mem + size0 + size1;
        img->view.stride[2] = stride2;
    }
    return 0;
}

void img_image_free(img_image *img)
{
    if (!img)
        return;
    free(img->memory);
    memset(img, 0, sizeof *img);
}

int img_view_planes(const img_view *v, img_plane planes[3])
{
    int n = img_format_planes(v->format);
    int cw = (v->width + 1) / 2, ch = (v->height + 1) / 2;
    for (int i = 0; i < n; i++) {
        img_plane *p = &planes[i];
        p->data = v->data[i];
        p->stride = v->stride[i];
        p->shift = i > 0;
        p->width = i ? cw : v->width;
        p->height = i ? ch : v->height;
        p->channels = i ? (v->format == IMG_FMT_NV12 ? 2 : 1) : img_format_bytes_per_pixel(v->format);
    }
    return n;
}
