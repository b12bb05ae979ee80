/* core/config — the option table, immutable configuration snapshots, the
 * sources they are built from, and the store that hot-reloads them.
 *
 * Every setting is one row of ptim_options[] (core/options.c): key
 * "section.name", type, default, range or choices, live-changeable, help.
 * Parsing (INI, environment, --set), validation, `config show/keys/init`, hot
 * reload and the HTTP API all derive from that table.
 *
 * Sources, lowest precedence first:
 *   default < INI file < environment < --set key=value < live change
 * INI file: `--config FILE`, else <userdata-dir>/config.ini when present.
 *   [section] headers then `name = value`; a key may also be written
 *   `section.name = value` before any header. Parsed with libinih.
 * Environment: PTIM_<SECTION>_<NAME> in upper case for every key, plus the
 *   seed names PTIM_GPU_MEMORY_POOL_SIZE, PTIM_MAX_WORKERS, PTIM_TARGET_FPS,
 *   PTIM_MODEL_QUALITY. A variable whose prefix names a known section but no
 *   key (PTIM_DETECTOR_TRESHOLD) is an error with a did-you-mean; other PTIM_*
 *   variables (PTIM_BIN, …) are not settings and are ignored.
 * Any invalid value is an error (PTIM_ERR_CONFIG; exit status 2) whose one
 * sentence names the source and place, e.g.
 *   config.ini:12: detector.threshold = 1.7 is out of range [0.01, 1]
 *   environment PTIM_TARGET_FPS='fast' is not a number
 *   --set detector.treshold=0.4: unknown key detector.treshold (did you mean detector.threshold?)
 *
 * A ptim_config is an immutable, refcounted snapshot. Readers take one with
 * ptim_config_store_acquire() and release it when done (between frames is the
 * usual rhythm); a reload builds a new snapshot and swaps it in atomically, so
 * a reader never sees half of an edit. Getters abort on a key that is not in
 * the table or has another type — that is a programming error, not input.
 * Getters do no allocation and take no lock. */
#ifndef PTIM_CORE_CONFIG_H
#define PTIM_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef enum ptim_opt_type {
    PTIM_OPT_BOOL,   /* true/false, yes/no, on/off, 1/0 */
    PTIM_OPT_INT,
    PTIM_OPT_FLOAT,
    PTIM_OPT_STRING,
    PTIM_OPT_ENUM,  /* one of `choices`, "a|b|c" */
    PTIM_OPT_PATH,
    PTIM_OPT_SIZE,  /* bytes; accepts suffixes k, M, G (powers of 1024); min/max in bytes */
    PTIM_OPT_COLOR, /* #RRGGBB; read with ptim_config_str */
    PTIM_OPT_TILES, /* auto, off (0) or 1-8 tiles across; read with ptim_config_str */
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

/* Where a value came from, lowest precedence first. */
typedef enum ptim_config_source {
    PTIM_CONFIG_DEFAULT,
    PTIM_CONFIG_FILE,
    PTIM_CONFIG_ENV,
    PTIM_CONFIG_CLI,
    PTIM_CONFIG_LIVE,
} ptim_config_source;

typedef struct ptim_config ptim_config;

/* ---- reading a snapshot ------------------------------------------------ */
bool ptim_config_bool(const ptim_config *cfg, const char *key);
int64_t ptim_config_int(const ptim_config *cfg, const char *key);    /* INT and SIZE (bytes) */
double ptim_config_float(const ptim_config *cfg, const char *key);
const char *ptim_config_str(const ptim_config *cfg, const char *key); /* STRING, ENUM, PATH, COLOR, TILES */

/* The value of row `index` of ptim_options as normalized text (bools
 * "true"/"false", sizes in bytes), where it came from, and the place:
 * "default", "config.ini:12", "environment PTIM_TARGET_FPS", "--set", "live".
 * Strings are owned by the snapshot. */
const char *ptim_config_text(const ptim_config *cfg, int index);
ptim_config_source ptim_config_source_of(const ptim_config *cfg, int index);
const char *ptim_config_origin(const ptim_config *cfg, int index);

/* Directory holding the models: system.model_dir when set (the environment
 * rule maps PTIM_SYSTEM_MODEL_DIR onto it), else <bindir>/../share/ptim/models
 * when that exists, else <source tree>/models. Owned by the snapshot. */
const char *ptim_model_dir(const ptim_config *cfg);

/* The INI file this snapshot read, or NULL when none. Owned by the snapshot. */
const char *ptim_config_file(const ptim_config *cfg);

ptim_config *ptim_config_retain(ptim_config *cfg);
void ptim_config_release(ptim_config *cfg);

/* ---- the option table -------------------------------------------------- */
const ptim_option *ptim_option_find(const char *key);
int ptim_option_index(const char *key); /* -1 when absent */
/* Closest key to a misspelt one (edit distance, or the same name in another
 * section), or NULL when nothing is close. */
