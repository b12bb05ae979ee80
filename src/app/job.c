/* app/job — command lines of `ptim mask` and `ptim run` into input/output pairs. */
#include "app/job.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/config.h"
#include "io/sink.h"
#include "io/source.h"

static int push_str(char ***list, int *count, const char *s)
{
    char **l = realloc(*list, sizeof(char *) * (size_t)(*count + 1));
    if (!l)
        return -1;
    *list = l;
    if (!(l[*count] = strdup(s)))
        return -1;
    (*count)++;
    return 0;
}

static int push_item(ptim_job *job, const char *in, const char *out)
{
    ptim_job_item *it = realloc(job->items, sizeof *it * (size_t)(job->count + 1));
    if (!it)
        return -1;
    job->items = it;
    it[job->count].input = strdup(in);
    it[job->count].output = strdup(out);
    if (!it[job->count].input || !it[job->count].output)
        return -1;
    job->count++;
    return 0;
}

/* Command aliases of settings, turned into --set before the shared flags
 * are parsed, so they go through the config store like any --set. */
int ptim_job_rewrite_aliases(int argc, char **argv, ptim_job_args *out, ptim_error *err)
{
    memset(out, 0, sizeof *out);
    out->argv = calloc((size_t)argc * 3 + 1, sizeof *out->argv);
    out->owned = calloc((size_t)argc * 2 + 1, sizeof *out->owned);
    if (!out->argv || !out->owned)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    static const struct {
        const char *flag, *key;
    } aliases[] = {{"--mode", "mask.mode"}, {"--voice", "audio.voice"}, {"--identity", "swap.identity"},
                   {"--http", "server.listen"}};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        size_t k = 0;
        for (; k < sizeof aliases / sizeof aliases[0]; k++)
            if (!strcmp(a, aliases[k].flag))
                break;
        if (i == 0 || k == sizeof aliases / sizeof aliases[0]) {
            out->argv[out->argc++] = argv[i];
            continue;
        }
        if (i + 1 >= argc)
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s needs a value", a);
        const char *v = argv[++i];
        /* checked here so that the message names the flag the user typed */
        char norm[256], why[160];
        if (ptim_option_validate(ptim_option_find(aliases[k].key), v, norm, sizeof norm, why,
                                 sizeof why) < 0)
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s '%.80s' %s", a, v, why);
        char buf[4200];
        if (!strcmp(a, "--identity")) { /* a photo to swap in implies swap mode */
            out->argv[out->argc++] = "--set";
            out->argv[out->argc++] = "mask.mode=swap";
        }
        snprintf(buf, sizeof buf, "%s=%s", aliases[k].key, v);
        char *kv = strdup(buf);
        if (!kv)
            return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
        out->owned[out->owned_count++] = kv;
        out->argv[out->argc++] = "--set";
        out->argv[out->argc++] = kv;
    }
    out->argv[out->argc] = NULL;
    return 0;
}

void ptim_job_args_free(ptim_job_args *a)
{
    for (int i = 0; i < a->owned_count; i++)
        free(a->owned[i]);
    free(a->owned);
    free(a->argv);
    memset(a, 0, sizeof *a);
}

/* The command's own flags (the shared ones are the cli's). Returns 1 when
 * argv[*i] was one of them. */
static int own_flag(int argc, char **argv, int *i, ptim_job *job, ptim_error *err)
{
    const char *a = argv[*i];
    const char **slot = NULL;
    if (!strcmp(a, "-o") || !strcmp(a, "--output"))
        slot = &job->output;
    else if (!strcmp(a, "--stats-json"))
        slot = &job->stats_json;
    else if (!strcmp(a, "--audit"))
        slot = &job->audit;
    if (slot) {
        if (*i + 1 >= argc)
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s needs a value", a);
        *slot = argv[++*i];
        return 1;
    }
    if (!strcmp(a, "--no-audio"))
        job->no_audio = true;
    else if (!strcmp(a, "-y") || !strcmp(a, "--overwrite"))
        job->overwrite = true;
    else if (!strcmp(a, "-n") || !strcmp(a, "--no-overwrite"))
        job->skip_existing = true;
    else if (!strcmp(a, "--unsafe-passthrough"))
        job->unsafe_passthrough = true;
    else
        return 0;
    return 1;
}

static int push_input(ptim_job *job, const char *in, ptim_error *err)
{
    if (push_str(&job->inputs, &job->input_count, in) < 0)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    return 0;
}

