/* io/ffmpeg_libs: libavdevice and libavfilter are not linked at start (a run
 * that reads and writes files does not load them) and work when loaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libavformat/avformat.h>

#include "io/ffmpeg_libs.h"

/* Whether a shared library whose name starts with `prefix` is mapped now. */
static bool mapped(const char *prefix)
{
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        const char *slash = strrchr(line, '/');
        found = slash && !strncmp(slash + 1, prefix, strlen(prefix));
    }
    fclose(f);
    return found;
}

static void test_devices_load_on_first_use(void **state)
{
    (void)state;
    /* Before: this test links what ptim links; neither library is there, and
     * FFmpeg knows no V4L2 device. */
    assert_false(mapped("libavdevice.so"));
    assert_null(av_find_input_format("video4linux2"));
    ptim_error err = {0};
    assert_int_equal(io_devices_register(&err), 0);
    assert_true(mapped("libavdevice.so"));
    assert_non_null(av_find_input_format("video4linux2"));
    assert_non_null(av_guess_format("video4linux2", NULL, NULL));
    assert_int_equal(io_devices_register(&err), 0); /* once per process */
}

static void test_avfilter_builds_a_graph(void **state)
{
    (void)state;
    ptim_error err = {0};
    const io_avfilter_api *F = io_avfilter(&err);
    assert_non_null(F);
    assert_true(mapped("libavfilter.so"));
    assert_ptr_equal(io_avfilter(&err), F);
    AVFilterGraph *g = F->graph_alloc();
    assert_non_null(g);
    AVFilterContext *src = NULL, *sink = NULL;
    assert_true(F->graph_create_filter(&src, F->get_by_name("abuffer"), "in",
                                       "time_base=1/48000:sample_rate=48000:sample_fmt=fltp:"
                                       "channel_layout=stereo",
                                       NULL, g) >= 0);
    assert_true(F->graph_create_filter(&sink, F->get_by_name("abuffersink"), "out", NULL, NULL, g) >= 0);
    AVFilterInOut *outputs = F->inout_alloc(), *inputs = F->inout_alloc();
    outputs->name = av_strdup("in");
    outputs->filter_ctx = src;
    inputs->name = av_strdup("out");
    inputs->filter_ctx = sink;
    assert_true(F->graph_parse_ptr(g, "aresample=44100", &inputs, &outputs, NULL) >= 0);
    F->inout_free(&outputs);
    F->inout_free(&inputs);
    assert_true(F->graph_config(g, NULL) >= 0);
    assert_int_equal(F->buffersink_get_time_base(sink).den, 44100);
    F->graph_free(&g);
    assert_null(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_devices_load_on_first_use),
        cmocka_unit_test(test_avfilter_builds_a_graph),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
