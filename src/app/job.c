/* app/job — command lines of `ptim mask` and `ptim run` into input/output pairs. */
#include "app/job.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

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
        if (argv[i][0] == '-' && argv[i][1])
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                  "unknown option %s (see ptim mask --help)", argv[i]);
        if (push_input(job, argv[i], err) < 0)
            return -1;
    }
    if (!job->input_count)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "no input given (see ptim mask --help)");
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

static int expand_dir(ptim_job *job, const char *dir, const char *outdir, ptim_error *err)
{
    if (mkdir(outdir, 0777) != 0 && errno != EEXIST)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot create the directory %s: %s",
                              outdir, strerror(errno));
    if (!is_dir(outdir))
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "%s exists and is not a directory",
                              outdir);
    DIR *d = opendir(dir);
    if (!d)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot read the directory %s: %s",
                              dir, strerror(errno));
    char **names = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !is_media_name(e->d_name) || strstr(e->d_name, ".partial"))
            continue;
        if (push_str(&names, &n, e->d_name) < 0) {
            closedir(d);
            return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
        }
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        char in[4200], out[4200];
        if (path_fmt(in, sizeof in, err, "%s/%s", dir, names[i]) ||
            path_fmt(out, sizeof out, err, "%s/%s", outdir, names[i])) {
            rc = -1;
            break;
        }
        if (push_item(job, in, out) < 0)
            rc = ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (!rc && n == 0)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH,
                              "the directory %s holds no pictures or videos", dir);
    return rc;
}

static void strip_slashes(char *s)
{
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '/')
        s[--n] = 0;
}

int ptim_job_expand(ptim_job *job, ptim_error *err)
{
    bool out_is_dir = job->output && (is_dir(job->output) || job->output[strlen(job->output) - 1] == '/');
    if (job->input_count > 1 && job->output && !out_is_dir)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "with several inputs, -o must be a directory (%s is not)", job->output);
    for (int i = 0; i < job->input_count; i++) {
        char in[4200], out[4200];
        int rc = 0;
        if (path_fmt(in, sizeof in, err, "%s", job->inputs[i]))
            return -1;
        if (strcmp(in, "-"))
            strip_slashes(in);
        const char *base = strrchr(in, '/') ? strrchr(in, '/') + 1 : in;
        if (is_dir(in)) {
            if (job->output && (job->input_count > 1 || out_is_dir) && is_dir(job->output) &&
                job->input_count > 1)
                rc = path_fmt(out, sizeof out, err, "%s/%s_masked", job->output, base);
            else if (job->output)
                rc = path_fmt(out, sizeof out, err, "%s", job->output);
            else
                rc = path_fmt(out, sizeof out, err, "%s_masked", in);
            if (rc)
                return -1;
            strip_slashes(out);
            if (!strcmp(in, out))
                return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                      "the output directory %s is the input directory", out);
            if (expand_dir(job, in, out, err) < 0)
                return -1;
            continue;
        }
        if (!strcmp(in, "-"))
            rc = path_fmt(out, sizeof out, err, "%s", job->output ? job->output : "-");
        else if (job->output && out_is_dir) {
            char name[4200];
            ptim_job_default_output(base, name, sizeof name);
            if (snprintf(out, sizeof out, "%s/%s", job->output, job->input_count > 1 ? base : name) >= (int)sizeof out)
                return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s: name too long", job->output);
        } else if (job->output)
            rc = path_fmt(out, sizeof out, err, "%s", job->output);
        else if (ptim_job_default_output(in, out, sizeof out) < 0)
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s: name too long", in);
        if (rc)
            return -1;
        if (!strcmp(in, out) && strcmp(in, "-"))
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                  "the output %s would overwrite the input", out);
        if (push_item(job, in, out) < 0)
            return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    }
    return 0;
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
    memset(job, 0, sizeof *job);
}

/* ---- running a job ---- */

#include <signal.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "core/fault.h"
#include "io/image_file.h"
#include "pipeline/pipeline.h"
#include "server/server.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    if (stop_flag) { /* second request: stop now */
        signal(sig, SIG_DFL);
        raise(sig);
    }
    stop_flag = 1;
}

volatile sig_atomic_t *ptim_job_install_signals(void)
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

