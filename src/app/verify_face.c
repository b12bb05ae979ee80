/* app/verify_face — placeholder until the face/ detector lands on this
 * branch: verify cannot run without a detector, so it says so (exit 2). */
#include "app/verify_face.h"

int verify_face_open(const ptim_config *cfg, bool landmarks, verify_face **out,
                     verify_detector *det, ptim_error *err)
{
    (void)cfg, (void)landmarks, (void)det;
    *out = NULL;
    return ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_HIGH,
                          "no face detector in this build yet (face/detector not merged)");
}

void verify_face_close(verify_face *vf)
{
    (void)vf;
}
