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
