/* face/one_euro — see one_euro.h. */
#include "face/one_euro.h"

#include <math.h>

static float smoothing_factor(float cutoff_hz, float dt_s)
{
    float tau = 1.0f / (2.0f * (float)M_PI * cutoff_hz);
    return 1.0f / (1.0f + tau / dt_s);
}

float one_euro_step(one_euro *f, const one_euro_params *p, float x, float dt_s, float scale)
{
    if (!f->primed || !(dt_s > 0.0f)) {
        if (!f->primed)
            f->dx = 0.0f;
        f->x = x;
        f->primed = true;
        return x;
    }
    if (!(scale > 1e-6f))
        scale = 1e-6f;
    float dx = (x - f->x) / dt_s / scale;
    f->dx += smoothing_factor(p->d_cutoff, dt_s) * (dx - f->dx);
    float cutoff = p->min_cutoff + p->beta * fabsf(f->dx);
    f->x += smoothing_factor(cutoff, dt_s) * (x - f->x);
    return f->x;
}
