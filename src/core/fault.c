/* core/fault — fault injection. Placeholder until the verify/fault issue lands:
 * arms nothing and accepts only the empty spec. */
#include "core/fault.h"

static const char *const point_names[PTIM_FAULT__COUNT] = {
    "source_open", "source_stall", "source_gone", "packet_drop", "packet_corrupt", "decode",
    "detect",      "landmarks",    "analyze_timeout", "alloc",   "render",         "encode",
};

const char *ptim_fault_point_name(ptim_fault_point point)
{
    return (unsigned)point < PTIM_FAULT__COUNT ? point_names[point] : "unknown";
}

#ifdef PTIM_FAULT_INJECTION
bool ptim_fault_hit(ptim_fault_point point)
{
    (void)point;
    return false;
}
#endif

int ptim_fault_configure(const char *spec, uint64_t seed, ptim_error *err)
{
    (void)seed;
    if (spec && *spec)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "debug.faults: fault injection is not implemented yet");
    return 0;
}

uint64_t ptim_fault_fired(ptim_fault_point point)
{
    (void)point;
    return 0;
}
