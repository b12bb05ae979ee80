/* pipeline/recorder — recording the output of a running job to a video file,
 * started and stopped from the control panel.
 *
 * The server asks (ptim_recorder_start with a file path, ptim_recorder_stop);
 * the pipeline's sink thread does the work: at its next frame it opens an
 * io_sink on the path (H.264 in MP4 for a .mp4 name, as the main output, at
 * output.crf / output.preset), writes every frame it writes to its own output
 * there too, full size and masked exactly as written, with times counted from
 * the first recorded frame, and on a stop (or at the end of the run) finishes
 * the file: NAME.partial renamed to NAME, so a file under its final name is
 * always whole. Video only: the source's audio is not recorded.
 *
 * Thread-safe: any number of server threads, one sink thread. Owns what it
 * opens; keeps no pointer into the caller's data after a call returns. */
#ifndef PTIM_PIPELINE_RECORDER_H
#define PTIM_PIPELINE_RECORDER_H

#include <stdbool.h>
#include <stdint.h>

#include <libavutil/frame.h>

#include "io/sink.h"
#include "io/source.h"

typedef struct ptim_recorder ptim_recorder;

typedef struct ptim_recording_status {
    bool on;           /* asked for and not stopped (the file may not be open yet) */
    bool writing;      /* the file is open and frames go into it */
    char path[1024];   /* the current or last recording; "" before the first */
    long long frames;  /* frames written to it */
    char error[512];   /* why the last recording failed or stopped early; "" if it did not */
} ptim_recording_status;

ptim_recorder *ptim_recorder_new(void);
/* Finishes a recording still open (as ptim_recorder_end) and frees. */
void ptim_recorder_free(ptim_recorder *r);

/* Server side. start: -1 when a recording is already on (nothing changes),
 * else 0; the file is opened by the sink thread at its next frame. stop: the
 * sink thread finishes the file at its next frame (or at the end of the run).
 * wait: until the sink thread has acted on the last start or stop, at most
 * timeout_ms; returns whether it has. */
int ptim_recorder_start(ptim_recorder *r, const char *path);
void ptim_recorder_stop(ptim_recorder *r);
bool ptim_recorder_wait(ptim_recorder *r, int timeout_ms);
void ptim_recorder_status(ptim_recorder *r, ptim_recording_status *out);

/* Sink thread side. After the job's own output took `frame` (pts in
 * in->time_base): open, write to or finish the recording as asked. `opts`
 * gives the encoder settings (its target and audio are not used). Never
 * fails the job: an error stops the recording and is kept in its status. */
void ptim_recorder_frame(ptim_recorder *r, const io_sink_options *opts, const io_source_info *in,
                         const AVFrame *frame);
/* End of a run: a recording still open is finished, and the recording is
 * off. */
void ptim_recorder_end(ptim_recorder *r);

#endif
