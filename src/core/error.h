/* core/error — error values with context, the policy table that maps them to
 * a recovery, and error statistics.
 *
 * Convention across ptim: a function that can fail returns 0 on success and -1
 * on failure, and fills the caller's `ptim_error *err` (which may be NULL) with
 * a category, a severity and one clear sentence. The sentence is what a user
 * sees; it names the thing that failed (file, key, device) and why. */
#ifndef PTIM_CORE_ERROR_H
#define PTIM_CORE_ERROR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ptim_err_category {
    PTIM_ERR_NONE = 0,
    PTIM_ERR_CONFIG,
    PTIM_ERR_IO,
    PTIM_ERR_DECODE,
    PTIM_ERR_ENCODE,
    PTIM_ERR_MODEL,
    PTIM_ERR_INFERENCE,
    PTIM_ERR_MEMORY,
    PTIM_ERR_NETWORK,
    PTIM_ERR_DEVICE,
    PTIM_ERR_INTERNAL,
    PTIM_ERR__COUNT
} ptim_err_category;

typedef enum ptim_severity {
    PTIM_SEV_LOW = 0,
    PTIM_SEV_MEDIUM,
    PTIM_SEV_HIGH,
    PTIM_SEV_CRITICAL,
    PTIM_SEV__COUNT
} ptim_severity;

#define PTIM_ERROR_MESSAGE_MAX 512

typedef struct ptim_error {
    ptim_err_category category;
    ptim_severity severity;
    char message[PTIM_ERROR_MESSAGE_MAX];
    int bad_input; /* set by ptim_error_mark_input: the user's input is at fault (exit 2) */
} ptim_error;

/* Fills *err (when not NULL) and returns -1, so callers can write
 * `return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot open %s", p);` */
