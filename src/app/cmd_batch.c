/* app/cmd_batch — `ptim batch`: whole archives, resumable, sharded. The
 * command line and the printing; the work is batch/ (manifest, shards,
 * sidecars, locks, workers). */
#include "app/commands.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "app/cli.h"
#include "app/job.h"
#include "check/verify.h"
#include "check/verify_face.h"
#include "batch/manifest.h"
#include "batch/run.h"
#include "core/config.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ptim batch --manifest FILE --out-dir DIR [--shard I/N] [--jobs J] [--resume]\n"
            "       ptim batch DIR_OR_GLOB... --out-dir DIR [options]\n"
            "       ptim batch --report DIR [--stats-json FILE]\n"
            "\n"
            "Mask every picture and video of an archive into DIR, keeping its layout. Each output is\n"
            "written to NAME.partial and renamed, and gets a record NAME.ptim.json (input size,\n"
            "mtime and checksum, ptim version, digest of the settings that change pixels, frames,\n"
            "faces, guard actions, verify result). A failed input is recorded with its reason and\n"
            "the others go on.\n"
            "\n"
            "  --manifest FILE     inputs, one per line: file, URL, directory (walked) or glob;\n"
            "                      # starts a comment line; - reads standard input; repeatable\n"
            "  --out-dir DIR       where outputs go: DIR/<input path> (leading / dropped)\n"
            "  --shard I/N         take only shard I of N (0 <= I < N), chosen by a hash of each\n"
            "                      input's path: N processes cover every input exactly once\n"
            "  --jobs J            inputs masked at once (default 1); each gets its share of the\n"
            "                      cores for inference unless performance.max_processing_workers is set\n"
            "  --resume            skip inputs whose record matches (same input, version, settings)\n"
            "  --verify            leak-check each output (ptim verify against its input); a leak\n"
            "                      fails the input and its output is moved to NAME.leaked\n"
            "  --stats-json FILE   the summary as JSON\n"
            "  --report DIR        merge every record under DIR (all shards) into one summary\n"
            "  --mode MODE         blur|pixelate|solid|image|swap|none (mask.mode)\n"
            "  --identity IMG      swap every face for the one in IMG (mask.mode=swap)\n"
            "  --no-audio          leave the audio out\n"
            "\n");
    ptim_cli_print_common_help(f);
    fprintf(f, "\n"
               "exit status: 0 every input done or up to date, 1 some inputs failed, 2 the batch\n"
               "could not run (usage, manifest, settings, output directory); 130/143 interrupted\n");
}

typedef struct batch_args {
    const char **manifests;
    int manifest_count;
    const char **entries;
    int entry_count;
    const char *out_dir, *shard, *stats_json, *report;
    int jobs;
    bool resume, verify, no_audio;
} batch_args;

static int parse_args(int argc, char **argv, batch_args *a, ptim_error *err)
{
    memset(a, 0, sizeof *a);
    a->jobs = 1;
    a->manifests = calloc((size_t)argc + 1, sizeof *a->manifests);
    a->entries = calloc((size_t)argc + 1, sizeof *a->entries);
    if (!a->manifests || !a->entries)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = NULL;
        if (!strcmp(f, "--out-dir") || !strcmp(f, "-o"))
            slot = &a->out_dir;
        else if (!strcmp(f, "--shard"))
            slot = &a->shard;
        else if (!strcmp(f, "--stats-json"))
            slot = &a->stats_json;
        else if (!strcmp(f, "--report"))
            slot = &a->report;
        if (slot || !strcmp(f, "--manifest") || !strcmp(f, "--jobs") || !strcmp(f, "-j")) {
            if (!v || !*v)
                return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s needs a value", f);
            i++;
            if (slot) {
                *slot = v;
            } else if (!strcmp(f, "--manifest")) {
                a->manifests[a->manifest_count++] = v;
            } else {
                char *end;
                errno = 0;
                long j = strtol(v, &end, 10);
                if (end == v || *end || errno || j < 1 || j > 256)
                    return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                          "--jobs %.40s: give a whole number from 1 to 256", v);
                a->jobs = (int)j;
            }
        } else if (!strcmp(f, "--resume")) {
            a->resume = true;
        } else if (!strcmp(f, "--verify")) {
            a->verify = true;
        } else if (!strcmp(f, "--no-audio")) {
            a->no_audio = true;
        } else if (f[0] == '-' && f[1]) {
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                  "unknown option %s (see ptim batch --help)", f);
        } else {
            a->entries[a->entry_count++] = f;
        }
    }
    if (a->report)
        return 0;
    if (!a->out_dir)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "give --out-dir DIR (see ptim batch --help)");
    if (!a->manifest_count && !a->entry_count)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "no inputs: give --manifest FILE or directories, files or globs");
    return 0;
}

static void free_args(batch_args *a)
{
    free(a->manifests);
    free(a->entries);
}

