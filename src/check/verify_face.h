/* check/verify_face — binds ptim verify to the face/ detector and landmarker,
 * with settings tuned for recall: both BlazeFace models, tiled, a low
 * detection threshold; FaceMesh presence on the regions to check. */
#ifndef PTIM_CHECK_VERIFY_FACE_H
#define PTIM_CHECK_VERIFY_FACE_H

#include <stdbool.h>

#include "check/verify.h"
#include "core/config.h"
#include "core/error.h"

/* Detection threshold verify runs the detector with (what it can see at all;
 * what counts as a leak is verify_options.leak_threshold). */
#define VERIFY_RECALL_THRESHOLD 0.3f

typedef struct verify_face verify_face;

/* Creates the detector (the landmarker when `landmarks`, the recognizer
 * when `identity`) from cfg's model directory; fills *det to use them. */
int verify_face_open(const ptim_config *cfg, bool landmarks, bool identity, verify_face **out,
                     verify_detector *det, ptim_error *err);
void verify_face_close(verify_face *vf);

#endif
