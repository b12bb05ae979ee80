/* io/source — demux + decode on libavformat/libavcodec, with reopen, loop
 * and real-time pacing. Frames leave in the decoder's own pixel format. */
#include "io/source.h"

#include <errno.h>
#include <libavutil/display.h>
#include <libavutil/time.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/fault.h"
#include "io/ffmpeg_libs.h"

struct io_source {
    io_source_options opts;
    char *input;                /* owned copy of opts.input */
    char url[4200];             /* what avformat opens */
    const char *format_name;    /* forced demuxer or NULL */
    io_source_info info;
    io_source_counters counters;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    /* info's codec parameters: our copies, since the demuxer's go with it */
    AVCodecParameters *video_par, *audio_par;
    bool pkt_pending;           /* pkt holds a packet the decoder refused with EAGAIN */
    bool draining;              /* sent the flush packet */
    int video_index, audio_index;
    atomic_bool interrupted;
    /* timestamps leave rising: an offset (µs) is rebased after a loop or reopen */
    int64_t offset_us;
    bool rebase_pending;
    int64_t last_pts;           /* last pts handed out (info.time_base) */
    /* resuming after a read error: frames and audio already handed out are
     * skipped by their own (pre-offset) timestamps */
    int64_t last_raw_pts, last_raw_audio;
    bool resume_video, resume_audio;
    int64_t frame_dur;          /* one frame in info.time_base */
    /* real-time pacing */
    int64_t pace_wall_us, pace_pts;
    bool pace_started;
};

bool io_is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    static const char *const exts[] = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"};
    if (!dot)
        return false;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (!strcasecmp(dot, exts[i]))
            return true;
    return false;
}

io_source_kind io_source_kind_of(const char *input)
{
    struct stat st;
    if (!strcmp(input, "-"))
        return IO_SOURCE_STDIN;
    if (!strcmp(input, "camera") || !strncmp(input, "/dev/video", 10))
        return IO_SOURCE_CAMERA;
    if (strstr(input, "://"))
        return IO_SOURCE_URL;
    if (stat(input, &st) == 0 && S_ISDIR(st.st_mode))
        return IO_SOURCE_IMAGES;
    /* A picture sequence only when asked for by a printf pattern (img_%04d.png);
     * shell globs are expanded by app/job into one input per file. */
    if (strchr(input, '%') && stat(input, &st) != 0)
        return IO_SOURCE_IMAGES;
    if (io_is_image_name(input))
        return IO_SOURCE_IMAGE;
    return IO_SOURCE_FILE;
}

static int interrupt_cb(void *opaque)
{
    io_source *src = opaque;
    return atomic_load(&src->interrupted);
}

void io_source_interrupt(io_source *src)
{
    if (src)
        atomic_store(&src->interrupted, true);
}

/* A packet the decoder rejected: skipped, counted, reported (core/error's
 * policy for a low decode error is to skip it; the guard covers what follows). */
static void corrupt_packet(io_source *src, int averr)
{
    src->counters.packets_corrupt++;
    ptim_error e;
    ptim_error_set(&e, PTIM_ERR_DECODE, PTIM_SEV_LOW, "%s: a damaged video packet was skipped (%s)",
                   src->input, av_err2str(averr));
    ptim_error_handle("decode", &e, NULL, NULL);
}

static ptim_err_category read_category(const io_source *src)
{
    switch (src->info.kind) {
    case IO_SOURCE_URL: return PTIM_ERR_NETWORK;
    case IO_SOURCE_CAMERA: return PTIM_ERR_DEVICE;
    default: return PTIM_ERR_IO;
    }
}

static void close_streams(io_source *src)
{
    avcodec_free_context(&src->dec);
    avformat_close_input(&src->fmt);
    src->pkt_pending = false;
    src->draining = false;
    if (src->pkt)
        av_packet_unref(src->pkt);
}

/* Into *dst (allocated on first use), a deep copy of par. */
static int copy_params(AVCodecParameters **dst, const AVCodecParameters *par)
{
    if (!*dst && !(*dst = avcodec_parameters_alloc()))
        return AVERROR(ENOMEM);
    return avcodec_parameters_copy(*dst, par);
}

/* The stream's display matrix, copied by value (the side data belongs to the
 * demuxer, which a reopen frees), and the quarter turns a player applies
 * (FFmpeg's own autorotate rule: the matrix's angle, rounded, clockwise). */
