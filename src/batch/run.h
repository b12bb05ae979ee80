/* batch/run — runs a batch plan: every input of the shard masked into the
 * output directory, several at once, each under its output's lock, each
 * recorded in its sidecar; and the merged report of a directory's sidecars.
 *
 * Each input is masked in a child process fork()ed from this one (the same
 * code `ptim mask` runs: pipeline/ with the masker's assets loaded once, up
 * front). A crash or a runaway decoder on one damaged file then takes down
 * that child only: the input is recorded as failed with its reason and the
 * others go on. Children die with the batch (PR_SET_PDEATHSIG), leaving at
 * most a NAME.partial that the next run replaces.
 *
 * Per input, in the parent: take OUTPUT.ptim.lock (busy: come back to it
 * after the rest); fingerprint the input; with `resume`, skip it when its
 * sidecar matches (batch/sidecar.h); otherwise remove the old sidecar, fork,
 * and when the child ends write the sidecar ("done", or "failed" with the
 * reason) and release the lock. An input whose lock was busy is, once the
 * lock is free, skipped when the other process left a matching record
 * during this run, else processed. With `verify`, the child runs the leak
 * check on its output; a leak fails the input and the output is renamed to
 * OUTPUT.leaked so no leaking file stays under its final name.
 *
 * Not thread-safe; one batch_run per process at a time. */
#ifndef PTIM_BATCH_RUN_H
#define PTIM_BATCH_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "batch/manifest.h"
#include "batch/sidecar.h"
#include "core/config.h"
#include "core/error.h"

/* The leak check, supplied by the caller (app/ binds ptim verify). Returns 0
 * with the counts filled (clean when *frames_leaked is 0), -1 with *err when
 * the output cannot be verified. Runs in the child. */
typedef int (*batch_verify_fn)(void *ctx, const ptim_config *cfg, const char *original,
                               const char *masked, int64_t *frames_checked,
                               int64_t *frames_leaked, ptim_error *err);

/* One input finished (done, skipped or failed). */
typedef enum batch_state { BATCH_DONE, BATCH_SKIPPED, BATCH_FAILED } batch_state;
typedef struct batch_item_report {
    const char *input, *output;  /* valid during the callback */
    batch_state state;
    const char *why;             /* skipped: why; failed: the reason */
    const batch_record *record;  /* done/failed: what was recorded (NULL when no record) */
    int index, total;            /* 1-based position among finished inputs, of total */
} batch_item_report;

typedef struct batch_progress {
    int total, done, skipped, failed, running;
    int64_t frames, faces;
    double elapsed_s;
    double eta_s;                /* < 0 while unknown */
} batch_progress;

typedef struct batch_options {
    const char *out_dir;
    int jobs;                    /* inputs at once, >= 1 */
    bool resume;                 /* skip inputs whose sidecar matches */
    bool verify;                 /* leak-check each output (needs verify_fn) */
    bool no_audio;
    bool verbose;                /* FFmpeg's own messages */
    const ptim_config *cfg;      /* retained by the caller for the whole run */
    batch_verify_fn verify_fn;
    void *verify_ctx;
    void (*on_item)(void *ctx, const batch_item_report *item);  /* may be NULL */
    void (*on_progress)(void *ctx, const batch_progress *p);    /* about once a second; may be NULL */
    void *ctx;
    volatile sig_atomic_t *stop; /* set by a signal handler: stop starting, end the children */
} batch_options;

typedef struct batch_failure {
    char *input;
    char *reason;
} batch_failure;

typedef struct batch_summary {
    int total, done, skipped, failed;
    int64_t frames, faces, frames_covered, frames_leaked;
    int64_t bytes_in;            /* input bytes of the inputs processed */
    double wall_s;               /* whole run */
    double work_s;               /* sum of the processed inputs' own times */
    bool interrupted;
    batch_failure *failures;     /* failure_count of them (<= failed), in finishing order; owned */
    int failure_count;
} batch_summary;

/* Run the plan. Returns the exit status: 0 every input done or skipped, 1
 * some failed, 2 the batch could not run (*err says why: the output
 * directory cannot be made, the settings digest cannot be taken, assets
 * cannot be loaded), 130/143 stopped by SIGINT/SIGTERM (*stop). */
int batch_run(const batch_plan *plan, const batch_options *opt, batch_summary *sum, ptim_error *err);

/* Merge every sidecar under `dir` (recursively) into *sum (failures with
 * their reasons; frames, faces, verify leaks). Returns 0 all done, 1 some
 * failed or a record is unreadable, 2 when `dir` cannot be read or holds no
 * records (*err). */
int batch_report(const char *dir, batch_summary *sum, ptim_error *err);

/* The summary as one JSON object (malloc'd, NULL on no memory). */
char *batch_summary_json(const batch_summary *sum);

void batch_summary_free(batch_summary *sum);

/* Processors this process may run on (its CPU affinity: what Slurm or a
 * container gives it). */
int batch_cores(void);

#endif
