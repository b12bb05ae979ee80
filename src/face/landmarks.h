/* face/landmarks — FaceMesh: 468 landmarks of one face from a square crop
 * rotated upright, mapped back to frame pixels, plus the face presence score.
 *
 *     face_landmarker *lm;
 *     face_landmarker_create(cfg, &lm, &err);
 *     face_roi roi = face_roi_from_detection(&f);   // or face_roi_from_landmarks
 *     face_landmarker_run(lm, &frame, &roi, &f, &err);
 *
 * Not thread-safe; one per thread. Run allocates nothing. */
#ifndef PTIM_FACE_LANDMARKS_H
#define PTIM_FACE_LANDMARKS_H

#include "core/config.h"
#include "core/error.h"
#include "face/face.h"
#include "img/image.h"

#define FACE_MESH_SIZE 192

/* A square region of the frame: centre and side in frame pixels; rotation in
 * radians of the crop's x axis, (cos r, sin r) in the y-down frame. */
typedef struct face_roi {
    float cx, cy, side, rotation;
} face_roi;

/* MediaPipe's rules: the detection box (or the landmarks' extent, measured
 * along the eye line) grown 1.5x into a square, turned so the eyes are level
 * (detector keypoints 0→1; landmarks 33→263). */
face_roi face_roi_from_detection(const face *f);
face_roi face_roi_from_landmarks(const face *f);

typedef struct face_landmarker face_landmarker;

/* Loads face_landmark.tflite from the model directory (face/models.h);
 * threads from performance.max_processing_workers. cfg may be NULL. */
int face_landmarker_create(const ptim_config *cfg, face_landmarker **out, ptim_error *err);
int face_landmarker_create_with(const char *model_dir, int threads, face_landmarker **out,
                                ptim_error *err);
void face_landmarker_destroy(face_landmarker *lm);

/* Run FaceMesh on roi. Sets f->landmarks (frame px; z in px, relative),
 * f->presence and FACE_HAS_LANDMARKS; box, keypoints and the rest of f are
 * left to the caller (see face_from_landmarks). */
int face_landmarker_run(face_landmarker *lm, const img_view *frame, const face_roi *roi, face *f,
                        ptim_error *err);

/* Derive box (landmarks' extent), the 6 keypoints, roll and align from
 * f->landmarks. */
void face_from_landmarks(face *f);

#endif
