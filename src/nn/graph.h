/* nn/graph — ptim's one internal graph form, produced by every model reader
 * (TFLite now, ONNX later) and consumed by every backend.
 *
 * Tensors are float32 NHWC. Constant tensors carry their data (owned by the
 * graph); int32 constants only parameterize operators and are read into the
 * operator's attributes at import. After nn_graph_prepare() the graph has
 * constants folded, standalone activations fused into their producer, dead
 * operators removed, and every non-constant tensor placed in one arena by
 * lifetime (`arena_offset`, bytes), so a runner allocates nothing per run. */
#ifndef PTIM_NN_GRAPH_H
#define PTIM_NN_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "nn/nn.h"

/* Bounds that keep a hostile file from asking for absurd memory or time. */
#define NN_MAX_TENSOR_ELEMS ((size_t)1 << 26)  /* 256 MiB of float32 */
#define NN_MAX_ARENA_BYTES ((size_t)1 << 30)
#define NN_ARENA_ALIGN 64

typedef enum nn_op_kind {
    NN_OP_CONV2D,
    NN_OP_DWCONV2D,
    NN_OP_ADD,
    NN_OP_CLAMP,     /* RELU, RELU6, RELU_N1_TO_1 before fusion */
    NN_OP_PRELU,
    NN_OP_PAD,
    NN_OP_MAXPOOL2D,
    NN_OP_RESHAPE,
    NN_OP_CONCAT,
    NN_OP_RESIZE_BILINEAR,
    NN_OP_COPY,      /* DEQUANTIZE of a constant: folded away at load */
    NN_OP_ADD_PADDED, /* a + b with b's channels zero-padded to a's: a PAD fused into its ADD */
    NN_OP_CONV1X1_ADD, /* 1x1 convolution plus a residual (inputs x, w, bias, r): CONV_2D fused into its ADD */
    /* --- TensorFlow.js graph models (MobileFaceNet's tail and unfolded PReLU) --- */
    NN_OP_ABS,
    NN_OP_SQUARE,
    NN_OP_RSQRT,
    NN_OP_SUB,       /* a - b, broadcast like ADD */
    NN_OP_MUL,       /* a * b, broadcast like ADD */
    NN_OP_MAXIMUM,   /* max(a, b), broadcast like ADD */
    NN_OP_SUM,       /* sum over the dims in reduce_mask; reduced dims kept as 1 or dropped */
    /* ---- ONNX operators (nn/onnx.c reads them, nn/onnx_ops.c runs them) ---- */
    NN_OP_ONNX_FIRST,
    NN_OP_BINARY = NN_OP_ONNX_FIRST, /* sub-kind in op->mode: NN_BIN_* */
    NN_OP_UNARY,      /* sub-kind in op->mode: NN_UN_*; alpha for LeakyRelu */
    NN_OP_TRANSPOSE,  /* perm[] */
    NN_OP_MATMUL,     /* [..,M,K] x [..,K,N], batch dims broadcast */
    NN_OP_SLICE,      /* begin[], step[] per dim; output dims give the count */
    NN_OP_GATHER,     /* inputs data, indices (constant); axis */
    NN_OP_REDUCE,     /* mode NN_RED_*; axes bitmask in op->axis_mask; output keeps rank */
    NN_OP_SOFTMAX,    /* over dims [axis, axis+span) */
    NN_OP_INSTANCE_NORM, /* NHWC; inputs x, scale, bias; alpha = epsilon */
    NN_OP_DEPTH_TO_SPACE, /* NHWC; block = op->kernel_h; mode 0 DCR, 1 CRD */
    NN_OP_SPACE_TO_DEPTH, /* NHWC; block = op->kernel_h */
    NN_OP_RESIZE,     /* NHWC; mode NN_RS_*; scale_h/w; coord and nearest modes */
    NN_OP_PAD_EX,     /* pads[] with mode NN_PAD_* and value alpha */
    NN_OP_DECONV2D,   /* NHWC; weights [O][kh][kw][I]; strides, dilations, pads (cropped) */
    NN_OP_AVGPOOL2D,  /* NHWC global/windowed mean (count excludes padding) */
    NN_OP__COUNT
} nn_op_kind;

typedef struct nn_tensor {
    char *name;
    int rank;
    int dims[NN_MAX_RANK];
    size_t count;
    float *data;      /* constant values (owned), or NULL for a computed tensor */
    int producer;     /* index of the operator writing it, -1 for inputs/constants */
    int consumers;    /* number of live operator inputs reading it */
    int is_input, is_output;
    /* Arena plan: a tensor either owns a slot (alias_of < 0) or lives inside
     * another tensor's slot at alias_offset floats (reshape, concat in place). */
    int alias_of;
    size_t alias_offset;
    size_t arena_offset;
    int first_use, last_use;
} nn_tensor;

