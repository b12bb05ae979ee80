/* img/draw — debug overlays (debug.draw) in the frame's own format: lines,
 * dots and small digits. Not on any hot path that matters: only with
 * debug.draw set. Everything is clipped to the frame. */
#ifndef PTIM_IMG_DRAW_H
#define PTIM_IMG_DRAW_H

#include <stdint.h>

#include "img/image.h"

void img_draw_dot(img_view *v, int x, int y, int radius, const uint8_t rgb[3]);
/* Outline of [x0,x1) x [y0,y1), `thick` pixels wide, inside the rectangle. */
void img_draw_rect(img_view *v, int x0, int y0, int x1, int y1, int thick, const uint8_t rgb[3]);
/* Decimal digits of `text` (other characters are skipped) with the top-left
 * corner at (x, y), each font pixel `scale` frame pixels. */
void img_draw_text(img_view *v, int x, int y, int scale, const char *text, const uint8_t rgb[3]);

#endif
