/* Shared helpers for the nn tests: model paths, pictures as model inputs,
 * BlazeFace short-range decoding of the best box. */
#ifndef PTIM_TESTS_NN_TEST_UTIL_H
#define PTIM_TESTS_NN_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "img/image.h"

static inline const char *nn_test_model(const char *name)
{
    static char path[4][4096];
    static int k;
    k = (k + 1) % 4;
    const char *dir = getenv("PTIM_SYSTEM_MODEL_DIR");
    snprintf(path[k], sizeof path[k], "%s/%s", dir ? dir : "models", name);
    return path[k];
}

static inline const char *nn_test_sample(const char *name)
{
    static char path[4096];
    const char *dir = getenv("PTIM_SAMPLES_DIR");
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "samples", name);
    return path;
}

/* Bilinear sample of an RGB24 picture's region [x0,x0+w)×[y0,y0+h) into an
 * out×out NHWC float tensor, value = pixel * scale + offset. Outside the
 * picture reads as black (a plain letterbox). */
static inline void nn_test_crop(const img_view *v, float x0, float y0, float w, float h, int out, float scale,
                                float offset, float *dst)
{
    for (int oy = 0; oy < out; oy++)
        for (int ox = 0; ox < out; ox++) {
            float fx = x0 + (ox + 0.5f) * w / out - 0.5f, fy = y0 + (oy + 0.5f) * h / out - 0.5f;
            int ix = (int)floorf(fx), iy = (int)floorf(fy);
            float ax = fx - ix, ay = fy - iy;
            for (int c = 0; c < 3; c++) {
                float acc = 0;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++) {
                        int sx = ix + dx, sy = iy + dy;
                        float p = 0;
                        if (sx >= 0 && sy >= 0 && sx < v->width && sy < v->height)
                            p = v->data[0][sy * v->stride[0] + sx * 3 + c];
                        acc += p * (dx ? ax : 1 - ax) * (dy ? ay : 1 - ay);
                    }
                dst[((size_t)oy * out + ox) * 3 + c] = acc * scale + offset;
            }
        }
}

/* Best BlazeFace short-range detection: score (sigmoid) and box in input
 * pixels of the 128×128 tensor. Anchors: stride 8 (2 per cell), stride 16 (6). */
static inline float nn_test_best_face(const float *reg, const float *cls, float box[4])
{
    int idx = 0, best = -1;
    float best_logit = -1e30f;
    float acx[896], acy[896];
    for (int layer = 0; layer < 2; layer++) {
        int grid = layer ? 8 : 16, per = layer ? 6 : 2;
        for (int y = 0; y < grid; y++)
            for (int x = 0; x < grid; x++)
                for (int a = 0; a < per; a++, idx++) {
                    acx[idx] = (x + 0.5f) / grid;
                    acy[idx] = (y + 0.5f) / grid;
                }
    }
    for (int i = 0; i < 896; i++)
        if (cls[i] > best_logit) {
            best_logit = cls[i];
            best = i;
        }
    const float *r = reg + (size_t)best * 16;
    float cx = acx[best] * 128 + r[0], cy = acy[best] * 128 + r[1];
    box[0] = cx - r[2] / 2;
    box[1] = cy - r[3] / 2;
    box[2] = r[2];
    box[3] = r[3];
    return 1.0f / (1.0f + expf(-best_logit));
}

#endif
