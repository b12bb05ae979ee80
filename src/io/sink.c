/* io/sink — encoders and muxers on libavcodec/libavformat, written to
 * NAME.partial and renamed on success. */
#include "io/sink.h"

#include <errno.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/time.h>
#include <libgen.h>
#include <libswscale/swscale.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/fault.h"
#include "io/ffmpeg_libs.h"

#define AUDIO_BACKLOG_MAX 4096 /* packets held until the first video frame */

struct io_sink {
    io_sink_options opts;
    io_sink_kind kind;
    char target[4096];      /* final name */
    char url[4200];         /* what is written (NAME.partial for files) */
    char description[128];
    io_source_info in;
    AVFormatContext *oc;
    const AVOutputFormat *ofmt;
    const AVCodec *vcodec;
    AVCodecContext *enc;
    AVStream *vst;
    io_audio *audio;
    AVPacket *pkt;
    AVFrame *conv;
    struct SwsContext *sws;
    bool header_written, finished, partial;
    bool reader_gone; /* the pipe or socket read by another program was closed (EPIPE) */
    AVPacket *backlog[AUDIO_BACKLOG_MAX];
    int backlog_count;
    io_sink_counters counters;
};

io_sink_kind io_sink_kind_of(const char *t)
{
    if (!strcmp(t, "null"))
        return IO_SINK_NULL;
    if (!strcmp(t, "-"))
        return IO_SINK_STDOUT;
    if (!strncmp(t, "v4l2:", 5))
        return IO_SINK_V4L2;
    if (strstr(t, "://"))
        return IO_SINK_NETWORK;
    if (io_is_image_name(t))
        return strchr(t, '%') ? IO_SINK_IMAGES : IO_SINK_IMAGE;
    return IO_SINK_FILE;
}

const io_sink_counters *io_sink_get_counters(const io_sink *s) { return &s->counters; }
const char *io_sink_describe(const io_sink *s) { return s->description; }
bool io_sink_has_audio(const io_sink *s) { return s->audio != NULL; }
bool io_sink_reader_gone(const io_sink *s) { return s && s->reader_gone; }

static int dir_writable(const char *path, ptim_error *err)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    const char *dir = dirname(copy);
    if (access(dir, W_OK) != 0)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot write %s: %s", path,
                              errno == ENOENT ? "its directory does not exist" : strerror(errno));
    return 0;
}

static const AVCodec *choose_video_codec(io_sink *s)
{
    const char *name = s->ofmt->name;
    if (s->kind == IO_SINK_V4L2 || s->kind == IO_SINK_STDOUT)
        return avcodec_find_encoder(AV_CODEC_ID_RAWVIDEO);
    if (s->kind == IO_SINK_IMAGE || s->kind == IO_SINK_IMAGES)
        return avcodec_find_encoder(av_guess_codec(s->ofmt, NULL, s->target, NULL, AVMEDIA_TYPE_VIDEO));
    if (!strcmp(name, "webm"))
        return avcodec_find_encoder_by_name("libvpx-vp9");
    /* 1: supported, 0: not, < 0: the muxer does not say (mpegts): H.264 then */
    if (avformat_query_codec(s->ofmt, AV_CODEC_ID_H264, FF_COMPLIANCE_NORMAL) != 0) {
        const AVCodec *c = avcodec_find_encoder_by_name("libx264");
        if (c)
            return c;
    }
    return avcodec_find_encoder(s->ofmt->video_codec);
}

