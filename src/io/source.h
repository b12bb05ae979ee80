/* io/source — where frames come from: a file, a still image, a glob or
 * directory of images, a camera (/dev/videoN, `camera`), a URL FFmpeg opens
 * (rtsp, rtmp, srt, udp, http) or `-` (stdin).
 *
 * The source demuxes and decodes video into refcounted AVFrames in the
 * decoder's own pixel format (no conversion), and hands audio packets out
 * untouched (io/audio decides whether to copy or re-encode them).
 *
 * Failures take one path whether real or injected (core/fault): a corrupt or
 * undecodable packet is skipped and counted; a read error ends the read with
 * -1 and category IO, NETWORK or DEVICE, after which a live caller may call
 * io_source_reopen() (with its own backoff) and continue. */
#ifndef PTIM_IO_SOURCE_H
#define PTIM_IO_SOURCE_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

typedef enum io_source_kind {
    IO_SOURCE_FILE,   /* a video file */
    IO_SOURCE_IMAGE,  /* one still picture */
    IO_SOURCE_IMAGES, /* a glob or directory of pictures, in name order */
    IO_SOURCE_CAMERA, /* a V4L2 device */
    IO_SOURCE_URL,    /* a network stream */
    IO_SOURCE_STDIN,  /* `-` */
} io_source_kind;

typedef struct io_source_options {
    const char *input;     /* as the user wrote it */
    bool realtime;         /* deliver frames at their own rate (source.realtime) */
    bool loop;             /* rewind at the end (source.loop); timestamps keep rising */
    bool audio;            /* hand out audio packets (false: skip them) */
    int read_timeout_ms;   /* network reads: give up after this long without data (0: FFmpeg's default) */
} io_source_options;

/* What the pipeline and the sink need to know about the input. Every value
 * is owned by the source (copied out of the demuxer), so a copy of this
 * struct stays valid across io_source_reopen(), which frees the demuxer. The
 * two codec parameter pointers point at the source's own copies: valid until
 * io_source_close(), refreshed in place by a reopen. */
typedef struct io_source_info {
    io_source_kind kind;
    bool live;                   /* cameras, URLs: latency first */
    const char *name;            /* for messages */
    AVRational time_base;        /* of video frame pts */
    AVRational frame_rate;       /* nominal; {0,1} when unknown */
    int width, height;           /* of the stream header (frames may differ) */
    const AVCodecParameters *video_par;
    bool has_display_matrix;     /* the stream carries rotation side data */
    int32_t display_matrix[9];   /* that side data (16.16 / 2.30 fixed point, as FFmpeg's) */
    int display_turns;           /* quarter turns clockwise that a player applies to show a
                                    stored frame upright (0..3), from the matrix; 0 without */
    const AVCodecParameters *audio_par; /* NULL when no audio (or audio off) */
    AVRational audio_time_base;
    int64_t nb_frames;           /* from the header, 0 when unknown */
    double duration_s;           /* from the header, 0 when unknown */
} io_source_info;

typedef struct io_source_counters {
    int64_t packets;          /* video packets read */
    int64_t packets_dropped;  /* lost before decoding */
    int64_t packets_corrupt;  /* damaged or rejected by the decoder */
    int64_t frames;           /* video frames decoded */
    int64_t frames_corrupt;   /* decoded with errors concealed */
    int64_t audio_packets;
    int64_t reopens;          /* successful reopens */
    int64_t loops;
} io_source_counters;

typedef struct io_source io_source;

/* Opens and probes the input. Errors: PTIM_ERR_IO (missing, unreadable),
 * PTIM_ERR_DECODE (no video stream, no decoder), PTIM_ERR_DEVICE (camera). */
int io_source_open(const io_source_options *opts, io_source **out, ptim_error *err);
void io_source_close(io_source *src);
const io_source_info *io_source_get_info(const io_source *src);
const io_source_counters *io_source_get_counters(const io_source *src);

/* The next item: returns 0 with exactly one of *frame (video, pts in
 * info->time_base, caller unrefs with av_frame_free) or *audio (packet in
 * info->audio_time_base, caller frees) set; 1 at the end of input; -1 when
 * the source failed (err says why). */
int io_source_next(io_source *src, AVFrame **frame, AVPacket **audio, ptim_error *err);

/* After a read error on an input that can be read again (a file): open it
 * again and go on after the last frame and audio packet handed out, on the
 * same timeline. Counted in reopens. */
int io_source_resume(io_source *src, ptim_error *err);
/* Close and open the same input again (after a failure); timestamps keep rising. */
int io_source_reopen(io_source *src, ptim_error *err);
/* Ask a blocked read to give up (another thread; for shutdown). */
void io_source_interrupt(io_source *src);

/* Quarter turns clockwise (0..3) a player applies to show a frame with this
 * display matrix (AV_PKT_DATA_DISPLAYMATRIX) upright, as FFmpeg's autorotate
 * rounds it; 0 for NULL. Flips are not reported. */
int io_display_turns(const int32_t matrix[9]);
/* Classify a user's input string. */
io_source_kind io_source_kind_of(const char *input);
/* True for names that are pictures by extension (.png .jpg .jpeg .bmp .webp .tif .tiff). */
bool io_is_image_name(const char *name);

#endif
