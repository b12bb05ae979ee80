/* nn/nn — run a neural network model from a file, on a chosen backend.
 *
 * Plan once, run many times: nn_model_load_*() parses and validates a model
 * file into ptim's graph form (constants folded, activations fused); a runner
 * binds that graph to a backend with one preallocated arena, so
 * nn_runner_run() allocates nothing. Tensors are float32, NHWC.
 *
 * Ownership: a model owns its graph and weights; a runner borrows the model
 * (keep the model alive until every runner on it is destroyed) and owns its
 * arena. Input/output pointers stay valid until the runner is destroyed. */
#ifndef PTIM_NN_NN_H
#define PTIM_NN_NN_H

#include <stddef.h>

#include "core/error.h"

#define NN_MAX_RANK 4

typedef struct nn_model nn_model;
typedef struct nn_runner nn_runner;

typedef enum nn_backend {
    NN_BACKEND_AUTO = 0,  /* XNNPACK when it accepts the model, else reference; a runner
                             whose XNNPACK run fails switches to the reference for good */
    NN_BACKEND_XNNPACK,
    NN_BACKEND_REFERENCE, /* plain C, the truth in tests */
} nn_backend;

typedef struct nn_tensor_info {
    const char *name;       /* owned by the model */
    int rank;
    int dims[NN_MAX_RANK];  /* e.g. 1, 128, 128, 3 */
    size_t count;           /* product of dims */
} nn_tensor_info;

/* Load a .tflite file. On failure *err says, in one sentence naming the file,
 * what is wrong ("model x.tflite: tensor 12 buffer out of range"). */
int nn_model_load_file(const char *path, nn_model **out, ptim_error *err);
/* A model file's bytes (at most 1 GiB), mapped read-only at *data, which the
 * caller gives back with nn_model_file_free; and a .tflite/.onnx/.dfm model
 * loaded from such bytes (only from nn_model_read_file's: the ONNX reader
 * drops the pages of what it has copied, and a later read of them comes
 * back from the file), `path` naming it in messages and locating external
 * data as nn_model_load_file does. For a caller that needs more of the file
 * than the graph keeps (the inswapper's emap): the file is read once. */
int nn_model_read_file(const char *path, void **data, size_t *size, ptim_error *err);
void nn_model_file_free(void *data, size_t size);
int nn_model_load_file_bytes(const char *path, const void *data, size_t size, nn_model **out,
                             ptim_error *err);
/* Same from memory; `name` is used in messages. The bytes are not kept. */
int nn_model_load_buffer(const void *data, size_t size, const char *name, nn_model **out,
                         ptim_error *err);
void nn_model_free(nn_model *model);

const char *nn_model_name(const nn_model *model);
int nn_model_input_count(const nn_model *model);
int nn_model_output_count(const nn_model *model);
nn_tensor_info nn_model_input(const nn_model *model, int index);
nn_tensor_info nn_model_output(const nn_model *model, int index);

/* threads: worker threads for the backend (1 = run on the caller's thread). */
int nn_runner_create(const nn_model *model, nn_backend backend, int threads, nn_runner **out,
                     ptim_error *err);
/* As nn_runner_create, for a model made for one runner only (a swap model
 * of hundreds of MB): on XNNPACK, the weights XNNPACK packs into its own form
 * are freed from the model as each part of the graph is packed, so the
 * weights are in memory once, not twice. Afterwards the model makes no other
 * runner (nn_runner_create fails, naming it), and this runner never falls
 * back to the reference backend: AUTO takes XNNPACK or fails. */
int nn_runner_create_sole(nn_model *model, nn_backend backend, int threads, nn_runner **out, ptim_error *err);
void nn_runner_destroy(nn_runner *runner);
nn_backend nn_runner_backend(const nn_runner *runner);
float *nn_runner_input(nn_runner *runner, int index);
const float *nn_runner_output(const nn_runner *runner, int index);
int nn_runner_run(nn_runner *runner, ptim_error *err);

const char *nn_backend_name(nn_backend backend);

#endif
