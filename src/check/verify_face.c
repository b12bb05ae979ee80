/* check/verify_face — ptim verify's eyes: the face/ detector with settings
 * tuned for recall (both BlazeFace models on every window, tiled, a low
 * threshold, no face limit) and FaceMesh for the landmarks check. */
#include "check/verify_face.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face/detector.h"
#include "face/embed.h"
#include "face/landmarks.h"
#include "face/models.h"

struct verify_face {
    face_detector *detector;
    face_landmarker *landmarker;
    face_embedder *embedder;
    face scratch; /* big (landmarks): kept off the stack */
};

static int vf_detect(void *ctx, const img_view *frame, face_list *out, ptim_error *err)
{
    verify_face *vf = ctx;
    return face_detector_detect(vf->detector, frame, out, err);
}

static int vf_presence(void *ctx, const img_view *frame, const float box[4], const float (*kp)[2],
                       float *presence, ptim_error *err)
{
    verify_face *vf = ctx;
    face *f = &vf->scratch;
    memset(f, 0, sizeof *f);
    memcpy(f->box, box, sizeof f->box);
    face_roi roi;
    if (kp) {
        memcpy(f->keypoints, kp, sizeof f->keypoints);
        roi = face_roi_from_detection(f);
    } else {
        roi = (face_roi){.cx = box[0] + box[2] / 2, .cy = box[1] + box[3] / 2,
                         .side = 1.5f * fmaxf(box[2], box[3]), .rotation = 0};
    }
    if (face_landmarker_run(vf->landmarker, frame, &roi, f, err))
        return -1;
    *presence = f->presence;
    return 0;
}

static int vf_embed(void *ctx, const img_view *frame, const float box[4], const float (*kp)[2], float *out,
                    int *dim, ptim_error *err)
{
    verify_face *vf = ctx;
    face *f = &vf->scratch;
    memset(f, 0, sizeof *f);
    memcpy(f->box, box, sizeof f->box);
    memcpy(f->keypoints, kp, sizeof f->keypoints);
    *dim = face_embedder_dim(vf->embedder);
    return face_embed(vf->embedder, frame, f, out, err);
}

/* Crop radius of the baseline blur: a fifth of the 112 px crop (eyes, nose
 * and mouth gone, head shape and colours kept). */
#define VF_BASELINE_BLUR_PX 20

static int vf_embed_blurred(void *ctx, const img_view *frame, const float box[4], const float (*kp)[2],
                            float *out, int *dim, ptim_error *err)
{
    verify_face *vf = ctx;
    face *f = &vf->scratch;
    memset(f, 0, sizeof *f);
    memcpy(f->box, box, sizeof f->box);
    memcpy(f->keypoints, kp, sizeof f->keypoints);
    *dim = face_embedder_dim(vf->embedder);
    return face_embed_blurred(vf->embedder, frame, f, VF_BASELINE_BLUR_PX, out, err);
}

int verify_face_open(const ptim_config *cfg, bool landmarks, bool identity, verify_face **out,
                     verify_detector *det, ptim_error *err)
{
    *out = NULL;
    verify_face *vf = calloc(1, sizeof *vf);
    if (!vf)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "verify: out of memory");
    face_detector_settings s;
    if (face_detector_settings_from_config(cfg, &s, err))
        goto fail;
    s.models = FACE_DET_SHORT | FACE_DET_FULL;
    s.tiles = FACE_DET_TILES_AUTO;
    s.threshold = VERIFY_RECALL_THRESHOLD;
    s.max_faces = 0;
    s.min_face_px = 0;
    /* One thread: pthreadpool's workers spin while they wait, and on a busy
     * machine that spinning cost ~90 % of verify's CPU time (perf). */
    s.threads = 1;
    if (face_detector_create_with(&s, &vf->detector, err))
        goto fail;
    if (landmarks && face_landmarker_create_with(s.model_dir, 1, &vf->landmarker, err))
        goto fail;
    if (identity && face_embedder_create_with(s.model_dir, 1, &vf->embedder, err))
        goto fail;
    *det = (verify_detector){.ctx = vf, .detect = vf_detect,
                             .presence = landmarks ? vf_presence : NULL,
                             .embed = identity ? vf_embed : NULL,
                             .embed_blurred = identity ? vf_embed_blurred : NULL};
    *out = vf;
    return 0;
fail:
    verify_face_close(vf);
    return -1;
}

void verify_face_close(verify_face *vf)
{
    if (!vf)
        return;
    face_detector_destroy(vf->detector);
    face_landmarker_destroy(vf->landmarker);
    face_embedder_destroy(vf->embedder);
    free(vf);
}
