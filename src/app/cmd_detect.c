/* app/cmd_detect — `ptim detect INPUT... [--json] [--landmarks] [--set k=v]…`:
 * find, follow and measure the faces of a picture, a video or a camera and
 * print them, one JSON object per frame with --json, else a short summary.
 *
 * Frames are decoded with libavformat/libavcodec and handed to the tracker in
 * the decoder's own format when it is one the tracker reads (YUV420P, NV12,
 * RGB24, BGR24); anything else is converted to RGB24 with libswscale. */
#include "app/commands.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "face/embed.h"
#include "face/tracker.h"
#include "io/ffmpeg_libs.h"
#include "io/source.h"

typedef struct detect_args {
    char **inputs; /* points into argv */
    int ninputs;
    bool json, landmarks;
    bool embed; /* --embed: each face's identity embedding in the JSON */
    long max_frames; /* 0 = all */
} detect_args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ptim detect INPUT... [--json] [--landmarks] [--frames N] [--set KEY=VALUE]...\n"
            "\n"
            "Find the faces in each INPUT (a picture, a video file, or a camera such as\n"
            "/dev/video0) and print them. Frames are numbered from 0 in each input, as in\n"
            "ptim mask's audit log and ptim verify.\n"
            "  --json         one JSON object per frame on stdout (with several inputs each\n"
            "                 also has \"input\":PATH):\n"
            "                 {\"frame\":N,\"pts_ms\":T,\"width\":W,\"height\":H,\"faces\":[{\"id\":I,\n"
            "                 \"score\":S,\"box\":[x,y,w,h],\"keypoints\":[[x,y]x6],\n"
            "                 \"landmarks\":[[x,y,z]x468]}]} in source pixels; in a crowd, faces\n"
            "                 beyond those followed come as {\"id\":0,\"score\":S,\"box\":[x,y,w,h]}\n"
            "  --landmarks    include the 468 FaceMesh landmarks (with --json)\n"
            "  --embed        include each face's identity embedding (MobileFaceNet, unit\n"
            "                 length; null for a held face) as \"embedding\" (with --json)\n"
            "  --frames N     stop after N frames of each input (cameras run until\n"
            "                 interrupted otherwise)\n"
            "Settings: detector.*, track.*, landmarks.* (see ptim config keys).\n"
            "\n"
            "exit status: 0 every input analysed; 1 some inputs failed (the others were\n"
            "analysed); 2 bad usage or settings, or no input could be read.\n\n");
    ptim_cli_print_common_help(f);
}

/* The command's own arguments (shared flags already taken by the cli):
 * 0 ok, 2 bad usage (message printed). a->inputs is allocated. */
static int parse_args(int argc, char **argv, detect_args *a)
{
    memset(a, 0, sizeof *a);
    a->inputs = calloc((size_t)argc + 1, sizeof *a->inputs);
    if (!a->inputs) {
        fprintf(stderr, "ptim detect: out of memory\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--json")) {
            a->json = true;
        } else if (!strcmp(s, "--landmarks")) {
            a->landmarks = true;
        } else if (!strcmp(s, "--embed")) {
            a->embed = true;
        } else if (!strcmp(s, "--frames")) {
            char *end = NULL;
            a->max_frames = i + 1 < argc ? strtol(argv[++i], &end, 10) : -1;
            if (!end || *end || a->max_frames < 1) {
                fprintf(stderr, "ptim detect: --frames needs a positive number\n");
                return 2;
            }
        } else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "ptim detect: unknown option '%s' (see ptim detect --help)\n", s);
            return 2;
        } else {
            a->inputs[a->ninputs++] = argv[i];
        }
    }
    if (!a->ninputs) {
        usage(stderr);
        return 2;
    }
    return 0;
}

/* ---- a small decode loop ---- */

