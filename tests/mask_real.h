/* Helpers shared by the masking tests on the real samples (not a test itself). */
#ifndef PTIM_TESTS_MASK_REAL_H
#define PTIM_TESTS_MASK_REAL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face/detector.h"
#include "face/landmarks.h"
#include "face/masker.h"
#include "img/image.h"
#include "io/image_file.h"

static const char *sample_path(const char *name)
{
    static char path[4][4096];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", getenv("PTIM_SAMPLES_DIR"), name);
    return path[k];
}

static ptim_config *real_config(const char *a, const char *b)
{
    const char *kv[3] = {"performance.max_processing_workers=1"};
    int n = 1;
    if (a) kv[n++] = a;
    if (b) kv[n++] = b;
    ptim_config *cfg;
    ptim_error err;
    if (ptim_config_new(kv, n, &cfg, &err)) {
        fprintf(stderr, "config: %s\n", err.message);
        abort();
    }
    return cfg;
}

static void image_copy(img_image *dst, const img_view *src)
{
    if (img_image_alloc(dst, src->format, src->width, src->height))
        abort();
    img_plane a[3], b[3];
    int n = img_view_planes(src, a);
    img_view_planes(&dst->view, b);
    for (int i = 0; i < n; i++)
        for (int y = 0; y < a[i].height; y++)
            memcpy(b[i].data + (size_t)y * b[i].stride, a[i].data + (size_t)y * a[i].stride,
                   (size_t)a[i].width * a[i].channels);
}

/* Detection plus FaceMesh twice (the second crop from the first landmarks). */
static int find_faces(face_detector *d, face_landmarker *lm, const img_view *img, face_list *out)
{
    ptim_error err;
    if (face_detector_detect(d, img, out, &err)) {
        fprintf(stderr, "detect: %s\n", err.message);
        return -1;
    }
    for (int i = 0; i < out->count; i++) {
        face *f = &out->faces[i];
        f->id = i + 1;
        face_roi roi = face_roi_from_detection(f);
        for (int pass = 0; pass < 2; pass++) {
            if (face_landmarker_run(lm, img, &roi, f, &err)) {
                fprintf(stderr, "landmarks: %s\n", err.message);
                return -1;
            }
            roi = face_roi_from_landmarks(f);
        }
    }
    return 0;
}


/* Signed distance of (x, y) inside a convex polygon (negative outside, exact
 * along edges, an underestimate of the outside distance near corners). */
static float convex_depth(const float (*p)[2], int n, float x, float y)
{
    double area = 0;
    for (int i = 0; i < n; i++)
        area += (double)p[i][0] * p[(i + 1) % n][1] - (double)p[(i + 1) % n][0] * p[i][1];
    float sg = area > 0 ? 1.f : -1.f, d = INFINITY;
    for (int i = 0; i < n; i++) {
        const float *a = p[i], *b = p[(i + 1) % n];
        float ex = b[0] - a[0], ey = b[1] - a[1], len = sqrtf(ex * ex + ey * ey);
        if (len < 1e-6f)
            continue;
        float e = sg * (-(ey) * (x - a[0]) + ex * (y - a[1])) / len;
        d = fminf(d, e);
    }
    return d;
}

/* The landmark hull of f, in order (gift wrapping, written here on purpose:
 * the test does not reuse the code it checks). */
static int landmark_hull(const face *f, float (*hull)[2])
{
    int start = 0, h = 0;
    for (int i = 1; i < FACE_LANDMARKS; i++)
        if (f->landmarks[i][0] < f->landmarks[start][0])
            start = i;
    int p = start;
    do {
        hull[h][0] = f->landmarks[p][0], hull[h][1] = f->landmarks[p][1];
        h++;
        int q = (p + 1) % FACE_LANDMARKS;
        for (int i = 0; i < FACE_LANDMARKS; i++) {
            float ax = f->landmarks[q][0] - f->landmarks[p][0], ay = f->landmarks[q][1] - f->landmarks[p][1];
            float bx = f->landmarks[i][0] - f->landmarks[p][0], by = f->landmarks[i][1] - f->landmarks[p][1];
            float cr = ax * by - ay * bx;
            if (cr < 0 || (cr == 0 && bx * bx + by * by > ax * ax + ay * ay))
                q = i;
        }
        p = q;
    } while (p != start && h < FACE_LANDMARKS);
    return h;
}

#endif
