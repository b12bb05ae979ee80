/* face/masker — placeholder until the masking issue lands: every render
 * fails, so the pipeline's fail-closed guard covers every frame. */
#include "face/masker.h"

int face_masker_create(const ptim_config *cfg, const face_masker_assets *assets,
                       face_masker **out, ptim_error *err)
{
    (void)cfg;
    (void)assets;
    *out = NULL;
    return ptim_error_set(err, PTIM_ERR_INTERNAL, PTIM_SEV_HIGH, "face masking is not built yet");
}

void face_masker_destroy(face_masker *masker) { (void)masker; }

int face_masker_reconfigure(face_masker *masker, const ptim_config *cfg,
                            const face_masker_assets *assets, ptim_error *err)
{
    (void)masker;
    (void)cfg;
    (void)assets;
    return ptim_error_set(err, PTIM_ERR_INTERNAL, PTIM_SEV_HIGH, "face masking is not built yet");
}

int face_masker_render(face_masker *masker, img_view *frame, const face_list *faces,
                       ptim_error *err)
{
    (void)masker;
    (void)frame;
    (void)faces;
    return ptim_error_set(err, PTIM_ERR_INTERNAL, PTIM_SEV_HIGH, "face masking is not built yet");
}
