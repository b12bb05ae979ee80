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

/* Exit status for a failure: 0 when err is NULL or holds no error, 2 for bad
 * usage, configuration or input (PTIM_ERR_CONFIG), 1 for everything that
 * failed while processing. */
int ptim_error_exit_status(const ptim_error *err);

const char *ptim_err_category_name(ptim_err_category category);
const char *ptim_severity_name(ptim_severity severity);

#endif