typedef struct source {
    AVFormatContext *fmt;
    AVCodecContext *dec;
    int stream;
    AVPacket *pkt;
    AVFrame *frame;
    struct SwsContext *sws;
    uint8_t *rgb;  /* RGB24 buffer when conversion is needed */
    int rgb_stride, rgb_height;
    bool flushing, done;
    bool still;    /* a single picture */
} source;

static bool is_camera(const char *in) { return !strncmp(in, "/dev/video", 10); }

static int source_open(source *s, const char *input, ptim_error *err)
{
    memset(s, 0, sizeof *s);
    const AVInputFormat *ifmt = NULL;
    if (is_camera(input)) {
        if (io_devices_register(err))
            return -1;
        ifmt = av_find_input_format("v4l2");
    }
    int rc = avformat_open_input(&s->fmt, input, ifmt, NULL);
    if (rc < 0)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot open %s: %s", input,
                              av_err2str(rc));
    if ((rc = avformat_find_stream_info(s->fmt, NULL)) < 0)
        return ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH, "cannot read %s: %s", input,
                              av_err2str(rc));
    const AVCodec *codec = NULL;
    s->stream = av_find_best_stream(s->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (s->stream < 0 || !codec)
        return ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH,
                              "%s has no picture or video stream ptim can decode", input);
    s->dec = avcodec_alloc_context3(codec);
    s->pkt = av_packet_alloc();
    s->frame = av_frame_alloc();
    if (!s->dec || !s->pkt || !s->frame)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory opening %s", input);
    avcodec_parameters_to_context(s->dec, s->fmt->streams[s->stream]->codecpar);
    s->dec->thread_count = 1;
    if ((rc = avcodec_open2(s->dec, codec, NULL)) < 0)
        return ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH, "cannot decode %s: %s", input,
                              av_err2str(rc));
    s->still = s->fmt->iformat && (strstr(s->fmt->iformat->name, "_pipe") ||
                                   !strcmp(s->fmt->iformat->name, "image2"));
    return 0;
}

static void source_close(source *s)
{
    sws_freeContext(s->sws);
    av_free(s->rgb);
    av_frame_free(&s->frame);
    av_packet_free(&s->pkt);
    avcodec_free_context(&s->dec);
    avformat_close_input(&s->fmt);
}

/* Next decoded frame into s->frame: 1 got one, 0 end, -1 error. */
static int source_next(source *s, const char *input, ptim_error *err)
{
    for (;;) {
        int rc = avcodec_receive_frame(s->dec, s->frame);
        if (rc == 0)
            return 1;
        if (rc == AVERROR_EOF)
            return 0;
        if (rc != AVERROR(EAGAIN))
            return ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH, "decoding %s failed: %s",
                                  input, av_err2str(rc));
        if (s->flushing)
            return 0;
        rc = av_read_frame(s->fmt, s->pkt);
        if (rc < 0) {
            s->flushing = true;
            avcodec_send_packet(s->dec, NULL);
            continue;
        }
        if (s->pkt->stream_index == s->stream) {
            rc = avcodec_send_packet(s->dec, s->pkt);
            if (rc < 0 && rc != AVERROR(EAGAIN)) {
                av_packet_unref(s->pkt);
                return ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH,
                                      "decoding %s failed: %s", input, av_err2str(rc));
            }
        }
        av_packet_unref(s->pkt);
    }
}