int io_sink_open(const io_sink_options *opts, const io_source_info *in, io_sink **out,
                 ptim_error *err)
{
    *out = NULL;
    io_sink *s = calloc(1, sizeof *s);
    if (!s || !(s->pkt = av_packet_alloc())) {
        free(s);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    }
    s->opts = *opts;
    s->in = *in;
    /* Read only while opening (audio setup); a reopen of the source refreshes them. */
    s->in.video_par = s->in.audio_par = NULL;
    s->kind = io_sink_kind_of(opts->target);
    snprintf(s->target, sizeof s->target, "%s", opts->target);
    s->opts.target = s->target;
    const char *fmt_name = NULL;
    int r;
    switch (s->kind) {
    case IO_SINK_NULL:
        snprintf(s->description, sizeof s->description, "null (frames counted, nothing written)");
        *out = s;
        return 0;
    case IO_SINK_STDOUT:
        fmt_name = "nut";
        snprintf(s->url, sizeof s->url, "pipe:1");
        break;
    case IO_SINK_V4L2:
        fmt_name = "video4linux2";
        snprintf(s->url, sizeof s->url, "%s", opts->target + 5);
        if (access(s->url, W_OK) != 0) {
            int e = errno;
            io_sink_close(s);
            return ptim_error_set(err, PTIM_ERR_DEVICE, PTIM_SEV_HIGH,
                                  "cannot write to the virtual camera %s: %s (is v4l2loopback loaded?)",
                                  opts->target + 5, strerror(e));
        }
        if (io_devices_register(err)) {
            io_sink_close(s);
            return -1;
        }
        break;
    case IO_SINK_NETWORK:
        if (!strncmp(s->target, "rtmp://", 7) || !strncmp(s->target, "rtmps://", 8))
            fmt_name = "flv";
        else if (!strncmp(s->target, "udp://", 6) || !strncmp(s->target, "srt://", 6) ||
                 !strncmp(s->target, "rtp://", 6))
            fmt_name = "mpegts";
        else {
            io_sink_close(s);
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                  "cannot stream to %s: use udp://, srt:// or rtmp://",
                                  opts->target);
        }
        if (!strncmp(s->target, "udp://", 6) && !strchr(s->target, '?'))
            snprintf(s->url, sizeof s->url, "%s?pkt_size=1316", s->target);
        else
            snprintf(s->url, sizeof s->url, "%s", s->target);
        break;
    case IO_SINK_IMAGE:
    case IO_SINK_IMAGES:
    case IO_SINK_FILE:
        if (dir_writable(s->target, err) < 0) {
            io_sink_close(s);
            return -1;
        }
        if (s->kind != IO_SINK_FILE)
            fmt_name = "image2";
        snprintf(s->url, sizeof s->url, "%s.partial", s->target);
        s->partial = true;
        break;
    }
    if ((r = avformat_alloc_output_context2(&s->oc, NULL, fmt_name, fmt_name ? s->url : s->target)) < 0 ||
        !s->oc) {
        io_sink_close(s);
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "cannot tell the container of %s from its name (use .mp4, .mkv, "
                              ".mov, .webm, .avi, .png, …)",
                              opts->target);
    }
    av_freep(&s->oc->url);
    s->oc->url = av_strdup(s->url);
    s->ofmt = s->oc->oformat;
    /* Matroska stores presentation times, so the B-frame delay of the first
     * decode times need not shift the whole timeline (the input's times stay). */
    if (!strcmp(s->ofmt->name, "matroska") || !strcmp(s->ofmt->name, "webm"))
        s->oc->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
    s->vcodec = choose_video_codec(s);
    if (!s->vcodec) {
        ptim_error_set(err, PTIM_ERR_ENCODE, PTIM_SEV_HIGH,
                       "%s: no video encoder for the %s container in this FFmpeg", opts->target,
                       s->ofmt->name);
        io_sink_close(s);
        return -1;
    }
    s->vst = avformat_new_stream(s->oc, NULL);
    if (!s->vst) {
        io_sink_close(s);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    }
    if (opts->audio && in->audio_par && s->kind != IO_SINK_IMAGE && s->kind != IO_SINK_IMAGES &&
        s->kind != IO_SINK_V4L2) {
        if (io_audio_create(s->oc, in->audio_par, in->audio_time_base, &opts->voice, &s->audio,
                            err) < 0) {
            ptim_error_prefix(err, "%s: ", opts->target);
            io_sink_close(s);
            return -1;
        }
    }
    snprintf(s->description, sizeof s->description, "%s (%s%s%s)", s->ofmt->name, s->vcodec->name,
             s->audio ? (io_audio_is_copy(s->audio) ? ", audio copied" : ", audio re-encoded") : "",
             s->audio && opts->voice.voice == IO_VOICE_PITCH ? " with voice masking" : "");
    /* Open the file now, so an unwritable output fails before any work. */
    if (!(s->ofmt->flags & AVFMT_NOFILE)) {
        AVDictionary *o = NULL;
        if (s->kind == IO_SINK_NETWORK)
            av_dict_set_int(&o, "rw_timeout", 5000000, 0);
        r = avio_open2(&s->oc->pb, s->url, AVIO_FLAG_WRITE, NULL, &o);
        av_dict_free(&o);
        if (r < 0) {
            ptim_error_set(err, s->kind == IO_SINK_NETWORK ? PTIM_ERR_NETWORK : PTIM_ERR_IO,
                           PTIM_SEV_HIGH, "cannot write %s: %s", opts->target, av_err2str(r));
            io_sink_close(s);
            return -1;
        }
    }
    *out = s;
    return 0;
}

