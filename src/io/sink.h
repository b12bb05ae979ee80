/* io/sink — where masked frames go, chosen from the output's name:
 *   a file (mp4, mkv, mov, avi, webm, ts, …), an image (`x.png`) or an image
 *   sequence (`out_%06d.png`), `v4l2:/dev/videoN` (a v4l2loopback virtual
 *   camera), `udp://…` / `srt://…` (MPEG-TS), `rtmp://…` (FLV), `-` (NUT on
 *   stdout, raw video for `| ffplay -`), `null` (count frames, write nothing).
 *
 * Files are written to NAME.partial and renamed to NAME only by
 * io_sink_finish(); closing a sink that was not finished removes what it
 * wrote, so a failed job never leaves a file under the final name.
 *
 * Video is encoded with libx264 (output.crf, output.preset) for H.264
 * containers, VP9 for WebM, the container's own codec otherwise; the source's
 * frame rate, time base, rotation and colour properties are kept. */
#ifndef PTIM_IO_SINK_H
#define PTIM_IO_SINK_H

#include <libavutil/frame.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "io/audio.h"
#include "io/source.h"

typedef enum io_sink_kind {
    IO_SINK_FILE,
    IO_SINK_IMAGE,
    IO_SINK_IMAGES, /* printf pattern: out_%06d.png */
    IO_SINK_V4L2,
    IO_SINK_NETWORK,
    IO_SINK_STDOUT,
    IO_SINK_NULL,
} io_sink_kind;

typedef struct io_sink_options {
    const char *target;
    int crf;                /* output.crf */
    const char *preset;     /* output.preset (libx264) */
    bool live;              /* tune encoders for latency */
    bool audio;             /* write the source's audio (when it has some) */
    io_audio_options voice; /* audio.voice, audio.pitch_semitones */
    int write_retries;      /* a failed write is retried this often before it fails */
} io_sink_options;

typedef struct io_sink_counters {
    int64_t frames;        /* video frames encoded */
    int64_t audio_packets; /* audio packets written */
    int64_t retries;       /* writes that failed and were retried */
    int64_t converted;     /* frames that needed a pixel format or size conversion */
} io_sink_counters;

typedef struct io_sink io_sink;

io_sink_kind io_sink_kind_of(const char *target);

/* Checks the output can be written (directory exists and is writable,
 * device opens) and chooses the muxer and encoders; the encoder itself
 * starts at the first frame, whose format and size it takes. Errors:
 * PTIM_ERR_IO / PTIM_ERR_DEVICE / PTIM_ERR_NETWORK / PTIM_ERR_ENCODE. */
int io_sink_open(const io_sink_options *opts, const io_source_info *in, io_sink **out,
                 ptim_error *err);
/* Encode one frame (pts in in->time_base). The frame is not consumed. */
int io_sink_write_frame(io_sink *sink, const AVFrame *frame, ptim_error *err);
/* Write one audio packet of the source (pts in in->audio_time_base). */
int io_sink_write_audio(io_sink *sink, AVPacket *pkt, ptim_error *err);
/* Flush the encoders, write the trailer and move NAME.partial to NAME. */
int io_sink_finish(io_sink *sink, ptim_error *err);
/* The same, but a file keeps the name NAME.partial (and a picture sequence its
 * .partial parts): an offline job stopped early leaves a playable file whose
 * name says it is incomplete. */
int io_sink_finish_partial(io_sink *sink, ptim_error *err);
/* Frees everything; if not finished, removes NAME.partial (and sequence parts). */
void io_sink_close(io_sink *sink);
/* Whether a write failed because the reader of a pipe or socket closed it
 * (EPIPE; SIGPIPE is ignored by ptim): nothing more can be written. */
bool io_sink_reader_gone(const io_sink *sink);
const io_sink_counters *io_sink_get_counters(const io_sink *sink);
const char *io_sink_describe(const io_sink *sink); /* "mp4 (libx264)" */
bool io_sink_has_audio(const io_sink *sink);

#endif
