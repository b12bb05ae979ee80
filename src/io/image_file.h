/* io/image_file — read and write single pictures (PNG, JPEG, BMP, …) with FFmpeg. */
#ifndef PTIM_IO_IMAGE_FILE_H
#define PTIM_IO_IMAGE_FILE_H

#include "core/error.h"
#include "img/image.h"

/* Decode the first frame of `path` into a newly allocated image of `format`
 * (RGB24, BGR24, RGBA, GRAY8, YUV420P). The caller frees it with img_image_free. */
int io_image_load(const char *path, img_format format, img_image *out, ptim_error *err);
/* Encode `img` to `path`; the format comes from the extension (.png, .jpg, .bmp). */
int io_image_save(const char *path, const img_view *img, ptim_error *err);

#endif