static enum AVPixelFormat choose_pix_fmt(io_sink *s, enum AVPixelFormat have)
{
    if (s->kind == IO_SINK_V4L2)
        return AV_PIX_FMT_YUV420P;
    const enum AVPixelFormat *list = s->vcodec->pix_fmts;
    if (!list)
        return have;
    for (const enum AVPixelFormat *p = list; *p != AV_PIX_FMT_NONE; p++)
        if (*p == have)
            return have;
    return avcodec_find_best_pix_fmt_of_list(list, have, 0, NULL);
}

static int start_encoder(io_sink *s, const AVFrame *f, ptim_error *err)
{
    int r;
    s->enc = avcodec_alloc_context3(s->vcodec);
    if (!s->enc)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    AVCodecContext *e = s->enc;
    e->width = f->width;
    e->height = f->height;
    e->pix_fmt = choose_pix_fmt(s, f->format);
    e->sample_aspect_ratio = f->sample_aspect_ratio;
    e->time_base = s->in.time_base.num > 0 ? s->in.time_base : (AVRational){1, 25};
    /* AVI counts frames instead of storing times: its rate is its time base. */
    if (!strcmp(s->ofmt->name, "avi") && s->in.frame_rate.num > 0)
        e->time_base = av_inv_q(s->in.frame_rate);
    if (s->in.frame_rate.num > 0)
        e->framerate = s->in.frame_rate;
    e->color_range = f->color_range;
    e->color_primaries = f->color_primaries;
    e->color_trc = f->color_trc;
    e->colorspace = f->colorspace;
    e->chroma_sample_location = f->chroma_location;
    e->thread_count = 0;
    if (s->ofmt->flags & AVFMT_GLOBALHEADER)
        e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary *o = NULL;
    if (!strcmp(s->vcodec->name, "libx264")) {
        av_dict_set(&o, "preset", s->opts.preset, 0);
        av_dict_set_int(&o, "crf", s->opts.crf, 0);
        if (s->opts.live)
            av_dict_set(&o, "tune", "zerolatency", 0);
        if (!strcmp(s->ofmt->name, "avi"))
            av_dict_set(&o, "bf", "0", 0); /* AVI stores no presentation times */
    } else if (!strcmp(s->vcodec->name, "libvpx-vp9")) {
        av_dict_set_int(&o, "crf", s->opts.crf > 63 ? 63 : s->opts.crf + 8, 0);
        av_dict_set(&o, "b", "0", 0);
        av_dict_set(&o, "deadline", "realtime", 0);
        av_dict_set(&o, "cpu-used", "8", 0);
        av_dict_set(&o, "row-mt", "1", 0);
    } else if (s->vcodec->id == AV_CODEC_ID_MJPEG) {
        e->flags |= AV_CODEC_FLAG_QSCALE;
        e->global_quality = FF_QP2LAMBDA * 2;
    } else if (s->vcodec->id != AV_CODEC_ID_RAWVIDEO && s->vcodec->id != AV_CODEC_ID_PNG &&
               s->vcodec->id != AV_CODEC_ID_BMP) {
        e->flags |= AV_CODEC_FLAG_QSCALE;
        e->global_quality = FF_QP2LAMBDA * 3;
    }
    r = avcodec_open2(e, s->vcodec, &o);
    av_dict_free(&o);
    if (r < 0)
        return ptim_error_set(err, PTIM_ERR_ENCODE, PTIM_SEV_HIGH,
                              "%s: cannot start the %s encoder for %dx%d %s (%s)", s->target,
                              s->vcodec->name, f->width, f->height,
                              av_get_pix_fmt_name(e->pix_fmt), av_err2str(r));
    avcodec_parameters_from_context(s->vst->codecpar, e);
    s->vst->time_base = e->time_base;
    if (s->in.frame_rate.num > 0)
        s->vst->avg_frame_rate = s->in.frame_rate;
    if (s->in.has_display_matrix) {
        uint8_t *m = av_stream_new_side_data(s->vst, AV_PKT_DATA_DISPLAYMATRIX,
                                             sizeof s->in.display_matrix);
        if (m)
            memcpy(m, s->in.display_matrix, sizeof s->in.display_matrix);
    }
    AVDictionary *mo = NULL;
    if (s->kind == IO_SINK_IMAGE)
        av_dict_set(&mo, "update", "1", 0);
    r = avformat_write_header(s->oc, &mo);
    av_dict_free(&mo);
    if (r < 0)
        return ptim_error_set(err, PTIM_ERR_ENCODE, PTIM_SEV_HIGH, "%s: cannot start writing (%s)",
                              s->target, av_err2str(r));
    s->header_written = true;
    if (s->audio)
        io_audio_header_written(s->audio);
    for (int i = 0; i < s->backlog_count; i++) {
        r = io_audio_write(s->audio, s->backlog[i], err);
        av_packet_free(&s->backlog[i]);
        if (r < 0) {
            for (int j = i + 1; j < s->backlog_count; j++)
                av_packet_free(&s->backlog[j]);
            s->backlog_count = 0;
            return -1;
        }
        s->counters.audio_packets++;
    }
    s->backlog_count = 0;
    return 0;
}

