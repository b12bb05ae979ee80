/* face/embed — who a face is: an ArcFace-aligned 112x112 crop through
 * MobileFaceNet (models/mobilefacenet.json) gives a unit-length embedding;
 * two faces of one person have a high cosine similarity.
 *
 * Alignment: five points (eye centres, nose tip, mouth corners) from the
 * FaceMesh landmarks, or four (eyes, nose, mouth centre) from BlazeFace's
 * keypoints when a face has no landmarks, fitted to the ArcFace template by
 * a similarity transform (align_umeyama). The crop is sampled straight from
 * the frame in its own pixel format (face/crop).
 *
 * Input range: RGB scaled to [0, 1] (FACE_EMBED_INPUT_SCALE/BIAS), chosen
 * by measurement on the samples (README "Face recognition"). The model's raw
 * outputs all share one direction; the embedding is the raw one minus the
 * model's answer to a mid-grey crop, renormalized.
 *
 * Ownership: an embedder owns its model and runner; face_embed() writes
 * face_embedder_dim() floats into the caller's buffer and allocates nothing.
 * One embedder is not safe to use from two threads at once. */
#ifndef PTIM_FACE_EMBED_H
#define PTIM_FACE_EMBED_H

#include <stdbool.h>

#include "core/config.h"
#include "core/error.h"
#include "face/face.h"
#include "img/image.h"

#define FACE_EMBED_SIZE 112   /* aligned crop side, pixels */
#define FACE_EMBED_DIM_MAX 512
#define FACE_EMBED_INPUT_SCALE (1.0f / 255.0f)
#define FACE_EMBED_INPUT_BIAS 0.0f

typedef struct face_embedder face_embedder;

int face_embedder_create_with(const char *model_dir, int threads, face_embedder **out, ptim_error *err);
int face_embedder_create(const ptim_config *cfg, face_embedder **out, ptim_error *err);
void face_embedder_destroy(face_embedder *e);
/* Length of an embedding (192 for MobileFaceNet). */
int face_embedder_dim(const face_embedder *e);
/* Input range used for the crop (value = pixel * scale + bias); for
 * measurement only (the grey reference is kept from creation). */
void face_embedder_set_input_range(face_embedder *e, float scale, float bias);

/* The alignment points of a face in frame pixels: 5 from landmarks, else 4
 * from keypoints (*n says which). The matching template goes to tmpl
 * (ArcFace 112x112 pixels). False when the face has neither. */
bool face_embed_points(const face *f, float pts[5][2], float tmpl[5][2], int *n);
/* Tensor→frame map of the aligned crop (for face/crop); false when degenerate. */
bool face_embed_crop_map(const face *f, float m[6]);

/* Embedding of face f on frame into out[face_embedder_dim(e)] (unit length). */
int face_embed(face_embedder *e, const img_view *frame, const face *f, float *out, ptim_error *err);
/* The same with the aligned crop box-blurred (radius `blur_px` crop pixels,
 * three passes: close to a Gaussian) before the model sees it: the
 * embedding of this face with its identity blurred away, a baseline for
 * "how much of the person does a masked crop still show". */
int face_embed_blurred(face_embedder *e, const img_view *frame, const face *f, int blur_px, float *out,
                       ptim_error *err);
/* The last aligned crop as RGB24 bytes [112][112][3] (for reports; NULL before any). */
int face_embed_last_crop(const face_embedder *e, unsigned char *rgb);

/* Cosine similarity of two unit embeddings: 1 same, ~0 unrelated. */
float face_embed_similarity(const float *a, const float *b, int dim);

#endif
