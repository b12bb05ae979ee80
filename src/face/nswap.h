/* face/nswap — face swap by a trained network (swap.model): DeepFaceLive's
 * .dfm files and InsightFace's inswapper_128.onnx (with its ArcFace encoder).
 * Both are ONNX, run through nn/.
 *
 * DFM: input in_face:0 1xRxRx3 (BGR 0..1), optional morph_value:0 [1];
 * outputs out_face_mask:0, out_celeb_face:0, out_celeb_face_mask:0. The face
 * is aligned to R x R with DeepFaceLive's "whole face" framing scaled by the
 * face coverage (see face_nswap_crop_map), optionally presharpened and
 * gamma-corrected, swapped; the blend mask is face mask x celeb mask.
 *
 * inswapper: inputs target 1x3xRxR (RGB 0..1) and source 1x512 (the identity
 * latent), output 1x3xRxR. The identity photo's ArcFace crop goes through the
 * encoder once at creation; its unit embedding times the swapper's emap (its
 * last initializer, 512x512), renormalised, is the latent kept for every
 * frame. The crop is InsightFace's 128 alignment; the blend mask is the whole
 * crop, eroded and feathered.
 *
 * Then, for both: the mask is eroded and blurred (merge.erode, merge.blur, in
 * pixels of a 256-pixel crop), the colours are matched to the person's (rct in
 * LAB, merge.color_transfer) and the face is pasted back through the inverse
 * transform in the frame's own pixel format (merge.opacity), leaving the
 * person's own open mouth when merge.keep_mouth (swap.keep_mouth).
 *
 * Ownership: an nswap owns its models, runners and buffers; rendering
 * allocates only when a face larger on screen than any before appears. Not
 * thread-safe per object. */
#ifndef PTIM_FACE_NSWAP_H
#define PTIM_FACE_NSWAP_H

#include <stdbool.h>

#include "core/error.h"
#include "face/face.h"
#include "face/swap.h"
#include "img/image.h"

typedef struct face_nswap face_nswap;

typedef enum face_nswap_kind { FACE_NSWAP_DFM, FACE_NSWAP_INSWAPPER } face_nswap_kind;

typedef struct face_nswap_params {
    float morph;       /* swap.morph_factor */
    float coverage;    /* swap.face_coverage */
    float x_offset, y_offset; /* swap.face_x_offset, swap.face_y_offset (.dfm), in face units */
    float presharpen;  /* swap.presharpen, 0 = off */
    float pre_gamma, post_gamma;
    face_swap_params merge; /* erode, blur, opacity, color_transfer */
} face_nswap_params;

/* model: .dfm or inswapper .onnx; encoder: the ArcFace .onnx (inswapper only);
 * identity/identity_face: the photo and its face (inswapper only; may be NULL
 * for a DFM). threads: backend worker threads. Fails with one sentence naming
 * the file and what it has when the model is not one of the two kinds. */
int face_nswap_create(const char *model, const char *encoder, const img_view *identity,
                      const face *identity_face, int threads, face_nswap **out, ptim_error *err);
void face_nswap_destroy(face_nswap *s);
/* Whether `model` is a swap model ptim can use, without building it: read
 * with the ONNX reader and checked as face_nswap_create checks it (the
 * control panel validates an upload with this before it sets swap.model).
 * On success *kind and *res (the face side in pixels). */
int face_nswap_check(const char *model, face_nswap_kind *kind, int *res, ptim_error *err);
/* Whether `encoder` is an ArcFace encoder an inswapper can use (one input
 * 1x3x112x112, one output of 512), as face_nswap_create checks it. */
int face_nswap_check_encoder(const char *encoder, ptim_error *err);

face_nswap_kind face_nswap_kind_of(const face_nswap *s);
int face_nswap_resolution(const face_nswap *s);
/* The cached identity latent (inswapper; NULL for a DFM), 512 floats. */
const float *face_nswap_latent(const face_nswap *s);

/* Swaps face f in place. Returns -1 (frame untouched) when the face has no
 * usable alignment points or the network fails; the caller masks it another
 * way. */
int face_nswap_render(face_nswap *s, img_view *frame, const face *f, const face_nswap_params *p,
                      ptim_error *err);
/* face_nswap_render in two steps, so that the masker can blur the face
 * under the swap (swap.underlay) in between while the network still sees
 * the face itself: prepare reads `frame`, runs the model and keeps the
 * result in `s`; apply pastes it onto `frame` as it is then. Each returns 0
 * or -1 as face_nswap_render (apply without a prepared face: -1). One
 * prepared face at a time. */
int face_nswap_prepare(face_nswap *s, const img_view *frame, const face *f, const face_nswap_params *p,
                       ptim_error *err);
int face_nswap_apply(face_nswap *s, img_view *frame, ptim_error *err);

/* The crop→frame map (tensor pixel coordinates, centres at +0.5, to frame
 * pixels; see face/crop) of face f for a model of this kind and resolution.
 * DFM: a square of coverage x 0.600 ArcFace-template widths centred at
 * (0.511, 0.594) of the template, DeepFaceLive's own cut (coverage mean-face
 * units, raised 0.08 unit) as measured on the samples, see nswap.c; inswapper: InsightFace's template for
 * the resolution (112 px template scaled by R/128 and shifted 8 R/128 px
 * right). False when the face has no usable points. */
bool face_nswap_crop_map(const face *f, face_nswap_kind kind, int res, float coverage, float x_offset, float y_offset,
                         float m[6]);

#endif
