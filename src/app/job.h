/* app/job — a `ptim mask` or `ptim run` command line turned into what the
 * pipeline runs: input/output pairs (a directory maps to a directory), the
 * --set overrides in order, and the run's flags. No I/O but listing
 * directories and creating an output directory. */
#ifndef PTIM_APP_JOB_H
#define PTIM_APP_JOB_H

#include <stdbool.h>

#include "core/error.h"

typedef struct ptim_job_item {
    char *input;
    char *output;
} ptim_job_item;

typedef struct ptim_job {
    ptim_job_item *items;
    int count;
    char **inputs;          /* as given (before directories are expanded) */
    int input_count;
    const char *output;     /* -o, or NULL */
    const char *stats_json; /* --stats-json FILE */
    const char *audit;      /* --audit FILE */
    bool no_audio, unsafe_passthrough;
    bool overwrite;         /* -y: replace existing outputs */
    bool skip_existing;     /* -n: leave inputs whose output exists */
    bool recursive;         /* -r: go into subdirectories of a directory input */
    bool quiet, verbose;    /* from the shared flags (app/cli) */
    /* Directory entries that are not processed, "dir/notes.txt" with the
     * reason of each ("not media", "empty file", "subdirectory, see -r"). */
    char **skipped, **skipped_why;
    int skipped_count;
} ptim_job;

/* A command line with the commands' setting aliases (--mode M, --identity
 * IMG, --voice V) rewritten as --set key=value, for app/cli to parse. */
typedef struct ptim_job_args {
    int argc;
    char **argv;
    char **owned;
    int owned_count;
} ptim_job_args;
int ptim_job_rewrite_aliases(int argc, char **argv, ptim_job_args *out, ptim_error *err);
void ptim_job_args_free(ptim_job_args *args);

/* The command's own arguments (app/cli has taken the shared flags out):
 * `ptim mask INPUT… [-o OUTPUT] [--stats-json F] [--audit F] [--no-audio]
 * [--unsafe-passthrough]`. Fills *job (free with ptim_job_free); -1 with a
 * PTIM_ERR_CONFIG message on bad usage. Inputs are expanded later: see
 * ptim_job_expand. */
int ptim_job_parse_mask(int argc, char **argv, ptim_job *job, ptim_error *err);
/* `ptim run [PlayaTewsIdentityMasker] [-i IN] [-o OUT] …` (own arguments). */
int ptim_job_parse_run(int argc, char **argv, ptim_job *job, ptim_error *err);

/* Turn inputs into input/output pairs: `<stem>_masked.<ext>` by default, a
 * directory into `<dir>_masked/` with one pair per picture or video in it
 * (and in its subdirectories with -r; other entries go to job->skipped), `-`
 * to `-`. A quoted glob (*, ?, [...], {a,b}) that names no existing file is
 * expanded like the shell does, sorted. With several inputs -o must be a
 * directory (`-o DIR/` is created when missing). Output directories are
 * created by ptim_job_execute, not here. */
int ptim_job_expand(ptim_job *job, ptim_error *err);
/* For `ptim run`: one pair from -i/-o, else the defaults given. */
int ptim_job_expand_run(ptim_job *job, const char *default_input, const char *default_output,
                        ptim_error *err);

void ptim_job_free(ptim_job *job);

/* Default output name for one input file: "dir/clip.mp4" -> "dir/clip_masked.mp4". */
int ptim_job_default_output(const char *input, char *out, int size);

#endif

#ifndef PTIM_APP_JOB_EXEC
#define PTIM_APP_JOB_EXEC
#include "app/cli.h"
#include "core/config.h"
#include "face/masker.h"
#include <stdatomic.h>
#include <stdio.h>

/* Run every pair of an expanded job through the pipeline (offline, or live
 * for `ptim run`), writing --stats-json / --audit and one summary line per
 * pair, then "N done, N failed, N skipped" when there was more than one.
 * `cfg` is the snapshot to run with when `cli` is NULL; with a cli, each pair
 * starts from its store's newest settings and edits are polled between
 * frames (hot reload). Before any work: outputs that exist are refused
 * (unless -y / output.overwrite; -n skips them), and video to a terminal
 * is refused. `name` prefixes messages ("ptim mask").
 * Returns the exit status: 0 all done; 1 some pair failed (or frames were
 * written unmasked by --unsafe-passthrough) while others ran; 2 nothing could
 * run (bad input, output or settings); 128+signal (130, 143) when an
 * offline job was stopped by SIGINT/SIGTERM (the output keeps NAME.partial).
 * A live job (`ptim run`) stopped by a signal ends normally (0). */
int ptim_job_execute(const ptim_job *job, const ptim_config *cfg, bool live, const char *name,
                     ptim_cli *cli);

/* The whole of `ptim mask` (live false) and `ptim run` (live true): aliases,
 * shared flags, the command's arguments, expansion, execution. `usage`
 * prints the command's help. Returns the exit status. */
int ptim_job_command(int argc, char **argv, bool live, void (*usage)(FILE *));

/* SIGINT/SIGTERM set the returned flag to the signal's number (a second one
 * ends the process). */
atomic_int *ptim_job_install_signals(void);
#endif
