/* core/log — leveled messages to stderr and to <userdata-dir>/logs/ptim.log.
 *
 * Two thresholds: the log file gets everything at or above system.log_level
 * (default info); stderr gets warnings and errors, debug too with --verbose,
 * errors only with --quiet. A message below both thresholds costs one relaxed
 * atomic load. Each line is written with one call, so lines from threads do
 * not interleave. Not for per-pixel or per-tensor paths. */
#ifndef PTIM_CORE_LOG_H
#define PTIM_CORE_LOG_H

#include <stdbool.h>

#include "core/error.h"

typedef enum ptim_log_level {
    PTIM_LOG_ERROR,
    PTIM_LOG_WARN,
    PTIM_LOG_INFO,
    PTIM_LOG_DEBUG,
} ptim_log_level;

/* Append to `path` (created when missing). Replaces a file already open. */
int ptim_log_open(const char *path, ptim_error *err);
void ptim_log_close(void);
void ptim_log_set_file_level(ptim_log_level level);
void ptim_log_set_stderr_level(ptim_log_level level);
/* "error|warn|info|debug" → level; -1 when not one of them. */
int ptim_log_level_parse(const char *name);
const char *ptim_log_level_name(ptim_log_level level);
bool ptim_log_enabled(ptim_log_level level);

/* `module` is a short name ("config", "decode"). */
void ptim_log(ptim_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The same, to the log file only (for a sentence already shown on stderr). */
void ptim_log_file_only(ptim_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define ptim_log_error(...) ptim_log(PTIM_LOG_ERROR, __VA_ARGS__)
#define ptim_log_warn(...) ptim_log(PTIM_LOG_WARN, __VA_ARGS__)
#define ptim_log_info(...) ptim_log(PTIM_LOG_INFO, __VA_ARGS__)
#define ptim_log_debug(...) ptim_log(PTIM_LOG_DEBUG, __VA_ARGS__)

#endif
