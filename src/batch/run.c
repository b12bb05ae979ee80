/* batch/run — see run.h. */
#include "batch/run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libavutil/log.h>

#include "batch/lock.h"
#include "face/masker.h"
#include "io/image_file.h"
#include "pipeline/pipeline.h"

int batch_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* mkdir -p of the directory part of `path`. */
static int make_parents(const char *path, ptim_error *err)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "path too long: %.200s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            *p = '/';
            return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot create the directory %.300s: %s",
                                  buf, strerror(e));
        }
        *p = '/';
    }
    return 0;
}

/* ---- the masker's pictures, loaded once (as `ptim mask` does) ---------- */

typedef struct assets {
    img_image overlay, identity;
    face_masker_assets view;
} assets;

static int assets_load(const ptim_config *cfg, assets *a, ptim_error *err)
{
    memset(a, 0, sizeof *a);
    const char *mode = ptim_config_str(cfg, "mask.mode");
    if (!strcmp(mode, "image")) {
        const char *path = ptim_config_str(cfg, "mask.image");
        if (!*path)
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "mask.mode=image: set mask.image to a picture");
        if (io_image_load(path, IMG_FMT_RGBA, &a->overlay, err) < 0)
            return -1;
        a->view.overlay = &a->overlay.view;
        a->view.overlay_name = path;
    }
    if (!strcmp(mode, "swap") && (*ptim_config_str(cfg, "swap.identity") || !*ptim_config_str(cfg, "swap.model"))) {
        const char *path = ptim_config_str(cfg, "swap.identity");
        if (!*path)
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "mask.mode=swap: give --identity PHOTO");
        if (io_image_load(path, IMG_FMT_RGB24, &a->identity, err) < 0) {
            img_image_free(&a->overlay);
            return -1;
        }
        a->view.identity = &a->identity.view;
        a->view.identity_name = path;
    }
    return 0;
}

static void assets_free(assets *a)
{
    img_image_free(&a->overlay);
    img_image_free(&a->identity);
}

/* ---- the child: one input ---------------------------------------------- */

/* What a child reports through its pipe: one write, under PIPE_BUF. */
typedef struct outcome {
    int status; /* 0 done, else failed */
    int64_t frames, frames_masked, frames_covered, frames_dropped, faces;
    int64_t covered_by_reason[BATCH_GUARD_REASONS];
    double wall_s;
    batch_verify_result verify;
    int64_t verify_checked, verify_leaked;
    char reason[512];
} outcome;
_Static_assert(sizeof(outcome) <= PIPE_BUF, "one atomic pipe write");

static void child_run(const batch_options *opt, const assets *as, const char *input,
                      const char *output, int fd)
{
    outcome o;
    memset(&o, 0, sizeof o);
    static atomic_int never;
    ptim_pipeline_desc d = {
        .input = input,
        .output = output,
        .cfg = opt->cfg,
        .live = false,
        .audio = !opt->no_audio && ptim_config_bool(opt->cfg, "audio.enabled"),
        .assets = &as->view,
        .stop = &never,
    };
    ptim_pipeline_result *res = calloc(1, sizeof *res);
    if (!res) {
        o.status = 1;
        snprintf(o.reason, sizeof o.reason, "out of memory");
    } else {
        o.status = ptim_pipeline_run(&d, res);
        const ptim_pipeline_stats *s = &res->stats;
        o.frames = s->frames_out;
        o.frames_masked = s->frames_masked;
        o.frames_covered = s->frames_covered;
        o.frames_dropped = s->frames_dropped_guard + s->frames_dropped_live + s->frames_dropped_rate +
                           s->frames_dropped_alloc;
        o.faces = s->faces;
        for (int r = 0; r < BATCH_GUARD_REASONS && r < PTIM_GUARD_REASON__COUNT; r++)
            o.covered_by_reason[r] = s->covered_by_reason[r];
        o.wall_s = s->wall_s;
        if (o.status)
            snprintf(o.reason, sizeof o.reason, "%s", res->error.message[0] ? res->error.message : "masking failed");
        free(res);
    }
    if (!o.status && opt->verify && opt->verify_fn) {
        ptim_error err = {0};
        if (opt->verify_fn(opt->verify_ctx, opt->cfg, input, output, &o.verify_checked,
                           &o.verify_leaked, &err) < 0) {
            o.status = 1;
            snprintf(o.reason, sizeof o.reason, "verify could not check the output: %.400s", err.message);
        } else {
            o.verify = o.verify_leaked ? BATCH_VERIFY_LEAKED : BATCH_VERIFY_CLEAN;
        }
    }
    ssize_t w;
    while ((w = write(fd, &o, sizeof o)) < 0 && errno == EINTR)
        ;
}