/* ---- the leak check, bound to ptim verify (runs in a batch worker) ---- */

static int verify_output(void *ctx, const ptim_config *cfg, const char *original,
                         const char *masked, int64_t *checked, int64_t *leaked, ptim_error *err)
{
    (void)ctx;
    verify_options vo;
    verify_options_default(&vo);
    verify_detector det;
    verify_face *vf = NULL;
    if (verify_face_open(cfg, true, false, &vf, &det, err) < 0)
        return -1;
    verify_report rep;
    int rc = verify_run(original, masked, &vo, &det, &rep, err);
    verify_face_close(vf);
    if (rc == 0) {
        *checked = rep.frames_checked;
        *leaked = rep.frames_leaked;
    }
    verify_report_free(&rep);
    return rc;
}

/* ---- printing ---------------------------------------------------------- */

typedef struct printer {
    bool quiet, tty, line_open;
} printer;

static void clear_line(printer *p)
{
    if (p->line_open) {
        fputs("\r\033[K", stderr);
        p->line_open = false;
    }
}

static void on_item(void *ctx, const batch_item_report *it)
{
    printer *p = ctx;
    if (p->quiet && it->state != BATCH_FAILED)
        return;
    clear_line(p);
    if (it->state == BATCH_FAILED)
        fprintf(stderr, "ptim batch: [%d/%d] %s: FAILED: %s\n", it->index, it->total, it->input, it->why);
    else if (it->state == BATCH_SKIPPED)
        fprintf(stderr, "ptim batch: [%d/%d] %s: skipped (%s)\n", it->index, it->total, it->input, it->why);
    else
        fprintf(stderr, "ptim batch: [%d/%d] %s -> %s: %lld frames, %lld faces, %lld covered by the "
                        "guard%s in %.1f s\n",
                it->index, it->total, it->input, it->output, (long long)it->record->frames,
                (long long)it->record->faces, (long long)it->record->frames_covered,
                it->record->verify == BATCH_VERIFY_CLEAN ? ", verified clean" : "", it->record->wall_s);
}

static void on_progress(void *ctx, const batch_progress *pr)
{
    printer *p = ctx;
    if (p->quiet || !p->tty || pr->running == 0)
        return;
    char eta[32] = "?";
    if (pr->eta_s >= 0)
        snprintf(eta, sizeof eta, "%d:%02d:%02d", (int)(pr->eta_s / 3600), (int)pr->eta_s / 60 % 60,
                 (int)pr->eta_s % 60);
    fprintf(stderr, "\r\033[Kptim batch: %d/%d finished (%d skipped, %d failed), %d running, %lld frames, ETA %s",
            pr->done + pr->skipped + pr->failed, pr->total, pr->skipped, pr->failed, pr->running,
            (long long)pr->frames, eta);
    p->line_open = true;
}

static void print_summary(const batch_summary *s, bool report)
{
    fprintf(stderr, "ptim batch: %s%d inputs: %d done, %d %s, %d failed; %lld frames, %lld faces",
            report ? "records: " : "", s->total, s->done, s->skipped,
            report ? "skipped" : "up to date (skipped)", s->failed, (long long)s->frames,
            (long long)s->faces);
    if (!report && s->wall_s > 0)
        fprintf(stderr, "; %.1f s, %.1f frames/s, %.2f MB/s of input", s->wall_s,
                (double)s->frames / s->wall_s, (double)s->bytes_in / 1e6 / s->wall_s);
    fprintf(stderr, "%s\n", s->interrupted ? " (interrupted)" : "");
    if (s->frames_leaked)
        fprintf(stderr, "ptim batch: verify found recognizable faces on %lld frames\n",
                (long long)s->frames_leaked);
    for (int i = 0; i < s->failure_count; i++)
        fprintf(stderr, "ptim batch: failed: %s: %s\n", s->failures[i].input, s->failures[i].reason);
}

static int write_stats(const char *path, const batch_summary *s)
{
    char *doc = batch_summary_json(s);
    FILE *f = doc ? fopen(path, "w") : NULL;
    bool ok = f && fprintf(f, "%s\n", doc) >= 0;
    if (f && fclose(f) != 0)
        ok = false;
    free(doc);
    if (!ok)
        fprintf(stderr, "ptim batch: cannot write %s: %s\n", path, strerror(errno));
    return ok ? 0 : -1;
}

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig)
{
    stop_signal = sig;
}

static int run_report(const batch_args *a)
{
    batch_summary sum;
    ptim_error err = {0};
    int status = batch_report(a->report, &sum, &err);
    if (status == 2) {
        fprintf(stderr, "ptim batch: %s\n", err.message);
        batch_summary_free(&sum);
        return 2;
    }
    print_summary(&sum, true);
    if (a->stats_json && write_stats(a->stats_json, &sum) < 0 && !status)
        status = 1;
    batch_summary_free(&sum);
    return status;
}

