/* face/one_euro — the One Euro filter (Casiez, Roussel, Vogel 2012): a low-pass
 * whose cutoff rises with speed, so a still value stops jittering and a moving
 * one does not lag.
 *
 * Speed is measured in pixels per second of a face 100 px wide: the caller
 * passes `scale` = face width / 100, so the same settings behave alike for
 * small and large faces (as MediaPipe scales by object size). */
#ifndef PTIM_FACE_ONE_EURO_H
#define PTIM_FACE_ONE_EURO_H

#include <stdbool.h>

typedef struct one_euro_params {
    float min_cutoff; /* Hz: cutoff of a still value (lower = less jitter) */
    float beta;       /* cutoff gained per unit of speed (higher = less lag) */
    float d_cutoff;   /* Hz: cutoff of the speed estimate itself */
} one_euro_params;

typedef struct one_euro {
    float x;  /* last filtered value */
    float dx; /* last filtered speed */
    bool primed;
} one_euro;

/* Filter one sample taken dt_s seconds after the previous one; returns the
 * filtered value. The first sample (or dt_s <= 0) passes through. */
float one_euro_step(one_euro *f, const one_euro_params *p, float x, float dt_s, float scale);

static inline void one_euro_reset(one_euro *f) { f->primed = false; }

#endif
