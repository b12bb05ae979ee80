/* face/scene — a cheap luma signature of a frame, to notice scene cuts.
 *
 * The signature is the mean luma of a SCENE_COLS x SCENE_ROWS grid of cells,
 * each mean taken from SCENE_SAMPLES x SCENE_SAMPLES pixels spread over the
 * cell (3072 reads a frame, whatever its size). Two frames of one shot differ
 * little (noise averages out, motion moves a few cells a little); a cut
 * changes most cells. Works on every img_format (luma of RGB/BGR/RGBA is
 * computed from the pixels read). Allocates nothing. */
#ifndef PTIM_FACE_SCENE_H
#define PTIM_FACE_SCENE_H

#include <stdint.h>

#include "img/image.h"

#define SCENE_COLS 16
#define SCENE_ROWS 12
#define SCENE_SAMPLES 4

typedef struct scene_signature {
    int width, height; /* frame size it was taken from; 0 = none */
    uint8_t cell[SCENE_ROWS * SCENE_COLS];
} scene_signature;

void scene_signature_take(scene_signature *sig, const img_view *frame);

/* How different two signatures are, 0 (alike) .. 1: the mean absolute
 * difference of the cells over 255, after removing the mean brightness
 * change (a fade or an exposure change is not a cut). Frames of different
 * sizes, or a missing signature, count as 1. */
float scene_signature_distance(const scene_signature *a, const scene_signature *b);

#endif