/* One muxer write. A failure goes to core/error, whose policy decides
 * whether to retry (and after what delay); output.write_retries caps it. */
static int write_packet(io_sink *s, AVPacket *pkt, ptim_error *err)
{
    ptim_recovery_state rs = {0};
    ptim_err_category cat = s->kind == IO_SINK_NETWORK ? PTIM_ERR_NETWORK : PTIM_ERR_ENCODE;
    for (int attempt = 0;; attempt++) {
        int r;
        if (ptim_fault_hit(PTIM_FAULT_ENCODE)) {
            r = AVERROR(EIO);
        } else {
            AVPacket *p = av_packet_clone(pkt);
            if (!p)
                return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
            r = av_interleaved_write_frame(s->oc, p);
            av_packet_free(&p);
        }
        if (r >= 0) {
            if (attempt)
                ptim_error_resolved(&rs, 1);
            return 0;
        }
        if (r == AVERROR(EPIPE)) {
            /* The reader went away (`ptim mask x -o - | head -c 1000`): no
             * retry can help and it is not an error of ptim's; the caller
             * ends quietly, as a program killed by SIGPIPE would. */
            s->reader_gone = true;
            return ptim_error_set(err, cat, PTIM_SEV_HIGH, "the reader of %s closed it",
                                  s->target);
        }
        ptim_error_set(err, cat, PTIM_SEV_MEDIUM, "writing %s failed: %s", s->target, av_err2str(r));
        int delay = 0;
        ptim_recovery act = ptim_error_handle("sink", err, &rs, &delay);
        if (act != PTIM_RECOVER_RETRY || attempt >= s->opts.write_retries || r == AVERROR(EINVAL)) {
            ptim_error_resolved(&rs, 0);
            err->severity = PTIM_SEV_HIGH;
            return -1;
        }
        s->counters.retries++;
        av_usleep((unsigned)(delay > 0 ? delay : 20) * 1000u);
    }
}

