/* face/models — where face/ finds its model files and how many threads its
 * inference may use, from a config snapshot. */
#ifndef PTIM_FACE_MODELS_H
#define PTIM_FACE_MODELS_H

#include <stddef.h>

#include "core/config.h"
#include "core/error.h"

/* The model directory: core's ptim_model_dir(cfg); with no config,
 * $PTIM_SYSTEM_MODEL_DIR, else the source tree's models/. */
const char *face_model_dir(const ptim_config *cfg);
/* dir/file into out; -1 with a PTIM_ERR_MODEL sentence when it does not fit. */
int face_model_path(const char *dir, const char *file, char *out, size_t cap, ptim_error *err);
/* Inference threads: performance.max_processing_workers capped to half the
 * CPU cores, at least 1 (cfg may be NULL: 1). */
int face_threads(const ptim_config *cfg);

#endif