static void take_display_matrix(io_source_info *in, const AVStream *vs)
{
    size_t size = 0;
    const uint8_t *m = av_stream_get_side_data(vs, AV_PKT_DATA_DISPLAYMATRIX, &size);
    in->has_display_matrix = m && size >= sizeof in->display_matrix;
    in->display_turns = 0;
    if (!in->has_display_matrix) {
        memset(in->display_matrix, 0, sizeof in->display_matrix);
        return;
    }
    memcpy(in->display_matrix, m, sizeof in->display_matrix);
    in->display_turns = io_display_turns(in->display_matrix);
}

int io_display_turns(const int32_t matrix[9])
{
    if (!matrix)
        return 0;
    double theta = -av_display_rotation_get(matrix); /* counter-clockwise → clockwise */
    if (!isfinite(theta))
        return 0;
    long turns = lround(theta / 90.0) % 4;
    return (int)(turns < 0 ? turns + 4 : turns);
}

static int open_streams(io_source *src, ptim_error *err)
{
    const AVInputFormat *ifmt = NULL;
    AVDictionary *o = NULL;
    int r;
    if (src->format_name && !(ifmt = av_find_input_format(src->format_name)))
        return ptim_error_set(err, PTIM_ERR_DEVICE, PTIM_SEV_HIGH,
                              "cannot open %s: this FFmpeg has no %s input", src->input,
                              src->format_name);
    if (src->info.kind == IO_SOURCE_IMAGES) /* a directory's pictures (glob) or a %d sequence */
        av_dict_set(&o, "pattern_type", strchr(src->url, '%') ? "sequence" : "glob", 0);
    if (src->info.kind == IO_SOURCE_URL && src->opts.read_timeout_ms > 0) {
        av_dict_set_int(&o, "rw_timeout", (int64_t)src->opts.read_timeout_ms * 1000, 0);
        if (!strncmp(src->url, "udp://", 6))
            av_dict_set_int(&o, "timeout", (int64_t)src->opts.read_timeout_ms * 1000, 0);
        if (!strncmp(src->url, "rtsp://", 7))
            av_dict_set_int(&o, "timeout", (int64_t)src->opts.read_timeout_ms * 1000, 0);
    }
    src->fmt = avformat_alloc_context();
    if (!src->fmt) {
        av_dict_free(&o);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    }
    src->fmt->interrupt_callback = (AVIOInterruptCB){interrupt_cb, src};
    if (ptim_fault_hit(PTIM_FAULT_SOURCE_OPEN))
        r = AVERROR(EIO);
    else
        r = avformat_open_input(&src->fmt, src->url, ifmt, &o);
    av_dict_free(&o);
    if (r < 0) {
        avformat_close_input(&src->fmt); /* frees the context on failure too */
        src->fmt = NULL;
        ptim_err_category cat = r == AVERROR(ENOENT) || src->info.kind == IO_SOURCE_FILE ||
                                        src->info.kind == IO_SOURCE_IMAGE
                                    ? PTIM_ERR_IO
                                    : read_category(src);
        if (r == AVERROR_INVALIDDATA)
            return ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH,
                                  "%s is not a video or picture ptim can read", src->input);
        return ptim_error_set(err, cat, PTIM_SEV_HIGH, "cannot open %s: %s", src->input,
                              av_err2str(r));
    }
    if ((r = avformat_find_stream_info(src->fmt, NULL)) < 0) {
        close_streams(src);
        return ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH,
                              "%s: cannot read its streams (%s)", src->input, av_err2str(r));
    }
    src->video_index = av_find_best_stream(src->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (src->video_index < 0) {
        close_streams(src);
        return ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH,
                              "%s has no video stream", src->input);
    }
    src->audio_index = src->opts.audio
                           ? av_find_best_stream(src->fmt, AVMEDIA_TYPE_AUDIO, -1,
                                                 src->video_index, NULL, 0)
                           : -1;
    AVStream *vs = src->fmt->streams[src->video_index];
    const AVCodec *codec = avcodec_find_decoder(vs->codecpar->codec_id);
    if (!codec) {
        close_streams(src);
        return ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH,
                              "%s: no decoder for its %s video", src->input,
                              avcodec_get_name(vs->codecpar->codec_id));
    }
    src->dec = avcodec_alloc_context3(codec);
    if (!src->dec || avcodec_parameters_to_context(src->dec, vs->codecpar) < 0) {
        close_streams(src);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    }
    src->dec->pkt_timebase = vs->time_base;
    src->dec->thread_count = 0; /* FFmpeg picks, as the plain transcode does */
    if (src->info.live)
        src->dec->thread_type = FF_THREAD_SLICE; /* frame threads add a frame of latency each */
    if ((r = avcodec_open2(src->dec, codec, NULL)) < 0) {
        close_streams(src);
        return ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH,
                              "%s: cannot start the %s decoder (%s)", src->input, codec->name,
                              av_err2str(r));
    }
    io_source_info *in = &src->info;
    in->time_base = vs->time_base;
    /* The container's own rate (not a rounded guess), so the output keeps it. */
    in->frame_rate = vs->avg_frame_rate.num > 0 ? vs->avg_frame_rate
                     : vs->r_frame_rate.num > 0 ? vs->r_frame_rate
                                                : av_guess_frame_rate(src->fmt, vs, NULL);
    in->width = vs->codecpar->width;
    in->height = vs->codecpar->height;
    if (copy_params(&src->video_par, vs->codecpar) < 0 ||
        (src->audio_index >= 0 &&
         copy_params(&src->audio_par, src->fmt->streams[src->audio_index]->codecpar) < 0)) {
        close_streams(src);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    }
    in->video_par = src->video_par;
    in->audio_par = src->audio_index >= 0 ? src->audio_par : NULL;
    take_display_matrix(in, vs);
    in->audio_time_base = src->audio_index >= 0 ? src->fmt->streams[src->audio_index]->time_base
                                                : (AVRational){1, 1};
    in->nb_frames = vs->nb_frames;
    in->duration_s = src->fmt->duration > 0 ? src->fmt->duration / (double)AV_TIME_BASE : 0;
    src->frame_dur = 1;
    if (in->frame_rate.num > 0 && in->frame_rate.den > 0)
        src->frame_dur = av_rescale_q(1, av_inv_q(in->frame_rate), in->time_base);
    if (src->frame_dur < 1)
        src->frame_dur = 1;
    return 0;
}

