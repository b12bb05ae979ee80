/* core/cpu — processor model and SIMD features from /proc/cpuinfo. */
#include "core/cpu.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static ptim_cpu_info info;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Features that change which kernels run (x86 and Arm names). */
static const char *const interesting[] = {
    "sse2", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw",
    "avx512vl", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "neon", "asimd", "asimdhp",
    "asimddp", "fphp", "sve", "sve2", "i8mm", "bf16",
};

static void has_word(const char *list, const char *word, char *out, size_t size)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += n) {
        bool start = p == list || p[-1] == ' ' || p[-1] == '\t';
        bool end = p[n] == ' ' || p[n] == '\n' || p[n] == 0;
        if (start && end) {
            size_t used = strlen(out);
            snprintf(out + used, size - used, "%s%s", used ? " " : "", word);
            return;
        }
    }
}

static void probe(void)
{
    snprintf(info.model, sizeof info.model, "unknown");
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    info.cores = n > 0 ? (int)n : 1;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[8192];
    bool have_model = false, have_flags = false;
    while (fgets(line, sizeof line, f) && !(have_model && have_flags)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        char *value = colon + 1;
        while (*value == ' ')
            value++;
        if (!have_model && (!strncmp(line, "model name", 10) || !strncmp(line, "Model", 5))) {
            value[strcspn(value, "\n")] = 0;
            snprintf(info.model, sizeof info.model, "%s", value);
            have_model = true;
        } else if (!have_flags && (!strncmp(line, "flags", 5) || !strncmp(line, "Features", 8))) {
            for (size_t i = 0; i < sizeof interesting / sizeof interesting[0]; i++)
                has_word(value, interesting[i], info.features, sizeof info.features);
            have_flags = true;
        }
    }
    fclose(f);
}

const ptim_cpu_info *ptim_cpu(void)
{
    pthread_once(&once, probe);
    return &info;
}