int ptim_error_set(ptim_error *err, ptim_err_category category, ptim_severity severity,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int ptim_error_setv(ptim_error *err, ptim_err_category category, ptim_severity severity,
                    const char *fmt, va_list ap);
/* Prefixes the message already in *err with more context ("model x: " + old). */
int ptim_error_prefix(ptim_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ptim_error_clear(ptim_error *err);

/* Mark an error as caused by the user's input (a missing or unreadable input
 * file, a path that is not a video): it exits with 2 like bad usage. Returns
 * -1: `ptim_error_set(err, PTIM_ERR_IO, …); return ptim_error_mark_input(err);` */
int ptim_error_mark_input(ptim_error *err);

/* Exit status for a failure: 0 when err is NULL or holds no error, 2 for bad
 * usage, configuration or input (PTIM_ERR_CONFIG, or marked input), 1 for
 * everything that failed while processing. */
int ptim_error_exit_status(const ptim_error *err);

const char *ptim_err_category_name(ptim_err_category category);
const char *ptim_severity_name(ptim_severity severity);

/* ---- recovery policies ----------------------------------------------------
 * A policy table maps (category, severity) to what the stage that hit the
 * error should do. Stages report every error through ptim_error_handle() and
 * do what it answers:
 *
 *     ptim_recovery_state rs = {0};
 *     for (;;) {
 *         if (open_source(..., &err) == 0) { ptim_error_resolved(&rs, true); break; }
 *         int delay_ms;
 *         switch (ptim_error_handle("source", &err, &rs, &delay_ms)) {
 *         case PTIM_RECOVER_RETRY: sleep delay_ms; continue;
 *         case PTIM_RECOVER_RESTART: reopen, continue ...
 *         case PTIM_RECOVER_DEGRADE / FALLBACK / SKIP: ... then ptim_error_resolved(&rs, ok)
 *         case PTIM_RECOVER_ABORT: return -1;  // status: ptim_error_exit_status(&err)
 *         }
 *     }
 *
 * Retries back off exponentially (backoff_ms, 2x, 4x, …); when a retry
 * policy's attempts are used up the policy's `then` action follows. Every
 * reported error is counted, appended to <userdata-dir>/logs/errors.log as a
 * JSON line (when a sink is open) and kept in a short chain of recent errors;
 * a critical one also writes <userdata-dir>/reports/error_report_<UTC>.json.
 * All calls are thread-safe; none is meant for per-pixel paths. */
typedef enum ptim_recovery {
    PTIM_RECOVER_RETRY,    /* try the same thing again after delay_ms */
    PTIM_RECOVER_DEGRADE,  /* go on with cheaper settings (smaller detector, blur instead of swap) */
    PTIM_RECOVER_FALLBACK, /* use the alternative (reference backend, other decoder parameters) */
    PTIM_RECOVER_RESTART,  /* reopen the failing part (source, sink) */
    PTIM_RECOVER_SKIP,     /* drop this unit of work (a frame); the guard covers it */
    PTIM_RECOVER_ABORT,    /* give up: stop and exit non-zero */
    PTIM_RECOVER__COUNT
} ptim_recovery;

typedef struct ptim_policy {
    ptim_recovery action;
    int attempts;       /* RETRY: how many retries before `then` */
    int backoff_ms;     /* RETRY: first delay; doubles each attempt, capped at 10 s */
    ptim_recovery then; /* RETRY: action once attempts are used up */
} ptim_policy;

typedef struct ptim_recovery_state { /* one failing operation; zero-initialize */
    int attempts;         /* recovery actions taken so far */
    int retries;          /* of those, retries */
    int open;             /* a recovery is in progress */
} ptim_recovery_state;

const char *ptim_recovery_name(ptim_recovery r);
ptim_policy ptim_error_policy(ptim_err_category category, ptim_severity severity);
/* Replace one row of the table (tests; a stage with special needs). */
void ptim_error_policy_set(ptim_err_category category, ptim_severity severity, ptim_policy policy);
/* Restore the built-in table and zero the statistics and the chain. */
void ptim_error_reset(void);

/* Report `err` from `stage` ("decode", "detect", …) and get the recovery.
 * `st` may be NULL for a one-off error (then RETRY is answered as `then`).
 * *delay_ms (may be NULL) gets the wait before a retry, else 0. */
ptim_recovery ptim_error_handle(const char *stage, const ptim_error *err, ptim_recovery_state *st,
                                int *delay_ms);
/* The operation recovered (success) or the recovery gave up; ends the state. */
void ptim_error_resolved(ptim_recovery_state *st, int success);

typedef struct ptim_error_stats {
    uint64_t count[PTIM_ERR__COUNT][PTIM_SEV__COUNT]; /* errors reported */
    uint64_t total;
    uint64_t by_action[PTIM_RECOVER__COUNT];         /* answers given */
    uint64_t recovery_attempts;   /* actions other than abort */
    uint64_t recoveries;          /* operations that entered recovery */
    uint64_t recovery_successes;  /* of those, recovered */
    uint64_t recovery_failures;   /* of those, given up */
    double recovery_rate;         /* successes / (successes + failures); 1 when none ended */
    uint64_t reports_written;
} ptim_error_stats;
void ptim_error_get_stats(ptim_error_stats *out);

/* ---- where errors go ------------------------------------------------------- */
struct cJSON;
struct ptim_config_store;
/* Open <logs_dir>/errors.log (append) and remember reports_dir and the config
 * store (for the report's configuration). Any argument may be NULL. */
int ptim_error_sink_open(const char *logs_dir, const char *reports_dir, struct ptim_config_store *store,
                         ptim_error *err);
void ptim_error_sink_close(void);
/* Stage statistics for reports: fn adds members to the JSON object it gets.
 * One callback per name; NULL fn removes it. */
typedef void (*ptim_stage_stats_fn)(void *user, struct cJSON *object);
void ptim_error_register_stats(const char *name, ptim_stage_stats_fn fn, void *user);
/* Write a report now (ptim_error_handle does it for critical errors). On
 * success the file's path goes to path (may be NULL). */
int ptim_error_write_report(const ptim_error *cause, const char *stage, char *path, size_t path_size,
                            ptim_error *err);

#endif
