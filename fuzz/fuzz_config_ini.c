/* libFuzzer target: the INI/config parser and validation. Any input must
 * give 0 or -1 with a one-line message, never a crash, leak or hang. The
 * first byte also selects a path: check only, or a full load with the text
 * as the settings file plus part of it as an environment variable and --set. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ptim_error err;
    if (size == 0)
        return 0;
    int mode = data[0] % 3;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (mode == 0) {
        if (ptim_config_check_ini(text, len, "fuzz.ini", &err) && (!err.message[0] || strchr(err.message, '\n')))
            abort();
        return 0;
    }
    /* A NUL-terminated copy to use as a value for the environment and --set. */
    char *value = malloc(len + 1);
    memcpy(value, text, len);
    value[len] = 0;
    if (mode == 1) {
        static char path[64];
        if (!path[0])
            snprintf(path, sizeof path, "/tmp/fuzz_config_ini_%d.ini", (int)getpid());
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(text, 1, len, f);
            fclose(f);
        }
        ptim_config_sources src = {.file = path, .file_required = true};
        ptim_config *cfg;
        if (ptim_config_load(&src, &cfg, &err) == 0) {
            for (int i = 0; i < ptim_option_count; i++)
                if (!ptim_config_text(cfg, i) || !ptim_config_origin(cfg, i))
                    abort();
            ptim_config_release(cfg);
        }
    } else {
        /* first line: a key; the rest: its value, via environment and --set */
        char *nl = strchr(value, '\n');
        const char *key = value, *val = nl ? nl + 1 : "";
        if (nl)
            *nl = 0;
        size_t n = strlen(key) + strlen(val) + 2;
        char *kv = malloc(n), *env = malloc(n + 16);
        snprintf(kv, n, "%s=%s", key, val);
        const ptim_option *o = ptim_option_find(key);
        char name[160] = "PTIM_X";
        if (o)
            ptim_option_env_name(o, name, sizeof name);
        snprintf(env, n + 16, "%s=%s", name, val);
        char *envv[] = {env, NULL};
        const char *sets[] = {kv};
        ptim_config_sources src = {.environ = envv, .sets = sets, .set_count = 1};
        ptim_config *cfg;
        if (ptim_config_load(&src, &cfg, &err) == 0)
            ptim_config_release(cfg);
        else if (!err.message[0])
            abort();
        (void)ptim_option_suggest(key);
        free(kv);
        free(env);
    }
    free(value);
    return 0;
}