/* View the decoded frame, in place when its format is one the tracker reads. */
static int source_view(source *s, img_view *v, ptim_error *err)
{
    AVFrame *f = s->frame;
    memset(v, 0, sizeof *v);
    v->width = f->width;
    v->height = f->height;
    switch (f->format) {
    case AV_PIX_FMT_YUV420P:
    case AV_PIX_FMT_NV12:
        v->format = f->format == AV_PIX_FMT_NV12 ? IMG_FMT_NV12 : IMG_FMT_YUV420P;
        for (int i = 0; i < 3; i++) {
            v->data[i] = f->data[i];
            v->stride[i] = f->linesize[i];
        }
        return 0;
    case AV_PIX_FMT_RGB24:
    case AV_PIX_FMT_BGR24:
        v->format = f->format == AV_PIX_FMT_RGB24 ? IMG_FMT_RGB24 : IMG_FMT_BGR24;
        v->data[0] = f->data[0];
        v->stride[0] = f->linesize[0];
        return 0;
    default:
        break;
    }
    /* Full-range JPEG YUV, RGBA, 4:2:2 …: convert to RGB24 (one buffer, reused). */
    s->sws = sws_getCachedContext(s->sws, f->width, f->height, f->format, f->width, f->height,
                                  AV_PIX_FMT_RGB24, SWS_BILINEAR, NULL, NULL, NULL);
    if (!s->sws)
        return ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH, "cannot convert %s frames",
                              av_get_pix_fmt_name(f->format));
    int stride = FFALIGN(f->width * 3, 64);
    if (!s->rgb || stride != s->rgb_stride || f->height != s->rgb_height) {
        av_free(s->rgb);
        s->rgb = av_malloc((size_t)stride * f->height + 64);
        s->rgb_stride = stride;
        s->rgb_height = f->height;
        if (!s->rgb)
            return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    }
    uint8_t *dst[4] = {s->rgb};
    int dst_stride[4] = {stride};
    sws_scale(s->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, dst_stride);
    v->format = IMG_FMT_RGB24;
    v->data[0] = s->rgb;
    v->stride[0] = stride;
    return 0;
}

static int64_t frame_ms(const source *s, long index)
{
    const AVStream *st = s->fmt->streams[s->stream];
    int64_t pts = s->frame->best_effort_timestamp;
    if (pts != AV_NOPTS_VALUE) {
        int64_t start = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
        return av_rescale_q(pts - start, st->time_base, (AVRational){1, 1000});
    }
    AVRational fr = st->avg_frame_rate.num ? st->avg_frame_rate : (AVRational){25, 1};
    return av_rescale_q(index, av_inv_q(fr), (AVRational){1, 1000});
}

/* ---- output ---- */

/* Writes s as a JSON string (quotes, backslashes and control characters
 * escaped: a file name may hold any of them). */
static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(out, "\\%c", *c);
        else if (*c < 0x20)
            fprintf(out, "\\u%04x", *c);
        else
            fputc(*c, out);
    }
    fputc('"', out);
}

static void print_json(FILE *out, const char *input, long n, int64_t pts_ms, const img_view *v,
                       const face_list *fl, bool landmarks, face_embedder *em)
{
    fputc('{', out);
    if (input) {
        fputs("\"input\":", out);
        json_string(out, input);
        fputc(',', out);
    }
    fprintf(out, "\"frame\":%ld,\"pts_ms\":%lld,\"width\":%d,\"height\":%d,\"faces\":[", n,
            (long long)pts_ms, v->width, v->height);
    for (int i = 0; i < fl->count; i++) {
        const face *f = &fl->faces[i];
        fprintf(out, "%s{\"id\":%d,\"score\":%.3f,\"box\":[%.1f,%.1f,%.1f,%.1f],\"keypoints\":[",
                i ? "," : "", f->id, f->score, f->box[0], f->box[1], f->box[2], f->box[3]);
        for (int k = 0; k < FACE_KEYPOINTS; k++)
            fprintf(out, "%s[%.1f,%.1f]", k ? "," : "", f->keypoints[k][0], f->keypoints[k][1]);
        fputc(']', out);
        if (landmarks && (f->flags & FACE_HAS_LANDMARKS)) {
            fputs(",\"landmarks\":[", out);
            for (int k = 0; k < FACE_LANDMARKS; k++)
                fprintf(out, "%s[%.2f,%.2f,%.2f]", k ? "," : "", f->landmarks[k][0],
                        f->landmarks[k][1], f->landmarks[k][2]);
            fputc(']', out);
        }
        if (em) {
            float e[FACE_EMBED_DIM_MAX];
            ptim_error eerr = {0};
            if ((f->flags & FACE_HELD) || face_embed(em, v, f, e, &eerr)) {
                fputs(",\"embedding\":null", out);
            } else {
                fputs(",\"embedding\":[", out);
                for (int k = 0; k < face_embedder_dim(em); k++)
                    fprintf(out, "%s%.5f", k ? "," : "", e[k]);
                fputc(']', out);
            }
        }
        fputc('}', out);
    }
    /* A crowd's faces beyond the followed ones: id 0, box and score only. */
    for (int i = 0; i < fl->nboxes; i++) {
        const face_box *b = &fl->boxes[i];
        fprintf(out, "%s{\"id\":0,\"score\":%.3f,\"box\":[%.1f,%.1f,%.1f,%.1f]}",
                fl->count || i ? "," : "", b->score, b->box[0], b->box[1], b->box[2], b->box[3]);
    }
    fputs("]", out);
    if (fl->overflow)
        fputs(",\"overflow\":true", out);
    fputs("}\n", out);
}

