/* core/log — see log.h. */
#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static atomic_int file_level = PTIM_LOG_INFO;
static atomic_int stderr_level = PTIM_LOG_WARN;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* guards `file` */
static FILE *file;
static atomic_bool have_file;

static const char *const names[] = {"error", "warn", "info", "debug"};

const char *ptim_log_level_name(ptim_log_level level)
{
    return level >= PTIM_LOG_ERROR && level <= PTIM_LOG_DEBUG ? names[level] : "?";
}

int ptim_log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (name && !strcasecmp(name, names[i]))
            return i;
    return -1;
}

int ptim_log_open(const char *path, ptim_error *err)
{
    FILE *f = fopen(path, "a");
    if (!f)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot open log file %s: %s", path,
                              strerror(errno));
    setvbuf(f, NULL, _IOLBF, 0);
    pthread_mutex_lock(&lock);
    if (file)
        fclose(file);
    file = f;
    atomic_store(&have_file, true);
    pthread_mutex_unlock(&lock);
    return 0;
}

void ptim_log_close(void)
{
    pthread_mutex_lock(&lock);
    if (file)
        fclose(file);
    file = NULL;
    atomic_store(&have_file, false);
    pthread_mutex_unlock(&lock);
}

void ptim_log_set_file_level(ptim_log_level level)
{
    atomic_store_explicit(&file_level, level, memory_order_relaxed);
}

void ptim_log_set_stderr_level(ptim_log_level level)
{
    atomic_store_explicit(&stderr_level, level, memory_order_relaxed);
}

bool ptim_log_enabled(ptim_log_level level)
{
    return (int)level <= atomic_load_explicit(&stderr_level, memory_order_relaxed) ||
           ((int)level <= atomic_load_explicit(&file_level, memory_order_relaxed) &&
            atomic_load_explicit(&have_file, memory_order_relaxed));
}

static void emit(ptim_log_level level, const char *module, bool to_err, const char *fmt, va_list ap)
{
    bool to_file = (int)level <= atomic_load_explicit(&file_level, memory_order_relaxed) &&
                   atomic_load_explicit(&have_file, memory_order_relaxed);
    if (!to_err && !to_file)
        return;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (!module)
        module = "ptim";
    for (char *p = msg; *p; p++) /* one message, one line */
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    if (to_err) {
        char line[1200];
        if (level == PTIM_LOG_ERROR)
            snprintf(line, sizeof line, "ptim: %s\n", msg);
        else if (level == PTIM_LOG_WARN)
            snprintf(line, sizeof line, "ptim: warning: %s\n", msg);
        else
            snprintf(line, sizeof line, "ptim [%s] %s\n", module, msg);
        fputs(line, stderr);
    }
    if (to_file) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        char stamp[40];
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
        pthread_mutex_lock(&lock);
        if (file)
            fprintf(file, "%s.%03dZ %-5s [%s] %s\n", stamp, (int)(ts.tv_nsec / 1000000) % 1000, names[level], module, msg);
        pthread_mutex_unlock(&lock);
    }
}

void ptim_log(ptim_log_level level, const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(level, module, (int)level <= atomic_load_explicit(&stderr_level, memory_order_relaxed), fmt, ap);
    va_end(ap);
}

void ptim_log_file_only(ptim_log_level level, const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(level, module, false, fmt, ap);
    va_end(ap);
}