typedef struct nn_op {
    nn_op_kind kind;
    int n_inputs;
    int *inputs;      /* owned; tensor indices */
    int output;
    int dead;         /* removed by folding or fusion */
    float act_min, act_max; /* fused activation clamp (-INF..INF = none) */
    /* conv / depthwise / pool */
    int kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
    int pad_top, pad_bottom, pad_left, pad_right;
    int depth_multiplier;
    /* pad: before/after per dim of a rank-4 (left-aligned to input rank) */
    int pads[NN_MAX_RANK][2];
    /* concat */
    int axis;
    int in_place;     /* concat done by the arena plan: producers write into it */
    /* resize */
    int align_corners, half_pixel_centers;
    /* CONV1X1_ADD: weights as [K][N rounded up to 16] then the bias (owned) */
    float *packed;
    /* SUM: bit d set = dimension d of the input is summed over */
    int reduce_mask;
    /* ---- ONNX operators ---- */
    int mode, coord_mode, nearest_mode;
    float alpha, scale_h, scale_w;
    int perm[NN_MAX_RANK];
    int begin[NN_MAX_RANK], step[NN_MAX_RANK];
    int axis_mask, span;
} nn_op;

/* Sub-kinds of the ONNX operators. */
enum { NN_BIN_ADD, NN_BIN_SUB, NN_BIN_MUL, NN_BIN_DIV, NN_BIN_POW, NN_BIN_MAX, NN_BIN_MIN };
enum { NN_UN_SIGMOID, NN_UN_TANH, NN_UN_ERF, NN_UN_SQRT, NN_UN_LEAKY_RELU, NN_UN_COPY, NN_UN_EXP, NN_UN_NEG,
       NN_UN_ABS, NN_UN_RECIPROCAL };
enum { NN_RED_MEAN, NN_RED_SUM, NN_RED_MAX };
enum { NN_RS_NEAREST, NN_RS_LINEAR };
enum { NN_CT_HALF_PIXEL, NN_CT_ASYMMETRIC, NN_CT_ALIGN_CORNERS, NN_CT_PYTORCH_HALF_PIXEL };
enum { NN_NR_ROUND_PREFER_FLOOR, NN_NR_ROUND_PREFER_CEIL, NN_NR_FLOOR, NN_NR_CEIL };
enum { NN_PAD_CONSTANT, NN_PAD_REFLECT, NN_PAD_EDGE };

typedef struct nn_graph {
    char *name;
    int n_tensors;
    nn_tensor *tensors;
    int n_ops;
    nn_op *ops;
    int n_inputs, n_outputs;
    int *inputs, *outputs;
    size_t arena_bytes;
    size_t param_count; /* float constants read from the file */
} nn_graph;

/* Frees everything a graph owns, then the graph itself. */
void nn_graph_free(nn_graph *g);
/* Checks every operator's shapes and attributes (a reader calls this before
 * prepare), naming the operator and the problem. */
int nn_graph_validate(nn_graph *g, ptim_error *err);
/* Fold constants, fuse activations, plan the arena. */
int nn_graph_prepare(nn_graph *g, ptim_error *err);

const char *nn_op_kind_name(nn_op_kind kind);

/* Whether this CPU runs ADD(PAD) faster than a separate PAD and ADD. */
int nn_add_padded_is_fast(void);
/* Our own SIMD kernels, which the XNNPACK backend runs between its
 * runtimes: whether this CPU has them (the graph fuses only then), how many
 * independent work units an operator splits into, and running units
 * [begin, end) of one (threads take disjoint ranges). */
int nn_conv1x1_add_is_fast(void);
int nn_add_padded_is_fast(void);
int nn_dwconv3x3_is_fast(const nn_graph *g, const nn_op *op);
size_t nn_fast_units(const nn_graph *g, const nn_op *op);
void nn_fast_run(const nn_graph *g, const nn_op *op, float *const *ptr, size_t begin, size_t end);
/* Runs one operator with plain C loops; `ptr[t]` is the storage of tensor t. */
void nn_ref_run_op(const nn_graph *g, const nn_op *op, float *const *ptr);

/* Reader: TFLite flatbuffer → graph (validated, not yet prepared). */
int nn_tflite_read(const void *data, size_t size, const char *name, nn_graph **out, ptim_error *err);

/* Reader: TensorFlow.js graph model (model.json text plus its weight shards
 * concatenated in manifest order) → graph (validated, not yet prepared). */
int nn_tfjs_read(const char *json, size_t json_size, const void *weights, size_t weights_size, const char *name,
                 nn_graph **out, ptim_error *err);
