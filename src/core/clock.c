/* core/clock — see clock.h. */
#include "core/clock.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

uint64_t ptim_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t start_ns;
__attribute__((constructor)) static void note_start(void)
{
    start_ns = ptim_clock_ns();
}

int ptim_cond_init_monotonic(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    if (rc == 0) {
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        rc = pthread_cond_init(cond, &attr);
        pthread_condattr_destroy(&attr);
    }
    return rc;
}

struct timespec ptim_deadline_after_ms(int timeout_ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += timeout_ms / 1000;
    t.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

double ptim_clock_since_start_ms(void)
{
    return (double)(ptim_clock_ns() - start_ns) / 1e6;
}

/* ---- startup stages ---- */

static const char *const stage_names[PTIM_STARTUP__COUNT] = {
    "config", "logging", "models", "backend", "source", "sink", "first_frame"};
static _Atomic uint64_t stage_begin[PTIM_STARTUP__COUNT], stage_ns[PTIM_STARTUP__COUNT];
static atomic_bool stage_done[PTIM_STARTUP__COUNT];

const char *ptim_startup_stage_name(ptim_startup_stage s)
{
    return s >= 0 && s < PTIM_STARTUP__COUNT ? stage_names[s] : "?";
}

void ptim_startup_begin(ptim_startup_stage s)
{
    if (s >= 0 && s < PTIM_STARTUP__COUNT)
        atomic_store(&stage_begin[s], ptim_clock_ns());
}

void ptim_startup_end(ptim_startup_stage s)
{
    if (s < 0 || s >= PTIM_STARTUP__COUNT)
        return;
    uint64_t b = atomic_load(&stage_begin[s]);
    uint64_t d = b ? ptim_clock_ns() - b : 0;
    atomic_store(&stage_ns[s], d);
    atomic_store(&stage_done[s], true);
    ptim_log_debug("startup", "%s %.2f ms", stage_names[s], (double)d / 1e6);
}

double ptim_startup_ms(ptim_startup_stage s)
{
    if (s < 0 || s >= PTIM_STARTUP__COUNT || !atomic_load(&stage_done[s]))
        return -1;
    return (double)atomic_load(&stage_ns[s]) / 1e6;
}

void ptim_startup_print(FILE *f)
{
    char line[512];
    size_t n = (size_t)snprintf(line, sizeof line, "startup:");
    bool any = false;
    for (int s = 0; s < PTIM_STARTUP__COUNT; s++) {
        double ms = ptim_startup_ms(s);
        if (ms < 0)
            continue;
        n += (size_t)snprintf(line + n, sizeof line - n, "%s %s %.2f ms", any ? "," : "", stage_names[s], ms);
        any = true;
        if (n >= sizeof line)
            break;
    }
    fprintf(f, "%s%s(%.2f ms since start)\n", line, any ? " " : " ", ptim_clock_since_start_ms());
}

void ptim_startup_reset(void)
{
    for (int s = 0; s < PTIM_STARTUP__COUNT; s++) {
        atomic_store(&stage_begin[s], 0);
        atomic_store(&stage_ns[s], 0);
        atomic_store(&stage_done[s], false);
    }
}

/* ---- histograms ---- */

#define SUB_BITS 4
#define SUB (1 << SUB_BITS)
#define EXPONENTS 40 /* up to 2^44 us, ~200 days */
#define BUCKETS (SUB + EXPONENTS * SUB)

struct ptim_histogram {
    char name[64];
    _Atomic uint64_t buckets[BUCKETS];
    _Atomic uint64_t count, sum_us, min_us, max_us;
};

static int bucket_of(uint64_t v)
{
    if (v < SUB)
        return (int)v;
    int exp = 63 - __builtin_clzll(v); /* >= SUB_BITS */
    int sub = (int)((v >> (exp - SUB_BITS)) & (SUB - 1));
    int idx = SUB + (exp - SUB_BITS) * SUB + sub;
    return idx < BUCKETS ? idx : BUCKETS - 1;
}

/* Lowest value and width of a bucket. */
static void bucket_range(int idx, double *lo, double *width)
{
    if (idx < SUB) {
        *lo = idx;
        *width = 1;
        return;
    }
    int exp = (idx - SUB) / SUB + SUB_BITS, sub = (idx - SUB) % SUB;
    double base = ldexp(1.0, exp), step = ldexp(1.0, exp - SUB_BITS);
    *lo = base + sub * step;
    *width = step;
}

void ptim_histogram_record_us(ptim_histogram *h, uint64_t us)
{
    if (!h)
        return;
    atomic_fetch_add_explicit(&h->buckets[bucket_of(us)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
    uint64_t m = atomic_load_explicit(&h->max_us, memory_order_relaxed);
    while (us > m && !atomic_compare_exchange_weak_explicit(&h->max_us, &m, us, memory_order_relaxed,
                                                            memory_order_relaxed))
        ;
    m = atomic_load_explicit(&h->min_us, memory_order_relaxed);
    while (us < m && !atomic_compare_exchange_weak_explicit(&h->min_us, &m, us, memory_order_relaxed,
                                                            memory_order_relaxed))
        ;
}

void ptim_histogram_record_ms(ptim_histogram *h, double ms)
{
    ptim_histogram_record_us(h, ms <= 0 || !isfinite(ms) ? 0 : (uint64_t)llround(ms * 1000.0));
}

void ptim_histogram_record_since(ptim_histogram *h, uint64_t t0_ns)
{
    uint64_t now = ptim_clock_ns();
    ptim_histogram_record_us(h, now > t0_ns ? (now - t0_ns) / 1000 : 0);
}

double ptim_histogram_percentile(const ptim_histogram *h, double p)
{
    ptim_histogram *m = (ptim_histogram *)h; /* atomics are read only */
    uint64_t total = 0, counts[BUCKETS];
    for (int i = 0; i < BUCKETS; i++)
        total += counts[i] = atomic_load_explicit(&m->buckets[i], memory_order_relaxed);
    if (!total)
        return 0;
    if (p <= 0) /* the ends are known exactly */
        return (double)atomic_load(&m->min_us) / 1000.0;
    if (p >= 100)
        return (double)atomic_load(&m->max_us) / 1000.0;
    /* Rank of the p-th percentile (nearest-rank). */
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)total);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    double lo = 0, width = 1;
    for (int i = 0; i < BUCKETS; i++) {
        seen += counts[i];
        if (seen >= rank) {
            bucket_range(i, &lo, &width);
            break;
        }
    }
    double mid = width <= 1 ? lo : lo + width / 2;
    double mn = (double)atomic_load(&m->min_us), mx = (double)atomic_load(&m->max_us);
    if (mid < mn)
        mid = mn;
    if (mid > mx)
        mid = mx;
    return mid / 1000.0;
}

void ptim_histogram_summary(const ptim_histogram *h, ptim_latency *out)
{
    ptim_histogram *m = (ptim_histogram *)h;
    memset(out, 0, sizeof *out);
    out->count = atomic_load(&m->count);
    if (!out->count)
        return;
    out->min_ms = (double)atomic_load(&m->min_us) / 1000.0;
    out->max_ms = (double)atomic_load(&m->max_us) / 1000.0;
    out->mean_ms = (double)atomic_load(&m->sum_us) / 1000.0 / (double)out->count;
    out->p50_ms = ptim_histogram_percentile(h, 50);
    out->p95_ms = ptim_histogram_percentile(h, 95);
    out->p99_ms = ptim_histogram_percentile(h, 99);
}

uint64_t ptim_histogram_cumulative(const ptim_histogram *h, const double *le_us, int n, uint64_t *out,
                                   uint64_t *sum_us)
{
    ptim_histogram *m = (ptim_histogram *)h; /* atomics are read only */
    for (int j = 0; j < n; j++)
        out[j] = 0;
    uint64_t total = 0;
    /* One pass over one snapshot of the buckets, so the counts are
     * non-decreasing in le and the last equals the total even while other
     * threads record. A bucket counts towards a bound only when its largest
     * value is within it: never an over-count, and the bucket under a bound
     * is at most 1/16 of it wide. */
    for (int i = 0; i < BUCKETS; i++) {
        uint64_t c = atomic_load_explicit(&m->buckets[i], memory_order_relaxed);
        if (!c)
            continue;
        total += c;
        double lo, width;
        bucket_range(i, &lo, &width);
        double top = lo + width - 1; /* values are whole microseconds */
        for (int j = 0; j < n; j++)
            if (top <= le_us[j])
                out[j] += c;
    }
    if (sum_us)
        *sum_us = atomic_load_explicit(&m->sum_us, memory_order_relaxed);
    return total;
}

void ptim_histogram_reset(ptim_histogram *h)
{
    for (int i = 0; i < BUCKETS; i++)
        atomic_store(&h->buckets[i], 0);
    atomic_store(&h->count, 0);
    atomic_store(&h->sum_us, 0);
    atomic_store(&h->max_us, 0);
    atomic_store(&h->min_us, UINT64_MAX);
}

#define MAX_HISTOGRAMS 128
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static ptim_histogram *registry[MAX_HISTOGRAMS];
static atomic_int registry_count;

ptim_histogram *ptim_histogram_get(const char *name)
{
    pthread_mutex_lock(&registry_lock);
    int n = atomic_load(&registry_count);
    for (int i = 0; i < n; i++)
        if (!strncmp(registry[i]->name, name, sizeof registry[i]->name - 1)) {
            pthread_mutex_unlock(&registry_lock);
            return registry[i];
        }
    ptim_histogram *h = NULL;
    if (n < MAX_HISTOGRAMS && (h = calloc(1, sizeof *h))) {
        snprintf(h->name, sizeof h->name, "%s", name);
        atomic_store(&h->min_us, UINT64_MAX);
        registry[n] = h;
        atomic_store(&registry_count, n + 1);
    }
    pthread_mutex_unlock(&registry_lock);
    return h;
}

const char *ptim_histogram_name(const ptim_histogram *h)
{
    return h->name;
}

int ptim_histogram_count(void)
{
    return atomic_load(&registry_count);
}

ptim_histogram *ptim_histogram_at(int i)
{
    return i >= 0 && i < atomic_load(&registry_count) ? registry[i] : NULL;
}
