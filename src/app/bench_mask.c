/* app/bench_mask — `ptim bench mask`: what masking costs per face, per mode,
 * on YUV420P frames at 720p and 1080p (the decoder's format), rendered in
 * place as the pipeline does. Faces are synthetic (box + 468 landmarks over
 * an ellipse, width = --face x frame height), so the figures do not depend
 * on the detector; the identity for swap is a synthetic textured photo. */
#include "app/bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "face/masker.h"
#include "img/image.h"

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

static uint32_t seed = 1;
static float frand(void)
{
    seed = seed * 1664525u + 1013904223u;
    return (seed >> 8 & 0xffff) / 65536.f;
}

static face make_face(float cx, float cy, float fw, float fh)
{
    face f;
    memset(&f, 0, sizeof f);
    f.id = 1;
    f.flags = FACE_DETECTED | FACE_HAS_LANDMARKS;
    f.box[0] = cx - fw / 2, f.box[1] = cy - fh / 2, f.box[2] = fw, f.box[3] = fh;
    for (int i = 0; i < FACE_LANDMARKS; i++) {
        float a = i < 36 ? i * 6.2831853f / 36 : frand() * 6.2831853f;
        float r = i < 36 ? 1.f : 0.92f * sqrtf(frand());
        f.landmarks[i][0] = cx + r * fw / 2 * cosf(a);
        f.landmarks[i][1] = cy + r * fh / 2 * sinf(a);
    }
    return f;
}

static void fill_frame(img_image *img)
{
    img_plane p[3];
    int n = img_view_planes(&img->view, p);
    for (int i = 0; i < n; i++)
        for (int y = 0; y < p[i].height; y++)
            for (int x = 0; x < p[i].width * p[i].channels; x++)
                p[i].data[(size_t)y * p[i].stride + x] = (uint8_t)((x * 7 + y * 13 + (x * y) % 31) & 255);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: ptim bench mask [--frames N] [--face FRACTION] [--faces K] [--modes LIST]\n"
               "  --frames N        timed renders per mode and size (default 200)\n"
               "  --face FRACTION   face width as a fraction of the frame height (default 0.25)\n"
               "  --faces K         faces per frame (default 1; figures are per face)\n"
               "  --modes LIST      comma list of blur,pixelate,solid,swap,image (default: all)\n"
               "  --format F        yuv420p (default), nv12, rgb24 or bgr24\n");
}