static int drain(io_sink *s, ptim_error *err)
{
    int r;
    while ((r = avcodec_receive_packet(s->enc, s->pkt)) >= 0) {
        av_packet_rescale_ts(s->pkt, s->enc->time_base, s->vst->time_base);
        s->pkt->stream_index = s->vst->index;
        r = write_packet(s, s->pkt, err);
        av_packet_unref(s->pkt);
        if (r < 0)
            return -1;
    }
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
        return 0;
    return ptim_error_set(err, PTIM_ERR_ENCODE, PTIM_SEV_HIGH, "%s: encoding failed (%s)",
                          s->target, av_err2str(r));
}

/* A frame whose format or size differs from the encoder's (a picture in a
 * video, a camera that came back at another size): one swscale pass. */
static const AVFrame *convert(io_sink *s, const AVFrame *f, ptim_error *err)
{
    AVCodecContext *e = s->enc;
    s->sws = sws_getCachedContext(s->sws, f->width, f->height, f->format, e->width, e->height,
                                  e->pix_fmt, SWS_BILINEAR, NULL, NULL, NULL);
    av_frame_free(&s->conv);
    s->conv = av_frame_alloc();
    if (!s->sws || !s->conv) {
        ptim_error_set(err, PTIM_ERR_ENCODE, PTIM_SEV_HIGH, "%s: cannot convert %s to %s",
                       s->target, av_get_pix_fmt_name(f->format), av_get_pix_fmt_name(e->pix_fmt));
        return NULL;
    }
    s->conv->format = e->pix_fmt;
    s->conv->width = e->width;
    s->conv->height = e->height;
    if (av_frame_get_buffer(s->conv, 0) < 0) {
        ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "out of memory");
        return NULL;
    }
    av_frame_copy_props(s->conv, f);
    sws_scale(s->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, s->conv->data,
              s->conv->linesize);
    s->counters.converted++;
    return s->conv;
}

int io_sink_write_frame(io_sink *s, const AVFrame *f, ptim_error *err)
{
    if (s->kind == IO_SINK_NULL) {
        s->counters.frames++;
        return 0;
    }
    if (!s->enc && start_encoder(s, f, err) < 0)
        return -1;
    const AVFrame *src = f;
    if (f->format != s->enc->pix_fmt || f->width != s->enc->width || f->height != s->enc->height)
        if (!(src = convert(s, f, err)))
            return -1;
    AVFrame *ref = av_frame_clone(src);
    if (!ref)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    ref->pict_type = AV_PICTURE_TYPE_NONE;
    AVRational in_tb = s->in.time_base.num > 0 ? s->in.time_base : (AVRational){1, 25};
    if (av_cmp_q(in_tb, s->enc->time_base))
        ref->pts = av_rescale_q(ref->pts, in_tb, s->enc->time_base);
    int r = avcodec_send_frame(s->enc, ref);
    av_frame_free(&ref);
    if (r < 0)
        return ptim_error_set(err, PTIM_ERR_ENCODE, PTIM_SEV_HIGH, "%s: encoding failed (%s)",
                              s->target, av_err2str(r));
    s->counters.frames++;
    return drain(s, err);
}

