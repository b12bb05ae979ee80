/* face/align — see align.h. */
#include "face/align.h"

#include <math.h>

/* The 5-point template widely used for aligned face crops (112x112 pixels),
 * scaled to the unit square: the subject's right eye (image left), left eye,
 * nose tip, right and left mouth corner. */
static const float template5[5][2] = {
    {38.2946f / 112, 51.6963f / 112}, {73.5318f / 112, 51.5014f / 112},
    {56.0252f / 112, 71.7366f / 112}, {41.5493f / 112, 92.3655f / 112},
    {70.7299f / 112, 92.2041f / 112},
};

bool align_umeyama(const float (*src)[2], const float (*dst)[2], int n, float m[6])
{
    if (n < 2)
        return false;
    double sx = 0, sy = 0, dx = 0, dy = 0;
    for (int i = 0; i < n; i++) {
        sx += src[i][0];
        sy += src[i][1];
        dx += dst[i][0];
        dy += dst[i][1];
    }
    sx /= n;
    sy /= n;
    dx /= n;
    dy /= n;
    /* In 2D the optimal rotation+scale is a complex ratio: a = Σ p·q, b = Σ p×q. */
    double a = 0, b = 0, var = 0;
    for (int i = 0; i < n; i++) {
        double px = src[i][0] - sx, py = src[i][1] - sy;
        double qx = dst[i][0] - dx, qy = dst[i][1] - dy;
        a += px * qx + py * qy;
        b += px * qy - py * qx;
        var += px * px + py * py;
    }
    if (var < 1e-12)
        return false;
    double c = a / var, s = b / var;
    m[0] = (float)c;
    m[1] = (float)-s;
    m[2] = (float)(dx - (c * sx - s * sy));
    m[3] = (float)s;
    m[4] = (float)c;
    m[5] = (float)(dy - (s * sx + c * sy));
    return true;
}

static void mean2(const float (*l)[3], int i, int j, float out[2])
{
    out[0] = 0.5f * (l[i][0] + l[j][0]);
    out[1] = 0.5f * (l[i][1] + l[j][1]);
}

bool align_face(face *f)
{
    float src[5][2], dst[5][2];
    int n;
    if (f->flags & FACE_HAS_LANDMARKS) {
        /* FaceMesh: eye corners 33/133 and 362/263, nose tip 1, mouth corners 61/291. */
        mean2(f->landmarks, 33, 133, src[0]);
        mean2(f->landmarks, 362, 263, src[1]);
        src[2][0] = f->landmarks[1][0];
        src[2][1] = f->landmarks[1][1];
        src[3][0] = f->landmarks[61][0];
        src[3][1] = f->landmarks[61][1];
        src[4][0] = f->landmarks[291][0];
        src[4][1] = f->landmarks[291][1];
        for (int i = 0; i < 5; i++) {
            dst[i][0] = template5[i][0];
            dst[i][1] = template5[i][1];
        }
        n = 5;
    } else {
        /* Detector: eyes, nose tip, mouth centre. */
        for (int i = 0; i < 4; i++) {
            src[i][0] = f->keypoints[i][0];
            src[i][1] = f->keypoints[i][1];
        }
        for (int i = 0; i < 3; i++) {
            dst[i][0] = template5[i][0];
            dst[i][1] = template5[i][1];
        }
        dst[3][0] = 0.5f * (template5[3][0] + template5[4][0]);
        dst[3][1] = 0.5f * (template5[3][1] + template5[4][1]);
        n = 4;
    }
    return align_umeyama((const float(*)[2])src, (const float(*)[2])dst, n, f->align);
}
