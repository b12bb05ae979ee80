/* img/draw — debug overlays. */
#include "img/draw.h"

#include "img/color.h"

static void put(img_view *v, int x, int y, const uint8_t rgb[3])
{
    if (x < 0 || y < 0 || x >= v->width || y >= v->height)
        return;
    uint8_t *p = v->data[0] + (size_t)y * v->stride[0];
    uint8_t Y, U, V;
    switch (v->format) {
    case IMG_FMT_RGB24:
    case IMG_FMT_RGBA: {
        int b = img_format_bytes_per_pixel(v->format);
        p[x * b] = rgb[0], p[x * b + 1] = rgb[1], p[x * b + 2] = rgb[2];
        break;
    }
    case IMG_FMT_BGR24:
        p[x * 3] = rgb[2], p[x * 3 + 1] = rgb[1], p[x * 3 + 2] = rgb[0];
        break;
    case IMG_FMT_GRAY8:
        img_rgb_to_yuv(rgb[0], rgb[1], rgb[2], &Y, &U, &V);
        p[x] = Y;
        break;
    case IMG_FMT_YUV420P:
        img_rgb_to_yuv(rgb[0], rgb[1], rgb[2], &Y, &U, &V);
        p[x] = Y;
        v->data[1][(size_t)(y / 2) * v->stride[1] + x / 2] = U;
        v->data[2][(size_t)(y / 2) * v->stride[2] + x / 2] = V;
        break;
    case IMG_FMT_NV12:
        img_rgb_to_yuv(rgb[0], rgb[1], rgb[2], &Y, &U, &V);
        p[x] = Y;
        v->data[1][(size_t)(y / 2) * v->stride[1] + (x / 2) * 2] = U;
        v->data[1][(size_t)(y / 2) * v->stride[1] + (x / 2) * 2 + 1] = V;
        break;
    }
}

static void fill(img_view *v, int x0, int y0, int x1, int y1, const uint8_t rgb[3])
{
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > v->width) x1 = v->width;
    if (y1 > v->height) y1 = v->height;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            put(v, x, y, rgb);
}

void img_draw_dot(img_view *v, int x, int y, int r, const uint8_t rgb[3])
{
    fill(v, x - r, y - r, x + r + 1, y + r + 1, rgb);
}

void img_draw_rect(img_view *v, int x0, int y0, int x1, int y1, int t, const uint8_t rgb[3])
{
    if (t < 1)
        t = 1;
    fill(v, x0, y0, x1, y0 + t, rgb);
    fill(v, x0, y1 - t, x1, y1, rgb);
    fill(v, x0, y0, x0 + t, y1, rgb);
    fill(v, x1 - t, y0, x1, y1, rgb);
}

/* 3x5 digits, one row per 3 bits, top row first. */
static const uint16_t digits[10] = {
    0x7B6F, 0x2C97, 0x73E7, 0x73CF, 0x5BC9, 0x79CF, 0x79EF, 0x7249, 0x7BEF, 0x7BCF,
};

void img_draw_text(img_view *v, int x, int y, int scale, const char *text, const uint8_t rgb[3])
{
    if (scale < 1)
        scale = 1;
    for (; *text; text++) {
        if (*text < '0' || *text > '9')
            continue;
        uint16_t g = digits[*text - '0'];
        for (int row = 0; row < 5; row++)
            for (int col = 0; col < 3; col++)
                if (g & (1u << (14 - (row * 3 + col))))
                    fill(v, x + col * scale, y + row * scale, x + (col + 1) * scale, y + (row + 1) * scale, rgb);
        x += 4 * scale;
    }
}