static void print_faces(const face_list *fl)
{
    for (int i = 0; i < fl->count; i++) {
        const face *f = &fl->faces[i];
        printf("  face %d: score %.2f, box %.0f,%.0f %.0fx%.0f, eyes (%.0f,%.0f) (%.0f,%.0f)%s\n",
               f->id, f->score, f->box[0], f->box[1], f->box[2], f->box[3], f->keypoints[0][0],
               f->keypoints[0][1], f->keypoints[1][0], f->keypoints[1][1],
               (f->flags & FACE_HELD) ? " (held)" : "");
    }
    for (int i = 0; i < fl->nboxes; i++) {
        const face_box *b = &fl->boxes[i];
        printf("  face (not followed): score %.2f, box %.0f,%.0f %.0fx%.0f\n", b->score, b->box[0],
               b->box[1], b->box[2], b->box[3]);
    }
    if (fl->overflow)
        printf("  more faces than ptim keeps on one frame (%d): masking covers such a frame\n",
               FACE_LIST_MAX + FACE_BOXES_MAX);
}

/* Analyses one input from its first frame (the tracker starts empty; track
 * ids go on rising across inputs, so an id names one face in the whole run;
 * *id_base is the highest id of the inputs before, raised to this one's).
 * 0 ok, 1 failed part way, 2 could not be read at all (message printed). */
static int detect_one(ptim_cli *cli, const detect_args *a, const char *input, face_tracker *tracker,
                      face_embedder *embedder, face_list *fl, int *id_base)
{
    ptim_error err = {0};
    source src;
    int status = 0;
    face_tracker_reset(tracker);
    if (source_open(&src, input, &err)) {
        fprintf(stderr, "ptim detect: %s\n", err.message);
        source_close(&src);
        return 2;
    }
    /* A video stored turned (phone rotation metadata) is analysed as shown. */
    const int32_t *matrix = (const int32_t *)av_stream_get_side_data(
        src.fmt->streams[src.stream], AV_PKT_DATA_DISPLAYMATRIX, NULL);
    face_tracker_set_orientation(tracker, io_display_turns(matrix));
    long frames = 0, with_faces = 0;
    int max_faces = 0, max_id = *id_base;
    const char *json_input = a->ninputs > 1 ? input : NULL; /* one input: the format as before */
    while (status == 0 && (a->max_frames == 0 || frames < a->max_frames)) {
        int got = source_next(&src, input, &err);
        if (got < 0) {
            fprintf(stderr, "ptim detect: %s\n", err.message);
            status = frames == 0 ? 2 : 1; /* nothing decodable at all: bad input */
            break;
        }
        if (got == 0)
            break;
        img_view v;
        if (source_view(&src, &v, &err)) {
            fprintf(stderr, "ptim detect: %s\n", err.message);
            status = 1;
            break;
        }
        /* Live settings edited in the config file apply between frames. */
        ptim_config_changes ch;
        if (ptim_config_store_poll(cli->store, &ch, &err) == 1) {
            ptim_config *now = ptim_config_store_acquire(cli->store);
            if (face_tracker_reconfigure(tracker, now, &err))
                fprintf(stderr, "ptim detect: %s (old settings kept)\n", err.message);
            ptim_config_release(now);
        }
        int64_t t = frame_ms(&src, frames);
        if (face_tracker_process(tracker, &v, t, fl, &err)) {
            fprintf(stderr, "ptim detect: %s: frame %ld: %s\n", input, frames, err.message);
            status = 1;
            break;
        }
        if (a->json) {
            print_json(stdout, json_input, frames, t, &v, fl, a->landmarks, embedder);
        } else if (src.still) {
            int all = fl->count + fl->nboxes;
            printf("%s: %dx%d, %d face%s\n", input, v.width, v.height, all, all == 1 ? "" : "s");
            print_faces(fl);
        }
        frames++;
        if (fl->count + fl->nboxes) {
            with_faces++;
            if (fl->count + fl->nboxes > max_faces)
                max_faces = fl->count + fl->nboxes;
            for (int i = 0; i < fl->count; i++)
                if (fl->faces[i].id > max_id)
                    max_id = fl->faces[i].id;
        }
        av_frame_unref(src.frame);
    }
    if (status == 0 && frames == 0) {
        fprintf(stderr, "ptim detect: %s has no frames\n", input);
        status = 2;
    }
    if (status == 0 && !a->json && !src.still)
        printf("%s: %ld frames, faces on %ld, at most %d at once, %d track%s\n", input, frames,
               with_faces, max_faces, max_id - *id_base, max_id - *id_base == 1 ? "" : "s");
    *id_base = max_id;
    fflush(stdout);
    source_close(&src);
    return status;
}