int io_sink_write_audio(io_sink *s, AVPacket *pkt, ptim_error *err)
{
    if (!s->audio)
        return 0;
    if (!s->header_written) {
        if (s->backlog_count < AUDIO_BACKLOG_MAX) {
            AVPacket *p = av_packet_clone(pkt);
            if (!p)
                return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
            s->backlog[s->backlog_count++] = p;
        }
        return 0;
    }
    if (io_audio_write(s->audio, pkt, err) < 0)
        return ptim_error_prefix(err, "%s: ", s->target);
    s->counters.audio_packets++;
    return 0;
}

static void sequence_name(const io_sink *s, char *buf, size_t size, int64_t i, bool partial)
{
    char pattern[4200];
    snprintf(pattern, sizeof pattern, "%s%s", s->target, partial ? ".partial" : "");
    if (av_get_frame_filename2(buf, (int)size, pattern, (int)i, 0) < 0)
        snprintf(buf, size, "%s", pattern);
}

static int finish_output(io_sink *s, bool keep_partial, ptim_error *err)
{
    if (s->kind == IO_SINK_NULL) {
        s->finished = true;
        return 0;
    }
    if (!s->header_written)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH,
                              "%s: no frame was left to write, so nothing was written", s->target);
    if (avcodec_send_frame(s->enc, NULL) < 0 || drain(s, err) < 0)
        return -1;
    if (s->audio && io_audio_flush(s->audio, err) < 0)
        return ptim_error_prefix(err, "%s: ", s->target);
    int r = av_write_trailer(s->oc);
    if (r < 0)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "%s: cannot finish the file (%s)",
                              s->target, av_err2str(r));
    if (s->oc->pb && !(s->ofmt->flags & AVFMT_NOFILE) && (r = avio_closep(&s->oc->pb)) < 0)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot write %s: %s", s->target,
                              av_err2str(r));
    if (s->partial && !keep_partial) {
        if (s->kind == IO_SINK_IMAGES) {
            for (int64_t i = 1; i <= s->counters.frames; i++) {
                char from[4300], to[4300];
                sequence_name(s, from, sizeof from, i, true);
                sequence_name(s, to, sizeof to, i, false);
                if (rename(from, to) != 0) {
                    int e = errno;
                    /* all or nothing: the pictures already moved are removed
                     * (io_sink_close removes the .partial rest) */
                    for (int64_t k = 1; k < i; k++) {
                        sequence_name(s, to, sizeof to, k, false);
                        unlink(to);
                    }
                    sequence_name(s, to, sizeof to, i, false);
                    return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH,
                                          "cannot rename %s to %s: %s", from, to, strerror(e));
                }
            }
        } else if (rename(s->url, s->target) != 0) {
            return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot rename %s to %s: %s",
                                  s->url, s->target, strerror(errno));
        }
    }
    s->finished = true;
    return 0;
}

int io_sink_finish(io_sink *s, ptim_error *err)
{
    return finish_output(s, false, err);
}

int io_sink_finish_partial(io_sink *s, ptim_error *err)
{
    return finish_output(s, true, err);
}

void io_sink_close(io_sink *s)
{
    if (!s)
        return;
    if (s->oc && s->oc->pb && !(s->ofmt->flags & AVFMT_NOFILE))
        avio_closep(&s->oc->pb);
    if (s->partial && !s->finished) {
        if (s->kind == IO_SINK_IMAGES) {
            for (int64_t i = 1; i <= s->counters.frames + 1; i++) {
                char name[4300];
                sequence_name(s, name, sizeof name, i, true);
                unlink(name);
            }
        } else {
            unlink(s->url);
        }
    }
    for (int i = 0; i < s->backlog_count; i++)
        av_packet_free(&s->backlog[i]);
    io_audio_destroy(s->audio);
    avcodec_free_context(&s->enc);
    avformat_free_context(s->oc);
    sws_freeContext(s->sws);
    av_frame_free(&s->conv);
    av_packet_free(&s->pkt);
    free(s);
}