int ptim_job_parse_mask(int argc, char **argv, ptim_job *job, ptim_error *err)
{
    memset(job, 0, sizeof *job);
    for (int i = 1; i < argc; i++) {
        int r = own_flag(argc, argv, &i, job, err);
        if (r < 0)
            return -1;
        if (r)
            continue;
        if (!strcmp(argv[i], "-r") || !strcmp(argv[i], "--recursive")) {
            job->recursive = true;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1])
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                  "unknown option %s (see ptim mask --help)", argv[i]);
        if (push_input(job, argv[i], err) < 0)
            return -1;
    }
    if (!job->input_count)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "no input given (see ptim mask --help)");
    if (job->overwrite && job->skip_existing)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "-y (overwrite) and -n (skip existing outputs) contradict each other");
    return 0;
}

int ptim_job_parse_run(int argc, char **argv, ptim_job *job, ptim_error *err)
{
    memset(job, 0, sizeof *job);
    for (int i = 1; i < argc; i++) {
        int r = own_flag(argc, argv, &i, job, err);
        if (r < 0)
            return -1;
        if (r)
            continue;
        if (!strcmp(argv[i], "-i") || !strcmp(argv[i], "--input")) {
            if (i + 1 >= argc)
                return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s needs a value", argv[i]);
            if (job->input_count)
                return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "ptim run takes one input");
            if (push_input(job, argv[++i], err) < 0)
                return -1;
            continue;
        }
        /* The seed application's module name is accepted (and is the only one). */
        if (!strcmp(argv[i], "PlayaTewsIdentityMasker"))
            continue;
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "unknown argument %s (see ptim run --help)", argv[i]);
    }
    return 0;
}

int ptim_job_default_output(const char *input, char *out, int size)
{
    const char *slash = strrchr(input, '/');
    const char *dot = strrchr(input, '.');
    if (!dot || (slash && dot < slash) || dot == (slash ? slash + 1 : input))
        return snprintf(out, (size_t)size, "%s_masked.mp4", input) < size ? 0 : -1;
    return snprintf(out, (size_t)size, "%.*s_masked%s", (int)(dot - input), input, dot) < size ? 0
                                                                                                : -1;
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_media_name(const char *name)
{
    static const char *const video[] = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v",
                                        ".ts",  ".flv", ".mpg", ".mpeg", ".wmv", ".3gp"};
    if (io_is_image_name(name))
        return true;
    const char *dot = strrchr(name, '.');
    if (!dot)
        return false;
    for (size_t i = 0; i < sizeof video / sizeof video[0]; i++)
        if (!strcasecmp(dot, video[i]))
            return true;
    return false;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Formats a path into dst; a name that does not fit is an error, never a
 * silently shortened path (which could name another file). */
static int path_fmt(char *dst, size_t n, ptim_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int path_fmt(char *dst, size_t n, ptim_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(dst, n, fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t)r >= n)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "path too long: %.80s...", dst);
    return 0;
}

static int push_skipped(ptim_job *job, const char *path, const char *why, ptim_error *err)
{
    int n = job->skipped_count;
    if (push_str(&job->skipped, &n, path) < 0 ||
        push_str(&job->skipped_why, &job->skipped_count, why) < 0)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    return 0;
}

/* One pair per picture or video in `dir` (sorted), into `outdir`; with
 * job->recursive also in its subdirectories, mirrored under `outdir`. Every
 * other entry but hidden ones is recorded in job->skipped. */
static int expand_dir(ptim_job *job, const char *dir, const char *outdir, ptim_error *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot read the directory %s: %s", dir,
                       strerror(errno));
        return ptim_error_mark_input(err);
    }
    char **names = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') /* hidden, . and .. */
            continue;
        if (push_str(&names, &n, e->d_name) < 0) {
            closedir(d);
            return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
        }
    }
    closedir(d);
    if (n)
        qsort(names, (size_t)n, sizeof *names, by_name);
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        char in[4200], out[4200];
        if (path_fmt(in, sizeof in, err, "%s/%s", dir, names[i]) ||
            path_fmt(out, sizeof out, err, "%s/%s", outdir, names[i])) {
            rc = -1;
            break;
        }
        struct stat st;
        if (stat(in, &st) != 0)
            rc = push_skipped(job, in, "unreadable", err);
        else if (S_ISDIR(st.st_mode))
            rc = job->recursive ? expand_dir(job, in, out, err)
                                : push_skipped(job, in, "subdirectory, see -r", err);
        else if (!S_ISREG(st.st_mode))
            rc = push_skipped(job, in, "not a regular file", err);
        else if (strstr(names[i], ".partial"))
            rc = push_skipped(job, in, "unfinished output", err);
        else if (!is_media_name(names[i]))
            rc = push_skipped(job, in, "not media", err);
        else if (st.st_size == 0)
            rc = push_skipped(job, in, "empty file", err);
        else if (push_item(job, in, out) < 0)
            rc = ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

