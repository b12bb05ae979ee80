/* face/align — the similarity transform from a face's points in the frame to a
 * canonical upright face (Umeyama's least-squares fit, rotation + uniform scale
 * + translation, no reflection). Masks and swap use it to cut an aligned crop.
 *
 * Canonical space: the unit square [0,1]^2 of the common 5-point face template
 * (eyes at y ≈ 0.46, mouth at y ≈ 0.82), x right, y down. */
#ifndef PTIM_FACE_ALIGN_H
#define PTIM_FACE_ALIGN_H

#include <stdbool.h>

#include "face/face.h"

/* Least-squares similarity m (2x3, row-major: x' = m0 x + m1 y + m2,
 * y' = m3 x + m4 y + m5) taking src[i] to dst[i], i < n. Returns false when
 * the source points are degenerate (n < 2 or all alike). */
bool align_umeyama(const float (*src)[2], const float (*dst)[2], int n, float m[6]);

/* Fill f->align from its landmarks (when FACE_HAS_LANDMARKS) or else its
 * detector keypoints. Returns false when the points are degenerate. */
bool align_face(face *f);

#endif