const char *ptim_option_suggest(const char *key);
const char *ptim_opt_type_name(ptim_opt_type type);
/* "[0, 2147483647]" (whole numbers for INT and SIZE) or "[0.01, 1]". */
void ptim_option_range_text(const ptim_option *o, char *buf, size_t size);
/* Environment variable of a key: "PTIM_DETECTOR_THRESHOLD". */
void ptim_option_env_name(const ptim_option *opt, char *buf, size_t size);
/* Check and normalize `value` for `opt`. On failure writes the reason
 * ("is not a number", "is out of range [1, 120]", …) to `why` and returns -1. */
int ptim_option_validate(const ptim_option *opt, const char *value, char *norm, size_t norm_size,
                         char *why, size_t why_size);

/* ---- building a snapshot from its sources ------------------------------ */
typedef struct ptim_config_sources {
    const char *file;          /* INI path, or NULL for none */
    bool file_required;        /* true for --config: a missing file is an error */
    char *const *environ;      /* NULL-terminated "NAME=value" list; NULL: no environment */
    const char *const *sets;   /* "key=value" from --set */
    int set_count;
} ptim_config_sources;

/* Build a snapshot from every source; refcount starts at 1. */
int ptim_config_load(const ptim_config_sources *src, ptim_config **out, ptim_error *err);

/* Build a snapshot from the defaults plus "key=value" overrides (validated as
 * the command line's --set is). For tests and tools; refcount starts at 1. */
int ptim_config_new(const char *const *overrides, int count, ptim_config **out, ptim_error *err);

/* Validate INI text (`name` is the file name used in messages). For
 * `config check`, and the fuzzer. */
int ptim_config_check_ini(const char *text, size_t len, const char *name, ptim_error *err);
int ptim_config_check_file(const char *path, ptim_error *err);

/* Write a commented INI file with every key at its default (`config init`),
 * debug.* keys left out. */
int ptim_config_write_defaults(const char *path, ptim_error *err);
/* The same with choices: path "-" is stdout (a device or fifo is written
 * through); a file is written under a temporary name and moved into place,
 * refusing an existing file unless `force`; `all` includes debug.* keys. */
int ptim_config_init_file(const char *path, bool force, bool all, ptim_error *err);
/* debug.* settings: hidden from `config keys` and `config init` unless --all. */
bool ptim_option_is_debug(const ptim_option *o);

/* ---- the store: the current snapshot, hot reload, live changes -------- */
typedef struct ptim_config_store ptim_config_store;

/* Copies everything in *src (the environment is read once, now). */
int ptim_config_store_new(const ptim_config_sources *src, ptim_config_store **out, ptim_error *err);
void ptim_config_store_free(ptim_config_store *store);

/* The current snapshot, retained: pair with ptim_config_release(). Safe from
 * any thread, concurrently with reloads. */
ptim_config *ptim_config_store_acquire(ptim_config_store *store);

#define PTIM_CONFIG_MAX_CHANGES 256
typedef struct ptim_config_changes {
    int count;                                   /* keys whose value differs */
    int restart_count;                           /* of those, not live */
    const char *keys[PTIM_CONFIG_MAX_CHANGES];   /* static strings from the table */
    bool needs_restart[PTIM_CONFIG_MAX_CHANGES]; /* not live: the old value stays until restart */
} ptim_config_changes;

/* Start watching the INI file (inotify on its directory, so editors that save
 * by renaming and a config.ini created later are both seen). No-op when there
 * is no file or system.enable_hot_reload is false. Returns a pollable fd
 * (readable when an edit is pending) or -1 when not watching. */
int ptim_config_store_watch(ptim_config_store *store, ptim_error *err);

/* Call between frames. When the file changed since the last call: re-read
 * every source, validate, and swap in the new snapshot. Returns 1 when the
 * edit changed something (`changes`, may be NULL, lists changed keys; keys
 * not live keep their old value and are flagged needs_restart; a new snapshot
 * is swapped in only when a live key changed), 0 when nothing changed, -1 when the edit is invalid (err names file and line; the
 * old settings stay). Does not wait for edits. Thread-safe with respect to
 * acquire, reload and set. */
int ptim_config_store_poll(ptim_config_store *store, ptim_config_changes *changes, ptim_error *err);

/* Re-read now, unconditionally (same results as poll). */
int ptim_config_store_reload(ptim_config_store *store, ptim_config_changes *changes, ptim_error *err);

/* A live change (HTTP API, control panel; any thread): highest precedence, kept across
 * reloads. Only live keys; others fail with "needs a restart". Returns 1 when
 * the value changed, 0 when it was already that value. */
int ptim_config_store_set(ptim_config_store *store, const char *key, const char *value,
                          ptim_config_changes *changes, ptim_error *err);

/* Snapshots swapped in since creation (the first load counts as 1). */
uint64_t ptim_config_store_generation(ptim_config_store *store);

#endif
