/* pipeline/stats — histogram arithmetic and names. */
#include "pipeline/stats.h"

#include <math.h>

#define HIST_BASE 1.05
#define HIST_MIN_MS 0.001

void ptim_hist_add(ptim_hist *h, double ms)
{
    int b = 0;
    if (ms > HIST_MIN_MS)
        b = (int)(log(ms / HIST_MIN_MS) / log(HIST_BASE));
    if (b >= PTIM_HIST_BUCKETS)
        b = PTIM_HIST_BUCKETS - 1;
    h->buckets[b]++;
    h->count++;
    h->sum_ms += ms;
    if (ms > h->max_ms)
        h->max_ms = ms;
}

double ptim_hist_percentile(const ptim_hist *h, double p)
{
    if (!h->count)
        return 0;
    uint64_t want = (uint64_t)ceil(p / 100.0 * (double)h->count), seen = 0;
    if (want < 1)
        want = 1;
    for (int b = 0; b < PTIM_HIST_BUCKETS; b++) {
        seen += h->buckets[b];
        if (seen >= want) {
            double mid = HIST_MIN_MS * pow(HIST_BASE, b + 0.5);
            return mid > h->max_ms ? h->max_ms : mid;
        }
    }
    return h->max_ms;
}

const char *ptim_stage_name(ptim_stage s)
{
    static const char *names[] = {"source", "analyze", "render", "sink", "latency"};
    return (unsigned)s < PTIM_STAGE__COUNT ? names[s] : "unknown";
}

const char *ptim_startup_name(ptim_startup s)
{
    static const char *names[] = {"source_open", "sink_open", "tracker", "masker", "first_frame"};
    return (unsigned)s < PTIM_STARTUP__COUNT ? names[s] : "unknown";
}