int cmd_batch(int argc, char **argv)
{
    ptim_job_args args;
    ptim_cli cli;
    batch_args a;
    ptim_error err = {0};
    if (ptim_job_rewrite_aliases(argc, argv, &args, &err) < 0) {
        ptim_job_args_free(&args);
        return ptim_cli_fail(NULL, &err);
    }
    if (ptim_cli_parse(&cli, args.argc, args.argv, &err)) {
        ptim_job_args_free(&args);
        return ptim_cli_fail(&cli, &err);
    }
    if (cli.help) {
        usage(stdout);
        ptim_cli_close(&cli);
        ptim_job_args_free(&args);
        return 0;
    }
    if (parse_args(cli.argc, cli.argv, &a, &err) < 0)
        goto fail;
    if (a.report) {
        int status = run_report(&a);
        free_args(&a);
        ptim_cli_close(&cli);
        ptim_job_args_free(&args);
        return status;
    }
    int shard_i = 0, shard_n = 1;
    if (a.shard && batch_parse_shard(a.shard, &shard_i, &shard_n, &err) < 0)
        goto fail;
    if (ptim_cli_open(&cli, &err))
        goto fail;
    ptim_config *cfg = ptim_config_store_acquire(cli.store);
    /* Several inputs at once share the cores: each gets cores/jobs inference
     * threads, unless the user chose a number themselves. */
    int workers_row = ptim_option_index("performance.max_processing_workers");
    if (a.jobs > 1 && ptim_config_source_of(cfg, workers_row) == PTIM_CONFIG_DEFAULT) {
        int per = batch_cores() / a.jobs;
        char kv[80];
        snprintf(kv, sizeof kv, "performance.max_processing_workers=%d", per < 1 ? 1 : per > 16 ? 16 : per);
        const char **sets = malloc(sizeof *sets * (size_t)(cli.set_count + 1));
        if (!sets) {
            ptim_config_release(cfg);
            ptim_error_set(&err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
            goto fail;
        }
        for (int i = 0; i < cli.set_count; i++)
            sets[i] = cli.sets[i];
        sets[cli.set_count] = kv;
        ptim_config_sources src = {.file = cli.config_path, .file_required = cli.config_file != NULL,
                                   .environ = NULL, .sets = sets, .set_count = cli.set_count + 1};
        extern char **environ;
        src.environ = environ;
        ptim_config *shared = NULL;
        int rc = ptim_config_load(&src, &shared, &err);
        free(sets);
        ptim_config_release(cfg);
        if (rc < 0)
            goto fail;
        cfg = shared;
    }

    batch_plan plan = {0};
    for (int i = 0; i < a.manifest_count; i++)
        if (batch_plan_read_manifest(&plan, a.manifests[i], a.out_dir, &err) < 0) {
            batch_plan_free(&plan);
            ptim_config_release(cfg);
            goto fail;
        }
    for (int i = 0; i < a.entry_count; i++)
        if (batch_plan_add_entry(&plan, a.entries[i], a.out_dir, &err) < 0) {
            batch_plan_free(&plan);
            ptim_config_release(cfg);
            goto fail;
        }
    if (batch_plan_check(&plan, &err) < 0) {
        batch_plan_free(&plan);
        ptim_config_release(cfg);
        goto fail;
    }
    int listed = plan.count;
    batch_plan_shard(&plan, shard_i, shard_n);
    if (!cli.quiet)
        fprintf(stderr, "ptim batch: %d inputs listed, %d in shard %d/%d, %d at once -> %s\n", listed,
                plan.count, shard_i, shard_n, a.jobs, a.out_dir);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    printer pr = {.quiet = cli.quiet, .tty = isatty(2) != 0};
    batch_options opt = {
        .out_dir = a.out_dir,
        .jobs = a.jobs,
        .resume = a.resume,
        .verify = a.verify,
        .no_audio = a.no_audio,
        .verbose = cli.verbose,
        .cfg = cfg,
        .verify_fn = verify_output,
        .on_item = on_item,
        .on_progress = on_progress,
        .ctx = &pr,
        .stop = &stop_signal,
    };
    batch_summary sum;
    int status = batch_run(&plan, &opt, &sum, &err);
    clear_line(&pr);
    if (status == 2) {
        fprintf(stderr, "ptim batch: %s\n", err.message);
    } else {
        if (!cli.quiet || status)
            print_summary(&sum, false);
        if (a.stats_json && write_stats(a.stats_json, &sum) < 0 && !status)
            status = 1;
    }
    batch_summary_free(&sum);
    batch_plan_free(&plan);
    ptim_config_release(cfg);
    free_args(&a);
    ptim_cli_close(&cli);
    ptim_job_args_free(&args);
    return status;
fail:;
    int failed = ptim_cli_fail(&cli, &err);
    free_args(&a);
    ptim_job_args_free(&args);
    return failed;
}
