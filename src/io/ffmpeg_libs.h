/* io/ffmpeg_libs — the FFmpeg libraries loaded on first use, not at start:
 * libavdevice (cameras and virtual cameras) and libavfilter (audio that is
 * re-encoded). Debian's builds of them pull in about 80 more shared
 * libraries than libavformat and libavcodec do (SDL, X11, PulseAudio, JACK,
 * OpenAL, Tesseract, ...): linked at start they cost every run ~65 ms of
 * dynamic linking (issue 12: process start to first frame), while most runs
 * read a file and write a file with the video re-encoded and audio copied.
 *
 * Both loaders are thread-safe and load at most once per process; a library
 * that cannot be loaded is an error with one sentence naming the Debian
 * package, returned again on every later call. */
#ifndef PTIM_IO_FFMPEG_LIBS_H
#define PTIM_IO_FFMPEG_LIBS_H

#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>

#include "core/error.h"

/* Registers FFmpeg's input and output devices (v4l2, ...) by loading
 * libavdevice. 0, or -1 with err (category DEVICE). */
int io_devices_register(ptim_error *err);

/* The libavfilter functions ptim uses, resolved from the loaded library. */
typedef struct io_avfilter_api {
    AVFilterGraph *(*graph_alloc)(void);
    void (*graph_free)(AVFilterGraph **graph);
    const AVFilter *(*get_by_name)(const char *name);
    int (*graph_create_filter)(AVFilterContext **ctx, const AVFilter *filt, const char *name,
                               const char *args, void *opaque, AVFilterGraph *graph);
    AVFilterInOut *(*inout_alloc)(void);
    void (*inout_free)(AVFilterInOut **inout);
    int (*graph_parse_ptr)(AVFilterGraph *graph, const char *filters, AVFilterInOut **inputs,
                           AVFilterInOut **outputs, void *log_ctx);
    int (*graph_config)(AVFilterGraph *graph, void *log_ctx);
    int (*buffersrc_add_frame)(AVFilterContext *ctx, AVFrame *frame);
    int (*buffersink_get_frame)(AVFilterContext *ctx, AVFrame *frame);
    AVRational (*buffersink_get_time_base)(const AVFilterContext *ctx);
    void (*buffersink_set_frame_size)(AVFilterContext *ctx, unsigned frame_size);
} io_avfilter_api;

/* libavfilter's functions (static storage, valid for the process), or NULL
 * with err (category INTERNAL). */
const io_avfilter_api *io_avfilter(ptim_error *err);

#endif
