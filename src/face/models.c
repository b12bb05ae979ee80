/* face/models — see models.h. */
#include "face/models.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef PTIM_SOURCE_DIR
#define PTIM_SOURCE_DIR "."
#endif

const char *face_model_dir(const ptim_config *cfg)
{
    if (cfg)
        return ptim_model_dir(cfg); /* system.model_dir, its variable, installed or source models */
    const char *dir = getenv("PTIM_SYSTEM_MODEL_DIR");
    if (dir && *dir)
        return dir;
    return PTIM_SOURCE_DIR "/models";
}

int face_model_path(const char *dir, const char *file, char *out, size_t cap, ptim_error *err)
{
    int n = snprintf(out, cap, "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= cap)
        return ptim_error_set(err, PTIM_ERR_MODEL, PTIM_SEV_HIGH,
                              "model path %s/%s is too long", dir, file);
    return 0;
}

int face_threads(const ptim_config *cfg)
{
    if (!cfg)
        return 1;
    long n = (long)ptim_config_int(cfg, "performance.max_processing_workers");
    /* At most half the cores: inference is fork-join, and decode, encode and
     * the other stages share the CPU. A pool thread that gets descheduled
     * stalls every operator until it runs again: on a busy 2-core machine two
     * inference threads measured 26x slower than one (ptim detect on
     * Megamind.avi, 137 s against 5.2 s for 60 frames). */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long cap = cores > 1 ? cores / 2 : 1;
    if (n > cap)
        n = cap;
    return n < 1 ? 1 : (int)n;
}
