/* tests/yuv_clip.h — a raw YUV420P clip made by ffmpeg from a sample picture,
 * held in memory, for the tracker tests. Header-only: include it in one test. */
#ifndef PTIM_TESTS_YUV_CLIP_H
#define PTIM_TESTS_YUV_CLIP_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "img/image.h"

typedef struct yuv_clip {
    int width, height, frames;
    uint8_t *data; /* frames x width x height x 3/2 bytes */
    char path[4096];
} yuv_clip;

/* Runs `filter` (an ffmpeg -vf chain ending in format=yuv420p, at width x
 * height) over samples/<picture> looped at 30 fps, writes `frames` frames to
 * PTIM_TEST_TMP/<name> and reads them in. Returns 0, or -1 with a message. */
static int yuv_clip_make(yuv_clip *c, const char *name, const char *picture, const char *filter,
                         int width, int height, int frames)
{
    c->width = width, c->height = height, c->frames = frames, c->data = NULL;
    snprintf(c->path, sizeof c->path, "%s/%s", getenv("PTIM_TEST_TMP"), name);
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -loglevel error -y -loop 1 -framerate 30 -i '%s/%s' -vf \"%s\" "
             "-frames:v %d -f rawvideo '%s'",
             getenv("PTIM_SAMPLES_DIR"), picture, filter, frames, c->path);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot make the clip with ffmpeg\n");
        return -1;
    }
    size_t size = (size_t)width * height * 3 / 2 * frames;
    c->data = malloc(size);
    FILE *f = fopen(c->path, "rb");
    int ok = c->data && f && fread(c->data, 1, size, f) == size;
    if (f)
        fclose(f);
    if (!ok) {
        fprintf(stderr, "cannot read %s\n", c->path);
        return -1;
    }
    return 0;
}

static void yuv_clip_free(yuv_clip *c)
{
    free(c->data);
    c->data = NULL;
    remove(c->path);
}

/* Frame i as a view into the clip (no copy). */
static img_view yuv_clip_frame(const yuv_clip *c, int i)
{
    int w = c->width, h = c->height;
    img_view v = {.format = IMG_FMT_YUV420P, .width = w, .height = h};
    uint8_t *base = c->data + (size_t)i * w * h * 3 / 2;
    v.data[0] = base;
    v.data[1] = base + (size_t)w * h;
    v.data[2] = base + (size_t)w * h + (size_t)(w / 2) * (h / 2);
    v.stride[0] = w;
    v.stride[1] = v.stride[2] = w / 2;
    return v;
}

#endif