static void strip_slashes(char *s)
{
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '/')
        s[--n] = 0;
}

static int free_strs(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
    return -1;
}

/* The inputs with every quoted glob expanded as the shell would: *, ?, [...]
 * and {a,b}, the matches sorted. A name that exists, `-` and URLs are kept
 * as given; a glob that matches nothing is an error (like bash's failglob),
 * never a name handed to FFmpeg. */
static int expand_globs(const ptim_job *job, char ***out, int *count, ptim_error *err)
{
    char **list = NULL;
    int n = 0;
    for (int i = 0; i < job->input_count; i++) {
        const char *in = job->inputs[i];
        struct stat st;
        if (!strcmp(in, "-") || strstr(in, "://") || stat(in, &st) == 0 || !strpbrk(in, "*?[{")) {
            if (push_str(&list, &n, in) < 0)
                return free_strs(list, n), ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
            continue;
        }
        glob_t g;
        int r = glob(in, GLOB_BRACE, NULL, &g);
        if (r == GLOB_NOMATCH || (r == 0 && g.gl_pathc == 0)) {
            if (r == 0)
                globfree(&g);
            free_strs(list, n);
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                  "no file matches %s; check the pattern and the directory", in);
        }
        if (r != 0) {
            free_strs(list, n);
            return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot expand %s: %s", in,
                                  r == GLOB_NOSPACE ? "out of memory" : "a directory cannot be read");
        }
        int first = n;
        for (size_t k = 0; k < g.gl_pathc; k++)
            if (push_str(&list, &n, g.gl_pathv[k]) < 0) {
                globfree(&g);
                free_strs(list, n);
                return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
            }
        globfree(&g);
        /* {a,b} alternatives come out one after the other: sort the whole set, once each */
        qsort(list + first, (size_t)(n - first), sizeof *list, by_name);
        int w = first;
        for (int k = first; k < n; k++) {
            if (w > first && !strcmp(list[w - 1], list[k]))
                free(list[k]);
            else
                list[w++] = list[k];
        }
        n = w;
    }
    *out = list;
    *count = n;
    return 0;
}

int ptim_job_expand(ptim_job *job, ptim_error *err)
{
    char **inputs = NULL;
    int input_count = 0;
    if (expand_globs(job, &inputs, &input_count, err) < 0)
        return -1;
    int rc = 0;
    char outdir[4200] = "";
    bool out_is_dir = job->output && (is_dir(job->output) || job->output[strlen(job->output) - 1] == '/');
    if (out_is_dir) {
        rc = path_fmt(outdir, sizeof outdir, err, "%s", job->output);
        strip_slashes(outdir); /* "out/" + "/x.mp4" must not print as out//x.mp4 */
    }
    if (!rc && input_count > 1 && job->output && !out_is_dir)
        rc = ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                            "with several inputs, -o must be a directory (%s is not; end it with / "
                            "to have it created)", job->output);
    for (int i = 0; i < input_count && !rc; i++) {
        char in[4200], out[4200];
        if ((rc = path_fmt(in, sizeof in, err, "%s", inputs[i])))
            break;
        if (strcmp(in, "-"))
            strip_slashes(in);
        const char *base = strrchr(in, '/') ? strrchr(in, '/') + 1 : in;
        if (is_dir(in)) {
            if (job->output && input_count > 1)
                rc = path_fmt(out, sizeof out, err, "%s/%s_masked", outdir, base);
            else if (job->output)
                rc = path_fmt(out, sizeof out, err, "%s", job->output);
            else
                rc = path_fmt(out, sizeof out, err, "%s_masked", in);
            if (rc)
                break;
            strip_slashes(out);
            if (!strcmp(in, out)) {
                rc = ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                    "the output directory %s is the input directory", out);
                break;
            }
            int before = job->count;
            if ((rc = expand_dir(job, in, out, err)))
                break;
            if (job->count == before && input_count == 1)
                rc = ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                    "the directory %s holds no pictures or videos (%d other "
                                    "entries; -r goes into subdirectories)", in, job->skipped_count);
            continue;
        }
        if (!strcmp(in, "-"))
            rc = path_fmt(out, sizeof out, err, "%s", job->output ? job->output : "-");
        else if (job->output && out_is_dir) {
            char name[4200];
            if (ptim_job_default_output(base, name, sizeof name) < 0)
                rc = ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s: name too long", in);
            else
                rc = path_fmt(out, sizeof out, err, "%s/%s", outdir, input_count > 1 ? base : name);
        } else if (job->output)
            rc = path_fmt(out, sizeof out, err, "%s", job->output);
        else if (ptim_job_default_output(in, out, sizeof out) < 0)
            rc = ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s: name too long", in);
        if (rc)
            break;
        if (!strcmp(in, out) && strcmp(in, "-"))
            rc = ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                "the output %s would overwrite the input", out);
        else if (push_item(job, in, out) < 0)
            rc = ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    }
    free_strs(inputs, input_count);
    if (!rc && job->count == 0)
        rc = ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                            "nothing to do: no picture or video among the inputs (%d entries skipped)",
                            job->skipped_count);
    return rc ? -1 : 0;
}