/* ---- the parent --------------------------------------------------------- */

typedef struct slot {
    pid_t pid;
    int fd;                  /* read end of the child's pipe */
    int item;                /* plan index */
    batch_lock lock;
    batch_fingerprint fp;
    char output[PATH_MAX];
    double started;
} slot;

typedef struct run_state {
    const batch_plan *plan;
    const batch_options *opt;
    batch_summary *sum;
    char digest[65];
    char host[64];
    assets as;
    int finished;
    double start, start_wall;
    int64_t bytes_total, bytes_done; /* of inputs that need work, for the ETA */
    slot *slots;                     /* jobs of them */
    int jobs;
} run_state;

static void add_failure(batch_summary *sum, const char *input, const char *reason)
{
    batch_failure *f = realloc(sum->failures, sizeof *f * (size_t)(sum->failure_count + 1));
    if (!f)
        return; /* the count of failed inputs still says it failed */
    sum->failures = f;
    f[sum->failure_count].input = strdup(input);
    f[sum->failure_count].reason = strdup(reason);
    sum->failure_count++;
}

static void report_item(run_state *st, const char *input, const char *output, batch_state state,
                        const char *why, const batch_record *rec)
{
    batch_summary *sum = st->sum;
    if (state == BATCH_FAILED) {
        add_failure(sum, input, why);
        sum->failed++;
    } else if (state == BATCH_SKIPPED) {
        sum->skipped++;
    } else {
        sum->done++;
    }
    if (rec && state == BATCH_DONE) {
        sum->frames += rec->frames;
        sum->faces += rec->faces;
        sum->frames_covered += rec->frames_covered;
        sum->work_s += rec->wall_s;
    }
    if (rec && rec->verify == BATCH_VERIFY_LEAKED)
        sum->frames_leaked += rec->verify_frames_leaked;
    st->finished++;
    if (st->opt->on_item) {
        batch_item_report r = {input, output, state, why, rec, st->finished, sum->total};
        st->opt->on_item(st->opt->ctx, &r);
    }
}

