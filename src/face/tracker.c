/* face/tracker — placeholder until the face/ issue lands: analysis always
 * fails, so the pipeline's fail-closed guard covers every frame. */
#include "face/tracker.h"

int face_tracker_create(const ptim_config *cfg, face_tracker **out, ptim_error *err)
{
    (void)cfg;
    *out = NULL;
    return ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_HIGH, "face analysis is not built yet");
}

void face_tracker_destroy(face_tracker *tracker) { (void)tracker; }

int face_tracker_reconfigure(face_tracker *tracker, const ptim_config *cfg, ptim_error *err)
{
    (void)tracker;
    (void)cfg;
    return ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_HIGH, "face analysis is not built yet");
}

int face_tracker_process(face_tracker *tracker, const img_view *frame, int64_t t_ms,
                         face_list *out, ptim_error *err)
{
    (void)tracker;
    (void)frame;
    (void)t_ms;
    out->count = 0;
    return ptim_error_set(err, PTIM_ERR_INFERENCE, PTIM_SEV_HIGH, "face analysis is not built yet");
}

void face_tracker_reset(face_tracker *tracker) { (void)tracker; }
