/* face_masker_render() allocates nothing once warmed up: every allocation of
 * the process is counted (malloc and friends interposed here, or ASan's hook
 * in the sanitizer build) and must not move while faces up to the warm-up
 * size are masked, in every mode, on 720p YUV420P and NV12 frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face/masker.h"

#include "alloc_counter.h"

static face make_face(float cx, float cy, float fw, float fh, const face *layout)
{
    face f;
    memset(&f, 0, sizeof f);
    f.id = 1;
    f.flags = FACE_DETECTED | FACE_HAS_LANDMARKS;
    f.box[0] = cx - fw / 2, f.box[1] = cy - fh / 2, f.box[2] = fw, f.box[3] = fh;
    for (int i = 0; i < FACE_LANDMARKS; i++) {
        if (layout) {
            f.landmarks[i][0] = f.box[0] + (layout->landmarks[i][0] - layout->box[0]) * fw / layout->box[2];
            f.landmarks[i][1] = f.box[1] + (layout->landmarks[i][1] - layout->box[1]) * fh / layout->box[3];
        } else {
            float a = i * 2.399963f, r = i < 36 ? 1.f : sqrtf((i % 97) / 97.f) * 0.9f;
            f.landmarks[i][0] = cx + r * fw / 2 * cosf(a);
            f.landmarks[i][1] = cy + r * fh / 2 * sinf(a);
        }
    }
    return f;
}

static void test_counter_counts(void **state)
{
    (void)state;
    long before = atomic_load(&allocations);
    void *volatile p = malloc(64);
    free(p);
    assert_true(atomic_load(&allocations) > before);
}

static void test_render_allocates_nothing(void **state)
{
    (void)state;
    const char *modes[] = {"blur", "pixelate", "solid", "swap", "image", "none"};
    const img_format fmts[] = {IMG_FMT_YUV420P, IMG_FMT_NV12};
    img_image id, ov;
    assert_int_equal(img_image_alloc(&id, IMG_FMT_RGB24, 300, 360), 0);
    assert_int_equal(img_image_alloc(&ov, IMG_FMT_RGBA, 64, 64), 0);
    memset(id.view.data[0], 120, (size_t)id.view.stride[0] * 360);
    memset(ov.view.data[0], 200, (size_t)ov.view.stride[0] * 64);
    face idf = make_face(150, 180, 220, 280, NULL);
    face_masker_assets assets = {.overlay = &ov.view, .identity = &id.view, .identity_name = "id", .identity_face = &idf};
    face_list *faces = calloc(1, sizeof *faces);
    for (int mi = 0; mi < 6; mi++)
        for (int fi = 0; fi < 2; fi++) {
            char kv[64];
            snprintf(kv, sizeof kv, "mask.mode=%s", modes[mi]);
            const char *over[] = {kv, "debug.draw=ids"};
            ptim_config *cfg;
            ptim_error err;
            assert_int_equal(ptim_config_new(over, 2, &cfg, &err), 0);
            face_masker *m;
            assert_int_equal(face_masker_create(cfg, &assets, &m, &err), 0);
            img_image frame;
            assert_int_equal(img_image_alloc(&frame, fmts[fi], 1280, 720), 0);
            memset(frame.view.data[0], 90, (size_t)frame.view.stride[0] * 720);
            /* Warm up with the largest face, then mask smaller and moving ones. */
            faces->count = 2;
            faces->faces[0] = make_face(640, 360, 400, 500, &idf);
            faces->faces[1] = make_face(100, 100, 120, 150, &idf);
            assert_int_equal(face_masker_render(m, &frame.view, faces, &err), 0);
            long before = atomic_load(&allocations);
            for (int k = 0; k < 20; k++) {
                faces->faces[0] = make_face(300 + 20 * k, 360, 400 - 10 * k, 500 - 12 * k, &idf);
                faces->faces[1] = make_face(1280 - 30 * k, 700, 100, 120, &idf); /* partly outside */
                assert_int_equal(face_masker_render(m, &frame.view, faces, &err), 0);
            }
            long used = atomic_load(&allocations) - before;
            if (used)
                fail_msg("mode %s on %s: %ld allocations in 20 frames", modes[mi], img_format_name(fmts[fi]), used);
            img_image_free(&frame);
            face_masker_destroy(m);
            ptim_config_release(cfg);
        }
    free(faces);
    img_image_free(&id), img_image_free(&ov);
}

int main(void)
{
    install_counter();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_counts),
        cmocka_unit_test(test_render_allocates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