int ptim_job_expand_run(ptim_job *job, const char *default_input, const char *default_output,
                        ptim_error *err)
{
    const char *in = job->input_count ? job->inputs[0] : default_input;
    const char *out = job->output ? job->output : default_output;
    if (!in || !*in)
        in = "camera";
    if (!out || !*out)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "no output: give -o (a file, v4l2:/dev/videoN, udp://…, -, null) "
                              "or set output.target");
    if (push_item(job, in, out) < 0)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    return 0;
}

void ptim_job_free(ptim_job *job)
{
    for (int i = 0; i < job->count; i++) {
        free(job->items[i].input);
        free(job->items[i].output);
    }
    free(job->items);
    for (int i = 0; i < job->input_count; i++)
        free(job->inputs[i]);
    free(job->inputs);
    for (int i = 0; i < job->skipped_count; i++) {
        free(job->skipped[i]);
        free(job->skipped_why[i]);
    }
    free(job->skipped);
    free(job->skipped_why);
    memset(job, 0, sizeof *job);
}

/* ---- running a job ---- */

#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "core/log.h"

#include "core/fault.h"
#include "io/image_file.h"
#include "pipeline/pipeline.h"
#include "server/server.h"

/* The stop request: written by the signal handler, read by the pipeline's
 * stage threads (a volatile sig_atomic_t is only safe within one thread, and
 * ThreadSanitizer reports it as the race it is). A C11 atomic may be used from
 * a signal handler only when it is lock-free (C11 7.14.1.1). */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the stop flag must be a lock-free atomic_int");
static atomic_int stop_flag;

static void on_signal(int sig)
{
    if (atomic_load(&stop_flag)) { /* second request: stop now */
        signal(sig, SIG_DFL);
        raise(sig);
    }
    atomic_store(&stop_flag, sig);
}

atomic_int *ptim_job_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error, reported as one */
    return &stop_flag;
}

/* Hot reload between frames (called by the pipeline's analyze thread): edits
 * of the settings file, and live changes from the control panel, both of
 * which swap in a new snapshot (a new store generation). */
typedef struct job_poll {
    ptim_cli *cli;
    uint64_t generation;
} job_poll;

static ptim_config *poll_cli_config(void *opaque)
{
    job_poll *jp = opaque;
    ptim_cli_poll_config(jp->cli, NULL);
    uint64_t g = ptim_config_store_generation(jp->cli->store);
    if (g == jp->generation)
        return NULL;
    jp->generation = g;
    return ptim_config_store_acquire(jp->cli->store);
}

/* The control panel: started when server.listen was given (--http) or
 * configured anywhere, i.e. is not at its default. */
typedef struct job_panel {
    ptim_server *srv;
    const char *input, *output;
    int item, items;
} job_panel;

static void panel_run_started(void *opaque, const ptim_pipeline_stats *st)
{
    job_panel *jp = opaque;
    ptim_server_attach(jp->srv, st, jp->input, jp->output, jp->item, jp->items);
}

static int panel_start(ptim_cli *cli, const ptim_config *cfg, bool live, const char *name, ptim_server **out)
{
    *out = NULL;
    if (ptim_config_source_of(cfg, ptim_option_index("server.listen")) == PTIM_CONFIG_DEFAULT)
        return 0;
    ptim_server_desc sd = {.store = cli->store, .read_only = !live, .userdata_dir = cli->userdata_dir, .name = name};
    ptim_error err = {0};
    if (ptim_server_start(&sd, out, &err) < 0) {
        fprintf(stderr, "%s: %s\n", name, err.message);
        return err.category == PTIM_ERR_CONFIG || err.category == PTIM_ERR_NETWORK ? 2 : 1; /* bad address, port taken */
    }
    return 0;
}

/* FFmpeg's own messages ("moov atom not found", "deprecated pixel format")
 * go to ptim.log; on the terminal only with -v. ptim's one sentence says what
 * failed and what to do. */
