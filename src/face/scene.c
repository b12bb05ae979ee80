/* face/scene — luma grid signature; see scene.h. */
#include "face/scene.h"

#include <math.h>
#include <stdlib.h>

static int luma_at(const img_view *f, int x, int y)
{
    const uint8_t *row = f->data[0] + (size_t)y * (size_t)f->stride[0];
    switch (f->format) {
    case IMG_FMT_RGB24:
        row += 3 * x;
        return (77 * row[0] + 150 * row[1] + 29 * row[2]) >> 8;
    case IMG_FMT_BGR24:
        row += 3 * x;
        return (29 * row[0] + 150 * row[1] + 77 * row[2]) >> 8;
    case IMG_FMT_RGBA:
        row += 4 * x;
        return (77 * row[0] + 150 * row[1] + 29 * row[2]) >> 8;
    default: /* GRAY8, YUV420P, NV12: plane 0 is luma */
        return row[x];
    }
}

void scene_signature_take(scene_signature *sig, const img_view *frame)
{
    sig->width = frame->width;
    sig->height = frame->height;
    const int n = SCENE_SAMPLES;
    for (int r = 0; r < SCENE_ROWS; r++)
        for (int c = 0; c < SCENE_COLS; c++) {
            int sum = 0;
            for (int j = 0; j < n; j++) {
                /* Sample points at the centres of an n x n split of the cell. */
                int y = (int)(((int64_t)(r * n + j) * 2 + 1) * frame->height / (2 * SCENE_ROWS * n));
                for (int i = 0; i < n; i++) {
                    int x = (int)(((int64_t)(c * n + i) * 2 + 1) * frame->width / (2 * SCENE_COLS * n));
                    sum += luma_at(frame, x, y);
                }
            }
            sig->cell[r * SCENE_COLS + c] = (uint8_t)(sum / (n * n));
        }
}

float scene_signature_distance(const scene_signature *a, const scene_signature *b)
{
    if (a->width <= 0 || a->width != b->width || a->height != b->height)
        return 1.0f;
    const int cells = SCENE_ROWS * SCENE_COLS;
    int shift = 0;
    for (int i = 0; i < cells; i++)
        shift += (int)b->cell[i] - (int)a->cell[i];
    float mean_shift = (float)shift / cells;
    float sum = 0.0f;
    for (int i = 0; i < cells; i++)
        sum += fabsf((float)b->cell[i] - (float)a->cell[i] - mean_shift);
    return sum / cells / 255.0f;
}
