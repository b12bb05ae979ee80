/* pipeline/stats — names. */
#include "pipeline/stats.h"

const char *ptim_stage_name(ptim_stage s)
{
    static const char *names[] = {"source", "analyze", "render", "sink", "latency"};
    return (unsigned)s < PTIM_STAGE__COUNT ? names[s] : "unknown";
}

const char *ptim_job_startup_name(ptim_job_startup s)
{
    static const char *names[] = {"source_open", "sink_open", "tracker", "masker", "first_frame"};
    return (unsigned)s < PTIM_JOB_STARTUP__COUNT ? names[s] : "unknown";
}

void ptim_pipeline_stats_asset_error(const ptim_pipeline_stats *st, char *buf, size_t n)
{
    size_t cap = sizeof st->asset_error, i = 0;
    for (; i + 1 < n && i < cap; i++) {
        char c = atomic_load_explicit((_Atomic char *)&st->asset_error[i], memory_order_relaxed);
        if (!c)
            break;
        buf[i] = c;
    }
    if (n)
        buf[i] = 0;
}