static void fill_record_common(run_state *st, batch_record *rec, const char *input,
                               const batch_fingerprint *fp)
{
    memset(rec, 0, sizeof *rec);
    snprintf(rec->input, sizeof rec->input, "%s", input);
    rec->fp = *fp;
    snprintf(rec->version, sizeof rec->version, "%s", PTIM_VERSION);
    snprintf(rec->digest, sizeof rec->digest, "%s", st->digest);
    snprintf(rec->host, sizeof rec->host, "%s", st->host);
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(rec->finished_at, sizeof rec->finished_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void sidecar_path(const char *output, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s", output, BATCH_SIDECAR_SUFFIX);
}

/* Record a failure that happened before or instead of a child. */
static void fail_item(run_state *st, const char *input, const char *output, const batch_fingerprint *fp,
                      const char *reason)
{
    batch_record rec;
    batch_fingerprint none = {.size = -1};
    fill_record_common(st, &rec, input, fp ? fp : &none);
    rec.done = false;
    snprintf(rec.reason, sizeof rec.reason, "%s", reason);
    char side[PATH_MAX + 16];
    sidecar_path(output, side, sizeof side);
    ptim_error err = {0};
    if (batch_sidecar_write(side, &rec, st->opt->cfg, &err) < 0) {
        char both[1100];
        snprintf(both, sizeof both, "%.500s (and the record: %.500s)", reason, err.message);
        report_item(st, input, output, BATCH_FAILED, both, &rec);
        return;
    }
    report_item(st, input, output, BATCH_FAILED, reason, &rec);
}

/* Returns 1 when a child was started in *s, 0 when the input was settled
 * here (skipped or failed), 2 when its lock is busy (retry later). */
static int start_item(run_state *st, int idx, bool waited, slot *s)
{
    const batch_options *opt = st->opt;
    const batch_input *in = &st->plan->items[idx];
    ptim_error err = {0};
    memset(s, 0, sizeof *s);
    s->lock.fd = -1;
    s->item = idx;
    if (snprintf(s->output, sizeof s->output, "%s/%s", opt->out_dir, in->key) >= (int)sizeof s->output) {
        report_item(st, in->path, in->key, BATCH_FAILED, "the output path is too long", NULL);
        return 0;
    }
    if (make_parents(s->output, &err) < 0) {
        report_item(st, in->path, s->output, BATCH_FAILED, err.message, NULL);
        return 0;
    }
    int r = batch_lock_take(s->output, false, &s->lock, &err);
    if (r == 0)
        return 2;
    if (r < 0) {
        report_item(st, in->path, s->output, BATCH_FAILED, err.message, NULL);
        return 0;
    }
    char side[PATH_MAX + 16], partial[PATH_MAX + 16];
    sidecar_path(s->output, side, sizeof side);
    snprintf(partial, sizeof partial, "%s.partial", s->output);
    struct stat ist, ost;
    if (!in->url && stat(in->path, &ist) == 0 && stat(s->output, &ost) == 0 &&
        ist.st_dev == ost.st_dev && ist.st_ino == ost.st_ino) {
        /* --out-dir . with relative inputs, or a link: never write over an original */
        report_item(st, in->path, s->output, BATCH_FAILED,
                    "the output would overwrite the input (choose another --out-dir)", NULL);
        batch_lock_release(&s->lock);
        return 0;
    }
    if (batch_fingerprint_input(in->path, in->url, &s->fp, &err) < 0) {
        fail_item(st, in->path, s->output, NULL, err.message);
        batch_lock_release(&s->lock);
        return 0;
    }
    struct stat sst;
    /* Another batch held the lock: what it recorded during this run counts. */
    bool fresh = waited && stat(side, &sst) == 0 && (double)sst.st_mtime + 1 >= st->start_wall;
    if (opt->resume || fresh) {
        batch_record rec;
        char why[128];
        if (batch_sidecar_read(side, &rec, &err) == 0 &&
            batch_sidecar_matches(&rec, &s->fp, st->digest, s->output, opt->verify, why, sizeof why)) {
            unlink(partial); /* a leftover of an earlier, killed attempt */
            report_item(st, in->path, s->output, BATCH_SKIPPED,
                        fresh && !opt->resume ? "done by another batch" : "up to date", NULL);
            batch_lock_release(&s->lock);
            return 0;
        }
    }
    /* The old record no longer describes what is about to be written. */
    unlink(side);
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        fail_item(st, in->path, s->output, &s->fp, "cannot create a pipe for the worker");
        batch_lock_release(&s->lock);
        return 0;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        fail_item(st, in->path, s->output, &s->fp, "cannot start a worker process (fork failed)");
        batch_lock_release(&s->lock);
        return 0;
    }
    if (pid == 0) {
        /* The child: die with the batch, take signals plainly, mask, report. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            _exit(1);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        close(p[0]);
        /* The other inputs' locks and pipes are the parent's: a copy held
         * here would keep a released lock held until this worker ends. */
        for (int k = 0; k < st->jobs; k++)
            if (&st->slots[k] != s && st->slots[k].pid > 0) {
                close(st->slots[k].fd);
                if (st->slots[k].lock.fd >= 0)
                    close(st->slots[k].lock.fd);
            }
        child_run(opt, &st->as, in->path, s->output, p[1]);
        _exit(0);
    }
    close(p[1]);
    s->pid = pid;
    s->fd = p[0];
    s->started = now_s();
    return 1;
}

static void finish_item(run_state *st, slot *s)
{
    const batch_input *in = &st->plan->items[s->item];
    outcome o;
    ssize_t n, got = 0;
    while (got < (ssize_t)sizeof o && ((n = read(s->fd, (char *)&o + got, sizeof o - (size_t)got)) > 0 ||
                                       (n < 0 && errno == EINTR)))
        if (n > 0)
            got += n;
    close(s->fd);
    int wstatus = 0;
    while (waitpid(s->pid, &wstatus, 0) < 0 && errno == EINTR)
        ;
    if (got != (ssize_t)sizeof o) {
        char why[160];
        if (WIFSIGNALED(wstatus))
            snprintf(why, sizeof why, "the worker masking it died (signal %d: %s)", WTERMSIG(wstatus),
                     strsignal(WTERMSIG(wstatus)));
        else
            snprintf(why, sizeof why, "the worker masking it ended without a result (exit status %d)",
                     WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
        char partial[PATH_MAX + 16];
        snprintf(partial, sizeof partial, "%s.partial", s->output);
        unlink(partial);
        fail_item(st, in->path, s->output, &s->fp, why);
        batch_lock_release(&s->lock);
        return;
    }
    if (s->fp.size > 0)
        st->bytes_done += s->fp.size;
    batch_record rec;
    fill_record_common(st, &rec, in->path, &s->fp);
    rec.frames = o.frames;
    rec.frames_masked = o.frames_masked;
    rec.frames_covered = o.frames_covered;
    rec.frames_dropped = o.frames_dropped;
    rec.faces = o.faces;
    memcpy(rec.covered_by_reason, o.covered_by_reason, sizeof rec.covered_by_reason);
    rec.wall_s = o.wall_s;
    rec.verify = o.verify;
    rec.verify_frames_checked = o.verify_checked;
    rec.verify_frames_leaked = o.verify_leaked;
    char reason[600];
    snprintf(reason, sizeof reason, "%s", o.reason);
    if (!o.status && o.verify == BATCH_VERIFY_LEAKED) {
        char leaked[PATH_MAX + 16];
        snprintf(leaked, sizeof leaked, "%s.leaked", s->output);
        rename(s->output, leaked);
        snprintf(reason, sizeof reason,
                 "verify found recognizable faces on %lld of %lld frames checked; the output was "
                 "moved to NAME.leaked",
                 (long long)o.verify_leaked, (long long)o.verify_checked);
        o.status = 1;
    }
    struct stat ost = {0};
    if (!o.status && stat(s->output, &ost) != 0) {
        snprintf(reason, sizeof reason, "the output %.400s is missing after masking", s->output);
        o.status = 1;
    }
    rec.done = o.status == 0;
    rec.output_size = rec.done ? (int64_t)ost.st_size : 0;
    snprintf(rec.reason, sizeof rec.reason, "%.500s", rec.done ? "" : reason);
    char side[PATH_MAX + 16];
    sidecar_path(s->output, side, sizeof side);
    ptim_error err = {0};
    if (batch_sidecar_write(side, &rec, st->opt->cfg, &err) < 0)
        report_item(st, in->path, s->output, BATCH_FAILED, err.message, &rec);
    else
        report_item(st, in->path, s->output, rec.done ? BATCH_DONE : BATCH_FAILED, rec.reason, &rec);
    st->sum->bytes_in += s->fp.size > 0 ? s->fp.size : 0;
    batch_lock_release(&s->lock);
}

static void progress(run_state *st, int running, const slot *slots, int jobs)
{
    if (!st->opt->on_progress)
        return;
    batch_progress p = {st->sum->total, st->sum->done, st->sum->skipped, st->sum->failed, running,
                        st->sum->frames, st->sum->faces, now_s() - st->start, -1};
    /* ETA by input bytes: what is left over the rate so far (counting the
     * running inputs as half done). */
    double done = (double)st->bytes_done;
    for (int i = 0; i < jobs; i++)
        if (slots[i].pid > 0 && slots[i].fp.size > 0)
            done += slots[i].fp.size / 2.0;
    if (done > 0 && st->bytes_total > 0 && p.elapsed_s > 1)
        p.eta_s = p.elapsed_s * ((double)st->bytes_total - done) / done;
    if (p.eta_s < 0 && p.eta_s != -1)
        p.eta_s = 0;
    st->opt->on_progress(st->opt->ctx, &p);
}

int batch_run(const batch_plan *plan, const batch_options *opt, batch_summary *sum, ptim_error *err)
{
    memset(sum, 0, sizeof *sum);
    sum->total = plan->count;
    run_state st = {.plan = plan, .opt = opt, .sum = sum, .start = now_s(), .start_wall = (double)time(NULL)};
    if (gethostname(st.host, sizeof st.host - 1) != 0)
        snprintf(st.host, sizeof st.host, "unknown");
    if (mkdir(opt->out_dir, 0777) != 0 && errno != EEXIST)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot create the output directory %.300s: %s",
                              opt->out_dir, strerror(errno)),
               2;
    struct stat dst;
    if (stat(opt->out_dir, &dst) != 0 || !S_ISDIR(dst.st_mode))
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "%.300s is not a directory", opt->out_dir), 2;
    if (batch_settings_digest(opt->cfg, st.digest, err) < 0)
        return 2;
    if (assets_load(opt->cfg, &st.as, err) < 0)
        return 2;
    for (int i = 0; i < plan->count; i++) {
        struct stat ist;
        if (!plan->items[i].url && stat(plan->items[i].path, &ist) == 0)
            st.bytes_total += (int64_t)ist.st_size;
    }
    av_log_set_level(opt->verbose ? AV_LOG_INFO : AV_LOG_FATAL);
    int jobs = opt->jobs < 1 ? 1 : opt->jobs;
    slot *slots = calloc((size_t)jobs, sizeof *slots);
    int *waiting = malloc(sizeof *waiting * (size_t)(plan->count + 1));
    if (!slots || !waiting) {
        free(slots);
        free(waiting);
        assets_free(&st.as);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory"), 2;
    }
    st.slots = slots;
    st.jobs = jobs;
    int next = 0, nwaiting = 0, running = 0;
    double last_progress = 0;
    while (!*opt->stop) {
        /* Fill free slots: new inputs first, then those whose lock was busy. */
        for (int k = 0; k < jobs && !*opt->stop; k++) {
            if (slots[k].pid > 0)
                continue;
            int r = 0;
            while (r != 1 && next < plan->count && !*opt->stop) {
                int idx = next++;
                r = start_item(&st, idx, false, &slots[k]);
                if (r == 2)
                    waiting[nwaiting++] = idx;
            }
            for (int w = 0; r != 1 && w < nwaiting && !*opt->stop; w++) {
                r = start_item(&st, waiting[w], true, &slots[k]);
                if (r != 2) {
                    waiting[w--] = waiting[--nwaiting];
                }
            }
            if (r == 1)
                running++;
            else
                slots[k].pid = 0;
        }
        if (!running && next >= plan->count && !nwaiting)
            break;
        if (now_s() - last_progress >= 1) { /* first right after the first start */
            progress(&st, running, slots, jobs);
            last_progress = now_s();
        }
        struct pollfd pfd[jobs > 0 ? jobs : 1];
        int map[jobs > 0 ? jobs : 1], n = 0;
        for (int k = 0; k < jobs; k++)
            if (slots[k].pid > 0) {
                pfd[n].fd = slots[k].fd;
                pfd[n].events = POLLIN;
                pfd[n].revents = 0;
                map[n++] = k;
            }
        /* Busy locks are retried every quarter second. */
        int pr = poll(pfd, (nfds_t)n, nwaiting && !running ? 250 : 1000);
        if (pr > 0)
            for (int i = 0; i < n; i++)
                if (pfd[i].revents) {
                    finish_item(&st, &slots[map[i]]);
                    slots[map[i]].pid = 0;
                    running--;
                }
    }
    int status = sum->failed ? 1 : 0;
    if (*opt->stop) {
        /* Stopped: end the children (their NAME.partial stays for the next
         * run to replace), record nothing for them. */
        for (int k = 0; k < jobs; k++)
            if (slots[k].pid > 0)
                kill(slots[k].pid, SIGTERM);
        for (int k = 0; k < jobs; k++)
            if (slots[k].pid > 0) {
                while (waitpid(slots[k].pid, NULL, 0) < 0 && errno == EINTR)
                    ;
                close(slots[k].fd);
                batch_lock_release(&slots[k].lock);
            }
        sum->interrupted = true;
        status = *opt->stop == SIGTERM ? 143 : 130;
    }
    progress(&st, 0, slots, 0);
    sum->wall_s = now_s() - st.start;
    free(slots);
    free(waiting);
    assets_free(&st.as);
    return status;
}

