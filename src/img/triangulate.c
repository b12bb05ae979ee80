/* img/triangulate — Bowyer-Watson: insert points one by one; the triangles
 * whose circumcircle holds the new point form a star-shaped hole, which is
 * re-triangulated from the point. O(n^2) for our n = 468: well under a ms. */
#include "img/triangulate.h"

#include <math.h>
#include <stdlib.h>

typedef struct tri {
    int v[3];
    double cx, cy, r2;
    int alive;
} tri;

static void circum(tri *t, const double (*p)[2])
{
    const double *a = p[t->v[0]], *b = p[t->v[1]], *c = p[t->v[2]];
    double d = 2 * (a[0] * (b[1] - c[1]) + b[0] * (c[1] - a[1]) + c[0] * (a[1] - b[1]));
    if (fabs(d) < 1e-12) {
        /* Collinear: treat the circle as infinite so the triangle is replaced. */
        t->cx = t->cy = 0;
        t->r2 = INFINITY;
        return;
    }
    double a2 = a[0] * a[0] + a[1] * a[1], b2 = b[0] * b[0] + b[1] * b[1], c2 = c[0] * c[0] + c[1] * c[1];
    t->cx = (a2 * (b[1] - c[1]) + b2 * (c[1] - a[1]) + c2 * (a[1] - b[1])) / d;
    t->cy = (a2 * (c[0] - b[0]) + b2 * (a[0] - c[0]) + c2 * (b[0] - a[0])) / d;
    t->r2 = (a[0] - t->cx) * (a[0] - t->cx) + (a[1] - t->cy) * (a[1] - t->cy);
}

int img_delaunay(const float (*pts)[2], int n, int (*out)[3], int max_tris)
{
    if (n < 3)
        return 0;
    int cap = 4 * n + 16, ecap = 3 * cap;
    double (*p)[2] = malloc(sizeof *p * (n + 3));
    tri *t = malloc(sizeof *t * cap);
    int (*edges)[2] = malloc(sizeof *edges * ecap);
    if (!p || !t || !edges) {
        free(p), free(t), free(edges);
        return -1;
    }
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (int i = 0; i < n; i++) {
        p[i][0] = pts[i][0], p[i][1] = pts[i][1];
        minx = fmin(minx, p[i][0]), maxx = fmax(maxx, p[i][0]);
        miny = fmin(miny, p[i][1]), maxy = fmax(maxy, p[i][1]);
    }
    double cx = (minx + maxx) / 2, cy = (miny + maxy) / 2, s = fmax(maxx - minx, maxy - miny) + 1;
    p[n][0] = cx - 2000 * s, p[n][1] = cy - 2000 * s;
    p[n + 1][0] = cx + 2000 * s, p[n + 1][1] = cy - 2000 * s;
    p[n + 2][0] = cx, p[n + 2][1] = cy + 2000 * s;
    int nt = 1;
    t[0] = (tri){{n, n + 1, n + 2}, 0, 0, 0, 1};
    circum(&t[0], (const double(*)[2])p);
    int ok = 0;
    for (int i = 0; i < n; i++) {
        int dup = 0;
        for (int k = 0; k < i && !dup; k++)
            dup = fabs(p[k][0] - p[i][0]) < 1e-3 && fabs(p[k][1] - p[i][1]) < 1e-3;
        if (dup)
            continue;
        int ne = 0;
        for (int k = 0; k < nt; k++) {
            if (!t[k].alive)
                continue;
            double dx = p[i][0] - t[k].cx, dy = p[i][1] - t[k].cy;
            if (dx * dx + dy * dy < t[k].r2) {
                t[k].alive = 0;
                for (int e = 0; e < 3; e++) {
                    if (ne >= ecap)
                        goto fail;
                    edges[ne][0] = t[k].v[e];
                    edges[ne][1] = t[k].v[(e + 1) % 3];
                    ne++;
                }
            }
        }
        /* Edges shared by two removed triangles are inside the hole. */
        for (int a = 0; a < ne; a++) {
            if (edges[a][0] < 0)
                continue;
            int shared = 0;
            for (int b = a + 1; b < ne; b++)
                if (edges[b][0] >= 0 && ((edges[a][0] == edges[b][1] && edges[a][1] == edges[b][0]) ||
                                         (edges[a][0] == edges[b][0] && edges[a][1] == edges[b][1]))) {
                    edges[b][0] = -1;
                    shared = 1;
                }
            if (shared)
                edges[a][0] = -1;
        }
        /* Compact dead triangles away before adding, so the array stays small. */
        int w = 0;
        for (int k = 0; k < nt; k++)
            if (t[k].alive)
                t[w++] = t[k];
        nt = w;
        for (int a = 0; a < ne; a++) {
            if (edges[a][0] < 0)
                continue;
            if (nt >= cap)
                goto fail;
            t[nt] = (tri){{edges[a][0], edges[a][1], i}, 0, 0, 0, 1};
            circum(&t[nt], (const double(*)[2])p);
            nt++;
        }
    }
    int count = 0;
    for (int k = 0; k < nt; k++) {
        if (!t[k].alive || t[k].v[0] >= n || t[k].v[1] >= n || t[k].v[2] >= n)
            continue;
        const double *a = p[t[k].v[0]], *b = p[t[k].v[1]], *c = p[t[k].v[2]];
        double area = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
        if (fabs(area) < 1e-9)
            continue;
        if (count >= max_tris)
            goto fail;
        out[count][0] = t[k].v[0], out[count][1] = t[k].v[1], out[count][2] = t[k].v[2];
        count++;
    }
    ok = 1;
fail:
    free(p), free(t), free(edges);
    return ok ? count : -1;
}
