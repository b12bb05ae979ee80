/* app/bench_face — `ptim bench face [--frames N] [--threads LIST] [--sizes LIST]
 * [--tiles LIST]`: analysis cost per frame (detection + FaceMesh landmarks) at
 * 720p and 1080p, tracking on (face/tracker: landmarks drive the region,
 * detection every track.detect_interval frames, rolling tiled scan) and off
 * (detector on every window + landmarks on every face, every frame), tiles off
 * and auto, 1 and 2 threads; then the cost of one face embedding (recognition).
 *
 * Frames are YUV420P, as decoders deliver them: astronaut.png (from
 * $PTIM_SAMPLES_DIR, else the source tree's samples/) scaled so the face is
 * about 12 % of the frame height, drifting a little every frame so tracking
 * has real work. */
#include "app/bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "face/detector.h"
#include "face/embed.h"
#include "face/landmarks.h"
#include "face/models.h"
#include "face/tracker.h"
#include "io/image_file.h"

#define MAX_LIST 8
#define ASTRO_FACE_CX 226.0f
#define ASTRO_FACE_CY 122.0f
#define ASTRO_FACE_W 100.0f

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int parse_list(const char *flag, const char *s, int lo, int hi, int *out, int *n)
{
    *n = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *end;
        long v = strtol(tok, &end, 10);
        if (*end || v < lo || v > hi || *n == MAX_LIST) {
            fprintf(stderr, "ptim bench face: %s '%s' is not a list of numbers %d-%d\n", flag, s,
                    lo, hi);
            return -1;
        }
        out[(*n)++] = (int)v;
    }
    return *n ? 0 : -1;
}

/* Frame i of a w x h clip: grey-green backdrop, the astronaut drifting. */
static void compose(const img_view *astro, int i, img_image *frame)
{
    img_view *v = &frame->view;
    int w = v->width, h = v->height;
    float face_w = 0.12f * h;
    float s = face_w / ASTRO_FACE_W;
    float cx = 0.45f * w + 2.0f * i, cy = 0.4f * h + 1.0f * i;
    for (int y = 0; y < h; y++)
        memset(v->data[0] + (size_t)y * v->stride[0], 100 + 50 * y / h, (size_t)w);
    for (int y = 0; y < (h + 1) / 2; y++) {
        memset(v->data[1] + (size_t)y * v->stride[1], 120, (size_t)(w + 1) / 2);
        memset(v->data[2] + (size_t)y * v->stride[2], 125, (size_t)(w + 1) / 2);
    }
    /* Inverse-map every destination pixel of the pasted picture (bilinear). */
    int ox = (int)(cx - ASTRO_FACE_CX * s), oy = (int)(cy - ASTRO_FACE_CY * s);
    int pw = (int)(astro->width * s), ph = (int)(astro->height * s);
    for (int y = 0; y < ph; y++)
        for (int x = 0; x < pw; x++) {
            int X = ox + x, Y = oy + y;
            if (X < 0 || Y < 0 || X >= w || Y >= h)
                continue;
            int sx = (int)(x / s), sy = (int)(y / s);
            if (sx >= astro->width)
                sx = astro->width - 1;
            if (sy >= astro->height)
                sy = astro->height - 1;
            const uint8_t *p = astro->data[0] + (size_t)sy * astro->stride[0] + 3 * sx;
            v->data[0][(size_t)Y * v->stride[0] + X] =
                (uint8_t)(16.5f + 0.257f * p[0] + 0.504f * p[1] + 0.098f * p[2]);
            if (!((X | Y) & 1)) {
                v->data[1][(size_t)(Y / 2) * v->stride[1] + X / 2] =
                    (uint8_t)(128.5f - 0.148f * p[0] - 0.291f * p[1] + 0.439f * p[2]);
                v->data[2][(size_t)(Y / 2) * v->stride[2] + X / 2] =
                    (uint8_t)(128.5f + 0.439f * p[0] - 0.368f * p[1] - 0.071f * p[2]);
            }
        }
}

typedef struct result {
    double mean, p50, p95;
    double faces; /* mean faces per frame */
    int threads;  /* inference threads actually used (face_threads) */
    bool parts;   /* part_ms holds the tracker's split (tracking on) */
    double part_ms[FACE_PART__COUNT]; /* per measured frame */
} result;

static void summarize(double *t, int n, double faces, result *r)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += t[i];
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    r->mean = sum / n;
    r->p50 = t[n / 2];
    r->p95 = t[(int)(0.95 * (n - 1) + 0.5)];
    r->faces = faces / n;
}

