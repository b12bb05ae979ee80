/* face/tracker on a synthetic clip: ffmpeg zooms and pans over astronaut.png
 * (with fresh sensor-like noise on every frame), then holds still. The id
 * never changes, every frame has the face, and on the still stretch the
 * landmarks jitter by less than 1 % of the face width. Then the face vanishes:
 * it is held for track.hold_ms, comes back with its id, and is dropped after. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face/tracker.h"
#include "yuv_clip.h"

#define W 480
#define H 480
#define FRAMES 100
#define STILL_FROM 75 /* frames 70.. are still; the filter settles first */
#define FRAME_MS 33

static yuv_clip clip; /* FRAMES raw YUV420P frames */

static int make_clip(void **state)
{
    (void)state;
    char filter[1024];
    snprintf(filter, sizeof filter,
             "zoompan=z='if(lt(on,40),1+0.02*on,1.8)':"
             "x='if(lt(on,40),226,if(lt(on,70),226+(on-40),256))-iw/zoom/2':"
             "y='140-ih/zoom/2':d=1:s=%dx%d:fps=30,noise=alls=6:allf=t+u,format=yuv420p",
             W, H);
    return yuv_clip_make(&clip, "track_clip.yuv", "astronaut.png", filter, W, H, FRAMES);
}

static int free_clip(void **state)
{
    (void)state;
    yuv_clip_free(&clip);
    return 0;
}

static img_view frame_at(int i)
{
    return yuv_clip_frame(&clip, i);
}

static face_tracker *make_tracker(const char *smoothing)
{
    char s[64];
    snprintf(s, sizeof s, "track.smoothing=%s", smoothing);
    const char *sets[] = {"performance.max_processing_workers=1", s, "track.hold_ms=1000"};
    ptim_config *cfg;
    ptim_error err;
    face_tracker *t = NULL;
    if (ptim_config_new(sets, 3, &cfg, &err) || face_tracker_create(cfg, &t, &err))
        fprintf(stderr, "tracker: %s\n", err.message);
    ptim_config_release(cfg);
    return t;
}

/* Mean over landmarks of the RMS distance from the landmark's mean position
 * on the still frames, as a fraction of the mean face width. */
static double still_jitter(float (*pts)[FACE_LANDMARKS][2], int n, double width)
{
    double sum = 0;
    for (int k = 0; k < FACE_LANDMARKS; k++) {
        double mx = 0, my = 0, var = 0;
        for (int i = 0; i < n; i++) {
            mx += pts[i][k][0];
            my += pts[i][k][1];
        }
        mx /= n;
        my /= n;
        for (int i = 0; i < n; i++)
            var += (pts[i][k][0] - mx) * (pts[i][k][0] - mx) + (pts[i][k][1] - my) * (pts[i][k][1] - my);
        sum += sqrt(var / n);
    }
    return sum / FACE_LANDMARKS / width;
}

static face_list list;
static double smoothed_jitter = -1; /* from the first test */
/* Eye-midpoint per frame, of the current run and of the smoothed run. */
static float centre[FRAMES][2], smoothed_centre[FRAMES][2];
static float still[FRAMES][FACE_LANDMARKS][2];

static double run_clip(face_tracker *t, int *id_out)
{
    ptim_error err;
    int id = -1, n_still = 0;
    double width = 0;
    for (int i = 0; i < FRAMES; i++) {
        img_view v = frame_at(i);
        assert_int_equal(face_tracker_process(t, &v, (int64_t)i * FRAME_MS, &list, &err), 0);
        if (list.count != 1)
            fprintf(stderr, "frame %d: %d faces\n", i, list.count);
        assert_int_equal(list.count, 1);
        const face *f = &list.faces[0];
        assert_false(f->flags & FACE_HELD);
        assert_true(f->flags & FACE_HAS_LANDMARKS);
        if (id < 0)
            id = f->id;
        assert_int_equal(f->id, id);
        /* The face is where the camera looks: the middle third of the frame. */
        assert_true(f->box[0] + f->box[2] / 2 > W / 4 && f->box[0] + f->box[2] / 2 < 3 * W / 4);
        centre[i][0] = 0.5f * (f->keypoints[0][0] + f->keypoints[1][0]);
        centre[i][1] = 0.5f * (f->keypoints[0][1] + f->keypoints[1][1]);
        if (i >= STILL_FROM) {
            for (int k = 0; k < FACE_LANDMARKS; k++) {
                still[n_still][k][0] = f->landmarks[k][0];
                still[n_still][k][1] = f->landmarks[k][1];
            }
            width += f->box[2];
            n_still++;
        }
    }
    *id_out = id;
    return still_jitter(still, n_still, width / n_still);
}