static bool ffmpeg_to_terminal;
static void ffmpeg_log(void *avcl, int level, const char *fmt, va_list vl)
{
    if (level > (ffmpeg_to_terminal ? AV_LOG_INFO : AV_LOG_WARNING))
        return;
    static _Thread_local int print_prefix = 1;
    char line[1024];
    av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &print_prefix);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    if (!n)
        return;
    ptim_log_level l = level <= AV_LOG_ERROR ? PTIM_LOG_ERROR : level <= AV_LOG_WARNING ? PTIM_LOG_WARN : PTIM_LOG_INFO;
    ptim_log_file_only(l, "ffmpeg", "%s", line);
    if (ffmpeg_to_terminal)
        fprintf(stderr, "ffmpeg: %s\n", line);
}

/* mkdir -p of the directory part of `path` (an output file). */
static int make_parent_dirs(const char *path, ptim_error *err)
{
    char dir[4200];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "path too long: %.80s...", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = 0;
    for (char *p = dir + 1; ; p++) {
        bool end = !*p;
        if (*p == '/' || end) {
            char c = *p;
            *p = 0;
            if (mkdir(dir, 0777) != 0 && errno != EEXIST)
                return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH,
                                      "cannot create the directory %s: %s", dir, strerror(errno));
            if (!is_dir(dir))
                return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH,
                                      "%s exists and is not a directory", dir);
            *p = c;
        }
        if (end)
            break;
    }
    return 0;
}

/* Outputs that are files on disk (not streams, devices, stdout or patterns). */
static bool output_is_file(const char *out)
{
    io_sink_kind k = io_sink_kind_of(out);
    return strcmp(out, "-") && (k == IO_SINK_FILE || k == IO_SINK_IMAGE);
}

