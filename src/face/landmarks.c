/* face/landmarks — FaceMesh on a rotated crop; see landmarks.h. */
#include "face/landmarks.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fault.h"
#include "face/align.h"
#include "face/crop.h"
#include "face/models.h"
#include "nn/nn.h"

#define ROI_SCALE 1.5f

struct face_landmarker {
    nn_model *model;
    nn_runner *runner;
    int out_points, out_presence;
};

face_roi face_roi_from_detection(const face *f)
{
    face_roi r;
    r.rotation = atan2f(f->keypoints[1][1] - f->keypoints[0][1],
                        f->keypoints[1][0] - f->keypoints[0][0]);
    r.cx = f->box[0] + 0.5f * f->box[2];
    r.cy = f->box[1] + 0.5f * f->box[3];
    r.side = ROI_SCALE * (f->box[2] > f->box[3] ? f->box[2] : f->box[3]);
    return r;
}

face_roi face_roi_from_landmarks(const face *f)
{
    face_roi r;
    const float(*l)[3] = f->landmarks;
    r.rotation = atan2f(l[263][1] - l[33][1], l[263][0] - l[33][0]);
    /* Extent measured in the face's own upright frame, so a tilted head does
     * not inflate the region. */
    float c = cosf(r.rotation), s = sinf(r.rotation);
    float umin = INFINITY, umax = -INFINITY, vmin = INFINITY, vmax = -INFINITY;
    for (int i = 0; i < FACE_LANDMARKS; i++) {
        float u = c * l[i][0] + s * l[i][1], v = -s * l[i][0] + c * l[i][1];
        umin = fminf(umin, u);
        umax = fmaxf(umax, u);
        vmin = fminf(vmin, v);
        vmax = fmaxf(vmax, v);
    }
    float uc = 0.5f * (umin + umax), vc = 0.5f * (vmin + vmax);
    r.cx = c * uc - s * vc;
    r.cy = s * uc + c * vc;
    float w = umax - umin, h = vmax - vmin;
    r.side = ROI_SCALE * (w > h ? w : h);
    return r;
}

int face_landmarker_create_with(const char *model_dir, int threads, face_landmarker **out,
                                ptim_error *err)
{
    *out = NULL;
    char path[1200];
    if (face_model_path(model_dir, "face_landmark.tflite", path, sizeof path, err))
        return -1;
    face_landmarker *lm = calloc(1, sizeof *lm);
    if (!lm)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory for %s", path);
    if (nn_model_load_file(path, &lm->model, err))
        goto fail;
    nn_tensor_info in = nn_model_input(lm->model, 0);
    if (nn_model_input_count(lm->model) != 1 ||
        in.count != (size_t)FACE_MESH_SIZE * FACE_MESH_SIZE * 3) {
        ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_HIGH,
                       "model %s is not a %dx%d FaceMesh model", path, FACE_MESH_SIZE, FACE_MESH_SIZE);
        goto fail;
    }
    lm->out_points = lm->out_presence = -1;
    for (int i = 0; i < nn_model_output_count(lm->model); i++) {
        size_t c = nn_model_output(lm->model, i).count;
        if (c == FACE_LANDMARKS * 3 && lm->out_points < 0)
            lm->out_points = i;
        else if (c == 1 && lm->out_presence < 0)
            lm->out_presence = i;
    }
    if (lm->out_points < 0 || lm->out_presence < 0) {
        ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_HIGH,
                       "model %s has no 468x3 landmark and presence outputs", path);
        goto fail;
    }
    if (nn_runner_create(lm->model, NN_BACKEND_AUTO, threads < 1 ? 1 : threads, &lm->runner, err))
        goto fail;
    *out = lm;
    return 0;
fail:
    face_landmarker_destroy(lm);
    return -1;
}

int face_landmarker_create(const ptim_config *cfg, face_landmarker **out, ptim_error *err)
{
    return face_landmarker_create_with(face_model_dir(cfg), face_threads(cfg), out, err);
}