int io_source_open(const io_source_options *opts, io_source **out, ptim_error *err)
{
    *out = NULL;
    io_source *src = calloc(1, sizeof *src);
    if (!src || !(src->input = strdup(opts->input)) || !(src->pkt = av_packet_alloc())) {
        if (src)
            free(src->input);
        free(src);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    }
    src->opts = *opts;
    src->opts.input = src->input;
    src->info.name = src->input;
    src->info.kind = io_source_kind_of(opts->input);
    src->info.live = src->info.kind == IO_SOURCE_CAMERA || src->info.kind == IO_SOURCE_URL;
    src->last_pts = AV_NOPTS_VALUE;
    src->last_raw_pts = src->last_raw_audio = AV_NOPTS_VALUE;
    struct stat st;
    switch (src->info.kind) {
    case IO_SOURCE_STDIN:
        snprintf(src->url, sizeof src->url, "pipe:0");
        break;
    case IO_SOURCE_CAMERA:
        snprintf(src->url, sizeof src->url, "%s",
                 strcmp(opts->input, "camera") ? opts->input : "/dev/video0");
        src->format_name = "video4linux2";
        if (stat(src->url, &st) != 0) {
            io_source_close(src);
            return ptim_error_set(err, PTIM_ERR_DEVICE, PTIM_SEV_HIGH,
                                  "no camera at %s (is it plugged in?)",
                                  strcmp(opts->input, "camera") ? opts->input : "/dev/video0");
        }
        if (io_devices_register(err)) {
            io_source_close(src);
            return -1;
        }
        break;
    case IO_SOURCE_IMAGES:
        if (stat(opts->input, &st) == 0 && S_ISDIR(st.st_mode))
            snprintf(src->url, sizeof src->url, "%s/*.{png,PNG,jpg,JPG,jpeg,JPEG,bmp,webp,tif,tiff}",
                     opts->input);
        else
            snprintf(src->url, sizeof src->url, "%s", opts->input);
        src->format_name = "image2";
        break;
    case IO_SOURCE_FILE:
    case IO_SOURCE_IMAGE:
        if (stat(opts->input, &st) != 0) {
            int e = errno;
            io_source_close(src);
            ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot open %s: %s", opts->input,
                           strerror(e));
            return ptim_error_mark_input(err); /* retrying a missing file is pointless */
        }
        snprintf(src->url, sizeof src->url, "file:%s", opts->input);
        break;
    case IO_SOURCE_URL:
        snprintf(src->url, sizeof src->url, "%s", opts->input);
        break;
    }
    if (open_streams(src, err) < 0) {
        io_source_close(src);
        return -1;
    }
    *out = src;
    return 0;
}

