/* core/error — error values. (Policies and statistics: see error.h.) */
#include "core/error.h"

#include <stdio.h>
#include <string.h>

int ptim_error_setv(ptim_error *err, ptim_err_category category, ptim_severity severity,
                    const char *fmt, va_list ap)
{
    if (!err)
        return -1;
    err->category = category;
    err->severity = severity;
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

int ptim_error_exit_status(const ptim_error *err)
{
    if (!err || err->category == PTIM_ERR_NONE)
        return err && err->message[0] ? 1 : 0;
    return err->category == PTIM_ERR_CONFIG ? 2 : 1;
}
