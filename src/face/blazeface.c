/* face/blazeface — anchors, decoding and weighted NMS (MediaPipe's
 * SsdAnchorsCalculator, TensorsToDetectionsCalculator and
 * NonMaxSuppressionCalculator in WEIGHTED mode, for BlazeFace's options). */
#include "face/blazeface.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int bf_input_size(bf_range range) { return range == BF_FULL_RANGE ? 192 : 128; }

int bf_anchors(bf_range range, float *xy, int capacity)
{
    /* Layers sharing a stride share one grid; each contributes its anchors per
     * cell (short range: aspect 1.0 plus one interpolated scale = 2 per layer). */
    static const int short_strides[] = {8, 16, 16, 16};
    static const int full_strides[] = {4};
    const int *strides = range == BF_FULL_RANGE ? full_strides : short_strides;
    int layers = range == BF_FULL_RANGE ? 1 : 4;
    int per_layer = range == BF_FULL_RANGE ? 1 : 2;
    int size = bf_input_size(range);
    int n = 0;
    for (int l = 0; l < layers;) {
        int same = 0;
        while (l + same < layers && strides[l + same] == strides[l])
            same++;
        int fm = (size + strides[l] - 1) / strides[l];
        int per_cell = same * per_layer;
        for (int y = 0; y < fm; y++)
            for (int x = 0; x < fm; x++)
                for (int a = 0; a < per_cell; a++) {
                    if (n >= capacity)
                        return -1;
                    xy[2 * n] = (x + 0.5f) / fm;
                    xy[2 * n + 1] = (y + 0.5f) / fm;
                    n++;
                }
        l += same;
    }
    return n;
}

static float score_of(float logit)
{
    if (logit > 100.0f)
        logit = 100.0f;
    if (logit < -100.0f)
        logit = -100.0f;
    return 1.0f / (1.0f + expf(-logit));
}

int bf_decode(const float *regressors, const float *logits, const float *anchors_xy, int n,
              int input_size, float threshold, bf_det *out, int capacity)
{
    int count = 0;
    float inv = 1.0f / (float)input_size;
    for (int i = 0; i < n; i++) {
        float score = score_of(logits[i]);
        if (score < threshold)
            continue;
        int slot = count;
        if (count == capacity) {
            /* Full: replace the weakest kept one if this one is better. */
            int worst = 0;
            for (int k = 1; k < count; k++)
                if (out[k].score < out[worst].score)
                    worst = k;
            if (capacity == 0 || out[worst].score >= score)
                continue;
            slot = worst;
        } else {
            count++;
        }
        const float *r = regressors + (size_t)i * BF_REGRESSORS;
        float ax = anchors_xy[2 * i], ay = anchors_xy[2 * i + 1];
        float cx = r[0] * inv + ax, cy = r[1] * inv + ay;
        float w = r[2] * inv, h = r[3] * inv;
        bf_det *d = &out[slot];
        d->score = score;
        d->box[0] = cx - 0.5f * w;
        d->box[1] = cy - 0.5f * h;
        d->box[2] = cx + 0.5f * w;
        d->box[3] = cy + 0.5f * h;
        for (int k = 0; k < FACE_KEYPOINTS; k++) {
            d->kp[k][0] = r[4 + 2 * k] * inv + ax;
            d->kp[k][1] = r[5 + 2 * k] * inv + ay;
        }
    }
    return count;
}

float bf_iou(const float a[4], const float b[4])
{
    float ix = fminf(a[2], b[2]) - fmaxf(a[0], b[0]);
    float iy = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
    if (ix <= 0.0f || iy <= 0.0f)
        return 0.0f;
    float inter = ix * iy;
    float uni = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    return uni > 0.0f ? inter / uni : 0.0f;
}

static int by_score_desc(const void *pa, const void *pb)
{
    const bf_det *a = pa, *b = pb;
    return (a->score < b->score) - (a->score > b->score);
}

int bf_weighted_nms(bf_det *dets, int n, float iou)
{
    if (n <= 0)
        return 0;
    qsort(dets, (size_t)n, sizeof *dets, by_score_desc);
    /* dets[0..head) are merged results; dets[head..n) the candidates left,
     * still in score order, so dets[head] is always the best remaining. */
    int head = 0;
    while (head < n) {
        const bf_det best = dets[head];
        float wsum = best.score, box[4], kp[FACE_KEYPOINTS][2];
        for (int c = 0; c < 4; c++)
            box[c] = best.score * best.box[c];
        for (int k = 0; k < FACE_KEYPOINTS; k++) {
            kp[k][0] = best.score * best.kp[k][0];
            kp[k][1] = best.score * best.kp[k][1];
        }
        int rest = head + 1;
        for (int i = head + 1; i < n; i++) {
            const bf_det *d = &dets[i];
            if (bf_iou(best.box, d->box) > iou) {
                float w = d->score;
                wsum += w;
                for (int c = 0; c < 4; c++)
                    box[c] += w * d->box[c];
                for (int k = 0; k < FACE_KEYPOINTS; k++) {
                    kp[k][0] += w * d->kp[k][0];
                    kp[k][1] += w * d->kp[k][1];
                }
            } else {
                dets[rest++] = *d; /* rest <= i: compacting in place is safe */
            }
        }
        bf_det *m = &dets[head];
        *m = best;
        if (wsum > 0.0f) {
            for (int c = 0; c < 4; c++)
                m->box[c] = box[c] / wsum;
            for (int k = 0; k < FACE_KEYPOINTS; k++) {
                m->kp[k][0] = kp[k][0] / wsum;
                m->kp[k][1] = kp[k][1] / wsum;
            }
        }
        n = rest;
        head++;
    }
    return head;
}