void io_source_close(io_source *src)
{
    if (!src)
        return;
    close_streams(src);
    av_packet_free(&src->pkt);
    avcodec_parameters_free(&src->video_par);
    avcodec_parameters_free(&src->audio_par);
    free(src->input);
    free(src);
}

const io_source_info *io_source_get_info(const io_source *src) { return &src->info; }
const io_source_counters *io_source_get_counters(const io_source *src) { return &src->counters; }

int io_source_reopen(io_source *src, ptim_error *err)
{
    close_streams(src);
    if (open_streams(src, err) < 0)
        return -1;
    src->rebase_pending = true;
    src->pace_started = false;
    src->counters.reopens++;
    return 0;
}

int io_source_resume(io_source *src, ptim_error *err)
{
    close_streams(src);
    if (open_streams(src, err) < 0)
        return -1;
    src->counters.reopens++;
    src->pace_started = false;
    src->resume_video = src->last_raw_pts != AV_NOPTS_VALUE;
    src->resume_audio = src->last_raw_audio != AV_NOPTS_VALUE;
    /* back to the keyframe before the last frame handed out; when the input
     * cannot seek, reading from the start and skipping gets there too */
    if (src->resume_video)
        avformat_seek_file(src->fmt, src->video_index, INT64_MIN, src->last_raw_pts,
                           src->last_raw_pts, 0);
    return 0;
}

static void pace(io_source *src, int64_t pts)
{
    int64_t now = av_gettime_relative();
    if (!src->pace_started) {
        src->pace_started = true;
        src->pace_wall_us = now;
        src->pace_pts = pts;
        return;
    }
    int64_t due = src->pace_wall_us + av_rescale_q(pts - src->pace_pts, src->info.time_base,
                                                   AV_TIME_BASE_Q);
    while (now < due && !atomic_load(&src->interrupted)) {
        int64_t step = due - now > 20000 ? 20000 : due - now;
        av_usleep((unsigned)step);
        now = av_gettime_relative();
    }
    if (now - due > 1000000) /* fell far behind (a stall): restart the clock */
        src->pace_started = false;
}

/* Turn a decoded frame's timestamp into the rising output timeline. */
static void stamp(io_source *src, AVFrame *f)
{
    AVRational tb = src->info.time_base;
    int64_t pts = f->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE)
        pts = src->last_pts == AV_NOPTS_VALUE ? 0 : src->last_pts + src->frame_dur;
    else
        pts += av_rescale_q(src->offset_us, AV_TIME_BASE_Q, tb);
    if (src->rebase_pending && src->last_pts != AV_NOPTS_VALUE) {
        int64_t want = src->last_pts + src->frame_dur;
        src->offset_us += av_rescale_q(want - pts, tb, AV_TIME_BASE_Q);
        pts = want;
    }
    src->rebase_pending = false;
    if (src->last_pts != AV_NOPTS_VALUE && pts <= src->last_pts)
        pts = src->last_pts + 1; /* muxers need strictly rising timestamps */
    f->pts = pts;
    src->last_pts = pts;
}

static int rewind_input(io_source *src, ptim_error *err)
{
    int r = avformat_seek_file(src->fmt, -1, INT64_MIN, 0, INT64_MAX, 0);
    if (r < 0) /* not seekable: open it again */
        return io_source_reopen(src, err);
    avcodec_flush_buffers(src->dec);
    src->draining = false;
    src->pkt_pending = false;
    src->rebase_pending = true;
    src->pace_started = false;
    return 0;
}

