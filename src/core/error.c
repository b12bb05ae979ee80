/* core/error — error values, the recovery policy table, statistics, the
 * errors.log sink and critical-error reports. See error.h. */
#include "core/error.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/cpu.h"
#include "core/log.h"

#ifndef PTIM_VERSION
#define PTIM_VERSION "unknown"
#endif
#ifndef PTIM_BUILD_FLAGS
#define PTIM_BUILD_FLAGS "unknown"
#endif

/* ---- error values ---------------------------------------------------------- */

int ptim_error_setv(ptim_error *err, ptim_err_category category, ptim_severity severity,
                    const char *fmt, va_list ap)
{
    if (!err)
        return -1;
    err->category = category;
    err->severity = severity;
    err->bad_input = 0;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    return -1;
}

int ptim_error_set(ptim_error *err, ptim_err_category category, ptim_severity severity,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ptim_error_setv(err, category, severity, fmt, ap);
    va_end(ap);
    return -1;
}

int ptim_error_prefix(ptim_error *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char prefix[PTIM_ERROR_MESSAGE_MAX], old[PTIM_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    size_t n = strlen(prefix);
    if (n >= sizeof err->message)
        n = sizeof err->message - 1;
    memcpy(err->message, prefix, n);
    size_t m = strnlen(old, sizeof old - 1);
    if (m > sizeof err->message - 1 - n)
        m = sizeof err->message - 1 - n;
    memcpy(err->message + n, old, m);
    err->message[n + m] = 0;
    return -1;
}

void ptim_error_clear(ptim_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

int ptim_error_mark_input(ptim_error *err)
{
    if (err)
        err->bad_input = 1;
    return -1;
}

int ptim_error_exit_status(const ptim_error *err)
{
    if (!err || (err->category == PTIM_ERR_NONE && !err->message[0]))
        return 0;
    return err->category == PTIM_ERR_CONFIG || err->bad_input ? 2 : 1;
}

const char *ptim_err_category_name(ptim_err_category c)
{
    static const char *names[PTIM_ERR__COUNT] = {
        "none", "config", "io", "decode", "encode", "model",
        "inference", "memory", "network", "device", "internal"};
    return (c >= 0 && c < PTIM_ERR__COUNT) ? names[c] : "unknown";
}

const char *ptim_severity_name(ptim_severity s)
{
    static const char *names[PTIM_SEV__COUNT] = {"low", "medium", "high", "critical"};
    return (s >= 0 && s < PTIM_SEV__COUNT) ? names[s] : "unknown";
}

const char *ptim_recovery_name(ptim_recovery r)
{
    static const char *names[PTIM_RECOVER__COUNT] = {"retry", "degrade", "fallback", "restart", "skip", "abort"};
    return (r >= 0 && r < PTIM_RECOVER__COUNT) ? names[r] : "unknown";
}

/* ---- the policy table -------------------------------------------------------- */

#define R(n, ms, then) {PTIM_RECOVER_RETRY, n, ms, PTIM_RECOVER_##then}
#define A(action) {PTIM_RECOVER_##action, 0, 0, PTIM_RECOVER_ABORT}
/* Rows: category; columns: low, medium, high, critical. Critical always
 * aborts (and writes a report). Why each row is what it is:
 *  - config is the user's to fix: nothing to retry.
 *  - io and network glitches are often transient: retry with backoff first.
 *  - a bad packet or frame is skipped (the guard covers it); a decoder that
 *    keeps failing is restarted.
 *  - model/inference trouble falls back to the reference backend or skips
 *    the frame; memory pressure degrades to cheaper settings. */
static const ptim_policy builtin[PTIM_ERR__COUNT][PTIM_SEV__COUNT] = {
    [PTIM_ERR_NONE] = {A(SKIP), A(SKIP), A(ABORT), A(ABORT)},
    [PTIM_ERR_CONFIG] = {A(ABORT), A(ABORT), A(ABORT), A(ABORT)},
    [PTIM_ERR_IO] = {R(3, 50, SKIP), R(3, 100, RESTART), R(2, 200, ABORT), A(ABORT)},
    [PTIM_ERR_DECODE] = {A(SKIP), A(SKIP), A(RESTART), A(ABORT)},
    [PTIM_ERR_ENCODE] = {R(2, 10, SKIP), R(2, 50, RESTART), A(RESTART), A(ABORT)},
    [PTIM_ERR_MODEL] = {A(FALLBACK), A(FALLBACK), A(FALLBACK), A(ABORT)},
    [PTIM_ERR_INFERENCE] = {A(SKIP), R(1, 0, SKIP), A(FALLBACK), A(ABORT)},
    [PTIM_ERR_MEMORY] = {A(DEGRADE), R(2, 10, DEGRADE), R(1, 50, DEGRADE), A(ABORT)},
    [PTIM_ERR_NETWORK] = {R(5, 100, SKIP), R(5, 200, RESTART), A(RESTART), A(ABORT)},
    [PTIM_ERR_DEVICE] = {R(3, 200, SKIP), R(3, 500, RESTART), A(RESTART), A(ABORT)},
    [PTIM_ERR_INTERNAL] = {A(SKIP), A(SKIP), A(ABORT), A(ABORT)},
};
#undef R
#undef A

#define CHAIN 32

typedef struct chain_entry {
    char time[40];
    char stage[32];
    ptim_err_category category;
    ptim_severity severity;
    ptim_recovery action;
    char message[PTIM_ERROR_MESSAGE_MAX];
} chain_entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static ptim_policy table[PTIM_ERR__COUNT][PTIM_SEV__COUNT];
static bool table_ready;
static ptim_error_stats stats;
static chain_entry chain[CHAIN];
static int chain_next, chain_len;
static FILE *errors_log;
static char *reports_dir;
static struct ptim_config_store *config_store;

#define MAX_STATS_FNS 32
static struct {
    char name[32];
    ptim_stage_stats_fn fn;
    void *user;
} stats_fns[MAX_STATS_FNS];

static void ensure_table(void) /* under lock */
{
    if (!table_ready) {
        memcpy(table, builtin, sizeof table);
        table_ready = true;
    }
}

ptim_policy ptim_error_policy(ptim_err_category c, ptim_severity s)
{
    if (c < 0 || c >= PTIM_ERR__COUNT || s < 0 || s >= PTIM_SEV__COUNT)
        return (ptim_policy){PTIM_RECOVER_ABORT, 0, 0, PTIM_RECOVER_ABORT};
    pthread_mutex_lock(&lock);
    ensure_table();
    ptim_policy p = table[c][s];
    pthread_mutex_unlock(&lock);
    return p;
}

void ptim_error_policy_set(ptim_err_category c, ptim_severity s, ptim_policy p)
{
    if (c < 0 || c >= PTIM_ERR__COUNT || s < 0 || s >= PTIM_SEV__COUNT)
        return;
    pthread_mutex_lock(&lock);
    ensure_table();
    table[c][s] = p;
    pthread_mutex_unlock(&lock);
}

void ptim_error_reset(void)
{
    pthread_mutex_lock(&lock);
    memcpy(table, builtin, sizeof table);
    table_ready = true;
    memset(&stats, 0, sizeof stats);
    chain_next = chain_len = 0;
    pthread_mutex_unlock(&lock);
}

static void utc_now(char *buf, size_t size, bool compact)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char base[32];
    strftime(base, sizeof base, compact ? "%Y%m%dT%H%M%S" : "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%.24s.%03dZ", base, (int)(ts.tv_nsec / 1000000) % 1000);
}

static void stats_rate(ptim_error_stats *s)
{
    uint64_t ended = s->recovery_successes + s->recovery_failures;
    s->recovery_rate = ended ? (double)s->recovery_successes / (double)ended : 1.0;
}

void ptim_error_get_stats(ptim_error_stats *out)
{
    pthread_mutex_lock(&lock);
    *out = stats;
    pthread_mutex_unlock(&lock);
    stats_rate(out);
}

static void write_log_line(const char *time, const char *stage, const ptim_error *e, ptim_recovery action,
                           int attempt, int delay_ms) /* under lock */
{
    if (!errors_log)
        return;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddStringToObject(o, "time", time);
    cJSON_AddStringToObject(o, "stage", stage);
    cJSON_AddStringToObject(o, "category", ptim_err_category_name(e->category));
    cJSON_AddStringToObject(o, "severity", ptim_severity_name(e->severity));
    cJSON_AddStringToObject(o, "message", e->message);
    cJSON_AddStringToObject(o, "action", ptim_recovery_name(action));
    cJSON_AddNumberToObject(o, "attempt", attempt);
    cJSON_AddNumberToObject(o, "delay_ms", delay_ms);
    char *text = cJSON_PrintUnformatted(o);
    if (text) {
        fprintf(errors_log, "%s\n", text);
        fflush(errors_log);
        cJSON_free(text);
    }
    cJSON_Delete(o);
}

ptim_recovery ptim_error_handle(const char *stage, const ptim_error *err, ptim_recovery_state *st, int *delay_ms)
{
    ptim_error unknown = {PTIM_ERR_INTERNAL, PTIM_SEV_HIGH, "an error was reported without details", 0};
    if (!err || err->category <= PTIM_ERR_NONE || err->category >= PTIM_ERR__COUNT || err->severity < 0 ||
        err->severity >= PTIM_SEV__COUNT)
        err = &unknown;
    if (!stage || !*stage)
        stage = "ptim";
    if (delay_ms)
        *delay_ms = 0;
    char now[40];
    utc_now(now, sizeof now, false);

    pthread_mutex_lock(&lock);
    ensure_table();
    ptim_policy p = table[err->category][err->severity];
    ptim_recovery action = p.action;
    int delay = 0, attempt = st ? st->attempts + 1 : 1;
    if (action == PTIM_RECOVER_RETRY) {
        int done = st ? st->retries : p.attempts; /* one-off errors cannot be retried */
        if (done < p.attempts) {
            long d = (long)p.backoff_ms << (done < 20 ? done : 20);
            delay = d > 10000 ? 10000 : (int)d;
            if (st)
                st->retries++;
        } else {
            action = p.then;
        }
    }
    stats.count[err->category][err->severity]++;
    stats.total++;
    stats.by_action[action]++;
    if (action != PTIM_RECOVER_ABORT) {
        stats.recovery_attempts++;
        if (st && !st->open) {
            st->open = 1;
            stats.recoveries++;
        }
        if (st)
            st->attempts++;
    } else if (st && st->open) {
        st->open = 0; /* recovery gave up */
        stats.recovery_failures++;
    }
    chain_entry *c = &chain[chain_next];
    snprintf(c->time, sizeof c->time, "%s", now);
    snprintf(c->stage, sizeof c->stage, "%s", stage);
    c->category = err->category;
    c->severity = err->severity;
    c->action = action;
    snprintf(c->message, sizeof c->message, "%s", err->message);
    chain_next = (chain_next + 1) % CHAIN;
    if (chain_len < CHAIN)
        chain_len++;
    write_log_line(now, stage, err, action, attempt, delay);
    pthread_mutex_unlock(&lock);

    ptim_log(action == PTIM_RECOVER_ABORT ? PTIM_LOG_ERROR : PTIM_LOG_WARN, stage, "%s (%s %s error; %s)",
             err->message, ptim_severity_name(err->severity), ptim_err_category_name(err->category),
             ptim_recovery_name(action));
    if (err->severity == PTIM_SEV_CRITICAL) {
        ptim_error werr;
        char path[4096];
        if (ptim_error_write_report(err, stage, path, sizeof path, &werr) == 0)
            ptim_log_error("error", "error report written to %s", path);
        else if (werr.message[0])
            ptim_log_warn("error", "%s", werr.message);
    }
    if (delay_ms)
        *delay_ms = delay;
    return action;
}

void ptim_error_resolved(ptim_recovery_state *st, int success)
{
    if (!st)
        return;
    pthread_mutex_lock(&lock);
    if (st->open) {
        if (success)
            stats.recovery_successes++;
        else
            stats.recovery_failures++;
    }
    pthread_mutex_unlock(&lock);
    memset(st, 0, sizeof *st);
}

/* ---- sink and reports ----------------------------------------------------------- */

int ptim_error_sink_open(const char *logs_dir, const char *reports, struct ptim_config_store *store,
                         ptim_error *err)
{
    FILE *f = NULL;
    if (logs_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/errors.log", logs_dir);
        f = fopen(path, "a");
        if (!f)
            return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot open %s: %s", path, strerror(errno));
    }
    char *rd = reports ? strdup(reports) : NULL;
    pthread_mutex_lock(&lock);
    if (errors_log)
        fclose(errors_log);
    errors_log = f;
    free(reports_dir);
    reports_dir = rd;
    config_store = store;
    pthread_mutex_unlock(&lock);
    return 0;
}

void ptim_error_sink_close(void)
{
    ptim_error_sink_open(NULL, NULL, NULL, NULL);
}

void ptim_error_register_stats(const char *name, ptim_stage_stats_fn fn, void *user)
{
    pthread_mutex_lock(&lock);
    int slot = -1;
    for (int i = 0; i < MAX_STATS_FNS; i++) {
        if (stats_fns[i].fn && !strncmp(stats_fns[i].name, name, sizeof stats_fns[i].name - 1)) {
            slot = i;
            break;
        }
        if (!stats_fns[i].fn && slot < 0)
            slot = i;
    }
    if (slot >= 0) {
        snprintf(stats_fns[slot].name, sizeof stats_fns[slot].name, "%s", name);
        stats_fns[slot].fn = fn;
        stats_fns[slot].user = user;
    }
    pthread_mutex_unlock(&lock);
}

static cJSON *stats_json(const ptim_error_stats *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *by = cJSON_AddObjectToObject(o, "count");
    for (int c = 1; c < PTIM_ERR__COUNT; c++) {
        cJSON *row = NULL;
        for (int v = 0; v < PTIM_SEV__COUNT; v++)
            if (s->count[c][v]) {
                if (!row)
                    row = cJSON_AddObjectToObject(by, ptim_err_category_name(c));
                cJSON_AddNumberToObject(row, ptim_severity_name(v), (double)s->count[c][v]);
            }
    }
    cJSON_AddNumberToObject(o, "total", (double)s->total);
    cJSON *act = cJSON_AddObjectToObject(o, "actions");
    for (int a = 0; a < PTIM_RECOVER__COUNT; a++)
        cJSON_AddNumberToObject(act, ptim_recovery_name(a), (double)s->by_action[a]);
    cJSON_AddNumberToObject(o, "recovery_attempts", (double)s->recovery_attempts);
    cJSON_AddNumberToObject(o, "recoveries", (double)s->recoveries);
    cJSON_AddNumberToObject(o, "recovery_successes", (double)s->recovery_successes);
    cJSON_AddNumberToObject(o, "recovery_failures", (double)s->recovery_failures);
    cJSON_AddNumberToObject(o, "recovery_rate", s->recovery_rate);
    return o;
}

int ptim_error_write_report(const ptim_error *cause, const char *stage, char *path_out, size_t path_size,
                            ptim_error *err)
{
    pthread_mutex_lock(&lock);
    char *dir = reports_dir ? strdup(reports_dir) : NULL;
    struct ptim_config_store *store = config_store;
    ptim_error_stats s = stats;
    chain_entry copy[CHAIN];
    int n = chain_len, first = (chain_next - chain_len + CHAIN) % CHAIN;
    for (int i = 0; i < n; i++)
        copy[i] = chain[(first + i) % CHAIN];
    struct {
        char name[32];
        ptim_stage_stats_fn fn;
        void *user;
    } fns[MAX_STATS_FNS];
    memcpy(fns, stats_fns, sizeof fns);
    pthread_mutex_unlock(&lock);
    stats_rate(&s);
    if (!dir) {
        ptim_error_clear(err);
        return -1; /* no userdata dir: nowhere to write, not an error worth a message */
    }

    char now[40], stamp[40];
    utc_now(now, sizeof now, false);
    utc_now(stamp, sizeof stamp, true);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "time", now);
    cJSON_AddStringToObject(root, "version", PTIM_VERSION);
    cJSON_AddStringToObject(root, "build_flags", PTIM_BUILD_FLAGS);
    const ptim_cpu_info *cpu = ptim_cpu();
    cJSON *jc = cJSON_AddObjectToObject(root, "cpu");
    cJSON_AddStringToObject(jc, "model", cpu->model);
    cJSON_AddNumberToObject(jc, "cores", cpu->cores);
    cJSON_AddStringToObject(jc, "features", cpu->features);
    cJSON_AddNumberToObject(root, "uptime_ms", ptim_clock_since_start_ms());
    if (cause) {
        cJSON *jcause = cJSON_AddObjectToObject(root, "error");
        cJSON_AddStringToObject(jcause, "stage", stage ? stage : "ptim");
        cJSON_AddStringToObject(jcause, "category", ptim_err_category_name(cause->category));
        cJSON_AddStringToObject(jcause, "severity", ptim_severity_name(cause->severity));
        cJSON_AddStringToObject(jcause, "message", cause->message);
    }
    cJSON *jcfg = cJSON_AddObjectToObject(root, "configuration");
    if (store) {
        ptim_config *cfg = ptim_config_store_acquire(store);
        for (int i = 0; i < ptim_option_count; i++) {
            cJSON *kv = cJSON_AddObjectToObject(jcfg, ptim_options[i].key);
            cJSON_AddStringToObject(kv, "value", ptim_config_text(cfg, i));
            cJSON_AddStringToObject(kv, "origin", ptim_config_origin(cfg, i));
        }
        ptim_config_release(cfg);
    }
    cJSON *jstart = cJSON_AddObjectToObject(root, "startup_ms");
    for (int st = 0; st < PTIM_STARTUP__COUNT; st++)
        if (ptim_startup_ms(st) >= 0)
            cJSON_AddNumberToObject(jstart, ptim_startup_stage_name(st), ptim_startup_ms(st));
    cJSON *jstages = cJSON_AddObjectToObject(root, "stages");
    for (int i = 0; i < MAX_STATS_FNS; i++)
        if (fns[i].fn) {
            cJSON *o = cJSON_AddObjectToObject(jstages, fns[i].name);
            fns[i].fn(fns[i].user, o);
        }
    cJSON *jlat = cJSON_AddObjectToObject(root, "latency_ms");
    for (int i = 0; i < ptim_histogram_count(); i++) {
        ptim_latency l;
        ptim_histogram_summary(ptim_histogram_at(i), &l);
        cJSON *o = cJSON_AddObjectToObject(jlat, ptim_histogram_name(ptim_histogram_at(i)));
        cJSON_AddNumberToObject(o, "count", (double)l.count);
        cJSON_AddNumberToObject(o, "p50", l.p50_ms);
        cJSON_AddNumberToObject(o, "p95", l.p95_ms);
        cJSON_AddNumberToObject(o, "p99", l.p99_ms);
        cJSON_AddNumberToObject(o, "max", l.max_ms);
    }
    cJSON_AddItemToObject(root, "error_statistics", stats_json(&s));
    cJSON *jchain = cJSON_AddArrayToObject(root, "error_chain");
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "time", copy[i].time);
        cJSON_AddStringToObject(e, "stage", copy[i].stage);
        cJSON_AddStringToObject(e, "category", ptim_err_category_name(copy[i].category));
        cJSON_AddStringToObject(e, "severity", ptim_severity_name(copy[i].severity));
        cJSON_AddStringToObject(e, "action", ptim_recovery_name(copy[i].action));
        cJSON_AddStringToObject(e, "message", copy[i].message);
        cJSON_AddItemToArray(jchain, e);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);

    char path[4096];
    int fd = -1;
    for (int k = 0; k < 100 && fd < 0; k++) {
        if (k == 0)
            snprintf(path, sizeof path, "%s/error_report_%s.json", dir, stamp);
        else
            snprintf(path, sizeof path, "%s/error_report_%s_%d.json", dir, stamp, k);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    int rc = 0;
    if (fd < 0 || !text) {
        rc = ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot write an error report in %s: %s", dir,
                            strerror(errno));
    } else {
        size_t len = strlen(text), off = 0;
        while (off < len) {
            ssize_t w = write(fd, text + off, len - off);
            if (w <= 0) {
                rc = ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot write %s: %s", path, strerror(errno));
                break;
            }
            off += (size_t)w;
        }
        if (write(fd, "\n", 1) != 1 && !rc)
            rc = ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot write %s", path);
    }
    if (fd >= 0) {
        if (close(fd) != 0 && !rc)
            rc = ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot write %s: %s", path, strerror(errno));
        if (rc) /* never half a report under its name */
            unlink(path);
    }
    if (text)
        cJSON_free(text);
    free(dir);
    if (!rc) {
        pthread_mutex_lock(&lock);
        stats.reports_written++;
        pthread_mutex_unlock(&lock);
        if (path_out && path_size)
            snprintf(path_out, path_size, "%s", path);
    }
    return rc;
}