int ptim_job_execute(const ptim_job *job, const ptim_config *cfg, bool live, const char *name,
                     ptim_cli *cli)
{
    ptim_error err = {0};
    if (ptim_fault_configure(ptim_config_str(cfg, "debug.faults"),
                             (uint64_t)ptim_config_int(cfg, "debug.fault_seed"), &err) < 0) {
        fprintf(stderr, "%s: %s\n", name, err.message);
        return 2;
    }
    /* Pictures the masker needs are decoded here, once. */
    img_image overlay = {0}, identity = {0};
    face_masker_assets assets = {0};
    const char *mode = ptim_config_str(cfg, "mask.mode");
    if (!strcmp(mode, "image")) {
        const char *path = ptim_config_str(cfg, "mask.image");
        if (!*path || io_image_load(path, IMG_FMT_RGBA, &overlay, &err) < 0) {
            fprintf(stderr, "%s: mask.mode=image: %s\n", name,
                    *path ? err.message : "set mask.image to a picture");
            return 2;
        }
        assets.overlay = &overlay.view;
    }
    if (!strcmp(mode, "swap")) {
        const char *path = ptim_config_str(cfg, "swap.identity");
        if (!*path || io_image_load(path, IMG_FMT_RGB24, &identity, &err) < 0) {
            fprintf(stderr, "%s: mask.mode=swap: %s\n", name,
                    *path ? err.message : "give --identity PHOTO");
            img_image_free(&overlay);
            return 2;
        }
        assets.identity = &identity.view;
        assets.identity_name = path;
    }
    FILE *audit = NULL, *stats = NULL;
    if (job->audit && !(audit = fopen(job->audit, "w"))) {
        fprintf(stderr, "%s: cannot write the audit log %s: %s\n", name, job->audit, strerror(errno));
        img_image_free(&overlay);
        img_image_free(&identity);
        return 2;
    }
    if (job->stats_json && !(stats = fopen(job->stats_json, "w"))) {
        fprintf(stderr, "%s: cannot write %s: %s\n", name, job->stats_json, strerror(errno));
        if (audit)
            fclose(audit);
        img_image_free(&overlay);
        img_image_free(&identity);
        return 2;
    }
    /* FFmpeg's own chatter only when asked for; its errors always. */
    av_log_set_level(job->verbose ? AV_LOG_INFO : job->quiet ? AV_LOG_FATAL : AV_LOG_ERROR);
    volatile sig_atomic_t *stop = ptim_job_install_signals();
    job_poll poll = {.cli = cli, .generation = ptim_config_store_generation(cli->store)};
    ptim_server *panel = NULL;
    int worst = panel_start(cli, cfg, live, name, &panel);
    if (worst) {
        if (audit)
            fclose(audit);
        if (stats)
            fclose(stats);
        img_image_free(&overlay);
        img_image_free(&identity);
        return worst;
    }
    job_panel jpanel = {.srv = panel, .items = job->count};
    for (int i = 0; i < job->count && !*stop; i++) {
        const ptim_job_item *it = &job->items[i];
        ptim_pipeline_desc d = {
            .input = it->input,
            .output = it->output,
            .cfg = cfg,
            .live = live,
            .audio = !job->no_audio && ptim_config_bool(cfg, "audio.enabled"),
            .unsafe_passthrough = job->unsafe_passthrough,
            .progress = !job->quiet && isatty(2) && strcmp(it->output, "-") != 0,
            .audit = audit,
            .assets = &assets,
            .poll_config = poll_cli_config,
            .poll_opaque = &poll,
            .stop = stop,
            .preview = ptim_server_preview(panel),
            .on_start = panel ? panel_run_started : NULL,
            .on_start_opaque = &jpanel,
        };
        jpanel.input = it->input;
        jpanel.output = it->output;
        jpanel.item = i + 1;
        ptim_pipeline_result *res = malloc(sizeof *res);
        if (!res) {
            fprintf(stderr, "%s: out of memory\n", name);
            worst = 1;
            break;
        }
        int status = ptim_pipeline_run(&d, res);
        if (panel)
            ptim_server_detach(panel);
        const ptim_pipeline_stats *s = &res->stats;
        if (status) {
            fprintf(stderr, "%s: %s\n", name, res->error.message);
            if (strcmp(it->output, "-") && io_sink_kind_of(it->output) <= IO_SINK_IMAGES &&
                status == 1)
                fprintf(stderr, "%s: nothing was written to %s\n", name, it->output);
        } else if (!job->quiet) {
            fprintf(stderr,
                    "%s: %s -> %s: %lld frames (%lld masked, %lld covered by the guard, %lld "
                    "dropped) in %.2f s%s\n",
                    name, it->input, it->output, (long long)s->frames_out,
                    (long long)s->frames_masked, (long long)s->frames_covered,
                    (long long)(s->frames_dropped_guard + s->frames_dropped_live +
                                s->frames_dropped_rate + s->frames_dropped_alloc),
                    s->wall_s, res->interrupted ? " (interrupted; the output is complete up to there)" : "");
            if (res->source_packets_corrupt || res->source_frames_corrupt)
                fprintf(stderr, "%s: %s: %lld damaged packets skipped, %lld frames decoded with errors (all masked or covered)\n",
                        name, it->input, (long long)res->source_packets_corrupt,
                        (long long)res->source_frames_corrupt);
        }
        if (job->verbose)
            fprintf(stderr, "%s: writer %s\n", name, res->sink_description);
        if (stats)
            ptim_pipeline_write_stats_json(stats, &d, res);
        if (status > worst)
            worst = status;
        free(res);
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
    return worst;
}