/* ---- merged report ------------------------------------------------------ */

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static int scan(const char *dir, batch_summary *sum, int depth, ptim_error *err)
{
    if (depth > 64)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot read the directory %.300s: %s",
                              dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            scan(path, sum, depth + 1, err);
            continue;
        }
        if (!S_ISREG(st.st_mode) || !ends_with(e->d_name, BATCH_SIDECAR_SUFFIX))
            continue;
        batch_record rec;
        ptim_error rerr = {0};
        sum->total++;
        if (batch_sidecar_read(path, &rec, &rerr) < 0) {
            add_failure(sum, path, rerr.message);
            sum->failed++;
            continue;
        }
        if (!rec.done) {
            add_failure(sum, rec.input, rec.reason);
            sum->failed++;
        } else {
            sum->done++;
            sum->frames += rec.frames;
            sum->faces += rec.faces;
            sum->frames_covered += rec.frames_covered;
            sum->work_s += rec.wall_s;
            sum->bytes_in += rec.fp.size > 0 ? rec.fp.size : 0;
        }
        if (rec.verify == BATCH_VERIFY_LEAKED)
            sum->frames_leaked += rec.verify_frames_leaked;
    }
    closedir(d);
    return 0;
}

int batch_report(const char *dir, batch_summary *sum, ptim_error *err)
{
    memset(sum, 0, sizeof *sum);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%.300s is not a directory", dir), 2;
    if (scan(dir, sum, 0, err) < 0)
        return 2;
    if (!sum->total)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%.300s holds no %s records", dir,
                              BATCH_SIDECAR_SUFFIX),
               2;
    return sum->failed ? 1 : 0;
}

