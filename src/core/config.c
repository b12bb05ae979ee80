/* core/config — snapshots of the option table's values.
 * (Seed implementation: defaults + overrides; sources, validation messages,
 * the store and hot reload are built on top of this by the config module.) */
#include "core/config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ptim_config {
    atomic_int refs;
    char *values[]; /* one string per row of ptim_options, owned */
};

const ptim_option *ptim_option_find(const char *key)
{
    for (int i = 0; i < ptim_option_count; i++)
        if (!strcmp(ptim_options[i].key, key))
            return &ptim_options[i];
    return NULL;
}

static int option_index(const char *key, ptim_opt_type a, ptim_opt_type b, ptim_opt_type c)
{
    const ptim_option *o = ptim_option_find(key);
    if (!o || (o->type != a && o->type != b && o->type != c)) {
        fprintf(stderr, "ptim: internal error: no option %s of the requested type\n", key);
        abort();
    }
    return (int)(o - ptim_options);
}

int ptim_config_new(const char *const *overrides, int count, ptim_config **out, ptim_error *err)
{
    ptim_config *c = calloc(1, sizeof *c + sizeof(char *) * ptim_option_count);
    if (!c)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    atomic_init(&c->refs, 1);
    for (int i = 0; i < ptim_option_count; i++)
        c->values[i] = strdup(ptim_options[i].def);
    for (int k = 0; k < count; k++) {
        const char *eq = strchr(overrides[k], '=');
        char key[128];
        if (!eq || (size_t)(eq - overrides[k]) >= sizeof key) {
            ptim_config_release(c);
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                  "'%s' is not key=value", overrides[k]);
        }
        memcpy(key, overrides[k], eq - overrides[k]);
        key[eq - overrides[k]] = 0;
        const ptim_option *o = ptim_option_find(key);
        if (!o) {
            ptim_config_release(c);
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "unknown key %s", key);
        }
        int i = (int)(o - ptim_options);
        free(c->values[i]);
        c->values[i] = strdup(eq + 1);
    }
    *out = c;
    return 0;
}

ptim_config *ptim_config_retain(ptim_config *cfg)
{
    if (cfg)
        atomic_fetch_add(&cfg->refs, 1);
    return cfg;
}

void ptim_config_release(ptim_config *cfg)
{
    if (!cfg || atomic_fetch_sub(&cfg->refs, 1) != 1)
        return;
    for (int i = 0; i < ptim_option_count; i++)
        free(cfg->values[i]);
    free(cfg);
}

bool ptim_config_bool(const ptim_config *cfg, const char *key)
{
    const char *v = cfg->values[option_index(key, PTIM_OPT_BOOL, PTIM_OPT_BOOL, PTIM_OPT_BOOL)];
    return !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "on");
}

int64_t ptim_config_int(const ptim_config *cfg, const char *key)
{
    return strtoll(cfg->values[option_index(key, PTIM_OPT_INT, PTIM_OPT_SIZE, PTIM_OPT_INT)], NULL, 10);
}

double ptim_config_float(const ptim_config *cfg, const char *key)
{
    return strtod(cfg->values[option_index(key, PTIM_OPT_FLOAT, PTIM_OPT_FLOAT, PTIM_OPT_FLOAT)], NULL);
}

const char *ptim_config_str(const ptim_config *cfg, const char *key)
{
    return cfg->values[option_index(key, PTIM_OPT_STRING, PTIM_OPT_ENUM, PTIM_OPT_PATH)];
}