static void test_clip_one_id_every_frame_still_jitter(void **state)
{
    (void)state;
    face_tracker *t = make_tracker("true");
    assert_non_null(t);
    int id;
    double jitter = run_clip(t, &id);
    printf("still jitter, smoothing on: %.3f %% of face width\n", 100 * jitter);
    assert_true(jitter < 0.01);
    smoothed_jitter = jitter;
    memcpy(smoothed_centre, centre, sizeof centre);

    /* The face vanishes (grey frames): held with its id, then dropped. */
    ptim_error err;
    static uint8_t grey[W * H * 3 / 2];
    memset(grey, 128, sizeof grey);
    img_view g = {.format = IMG_FMT_YUV420P, .width = W, .height = H};
    g.data[0] = grey;
    g.data[1] = grey + W * H;
    g.data[2] = grey + W * H + W * H / 4;
    g.stride[0] = W;
    g.stride[1] = g.stride[2] = W / 2;
    int64_t t0 = (int64_t)FRAMES * FRAME_MS;
    assert_int_equal(face_tracker_process(t, &g, t0, &list, &err), 0);
    assert_int_equal(list.count, 1);
    assert_true(list.faces[0].flags & FACE_HELD);
    assert_int_equal(list.faces[0].id, id);
    /* Back after a short gap: the same id, no longer held. */
    img_view v = frame_at(FRAMES - 1);
    assert_int_equal(face_tracker_process(t, &v, t0 + 300, &list, &err), 0);
    assert_int_equal(list.count, 1);
    assert_int_equal(list.faces[0].id, id);
    assert_false(list.faces[0].flags & FACE_HELD);
    /* Gone for longer than hold_ms: dropped. */
    assert_int_equal(face_tracker_process(t, &g, t0 + 400, &list, &err), 0);
    assert_int_equal(list.count, 1);
    assert_true(list.faces[0].flags & FACE_HELD);
    assert_int_equal(face_tracker_process(t, &g, t0 + 1500, &list, &err), 0);
    assert_int_equal(list.count, 0);
    /* A new appearance after that is a new track. */
    assert_int_equal(face_tracker_process(t, &v, t0 + 1600, &list, &err), 0);
    assert_int_equal(list.count, 1);
    assert_true(list.faces[0].id > id);
    face_tracker_destroy(t);
}

static void test_smoothing_reduces_jitter(void **state)
{
    (void)state;
    face_tracker *t = make_tracker("false");
    assert_non_null(t);
    int id;
    double raw = run_clip(t, &id);
    face_tracker_destroy(t);
    printf("still jitter, smoothing off: %.3f %% of face width\n", 100 * raw);
    assert_true(smoothed_jitter >= 0 && smoothed_jitter < raw);
    /* No lag on the moving stretches (zoom 0-39, pan 40-69): the smoothed
     * eyes stay within 2 % of the face width (~3 px) of the raw ones. */
    double worst = 0, width = list.faces[0].box[2];
    for (int i = 5; i < 70; i++) {
        double dx = smoothed_centre[i][0] - centre[i][0], dy = smoothed_centre[i][1] - centre[i][1];
        double d = sqrt(dx * dx + dy * dy);
        if (d > worst)
            worst = d;
    }
    printf("moving: smoothed eyes at most %.2f px (%.2f %% of face width) from raw\n", worst,
           100 * worst / width);
    assert_true(worst < 0.02 * width);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clip_one_id_every_frame_still_jitter),
        cmocka_unit_test(test_smoothing_reduces_jitter),
    };
    return cmocka_run_group_tests(tests, make_clip, free_clip);
}
