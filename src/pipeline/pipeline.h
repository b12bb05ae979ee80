/* pipeline/pipeline — one input to one output through four stages on their
 * own threads, joined by bounded queues:
 *
 *     source -> analyze (face_tracker) -> render (face_masker + guard) -> sink
 *
 * Offline policy (files): every frame in order, back-pressure, no drops; the
 * output keeps the input's frame count and timestamps. Live policy (cameras,
 * streams, `ptim run`): newest frame wins, stale ones are dropped and
 * counted, performance.target_fps caps the rate, output.target_delay_ms
 * delays output evenly; a source that fails is reopened with backoff while
 * covered frames keep the output running.
 *
 * The fail-closed guard (pipeline/guard.h) decides every frame; with the
 * placeholder tracker/masker every frame is covered. */
#ifndef PTIM_PIPELINE_PIPELINE_H
#define PTIM_PIPELINE_PIPELINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/config.h"
#include "core/error.h"
#include "core/mem.h"
#include "face/masker.h"
#include "pipeline/preview.h"
#include "pipeline/recorder.h"
#include "pipeline/stats.h"

typedef struct ptim_pipeline_desc {
    const char *input;             /* io/source names */
    const char *output;            /* io/sink names */
    const ptim_config *cfg;        /* settings at start (retained by the caller) */
    bool live;                     /* live policy (else offline) */
    bool audio;                    /* copy (or voice-mask) the audio track */
    bool unsafe_passthrough;       /* write frames the guard would cover, unmasked (warned) */
    bool progress;                 /* frames/fps/ETA on stderr */
    /* Face analysis or masking that cannot start (models, mask.image,
     * swap.identity) fails the run with status 2 before the first frame is
     * read; without it the guard covers every frame instead. */
    bool require_masking;
    FILE *audit;                   /* one JSON line per frame, or NULL */
    const face_masker_assets *assets;
    /* Hot reload: called between frames; returns a newer snapshot (a
     * reference the pipeline releases) or NULL when nothing changed. */
    ptim_config *(*poll_config)(void *opaque);
    void *poll_opaque;
    /* Set (by a signal handler) to finish early, cleanly. An atomic, not a
     * volatile sig_atomic_t: the stage threads read it while the handler runs
     * on another thread; ptim_job_install_signals checks it is lock-free, as a
     * signal handler needs. */
    atomic_int *stop;
    /* Control panel preview: finished frames offered to this slot (never
     * blocking), or NULL. Not owned. */
    ptim_preview *preview;
    /* Control panel recording: every frame written is also written there
     * while the panel records, by the sink thread; or NULL. Not owned. */
    ptim_recorder *recorder;
    /* Called once the result's statistics are zeroed, before any stage
     * thread starts, so another thread may read them from then on; or NULL. */
    void (*on_start)(void *opaque, const ptim_pipeline_stats *stats);
    void *on_start_opaque;
} ptim_pipeline_desc;

/* result->stats counters are atomics updated while the run goes, so another
 * thread (the control panel) may read them during ptim_pipeline_run. */
typedef struct ptim_pipeline_result {
    int status;          /* 0 done, 1 failed while processing, 2 bad input/output/config */
    bool interrupted;    /* stopped by *stop; the output was finished properly */
    bool reader_gone;    /* the output pipe's reader closed it (status 1, not an error of ptim's) */
    ptim_error error;    /* the error that decided the status */
    ptim_pipeline_stats stats;
    ptim_mem_stats memory;   /* the run's core/mem pool */
    char sink_description[128];
    int64_t source_frames_corrupt, source_packets_corrupt, source_packets_dropped, source_reopens;
} ptim_pipeline_result;

/* Runs to the end of the input (or *stop, or a fatal error). *result is
 * filled in every case; returns result->status. */
int ptim_pipeline_run(const ptim_pipeline_desc *desc, ptim_pipeline_result *result);

/* Statistics as one JSON object (one line), appended to `f`. */
void ptim_pipeline_write_stats_json(FILE *f, const ptim_pipeline_desc *desc,
                                    const ptim_pipeline_result *result);

#endif