int io_source_next(io_source *src, AVFrame **frame_out, AVPacket **audio_out, ptim_error *err)
{
    *frame_out = NULL;
    *audio_out = NULL;
    if (!src->fmt)
        return ptim_error_set(err, read_category(src), PTIM_SEV_HIGH, "%s is not open",
                              src->input);
    AVFrame *frame = av_frame_alloc();
    if (!frame)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    for (;;) {
        if (atomic_load(&src->interrupted)) {
            av_frame_free(&frame);
            return 1;
        }
        int r = avcodec_receive_frame(src->dec, frame);
        if (r >= 0 && src->resume_video) {
            if (frame->best_effort_timestamp != AV_NOPTS_VALUE &&
                frame->best_effort_timestamp <= src->last_raw_pts) {
                av_frame_unref(frame); /* handed out before the read error */
                continue;
            }
            src->resume_video = false;
        }
        if (r >= 0) {
            if (frame->best_effort_timestamp != AV_NOPTS_VALUE)
                src->last_raw_pts = frame->best_effort_timestamp;
            src->counters.frames++;
            if (frame->decode_error_flags || (frame->flags & AV_FRAME_FLAG_CORRUPT))
                src->counters.frames_corrupt++;
            stamp(src, frame);
            if (src->opts.realtime)
                pace(src, frame->pts);
            *frame_out = frame;
            return 0;
        }
        if (r == AVERROR_EOF) {
            if (src->opts.loop && src->counters.frames > 0) {
                if (rewind_input(src, err) < 0) {
                    av_frame_free(&frame);
                    return -1;
                }
                src->counters.loops++;
                continue;
            }
            av_frame_free(&frame);
            return 1;
        }
        if (r != AVERROR(EAGAIN)) {
            /* the decoder gave up on what it had: count it and go on */
            corrupt_packet(src, r);
            if (src->draining) {
                av_frame_free(&frame);
                return 1;
            }
        }
        if (src->draining)
            continue;
        if (src->pkt_pending) {
            r = avcodec_send_packet(src->dec, src->pkt);
            if (r == AVERROR(EAGAIN))
                continue;
            src->pkt_pending = false;
            av_packet_unref(src->pkt);
            continue;
        }
        if (ptim_fault_hit(PTIM_FAULT_SOURCE_STALL))
            av_usleep((unsigned)ptim_fault_param(PTIM_FAULT_SOURCE_STALL, 1000) * 1000u); /* delivers nothing for :PARAM ms */
        r = ptim_fault_hit(PTIM_FAULT_SOURCE_GONE) ? AVERROR(EIO) : av_read_frame(src->fmt, src->pkt);
        if (r == AVERROR_EOF || (r < 0 && atomic_load(&src->interrupted)) ||
            (r < 0 && src->fmt->pb && avio_feof(src->fmt->pb) && !src->fmt->pb->error)) {
            avcodec_send_packet(src->dec, NULL);
            src->draining = true;
            continue;
        }
        if (r < 0) {
            av_frame_free(&frame);
            return ptim_error_set(err, read_category(src), PTIM_SEV_HIGH,
                                  "reading %s failed: %s", src->input, av_err2str(r));
        }
        if (src->pkt->stream_index == src->audio_index) {
            src->counters.audio_packets++;
            if (src->rebase_pending) { /* its place on the new timeline is not known yet */
                av_packet_unref(src->pkt);
                continue;
            }
            if (src->resume_audio && src->pkt->pts != AV_NOPTS_VALUE) {
                if (src->pkt->pts <= src->last_raw_audio) { /* written before the read error */
                    av_packet_unref(src->pkt);
                    continue;
                }
                src->resume_audio = false;
            }
            if (src->pkt->pts != AV_NOPTS_VALUE)
                src->last_raw_audio = src->pkt->pts;
            AVPacket *a = av_packet_alloc();
            if (!a) {
                av_frame_free(&frame);
                return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
            }
            av_packet_move_ref(a, src->pkt);
            int64_t shift = av_rescale_q(src->offset_us, AV_TIME_BASE_Q, src->info.audio_time_base);
            if (a->pts != AV_NOPTS_VALUE)
                a->pts += shift;
            if (a->dts != AV_NOPTS_VALUE)
                a->dts += shift;
            av_frame_free(&frame);
            *audio_out = a;
            return 0;
        }
        if (src->pkt->stream_index != src->video_index) {
            av_packet_unref(src->pkt);
            continue;
        }
        src->counters.packets++;
        if (ptim_fault_hit(PTIM_FAULT_PACKET_DROP)) {
            src->counters.packets_dropped++;
            av_packet_unref(src->pkt);
            continue;
        }
        if (ptim_fault_hit(PTIM_FAULT_PACKET_CORRUPT) && av_packet_make_writable(src->pkt) >= 0) {
            for (int i = src->pkt->size / 4; i < src->pkt->size; i += 7)
                src->pkt->data[i] ^= 0x5a;
        }
        r = ptim_fault_hit(PTIM_FAULT_DECODE) ? AVERROR_INVALIDDATA
                                              : avcodec_send_packet(src->dec, src->pkt);
        if (r == AVERROR(EAGAIN)) {
            src->pkt_pending = true;
            continue;
        }
        if (r < 0)
            corrupt_packet(src, r);
        av_packet_unref(src->pkt);
    }
}