static int run_config(img_image *frames, int nframes, int threads, const char *tiles, bool tracking,
                      result *r, ptim_error *err)
{
    char th[64], ti[64];
    snprintf(th, sizeof th, "performance.max_processing_workers=%d", threads);
    snprintf(ti, sizeof ti, "detector.tiles=%s", tiles);
    const char *sets[] = {th, ti};
    ptim_config *cfg;
    if (ptim_config_new(sets, 2, &cfg, err))
        return -1;
    r->threads = face_threads(cfg);
    static face_list list;
    double *t = calloc((size_t)nframes, sizeof *t);
    double faces = 0;
    int rc = -1;
    const int warmup = 3;
    r->parts = tracking;
    if (tracking) {
        face_tracker *tr;
        face_tracker_counters before = {0}, after;
        if (face_tracker_create(cfg, &tr, err))
            goto done;
        for (int i = -warmup; i < nframes; i++) {
            int k = i < 0 ? 0 : i;
            double t0 = now_ms();
            if (face_tracker_process(tr, &frames[k].view, (int64_t)(i + warmup) * 33, &list, err)) {
                face_tracker_destroy(tr);
                goto done;
            }
            if (i >= 0) {
                t[i] = now_ms() - t0;
                faces += list.count;
            }
            if (i == -1) {
                face_tracker_reset(tr); /* measured frames start from nothing */
                face_tracker_counters_get(tr, &before);
            }
        }
        face_tracker_counters_get(tr, &after);
        for (int p = 0; p < FACE_PART__COUNT; p++)
            r->part_ms[p] = (after.ms[p] - before.ms[p]) / nframes;
        face_tracker_destroy(tr);
    } else {
        face_detector *d;
        face_landmarker *lm;
        if (face_detector_create(cfg, &d, err))
            goto done;
        if (face_landmarker_create(cfg, &lm, err)) {
            face_detector_destroy(d);
            goto done;
        }
        for (int i = -warmup; i < nframes; i++) {
            int k = i < 0 ? 0 : i;
            double t0 = now_ms();
            if (face_detector_detect(d, &frames[k].view, &list, err))
                break;
            for (int f = 0; f < list.count; f++) {
                face_roi roi = face_roi_from_detection(&list.faces[f]);
                if (face_landmarker_run(lm, &frames[k].view, &roi, &list.faces[f], err))
                    break;
            }
            if (i >= 0) {
                t[i] = now_ms() - t0;
                faces += list.count;
            }
        }
        face_landmarker_destroy(lm);
        face_detector_destroy(d);
        if (err->category != PTIM_ERR_NONE)
            goto done;
    }
    summarize(t, nframes, faces, r);
    rc = 0;
done:
    free(t);
    ptim_config_release(cfg);
    return rc;
}

/* Recognition cost per face: one MobileFaceNet embedding (ArcFace-aligned
 * 112x112 crop, 1 thread) of astronaut's face, as privacy.keep/only and
 * verify --identity spend it per recognized face. */
static int bench_embed(const img_view *astro, int runs, ptim_error *err)
{
    const char *sets[] = {"performance.max_processing_workers=1"};
    ptim_config *cfg;
    if (ptim_config_new(sets, 1, &cfg, err))
        return -1;
    int rc = -1;
    face_tracker *tr = NULL;
    face_embedder *e = NULL;
    static face_list list;
    double *t = calloc((size_t)runs, sizeof *t);
    float emb[FACE_EMBED_DIM_MAX];
    if (!t || face_tracker_create(cfg, &tr, err) || face_tracker_process(tr, astro, 0, &list, err) ||
        face_embedder_create(cfg, &e, err))
        goto done;
    if (list.count < 1) {
        ptim_error_set(err, PTIM_ERR_INTERNAL, PTIM_SEV_HIGH, "no face found on astronaut.png");
        goto done;
    }
    for (int i = -3; i < runs; i++) {
        double t0 = now_ms();
        if (face_embed(e, astro, &list.faces[0], emb, err))
            goto done;
        if (i >= 0)
            t[i] = now_ms() - t0;
    }
    result r;
    summarize(t, runs, 1, &r);
    printf("\nrecognition: one MobileFaceNet embedding per face (112x112 aligned crop, 1 thread), %d runs\n"
           "embed ms: mean %.2f / median %.2f / p95 %.2f\n",
           runs, r.mean, r.p50, r.p95);
    rc = 0;
done:
    face_embedder_destroy(e);
    face_tracker_destroy(tr);
    free(t);
    ptim_config_release(cfg);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: ptim bench face [--frames N] [--threads 1,2] [--sizes 720,1080] "
               "[--tiles off,auto]\n"
               "Analysis time per frame: detection + landmarks, tracking on and off.\n");
}