int cmd_detect(int argc, char **argv)
{
    ptim_cli cli;
    ptim_error err = {0};
    if (ptim_cli_start(&cli, argc, argv, &err))
        return ptim_cli_fail(&cli, &err);
    if (cli.help) {
        usage(stdout);
        ptim_cli_close(&cli);
        return 0;
    }
    detect_args a;
    if (parse_args(cli.argc, cli.argv, &a)) {
        free(a.inputs);
        ptim_cli_close(&cli);
        return 2;
    }
    ptim_config *cfg = ptim_config_store_acquire(cli.store);
    face_tracker *tracker = NULL;
    int rc = face_tracker_create(cfg, &tracker, &err);
    face_embedder *embedder = NULL;
    if (rc == 0 && a.embed)
        rc = face_embedder_create(cfg, &embedder, &err);
    ptim_config_release(cfg);
    face_list *fl = rc ? NULL : malloc(sizeof *fl);
    if (rc || !fl) {
        fprintf(stderr, "ptim detect: %s\n", rc ? err.message : "out of memory");
        face_embedder_destroy(embedder);
        face_tracker_destroy(tracker);
        free(a.inputs);
        ptim_cli_close(&cli);
        return rc && err.category == PTIM_ERR_CONFIG ? 2 : 1;
    }
    ptim_config_store_watch(cli.store, NULL);
    av_log_set_level(AV_LOG_FATAL); /* our own one sentence says what failed */
    /* Every input is tried; the status is the one ptim mask gives: 0 all
     * done, 2 none could be read, else 1. */
    int done = 0, unreadable = 0, failed = 0, id_base = 0;
    for (int i = 0; i < a.ninputs; i++) {
        int st = detect_one(&cli, &a, a.inputs[i], tracker, embedder, fl, &id_base);
        if (st == 0)
            done++;
        else if (st == 2)
            unreadable++;
        else
            failed++;
    }
    int status = !unreadable && !failed ? 0 : !done && !failed ? 2 : 1;
    if (a.ninputs > 1 && status)
        fprintf(stderr, "ptim detect: %d done, %d failed\n", done, failed + unreadable);
    free(fl);
    face_embedder_destroy(embedder);
    face_tracker_destroy(tracker);
    free(a.inputs);
    ptim_cli_close(&cli);
    return status;
}
