/* face/blazeface — BlazeFace's model-independent arithmetic, as MediaPipe does
 * it: SSD anchors, decoding of the raw regressors and scores, and weighted
 * non-maximum suppression. No model and no allocation here.
 *
 * Coordinates of a bf_det are whatever space the caller works in: decode
 * produces coordinates normalized to the model input (0..1), which the caller
 * maps to frame pixels before merging results of several windows. */
#ifndef PTIM_FACE_BLAZEFACE_H
#define PTIM_FACE_BLAZEFACE_H

#include "face/face.h"

typedef enum bf_range {
    BF_SHORT_RANGE, /* 128x128 input, 896 anchors (strides 8, 16, 16, 16; 2 per cell) */
    BF_FULL_RANGE,  /* 192x192 input, 2304 anchors (stride 4; 1 per cell) */
} bf_range;

#define BF_MAX_ANCHORS 2304
#define BF_REGRESSORS 16 /* per anchor: x, y, w, h, then 6 keypoints (x, y) */

typedef struct bf_det {
    float score;                       /* 0..1 */
    float box[4];                      /* xmin, ymin, xmax, ymax */
    float kp[FACE_KEYPOINTS][2];       /* right eye, left eye, nose, mouth, right ear, left ear */
} bf_det;

int bf_input_size(bf_range range);
/* Anchor centres (x, y), normalized 0..1, in the models' output order, into
 * xy[2 * count]. Returns the count (896 or 2304), or -1 when capacity is short. */
int bf_anchors(bf_range range, float *xy, int capacity);

/* Decode every anchor whose score (sigmoid of the logit clipped to ±100)
 * reaches `threshold`. regressors: [n][16], logits: [n]. Writes at most
 * `capacity` detections (the best ones when there are more) to out; returns
 * how many. */
int bf_decode(const float *regressors, const float *logits, const float *anchors_xy, int n,
              int input_size, float threshold, bf_det *out, int capacity);

/* Weighted NMS in place: sort by score; each best remaining detection absorbs
 * every remaining one overlapping it by IoU > iou, its box corners and
 * keypoints becoming the score-weighted mean, its score the best one's.
 * Returns the number kept, best first, in dets[0..]. */
int bf_weighted_nms(bf_det *dets, int n, float iou);

float bf_iou(const float a[4], const float b[4]);

#endif