int bench_face_main(int argc, char **argv)
{
    int nframes = 60, threads[MAX_LIST] = {1, 2}, nthreads = 2, sizes[MAX_LIST] = {720, 1080};
    int nsizes = 2;
    const char *tiles[MAX_LIST] = {"off", "auto"};
    int ntiles = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int n1;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--frames") && v) {
            if (parse_list(a, v, 1, 100000, &nframes, &n1) || n1 != 1)
                return 2;
            i++;
        } else if (!strcmp(a, "--threads") && v) {
            if (parse_list(a, v, 1, 16, threads, &nthreads))
                return 2;
            i++;
        } else if (!strcmp(a, "--sizes") && v) {
            if (parse_list(a, v, 120, 4320, sizes, &nsizes))
                return 2;
            i++;
        } else if (!strcmp(a, "--tiles") && v) {
            static char buf[256];
            snprintf(buf, sizeof buf, "%s", v);
            ntiles = 0;
            for (char *tok = strtok(buf, ","); tok && ntiles < MAX_LIST; tok = strtok(NULL, ","))
                tiles[ntiles++] = tok;
            i++;
        } else {
            fprintf(stderr, "ptim bench face: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    const char *dir = getenv("PTIM_SAMPLES_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/astronaut.png", dir && *dir ? dir : PTIM_SOURCE_DIR "/samples");
    img_image astro;
    ptim_error err = {0};
    if (io_image_load(path, IMG_FMT_RGB24, &astro, &err)) {
        fprintf(stderr, "ptim bench face: %s\n", err.message);
        return 2;
    }
    printf("face: detect + landmarks per frame, YUV420P, %d frames per row (ms: mean / median / p95)\n"
           "threads: performance.max_processing_workers (inference threads used: at most half the cores)\n",
           nframes);
    printf("%-6s %-8s %-6s %-7s %8s %8s %8s %6s %7s\n", "size", "tracking", "tiles", "threads",
           "mean", "median", "p95", "faces", "windows");
    int status = 0;
    for (int s = 0; s < nsizes && !status; s++) {
        int h = sizes[s], w = (h * 16 / 9 + 1) & ~1;
        img_image *frames = calloc((size_t)nframes, sizeof *frames);
        for (int i = 0; i < nframes; i++) {
            if (img_image_alloc(&frames[i], IMG_FMT_YUV420P, w, h)) {
                fprintf(stderr, "ptim bench face: out of memory for %dx%d frames\n", w, h);
                status = 1;
                nframes = i;
                break;
            }
            compose(&astro.view, i % 60 < 30 ? i % 60 : 60 - i % 60, &frames[i]);
        }
        for (int tr = 1; tr >= 0 && !status; tr--)
            for (int ti = 0; ti < ntiles && !status; ti++)
                for (int th = 0; th < nthreads && !status; th++) {
                    result r;
                    if (run_config(frames, nframes, threads[th], tiles[ti], tr, &r, &err)) {
                        fprintf(stderr, "ptim bench face: %s\n", err.message);
                        status = 1;
                        break;
                    }
                    int t = !strcmp(tiles[ti], "auto") ? FACE_DET_TILES_AUTO
                            : !strcmp(tiles[ti], "off") ? 0 : atoi(tiles[ti]);
                    char thr[32];
                    snprintf(thr, sizeof thr, "%d(%d)", threads[th], r.threads);
                    printf("%-6d %-8s %-6s %-7s %8.2f %8.2f %8.2f %6.2f %7d\n", h, tr ? "on" : "off",
                           tiles[ti], thr, r.mean, r.p50, r.p95, r.faces,
                           face_detector_window_count(t, w, h));
                    if (r.parts) {
                        const double *m = r.part_ms;
                        printf("       of the mean: whole frame %.2f, tiles %.2f, FaceMesh %.2f, "
                               "turned views %.2f, tracker %.2f\n",
                               m[FACE_PART_WHOLE_FRAME], m[FACE_PART_TILES], m[FACE_PART_FACEMESH],
                               m[FACE_PART_TURNED], m[FACE_PART_TRACKER]);
                    }
                    fflush(stdout);
                }
        for (int i = 0; i < nframes; i++)
            img_image_free(&frames[i]);
        free(frames);
    }
    if (!status && bench_embed(&astro.view, 50, &err)) {
        fprintf(stderr, "ptim bench face: %s\n", err.message);
        status = 1;
    }
    img_image_free(&astro);
    return status;
}
