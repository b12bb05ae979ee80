/* face/tile_still — which windows of the tracker's rolling tiled scan look
 * as they did when they were last scanned, so the scan can pass them by
 * (issue 12: the tiled scan is most of the analysis; on a static camera —
 * CCTV, an interview, a webcam, a lecture — most tiles never change).
 *
 * A window's look is the mean of the frame's first plane (luma for YUV,
 * every byte for packed RGB) over the 8x8-pixel cells it touches. It is
 * unchanged while no cell differs by more than TILE_STILL_DIFF levels from
 * the snapshot taken when the window was last scanned (not the previous
 * frame: a slow fade-in adds up), and for at most TILE_STILL_MAX_SKIPS
 * visits in a row, after which it is scanned again whatever it looks like.
 * The detector being deterministic, a window that has not changed cannot
 * show a face it did not show when scanned; the bound on skips covers what
 * compression noise might tip over the threshold.
 *
 * Windows are numbered as the detector's (face_detector_window_rect), rects
 * in frame pixels. Memory grows with the windows' areas, allocated when a
 * window is first seen or grows (a new frame size), never per frame once the
 * size is steady. Not thread-safe: one tracker, one thread. */
#ifndef PTIM_FACE_TILE_STILL_H
#define PTIM_FACE_TILE_STILL_H

#include <stdbool.h>

#include "img/image.h"

#define TILE_STILL_DIFF 3      /* luma levels, on 8x8 means */
#define TILE_STILL_MAX_SKIPS 2 /* then scanned again: every 3rd visit at the least */
#define TILE_STILL_WINDOWS 160 /* window numbers 0..TILE_STILL_WINDOWS-1 */

typedef struct tile_still tile_still;

/* NULL when out of memory. */
tile_still *tile_still_create(void);
void tile_still_destroy(tile_still *s);

/* Forget every snapshot (new frame size, tiling, orientation, settings): each
 * window is scanned on its next visit. */
void tile_still_reset(tile_still *s);

/* Takes window `win`'s look on `frame`. True when it may be passed by:
 * scanned before, unchanged since (within TILE_STILL_DIFF), and passed by
 * fewer than TILE_STILL_MAX_SKIPS times in a row (a pass is counted here).
 * False otherwise, and on no memory: then scan it and call
 * tile_still_scanned(). */
bool tile_still_unchanged(tile_still *s, const img_view *frame, int win, const float rect[4]);

/* Window `win` was scanned on this frame: the look taken by the last
 * tile_still_unchanged() call for it becomes its snapshot. With
 * `take` it is taken now first (a window scanned without being asked about:
 * the full scan after a cut). */
void tile_still_scanned(tile_still *s, const img_view *frame, int win, const float rect[4], bool take);

#endif