/* Whether an operator is one of the small elementwise/reduction kinds that
 * only the reference kernels run (the XNNPACK backend runs them between its
 * runtimes). */
int nn_op_is_ref_only(nn_op_kind kind);
/* Reads a model.json and its shards (plain names beside it) → graph. */
int nn_tfjs_load(const char *path, const char *name, nn_graph **out, ptim_error *err);
/* ---- ONNX ---- */
/* Reader: ONNX protobuf → graph (validated, not yet prepared). `dir` is the
 * model's directory, the only place external tensor data may come from
 * (NULL: external data is refused). */
int nn_onnx_read(const void *data, size_t size, const char *name, const char *dir, nn_graph **out,
                 ptim_error *err);
/* Same, for bytes that are a private read-only mapping of the file
 * (nn_model_read_file): each initializer's pages are dropped from memory
 * once its values are copied, so the file and the graph do not both sit in
 * memory (reading them again faults them back in from the file). */
int nn_onnx_read_mapped(const void *data, size_t size, const char *name, const char *dir, nn_graph **out,
                        ptim_error *err);
/* Same, with the first n_bind graph inputs (in file order, initializers not
 * counted) given values: TensorProto bytes, or data NULL to leave it an input.
 * (The ONNX test suite passes weights, shapes and axes as inputs.) */
typedef struct nn_onnx_binding {
    const void *data;
    size_t size;
} nn_onnx_binding;
int nn_onnx_read_bound(const void *data, size_t size, const char *name, const char *dir,
                       const nn_onnx_binding *bind, int n_bind, nn_graph **out, ptim_error *err);
/* A model from a graph a reader made (prepared here; the model owns it, or it is freed on failure). */
int nn_model_from_graph(nn_graph *g, nn_model **out, ptim_error *err);
/* One TensorProto (a .pb file of the ONNX test suite) as floats: rank, dims
 * (NN_MAX_RANK), ONNX data type; *values is the caller's to free. */
int nn_onnx_read_tensor(const void *data, size_t size, const char *name, int *rank, int *dims, int *dtype,
                        float **values, ptim_error *err);
/* The directory a model file's external data is looked for in ("." for a
 * bare name), written to dir; NULL when it does not fit (then none is). */
const char *nn_model_dir(const char *path, char *dir, size_t size);
/* The graph's last initializer as floats (InsightFace's inswapper keeps its
 * 512x512 embedding map "emap" there, read by no node): rank, dims
 * (NN_MAX_RANK); *values is the caller's to free. */
int nn_onnx_last_initializer(const void *data, size_t size, const char *name, const char *dir, int *rank,
                             int *dims, float **values, ptim_error *err);
/* Whether the bytes look like a TFLite flatbuffer (else they are read as ONNX). */
int nn_is_tflite(const void *data, size_t size);
/* Shape checks and the reference kernels of the ONNX operators (nn/onnx_ops.c). */
int nn_onnx_validate_op(const nn_graph *g, const nn_op *op, char *why, size_t why_size);
void nn_onnx_ref_run_op(const nn_graph *g, const nn_op *op, float *const *ptr);

/* Model object (nn.h) — defined here so backends can reach the graph. */
struct nn_model {
    nn_graph *graph;
    int spent; /* nn_runner_create_sole took its packed weights */
    size_t sole_part_bytes; /* nn_runner_create_sole's part size (0: 64 MB; tests set less) */
};

/* The runner's storage of every tensor (for profiling tools). */
float *const *nn_runner_tensor_ptrs(nn_runner *runner);
/* XNNPACK runtimes the runner's plan uses (0 on the reference backend). */
int nn_runner_xnn_runtimes(const nn_runner *runner);

/* XNNPACK backend (nn/xnn_backend.c, the one file that knows XNNPACK's API). */
typedef struct nn_xnn_plan nn_xnn_plan;
/* release: NULL, or g itself (non-const) to free each weight and bias XNNPACK
 * packs (convolutions, fully connected), part by part as it packs them, a
 * part packing at most part_bytes (see nn_runner_create_sole); on failure
 * part of g may then be gone. */
int nn_xnn_create(const nn_graph *g, float *const *ptr, int threads, nn_graph *release, size_t part_bytes,
                  nn_xnn_plan **out, ptim_error *err);
int nn_xnn_run(nn_xnn_plan *plan, float *const *ptr, ptim_error *err);
void nn_xnn_destroy(nn_xnn_plan *plan);
int nn_xnn_runtime_count(const nn_xnn_plan *plan);
/* Times each live operator alone on XNNPACK (ms per run into ms_per_op[op index]). */
int nn_xnn_profile_ops(const nn_graph *g, float *const *ptr, int runs, double *ms_per_op, ptim_error *err);

#endif
