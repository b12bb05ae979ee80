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
    bool quiet, verbose;    /* from the shared flags (app/cli) */
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
 * directory into `<dir>_masked/` (created) with one pair per picture or video
 * in it, `-` to `-`. With several inputs -o must be a directory. */
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
#include <signal.h>

/* Run every pair of an expanded job through the pipeline with `cfg`
 * (offline, or live for `ptim run`), writing --stats-json / --audit and one
 * summary line per pair. `name` prefixes messages ("ptim mask"). Settings
 * edited while running are polled from `cli`'s store between frames (hot
 * reload). Returns the exit status: the worst of the pairs. */
int ptim_job_execute(const ptim_job *job, const ptim_config *cfg, bool live, const char *name,
                     ptim_cli *cli);

/* SIGINT/SIGTERM set the returned flag (a second one ends the process). */
volatile sig_atomic_t *ptim_job_install_signals(void);
#endif
