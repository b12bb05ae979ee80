/* img/triangulate — Delaunay triangulation of a point set (Bowyer-Watson).
 * Run once per identity (face/swap), never per frame. */
#ifndef PTIM_IMG_TRIANGULATE_H
#define PTIM_IMG_TRIANGULATE_H

/* Triangulates n points (x, y). Points closer than 1e-3 to an earlier one
 * are left out. Writes at most max_tris triangles (vertex indices into pts,
 * counter-clockwise in y-down image coordinates' mirror — orientation not
 * promised) and returns their number, or -1 when out of memory / too many. */
int img_delaunay(const float (*pts)[2], int n, int (*tris)[3], int max_tris);

#endif