void face_landmarker_destroy(face_landmarker *lm)
{
    if (!lm)
        return;
    nn_runner_destroy(lm->runner);
    nn_model_free(lm->model);
    free(lm);
}

int face_landmarker_run(face_landmarker *lm, const img_view *frame, const face_roi *roi, face *f,
                        ptim_error *err)
{
    if (!(roi->side > 1.0f) || !isfinite(roi->cx) || !isfinite(roi->cy) || !isfinite(roi->rotation))
        return ptim_error_set(err, PTIM_ERR_INFERENCE, PTIM_SEV_MEDIUM,
                              "face landmarks: region of interest is degenerate");
    if (ptim_fault_hit(PTIM_FAULT_LANDMARKS))
        return ptim_error_set(err, PTIM_ERR_INFERENCE, PTIM_SEV_HIGH,
                              "face landmarks failed (injected fault)");
    float m[6];
    crop_rotated_square(roi->cx, roi->cy, roi->side, roi->rotation, FACE_MESH_SIZE, m);
    if (crop_to_tensor(frame, m, FACE_MESH_SIZE, FACE_MESH_SIZE, 1.0f / 255.0f, 0.0f,
                       CROP_BORDER_REPLICATE, nn_runner_input(lm->runner, 0)))
        return ptim_error_set(err, PTIM_ERR_INFERENCE, PTIM_SEV_HIGH,
                              "face landmarks cannot read %s frames", img_format_name(frame->format));
    if (nn_runner_run(lm->runner, err))
        return ptim_error_prefix(err, "face landmarks: ");
    const float *p = nn_runner_output(lm->runner, lm->out_points);
    float logit = nn_runner_output(lm->runner, lm->out_presence)[0];
    float zscale = roi->side / FACE_MESH_SIZE;
    for (int i = 0; i < FACE_LANDMARKS; i++) {
        crop_apply(m, p[3 * i], p[3 * i + 1], &f->landmarks[i][0], &f->landmarks[i][1]);
        f->landmarks[i][2] = p[3 * i + 2] * zscale;
    }
    logit = fmaxf(-100.0f, fminf(100.0f, logit));
    f->presence = 1.0f / (1.0f + expf(-logit));
    f->flags |= FACE_HAS_LANDMARKS;
    return 0;
}

static void mid(const float (*l)[3], int a, int b, float out[2])
{
    out[0] = 0.5f * (l[a][0] + l[b][0]);
    out[1] = 0.5f * (l[a][1] + l[b][1]);
}

void face_from_landmarks(face *f)
{
    const float(*l)[3] = f->landmarks;
    float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int i = 0; i < FACE_LANDMARKS; i++) {
        x0 = fminf(x0, l[i][0]);
        y0 = fminf(y0, l[i][1]);
        x1 = fmaxf(x1, l[i][0]);
        y1 = fmaxf(y1, l[i][1]);
    }
    f->box[0] = x0;
    f->box[1] = y0;
    f->box[2] = x1 - x0;
    f->box[3] = y1 - y0;
    /* The detector's keypoints from their FaceMesh counterparts: eye centres
     * (corners 33/133, 362/263), nose tip 1, lip centre 13/14, tragions 234/454. */
    mid(l, 33, 133, f->keypoints[0]);
    mid(l, 362, 263, f->keypoints[1]);
    f->keypoints[2][0] = l[1][0];
    f->keypoints[2][1] = l[1][1];
    mid(l, 13, 14, f->keypoints[3]);
    f->keypoints[4][0] = l[234][0];
    f->keypoints[4][1] = l[234][1];
    f->keypoints[5][0] = l[454][0];
    f->keypoints[5][1] = l[454][1];
    f->roll = atan2f(l[263][1] - l[33][1], l[263][0] - l[33][0]);
    align_face(f);
}