int bench_mask_main(int argc, char **argv)
{
    int frames = 200, nfaces = 1;
    float frac = 0.25f;
    const char *modes = "blur,pixelate,solid,swap,image";
    img_format fmt = IMG_FMT_YUV420P;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--frames") && v) {
            frames = atoi(v), i++;
        } else if (!strcmp(a, "--face") && v) {
            frac = (float)atof(v), i++;
        } else if (!strcmp(a, "--faces") && v) {
            nfaces = atoi(v), i++;
        } else if (!strcmp(a, "--modes") && v) {
            modes = v, i++;
        } else if (!strcmp(a, "--format") && v) {
            if (!strcmp(v, "yuv420p")) fmt = IMG_FMT_YUV420P;
            else if (!strcmp(v, "nv12")) fmt = IMG_FMT_NV12;
            else if (!strcmp(v, "rgb24")) fmt = IMG_FMT_RGB24;
            else if (!strcmp(v, "bgr24")) fmt = IMG_FMT_BGR24;
            else {
                fprintf(stderr, "ptim bench mask: unknown --format '%s' (yuv420p, nv12, rgb24, bgr24)\n", v);
                return 2;
            }
            i++;
        } else {
            fprintf(stderr, "ptim bench mask: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (frames < 1 || frames > 100000 || nfaces < 1 || nfaces > 8 || !(frac > 0.01f && frac <= 1.f)) {
        fprintf(stderr, "ptim bench mask: --frames 1..100000, --faces 1..8, --face 0.01..1\n");
        return 2;
    }
    /* Identity: a textured 400x480 photo with a synthetic face; overlay: an RGBA disc. */
    img_image id, ov;
    if (img_image_alloc(&id, IMG_FMT_RGB24, 400, 480) || img_image_alloc(&ov, IMG_FMT_RGBA, 128, 128)) {
        fprintf(stderr, "ptim bench mask: out of memory\n");
        return 1;
    }
    for (int y = 0; y < 480; y++)
        for (int x = 0; x < 400; x++) {
            uint8_t *p = id.view.data[0] + (size_t)y * id.view.stride[0] + 3 * x;
            p[0] = (uint8_t)(150 + 60 * sinf(x * 0.05f)), p[1] = (uint8_t)(110 + 50 * sinf(y * 0.04f)),
            p[2] = (uint8_t)(90 + 40 * sinf((x + y) * 0.03f));
        }
    for (int y = 0; y < 128; y++)
        for (int x = 0; x < 128; x++) {
            uint8_t *p = ov.view.data[0] + (size_t)y * ov.view.stride[0] + 4 * x;
            p[0] = 255, p[1] = 200, p[2] = 0;
            p[3] = (uint8_t)((x - 64) * (x - 64) + (y - 64) * (y - 64) < 62 * 62 ? 255 : 0);
        }
    face idf = make_face(200, 240, 280, 340);
    face_masker_assets assets = {.overlay = &ov.view, .identity = &id.view, .identity_name = "synthetic identity",
                                 .identity_face = &idf};
    static const int sizes[][2] = {{1280, 720}, {1920, 1080}};
    printf("masking cost per face (ms), %s frames, face width %.2f x height, %d face(s) per frame, %d frames\n",
           img_format_name(fmt), frac, nfaces, frames);
    printf("%-10s %6s %8s %8s %8s %8s\n", "mode", "size", "min", "median", "mean", "p95");
    int status = 0;
    char list[256];
    snprintf(list, sizeof list, "%s", modes);
    for (char *save = NULL, *mode = strtok_r(list, ",", &save); mode; mode = strtok_r(NULL, ",", &save)) {
        char kv[64];
        snprintf(kv, sizeof kv, "mask.mode=%s", mode);
        const char *over[] = {kv};
        ptim_config *cfg;
        ptim_error err;
        if (ptim_config_new(over, 1, &cfg, &err)) {
            fprintf(stderr, "ptim bench mask: %s\n", err.message);
            status = 2;
            break;
        }
        face_masker *m;
        if (face_masker_create(cfg, &assets, &m, &err)) {
            fprintf(stderr, "ptim bench mask: %s: %s\n", mode, err.message);
            ptim_config_release(cfg);
            status = 1;
            continue;
        }
        for (int s = 0; s < 2; s++) {
            int w = sizes[s][0], h = sizes[s][1];
            img_image frame;
            if (img_image_alloc(&frame, fmt, w, h)) {
                status = 1;
                break;
            }
            fill_frame(&frame);
            face_list *faces = calloc(1, sizeof *faces);
            double *t = malloc(sizeof *t * frames);
            if (!faces || !t) {
                free(faces), free(t), img_image_free(&frame);
                status = 1;
                break;
            }
            float fw = frac * h, fh = fw * 1.25f;
            faces->count = nfaces;
            /* The identity's landmarks moved and scaled: a consistent mesh, as real faces give. */
            for (int k = 0; k < nfaces; k++) {
                face *f = &faces->faces[k];
                *f = make_face(w * (k + 0.5f) / nfaces, h * 0.5f, fw, fh);
                for (int i = 0; i < FACE_LANDMARKS; i++) {
                    f->landmarks[i][0] = f->box[0] + (idf.landmarks[i][0] - idf.box[0]) * fw / idf.box[2];
                    f->landmarks[i][1] = f->box[1] + (idf.landmarks[i][1] - idf.box[1]) * fh / idf.box[3];
                }
            }
            for (int k = 0; k < 5; k++)
                face_masker_render(m, &frame.view, faces, &err);
            for (int k = 0; k < frames; k++) {
                double t0 = now_ms();
                if (face_masker_render(m, &frame.view, faces, &err)) {
                    fprintf(stderr, "ptim bench mask: %s: %s\n", mode, err.message);
                    status = 1;
                    break;
                }
                t[k] = (now_ms() - t0) / nfaces;
            }
            qsort(t, frames, sizeof *t, cmp_double);
            double sum = 0;
            for (int k = 0; k < frames; k++)
                sum += t[k];
            printf("%-10s %5dp %8.3f %8.3f %8.3f %8.3f\n", mode, h, t[0], t[frames / 2], sum / frames, t[(int)(frames * 0.95)]);
            fflush(stdout);
            free(faces), free(t);
            img_image_free(&frame);
        }
        face_masker_destroy(m);
        ptim_config_release(cfg);
    }
    img_image_free(&id), img_image_free(&ov);
    return status;
}
