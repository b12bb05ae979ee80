/* core/cpu — what the processor is and can do, for `ptim doctor` and error
 * reports. Reads /proc/cpuinfo once; thread-safe after the first call. */
#ifndef PTIM_CORE_CPU_H
#define PTIM_CORE_CPU_H

typedef struct ptim_cpu_info {
    char model[128];     /* "Intel(R) Xeon(R) …", or "unknown" */
    int cores;           /* online logical processors */
    char features[256];  /* the SIMD features ptim's kernels care about, space-separated */
} ptim_cpu_info;

const ptim_cpu_info *ptim_cpu(void);

#endif