char *batch_summary_json(const batch_summary *sum)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    cJSON_AddNumberToObject(j, "inputs", sum->total);
    cJSON_AddNumberToObject(j, "done", sum->done);
    cJSON_AddNumberToObject(j, "skipped", sum->skipped);
    cJSON_AddNumberToObject(j, "failed", sum->failed);
    cJSON_AddBoolToObject(j, "interrupted", sum->interrupted);
    cJSON_AddNumberToObject(j, "frames", (double)sum->frames);
    cJSON_AddNumberToObject(j, "faces", (double)sum->faces);
    cJSON_AddNumberToObject(j, "frames_covered", (double)sum->frames_covered);
    cJSON_AddNumberToObject(j, "frames_leaked", (double)sum->frames_leaked);
    cJSON_AddNumberToObject(j, "input_bytes", (double)sum->bytes_in);
    cJSON_AddNumberToObject(j, "wall_s", sum->wall_s);
    cJSON_AddNumberToObject(j, "work_s", sum->work_s);
    cJSON_AddNumberToObject(j, "fps", sum->wall_s > 0 ? (double)sum->frames / sum->wall_s : 0);
    cJSON_AddNumberToObject(j, "input_mb_per_s", sum->wall_s > 0 ? (double)sum->bytes_in / 1e6 / sum->wall_s : 0);
    cJSON *f = cJSON_AddArrayToObject(j, "failures");
    for (int i = 0; f && i < sum->failure_count; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "input", sum->failures[i].input ? sum->failures[i].input : "");
        cJSON_AddStringToObject(o, "reason", sum->failures[i].reason ? sum->failures[i].reason : "");
        cJSON_AddItemToArray(f, o);
    }
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return text;
}

void batch_summary_free(batch_summary *sum)
{
    for (int i = 0; i < sum->failure_count; i++) {
        free(sum->failures[i].input);
        free(sum->failures[i].reason);
    }
    free(sum->failures);
    memset(sum, 0, sizeof *sum);
}