static const char *signal_name(int sig)
{
    return sig == SIGINT ? "SIGINT (Ctrl-C)" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

/* Whether NAME holds a frame-number pattern (%d, %04d) in its last part. */
static bool has_frame_pattern(const char *name)
{
    const char *base = strrchr(name, '/');
    for (const char *c = base ? base + 1 : name; *c; c++) {
        if (*c != '%')
            continue;
        const char *d = c + 1;
        while (*d >= '0' && *d <= '9')
            d++;
        if (*d == 'd')
            return true;
        if (*d == '%')
            c = d; /* "%%" is a literal per cent sign */
    }
    return false;
}

/* Checks made before any frame is read; 0, or the exit status (2). `skip[i]`
 * is set for pairs -n leaves alone. */
static int check_outputs(const ptim_job *job, const ptim_config *cfg, const char *name, bool *skip)
{
    bool overwrite = job->overwrite || ptim_config_bool(cfg, "output.overwrite");
    for (int i = 0; i < job->count; i++) {
        const char *out = job->items[i].output;
        if (!strcmp(out, "-") && isatty(1)) {
            fprintf(stderr, "%s: refusing to write video to the terminal; redirect the output "
                            "(> out.nut, | ffplay -) or give -o FILE\n", name);
            return 2;
        }
        /* A %d pattern asks for one picture per frame; with a video extension
         * FFmpeg would write one video under the literal name "out_%03d.mp4",
         * which is not what was asked for either way: say so before work. */
        if (io_sink_kind_of(out) == IO_SINK_FILE && has_frame_pattern(out)) {
            const char *dot = strrchr(out, '.');
            fprintf(stderr, "%s: the output %s has a frame number pattern (%%d) but %s is a video "
                            "format; give a picture name such as out_%%04d.png for one picture "
                            "per frame, or a name without %%d for one video\n",
                    name, out, dot && !strchr(dot, '/') ? dot : "its name");
            return 2;
        }
        struct stat st;
        if (!output_is_file(out) || stat(out, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            fprintf(stderr, "%s: the output %s is a directory; give -o a file name\n", name, out);
            return 2;
        }
        if (job->skip_existing)
            skip[i] = true;
        else if (!overwrite) {
            fprintf(stderr, "%s: %s already exists; give -y to overwrite it or -n to skip inputs "
                            "whose output exists\n", name, out);
            return 2;
        }
    }
    return 0;
}

/* "2 skipped (not media)" or "3 skipped (2 not media, 1 empty file)". */
static void print_skipped_counts(FILE *f, const ptim_job *job, int existing)
{
    const char *reasons[8];
    int counts[8], nr = 0;
    for (int i = 0; i < job->skipped_count; i++) {
        int r = 0;
        while (r < nr && strcmp(reasons[r], job->skipped_why[i]))
            r++;
        if (r == nr && nr < 8)
            reasons[nr] = job->skipped_why[i], counts[nr++] = 0;
        if (r < 8)
            counts[r]++;
    }
    if (existing)
        reasons[nr < 8 ? nr : 7] = "output exists", counts[nr < 8 ? nr++ : 7] = existing;
    int total = job->skipped_count + existing;
    fprintf(f, "%d skipped", total);
    if (!total)
        return;
    if (nr == 1) {
        fprintf(f, " (%s)", reasons[0]);
        return;
    }
    fprintf(f, " (");
    for (int r = 0; r < nr; r++)
        fprintf(f, "%s%d %s", r ? ", " : "", counts[r], reasons[r]);
    fprintf(f, ")");
}

int ptim_job_execute(const ptim_job *job, const ptim_config *cfg, bool live, const char *name,
                     ptim_cli *cli)
{
    ptim_error err = {0};
    if (ptim_fault_configure(ptim_config_str(cfg, "debug.faults"),
                             (uint64_t)ptim_config_int(cfg, "debug.fault_seed"), &err) < 0) {
        fprintf(stderr, "%s: %s\n", name, err.message);
        return 2;
    }
    /* FFmpeg's own chatter goes to ptim.log, to the terminal only with -v;
     * set before the assets (mask image, identity photo) are decoded. */
    ffmpeg_to_terminal = job->verbose;
    av_log_set_level(job->verbose ? AV_LOG_INFO : AV_LOG_WARNING);
    av_log_set_callback(ffmpeg_log);
    bool *skip = calloc((size_t)job->count + 1, sizeof *skip);
    if (!skip) {
        fprintf(stderr, "%s: out of memory\n", name);
        return 1;
    }
    int early = check_outputs(job, cfg, name, skip);
    if (early) {
        free(skip);
        return early;
    }
    /* Pictures the masker needs are decoded here, once, before any frame. */
    img_image overlay = {0}, identity = {0};
    face_masker_assets assets = {0};
    const char *mode = ptim_config_str(cfg, "mask.mode");
    if (!strcmp(mode, "image")) {
        const char *path = ptim_config_str(cfg, "mask.image");
        if (*path && !io_is_image_name(path)) {
            fprintf(stderr, "%s: mask.image %s is not a picture; give a PNG (with alpha) or JPEG\n",
                    name, path);
            free(skip);
            return 2;
        }
        if (!*path || io_image_load(path, IMG_FMT_RGBA, &overlay, &err) < 0) {
            fprintf(stderr, "%s: mask.mode=image: %s\n", name,
                    *path ? err.message : "set mask.image to a picture");
            free(skip);
            return 2;
        }
        assets.overlay = &overlay.view;
        assets.overlay_name = path;
    }
    /* A .dfm needs no identity photo: the celebrity is in the model. */
    if (!strcmp(mode, "swap") && (*ptim_config_str(cfg, "swap.identity") || !*ptim_config_str(cfg, "swap.model"))) {
        const char *path = ptim_config_str(cfg, "swap.identity");
        if (*path && !io_is_image_name(path)) {
            fprintf(stderr, "%s: identity photo %s is not a picture; give a JPEG or PNG photo of "
                            "exactly one face\n", name, path);
            img_image_free(&overlay);
            free(skip);
            return 2;
        }
        if (!*path || io_image_load(path, IMG_FMT_RGB24, &identity, &err) < 0) {
            fprintf(stderr, "%s: mask.mode=swap: %s\n", name,
                    *path ? err.message : "give --identity PHOTO");
            img_image_free(&overlay);
            free(skip);
            return 2;
        }
        assets.identity = &identity.view;
        assets.identity_name = path;
    }
    if (!strcmp(mode, "none") && !job->quiet)
        fprintf(stderr, "%s: WARNING: --mode none: no face is masked; every face is written as it is\n",
                name);
    FILE *audit = NULL, *stats = NULL;
    if (job->audit && !(audit = fopen(job->audit, "w"))) {
        fprintf(stderr, "%s: cannot write the audit log %s: %s\n", name, job->audit, strerror(errno));
        img_image_free(&overlay);
        img_image_free(&identity);
        free(skip);
        return 2;
    }
    if (job->stats_json && !(stats = fopen(job->stats_json, "w"))) {
        fprintf(stderr, "%s: cannot write %s: %s\n", name, job->stats_json, strerror(errno));
        if (audit)
            fclose(audit);
        img_image_free(&overlay);
        img_image_free(&identity);
        free(skip);
        return 2;
    }
    if (job->verbose)
        for (int i = 0; i < job->skipped_count; i++)
            fprintf(stderr, "%s: skipped %s (%s)\n", name, job->skipped[i], job->skipped_why[i]);
    atomic_int *stop = ptim_job_install_signals();
    job_poll poll = {.cli = cli, .generation = cli ? ptim_config_store_generation(cli->store) : 0};
    ptim_server *panel = NULL;
    int panel_status = cli ? panel_start(cli, cfg, live, name, &panel) : 0;
    if (panel_status) {
        if (audit)
            fclose(audit);
        if (stats)
            fclose(stats);
        img_image_free(&overlay);
        img_image_free(&identity);
        free(skip);
        return panel_status;
    }
    job_panel jpanel = {.srv = panel, .items = job->count};
    int done = 0, failed = 0, existing = 0, worst_failure = 0, unsafe_items = 0, not_started = 0;
    bool reader_gone = false;
    for (int i = 0; i < job->count; i++) {
        const ptim_job_item *it = &job->items[i];
        if (atomic_load(stop)) {
            not_started = job->count - i;
            break;
        }
        if (skip[i]) {
            existing++;
            if (!job->quiet)
                fprintf(stderr, "%s: skipped %s: %s exists (-n)\n", name, it->input, it->output);
            continue;
        }
        /* Each input starts from the newest settings: an edit made while an
         * earlier input ran (or between inputs) carries over. */
        ptim_config *cur;
        if (cli && cli->store) {
            ptim_config *fresh = poll_cli_config(&poll);
            if (fresh)
                ptim_config_release(fresh);
            cur = ptim_config_store_acquire(cli->store);
        } else {
            cur = ptim_config_retain((ptim_config *)cfg);
        }
        ptim_pipeline_desc d = {
            .input = it->input,
            .output = it->output,
            .cfg = cur,
            .live = live,
            .audio = !job->no_audio && ptim_config_bool(cur, "audio.enabled"),
            .unsafe_passthrough = job->unsafe_passthrough,
            .progress = !job->quiet && isatty(2) && strcmp(it->output, "-") != 0,
            .require_masking = true,
            .audit = audit,
            .assets = &assets,
            .poll_config = cli ? poll_cli_config : NULL,
            .poll_opaque = &poll,
            .stop = stop,
            .preview = ptim_server_preview(panel),
            .recorder = ptim_server_recorder(panel),
            .on_start = panel ? panel_run_started : NULL,
            .on_start_opaque = &jpanel,
        };
        jpanel.input = it->input;
        jpanel.output = it->output;
        jpanel.item = i + 1;
        ptim_pipeline_result *res = malloc(sizeof *res);
        int status;
        /* directories are created for outputs named by a directory (-o DIR/,
         * a directory input), never for an explicit file path */
        bool out_in_dir = !job->output || strcmp(it->output, job->output) != 0;
        if (!res || (out_in_dir && make_parent_dirs(it->output, &err) < 0)) {
            fprintf(stderr, "%s: %s\n", name, res ? err.message : "out of memory");
            free(res);
            ptim_config_release(cur);
            failed++;
            if (worst_failure < (res ? 2 : 1))
                worst_failure = res ? 2 : 1;
            continue;
        }
        status = ptim_pipeline_run(&d, res);
        if (panel)
            ptim_server_detach(panel);
        const ptim_pipeline_stats *s = &res->stats;
        bool cut_off = !status && res->interrupted && !live;
        if (status && res->reader_gone) {
            /* `ptim mask x -o - | head -c 1000`: the reader has what it wanted.
             * Quiet, like any program whose pipe is closed; the log says it. */
            ptim_log_info("job", "%s: %s", it->output, res->error.message);
            reader_gone = true;
            not_started = job->count - i - 1;
            free(res);
            ptim_config_release(cur);
            break;
        } else if (status) {
            fprintf(stderr, "%s: %s\n", name, res->error.message);
            if (strcmp(it->output, "-") && io_sink_kind_of(it->output) <= IO_SINK_IMAGES &&
                status == 1)
                fprintf(stderr, "%s: nothing was written to %s\n", name, it->output);
        } else if (cut_off) {
            /* always said, even with -q: the file is not what was asked for */
            if (output_is_file(it->output) || io_sink_kind_of(it->output) == IO_SINK_IMAGES)
                fprintf(stderr, "%s: stopped by %s: %s.partial keeps the %lld frames masked so far "
                                "(it plays, but is not the whole video); %s was not written\n",
                        name, signal_name(atomic_load(stop)), it->output, (long long)s->frames_out, it->output);
            else
                fprintf(stderr, "%s: stopped by %s after %lld frames; %s is not the whole video\n",
                        name, signal_name(atomic_load(stop)), (long long)s->frames_out, it->output);
        } else if (!job->quiet) {
            long long dropped = s->frames_dropped_guard + s->frames_dropped_live +
                                s->frames_dropped_rate + s->frames_dropped_alloc;
            if (s->frames_mode_none)
                fprintf(stderr,
                        "%s: %s -> %s: %lld frames, NO MASKING DONE (mask.mode=none): %lld frames "
                        "with faces written unmasked; %lld masked, %lld covered by the guard, %lld "
                        "dropped in %.2f s%s\n",
                        name, it->input, it->output, (long long)s->frames_out,
                        (long long)s->frames_faces_unmasked_none, (long long)s->frames_masked,
                        (long long)s->frames_covered, dropped, s->wall_s,
                        res->interrupted ? " (stopped; the output is complete up to there)" : "");
            else
                fprintf(stderr,
                        "%s: %s -> %s: %lld frames (%lld masked, %lld covered by the guard, %lld "
                        "dropped%s) in %.2f s%s\n",
                        name, it->input, it->output, (long long)s->frames_out,
                        (long long)s->frames_masked, (long long)s->frames_covered, dropped,
                        s->frames_passthrough ? ", SOME UNMASKED" : "", s->wall_s,
                        res->interrupted ? " (stopped; the output is complete up to there)" : "");
        }
        if (!status && s->frames_passthrough) {
            fprintf(stderr, "%s: %s: %lld frames were written UNMASKED (--unsafe-passthrough); faces "
                            "on them are visible\n",
                    name, it->output, (long long)s->frames_passthrough);
            unsafe_items++;
        }
        if (!status && !job->quiet && (res->source_packets_corrupt || res->source_frames_corrupt))
            fprintf(stderr, "%s: %s: %lld damaged packets skipped, %lld frames decoded with errors (all masked or covered)\n",
                    name, it->input, (long long)res->source_packets_corrupt,
                    (long long)res->source_frames_corrupt);
        if (job->verbose)
            fprintf(stderr, "%s: writer %s\n", name, res->sink_description);
        if (stats)
            ptim_pipeline_write_stats_json(stats, &d, res);
        if (status) {
            failed++;
            if (status > worst_failure)
                worst_failure = status;
        } else if (!cut_off) {
            done++;
        }
        free(res);
        ptim_config_release(cur);
    }
    int sig = atomic_load(stop);
    int worst;
    if (sig && !live)
        worst = 128 + sig; /* the shell's convention: 130 SIGINT, 143 SIGTERM */
    else if (reader_gone)
        worst = 128 + SIGPIPE; /* 141, what a shell reports for a writer its reader left */
    else if (failed && !done)
        worst = worst_failure;
    else if (failed || unsafe_items)
        worst = 1;
    else
        worst = 0;
    if (!job->quiet && (job->count > 1 || job->skipped_count || existing)) {
        fprintf(stderr, "%s: %d done, %d failed, ", name, done, failed);
        print_skipped_counts(stderr, job, existing);
        if (not_started)
            fprintf(stderr, ", %d not started (stopped)", not_started);
        fprintf(stderr, "\n");
    }
    if (audit && fclose(audit) != 0 && !worst) {
        fprintf(stderr, "%s: cannot write the audit log %s\n", name, job->audit);
        worst = 1;
    }
    if (stats && fclose(stats) != 0 && !worst) {
        fprintf(stderr, "%s: cannot write %s\n", name, job->stats_json);
        worst = 1;
    }
    ptim_server_stop(panel);
    img_image_free(&overlay);
    img_image_free(&identity);
    free(skip);
    return worst;
}

int ptim_job_command(int argc, char **argv, bool live, void (*usage)(FILE *))
{
    const char *name = live ? "ptim run" : "ptim mask";
    ptim_job_args args;
    ptim_cli cli;
    ptim_job job = {0};
    ptim_error err = {0};
    if (ptim_job_rewrite_aliases(argc, argv, &args, &err) < 0) {
        ptim_job_args_free(&args);
        fprintf(stderr, "%s: %s\n", name, err.message);
        return ptim_error_exit_status(&err);
    }
    if (ptim_cli_start(&cli, args.argc, args.argv, &err)) {
        ptim_job_args_free(&args);
        return ptim_cli_fail(&cli, &err);
    }
    if (cli.help) {
        usage(stdout);
        ptim_cli_close(&cli);
        ptim_job_args_free(&args);
        return 0;
    }
    ptim_config *cfg = ptim_config_store_acquire(cli.store);
    int rc = live ? ptim_job_parse_run(cli.argc, cli.argv, &job, &err)
                  : ptim_job_parse_mask(cli.argc, cli.argv, &job, &err);
    if (rc == 0)
        rc = live ? ptim_job_expand_run(&job, ptim_config_str(cfg, "source.input"),
                                        ptim_config_str(cfg, "output.target"), &err)
                  : ptim_job_expand(&job, &err);
    int status;
    if (rc < 0) {
        ptim_config_release(cfg);
        status = ptim_cli_fail(&cli, &err); /* closes the cli */
    } else {
        job.quiet = cli.quiet;
        job.verbose = cli.verbose;
        status = ptim_job_execute(&job, cfg, live, name, &cli);
        ptim_config_release(cfg);
        ptim_cli_close(&cli);
    }
    ptim_job_free(&job);
    ptim_job_args_free(&args);
    return status;
}
