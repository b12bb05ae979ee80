/* face/swap — put one identity's face onto tracked faces.
 *
 * The identity is one photo plus its 468 FaceMesh landmarks. At creation the
 * face region of the photo is kept as LAB floats and its landmarks are
 * triangulated (Delaunay, computed once on the identity's own layout). Per
 * face and frame: each triangle of the identity is warped affinely onto the
 * same landmarks of the target (so head pose and expression follow the
 * target), colours are moved to the target's skin in LAB (rct: mean and
 * deviation inside the mask), and the result is blended with a feathered
 * mask (eroded and blurred landmark hull) in the frame's own pixel format. */
#ifndef PTIM_FACE_SWAP_H
#define PTIM_FACE_SWAP_H

#include <stdbool.h>

#include "core/error.h"
#include "face/face.h"
#include "img/image.h"

typedef struct face_swap face_swap;

typedef struct face_swap_params {
    float erode;          /* merge.erode: pixels of a 256-pixel-wide face, scaled with the face */
    float blur;           /* merge.blur: feather width, same unit */
    float opacity;        /* merge.opacity 0..1 */
    bool color_transfer;  /* merge.color_transfer = rct */
    bool keep_mouth;      /* swap.keep_mouth: keep the target's open mouth */
} face_swap_params;

/* identity: any img_view format (RGB24 expected); identity_face: its face
 * record with landmarks (frame pixels of `identity`); name: the file, for
 * messages. Copies what it keeps. */
int face_swap_create(const img_view *identity, const face *identity_face, const char *name,
                     face_swap **out, ptim_error *err);
void face_swap_destroy(face_swap *swap);
/* Swaps onto face f (which must have landmarks) in place. Returns -1 (and
 * leaves the frame untouched) when the face cannot be swapped: no
 * landmarks, a degenerate outline, or no memory. */
int face_swap_render(face_swap *swap, img_view *frame, const face *f, const face_swap_params *p,
                     ptim_error *err);
/* face_swap_render in two steps, so that something may be drawn under the
 * swapped face in between (the masker's blurred underlay) while the colour
 * transfer still matches the face's own skin: prepare reads `frame` (the
 * face as it is) and keeps the swapped pixels and their mask in `swap`;
 * apply blends them onto `frame` as it is then. prepare returns 0 when
 * ready, 1 when the face lies outside the frame (apply draws nothing), -1
 * as face_swap_render. One prepared face at a time. */
int face_swap_prepare(face_swap *swap, const img_view *frame, const face *f, const face_swap_params *p,
                      ptim_error *err);
void face_swap_apply(face_swap *swap, img_view *frame);
/* swap.keep_mouth: the open mouth's outline (inner lips, grown 15 %) into
 * hull (frame pixels, at most 20 points) and the soft edge to cut it with
 * (*feather, pixels); returns the point count, 0 when the mouth is closed or
 * f has no landmarks. */
int face_swap_open_mouth(const face *f, float (*hull)[2], float *feather);
/* Number of mesh triangles (tests). */
int face_swap_triangles(const face_swap *swap);

/* Landmark indices of the inner lip outline (FaceMesh topology). */
extern const int face_inner_lips[20];

#endif
