/* io/audio — the audio path from a source's packets to a muxer stream.
 *
 * By default packets are copied untouched (bit-identical), with only their
 * timestamps rescaled. When voice masking is on (audio.voice=pitch) or the
 * output container cannot hold the input codec, audio is decoded, passed
 * through libavfilter (rubberband pitch shift with formants preserved, so the
 * voice changes without sounding like a chipmunk) and encoded again with
 * the container's own audio codec. */
#ifndef PTIM_IO_AUDIO_H
#define PTIM_IO_AUDIO_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <stdbool.h>

#include "core/error.h"

typedef enum io_voice { IO_VOICE_NONE, IO_VOICE_PITCH } io_voice;

typedef struct io_audio_options {
    io_voice voice;
    double pitch_semitones; /* for IO_VOICE_PITCH */
} io_audio_options;

typedef struct io_audio io_audio;

/* Adds the audio stream to `oc` (before its header is written). `in_par` and
 * `in_tb` describe the source's audio packets. */
int io_audio_create(AVFormatContext *oc, const AVCodecParameters *in_par, AVRational in_tb,
                    const io_audio_options *opts, io_audio **out, ptim_error *err);
void io_audio_destroy(io_audio *a);
/* True when packets are copied untouched. */
bool io_audio_is_copy(const io_audio *a);
/* Call after avformat_write_header (the stream's time base is final then). */
void io_audio_header_written(io_audio *a);
/* Write one source packet (ownership stays with the caller). */
int io_audio_write(io_audio *a, AVPacket *pkt, ptim_error *err);
/* Drain the decoder, filter and encoder at the end. */
int io_audio_flush(io_audio *a, ptim_error *err);

#endif
