/* core/config — the option table and immutable configuration snapshots.
 *
 * Every setting is one row of ptim_options[] (core/options.c): key
 * "section.name", type, default, range or choices, live-changeable, help.
 * Parsing (INI, environment, --set), validation, `config show/keys/init`, hot
 * reload and the HTTP API all derive from that table.
 *
 * A ptim_config is an immutable snapshot: readers take one with
 * ptim_config_store_acquire() and release it when done; a reload builds a new
 * snapshot and swaps it in atomically. Getters abort on a key that is not in
 * the table or has another type — that is a programming error, not user input. */
#ifndef PTIM_CORE_CONFIG_H
#define PTIM_CORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

typedef enum ptim_opt_type {
    PTIM_OPT_BOOL,
    PTIM_OPT_INT,
    PTIM_OPT_FLOAT,
    PTIM_OPT_STRING,
    PTIM_OPT_ENUM,  /* one of `choices`, "a|b|c" */
    PTIM_OPT_PATH,
    PTIM_OPT_SIZE,  /* bytes; accepts suffixes k, M, G */
} ptim_opt_type;

typedef struct ptim_option {
    const char *key;      /* "section.name" */
    ptim_opt_type type;
    const char *def;      /* default, as text */
    double min, max;      /* for INT, FLOAT, SIZE; min > max means unbounded */
    const char *choices;  /* for ENUM: "a|b|c" */
    bool live;            /* may change while running (hot reload, API) */
    const char *help;     /* one line */
} ptim_option;

extern const ptim_option ptim_options[];
extern const int ptim_option_count;

typedef struct ptim_config ptim_config;

bool ptim_config_bool(const ptim_config *cfg, const char *key);
int64_t ptim_config_int(const ptim_config *cfg, const char *key);    /* INT and SIZE */
double ptim_config_float(const ptim_config *cfg, const char *key);
const char *ptim_config_str(const ptim_config *cfg, const char *key); /* STRING, ENUM, PATH */

/* Build a snapshot from the defaults plus "key=value" overrides (validated as
 * the command line's --set is). For tests and tools; refcount starts at 1. */
int ptim_config_new(const char *const *overrides, int count, ptim_config **out, ptim_error *err);
ptim_config *ptim_config_retain(ptim_config *cfg);
void ptim_config_release(ptim_config *cfg);
const ptim_option *ptim_option_find(const char *key);

#endif
