/* core/config — snapshots of the option table's values, built from defaults,
 * an INI file, the environment, --set and live changes; and the store that
 * swaps them atomically and hot-reloads the file. See config.h. */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define VALUE_MAX 4096 /* longest accepted value, bytes */

typedef struct slot {
    char *text;   /* normalized value */
    char *origin; /* "default", "config.ini:12", "environment PTIM_X", "--set", "live" */
    ptim_config_source src;
    bool b;
    int64_t i;
    double f;
} slot;

struct ptim_config {
    atomic_int refs;
    char *file;
    char *model_dir;
    slot slots[];
};

/* ---- the option table ---------------------------------------------------- */

int ptim_option_index(const char *key)
{
    if (!key)
        return -1;
    for (int i = 0; i < ptim_option_count; i++)
        if (!strcmp(ptim_options[i].key, key))
            return i;
    return -1;
}

const ptim_option *ptim_option_find(const char *key)
{
    int i = ptim_option_index(key);
    return i < 0 ? NULL : &ptim_options[i];
}

const char *ptim_opt_type_name(ptim_opt_type t)
{
    switch (t) {
    case PTIM_OPT_BOOL: return "bool";
    case PTIM_OPT_INT: return "int";
    case PTIM_OPT_FLOAT: return "float";
    case PTIM_OPT_STRING: return "string";
    case PTIM_OPT_ENUM: return "enum";
    case PTIM_OPT_PATH: return "path";
    case PTIM_OPT_COLOR: return "color";
    case PTIM_OPT_TILES: return "tiles";
    case PTIM_OPT_SIZE: return "size";
    }
    return "?";
}

void ptim_option_env_name(const ptim_option *opt, char *buf, size_t size)
{
    size_t n = 0;
    const char *p = "PTIM_";
    while (*p && n + 1 < size)
        buf[n++] = *p++;
    for (p = opt->key; *p && n + 1 < size; p++)
        buf[n++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
    if (size)
        buf[n] = 0;
}

/* Case-insensitive Levenshtein distance; anything above `max` may be
 * reported as max + 1 (lengths that differ more cannot be closer). */
static int edit_distance(const char *a, const char *b, int max)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > (size_t)max)
        return max + 1;
    int prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int v = prev[j - 1] + cost;
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            cur[j] = v;
        }
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb];
}

const char *ptim_option_suggest(const char *key)
{
    if (!key || !*key)
        return NULL;
    const char *best = NULL;
    int best_d = INT_MAX;
    int limit = (int)strlen(key) / 4 + 1;
    if (limit > 3)
        limit = 3;
    for (int i = 0; i < ptim_option_count; i++) {
        int d = edit_distance(key, ptim_options[i].key, limit);
        if (d < best_d) {
            best_d = d;
            best = ptim_options[i].key;
        }
    }
    if (best && best_d <= limit)
        return best;
    /* The same name in another section ("threshold", "detectr.threshold"). */
    const char *name = strrchr(key, '.');
    name = name ? name + 1 : key;
    best = NULL;
    best_d = INT_MAX;
    limit = (int)strlen(name) / 5;
    for (int i = 0; i < ptim_option_count; i++) {
        int d = edit_distance(name, strchr(ptim_options[i].key, '.') + 1, limit);
        if (d < best_d) {
            best_d = d;
            best = ptim_options[i].key;
        }
    }
    return best && best_d <= limit ? best : NULL;
}

/* ---- validation ------------------------------------------------------------ */

/* Copies `in` without surrounding blanks; -1 when it does not fit (a value
 * cut short could read as another, valid value: "0000…05" as 0). */
static int trim_copy(const char *in, char *out, size_t size)
{
    while (isspace((unsigned char)*in))
        in++;
    size_t n = strlen(in);
    while (n && isspace((unsigned char)in[n - 1]))
        n--;
    if (n >= size)
        return -1;
    memcpy(out, in, n);
    out[n] = 0;
    return 0;
}

/* #RRGGBB, the only colour form the masker draws. */
static bool is_color(const char *v)
{
    if (v[0] != '#' || strlen(v) != 7)
        return false;
    for (int i = 1; i < 7; i++)
        if (!isxdigit((unsigned char)v[i]))
            return false;
    return true;
}

/* detector.tiles: auto, off (or 0), or tiles across 1-8 (face/detector). */
static bool is_tiles(const char *v, char *norm, size_t norm_size)
{
    if (!strcasecmp(v, "auto") || !strcasecmp(v, "off")) {
        snprintf(norm, norm_size, "%s", tolower((unsigned char)v[0]) == 'a' ? "auto" : "off");
        return true;
    }
    if (v[0] >= '0' && v[0] <= '8' && !v[1]) {
        snprintf(norm, norm_size, "%s", v[0] == '0' ? "off" : v);
        return true;
    }
    return false;
}

void ptim_option_range_text(const ptim_option *o, char *buf, size_t size)
{
    if (o->type == PTIM_OPT_INT || o->type == PTIM_OPT_SIZE) /* whole numbers, never 2.14748e+09 */
        snprintf(buf, size, "[%.0f, %.0f]", o->min, o->max);
    else
        snprintf(buf, size, "[%g, %g]", o->min, o->max);
}

static bool out_of_range(const ptim_option *o, double v)
{
    return o->min <= o->max && (v < o->min || v > o->max);
}

static void range_reason(const ptim_option *o, char *why, size_t n)
{
    char range[96];
    ptim_option_range_text(o, range, sizeof range);
    snprintf(why, n, "is out of range %s", range);
}

int ptim_option_validate(const ptim_option *o, const char *value, char *norm, size_t norm_size,
                         char *why, size_t why_size)
{
    char v[128];
    size_t len = strlen(value);
    if (len > VALUE_MAX) {
        snprintf(why, why_size, "is longer than %d bytes", VALUE_MAX);
        return -1;
    }
    if (o->type != PTIM_OPT_STRING && o->type != PTIM_OPT_PATH && trim_copy(value, v, sizeof v)) {
        snprintf(why, why_size, "is too long (%zu characters) for a setting of type %s", len, ptim_opt_type_name(o->type));
        return -1;
    }
    switch (o->type) {
    case PTIM_OPT_BOOL: {
        static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
        for (int k = 0; k < 4; k++) {
            if (!strcasecmp(v, yes[k])) {
                snprintf(norm, norm_size, "true");
                return 0;
            }
            if (!strcasecmp(v, no[k])) {
                snprintf(norm, norm_size, "false");
                return 0;
            }
        }
        snprintf(why, why_size, "is not a boolean (true or false)");
        return -1;
    }
    case PTIM_OPT_INT: {
        char *end;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (!*v || *end) {
            char *fend;
            double f = strtod(v, &fend);
            bool fractional = *v && !*fend && isfinite(f);
            snprintf(why, why_size, fractional ? "is not a whole number" : "is not a number");
            return -1;
        }
        if (errno == ERANGE || out_of_range(o, (double)x)) {
            range_reason(o, why, why_size);
            return -1;
        }
        snprintf(norm, norm_size, "%lld", x);
        return 0;
    }
    case PTIM_OPT_FLOAT: {
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        if (!*v || *end || isnan(x)) {
            snprintf(why, why_size, "is not a number");
            return -1;
        }
        if (errno == ERANGE || isinf(x) || out_of_range(o, x)) {
            range_reason(o, why, why_size);
            return -1;
        }
        snprintf(norm, norm_size, "%.17g", x);
        /* Keep the user's spelling when it round-trips (0.5, not 0.5000000001). */
        if (strlen(v) < norm_size && strtod(v, NULL) == x)
            snprintf(norm, norm_size, "%s", v);
        return 0;
    }
    case PTIM_OPT_SIZE: {
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        if (!*v || end == v || isnan(x) || isinf(x) || x < 0) {
            snprintf(why, why_size, "is not a size (bytes, or a number with k, M or G)");
            return -1;
        }
        double mul = 1;
        if (*end == 'k' || *end == 'K')
            mul = 1024.0, end++;
        else if (*end == 'm' || *end == 'M')
            mul = 1024.0 * 1024, end++;
        else if (*end == 'g' || *end == 'G')
            mul = 1024.0 * 1024 * 1024, end++;
        if (mul > 1 && *end == 'i')
            end++;
        if (*end == 'B' || *end == 'b')
            end++;
        if (*end) {
            snprintf(why, why_size, "is not a size (bytes, or a number with k, M or G)");
            return -1;
        }
        x *= mul;
        if (x > 9.0e18 || out_of_range(o, x)) {
            range_reason(o, why, why_size);
            return -1;
        }
        snprintf(norm, norm_size, "%lld", (long long)x);
        return 0;
    }
    case PTIM_OPT_ENUM: {
        const char *c = o->choices;
        size_t vl = strlen(v);
        while (c && *c) {
            const char *bar = strchr(c, '|');
            size_t cl = bar ? (size_t)(bar - c) : strlen(c);
            if (cl == vl && vl && !strncasecmp(c, v, cl)) {
                snprintf(norm, norm_size, "%.*s", (int)cl, c);
                return 0;
            }
            c = bar ? bar + 1 : NULL;
        }
        snprintf(why, why_size, "is not one of %s", o->choices ? o->choices : "");
        return -1;
    }
    case PTIM_OPT_COLOR:
        if (!is_color(v)) {
            snprintf(why, why_size, "is not a colour of the form #RRGGBB (e.g. #202020)");
            return -1;
        }
        snprintf(norm, norm_size, "%s", v);
        return 0;
    case PTIM_OPT_TILES:
        if (!is_tiles(v, norm, norm_size)) {
            snprintf(why, why_size, "is not auto, off or a number of tiles across from 1 to 8");
            return -1;
        }
        return 0;
    case PTIM_OPT_STRING:
    case PTIM_OPT_PATH:
        for (const unsigned char *p = (const unsigned char *)value; *p; p++)
            if (*p < 0x20 && *p != '\t') {
                snprintf(why, why_size, "contains a control character");
                return -1;
            }
        if (len >= norm_size) {
            snprintf(why, why_size, "is too long");
            return -1;
        }
        memcpy(norm, value, len + 1);
        return 0;
    }
    snprintf(why, why_size, "has an unknown type");
    return -1;
}

/* A value as it may appear in a one-line message: printable, bounded. */
static void quote_value(const char *value, char *out, size_t size)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)value; *p && n + 4 < size; p++) {
        if (n >= 60) {
            out[n++] = '.', out[n++] = '.', out[n++] = '.';
            break;
        }
        out[n++] = (*p >= 0x20 && *p < 0x7f) ? (char)*p : '?';
    }
    out[n] = 0;
}

/* ---- building a snapshot ---------------------------------------------------- */

typedef struct draft {
    char *text[1024];
    char *origin[1024];
    ptim_config_source src[1024];
} draft;

static void draft_free(draft *d)
{
    for (int i = 0; i < ptim_option_count; i++) {
        free(d->text[i]);
        free(d->origin[i]);
    }
    free(d);
}

static draft *draft_new(void)
{
    if (ptim_option_count > 1024)
        abort();
    draft *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    for (int i = 0; i < ptim_option_count; i++) {
        d->text[i] = strdup(ptim_options[i].def);
        d->origin[i] = strdup("default");
        d->src[i] = PTIM_CONFIG_DEFAULT;
        if (!d->text[i] || !d->origin[i]) {
            draft_free(d);
            return NULL;
        }
    }
    return d;
}

static int draft_put(draft *d, int i, const char *norm, ptim_config_source src, const char *origin,
                     ptim_error *err)
{
    char *t = strdup(norm), *o = strdup(origin);
    if (!t || !o) {
        free(t);
        free(o);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory building the configuration");
    }
    free(d->text[i]);
    free(d->origin[i]);
    d->text[i] = t;
    d->origin[i] = o;
    d->src[i] = src;
    return 0;
}

static void did_you_mean(const char *key, char *buf, size_t size)
{
    const char *s = ptim_option_suggest(key);
    if (s)
        snprintf(buf, size, " (did you mean %s?)", s);
    else
        snprintf(buf, size, " (see ptim config keys)");
}

/* INI parsing over a memory buffer, one physical line per reader call, so the
 * line numbers we report agree with inih's. */
typedef struct ini_ctx {
    const char *name; /* file name in messages */
    const char *buf;
    size_t len, pos;
    int line;         /* physical line last handed to inih */
    draft *d;         /* NULL: check only */
    int err_line;     /* first error found by us, 0 = none */
    ptim_error err;
} ini_ctx;

static void ctx_fail(ini_ctx *c, int line, ptim_err_category cat, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void ctx_fail(ini_ctx *c, int line, ptim_err_category cat, const char *fmt, ...)
{
    if (c->err_line && c->err_line <= line)
        return;
    char msg[PTIM_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->err_line = line;
    ptim_error_set(&c->err, cat, PTIM_SEV_HIGH, "%s:%d: %s", c->name, line, msg);
}

static char *ini_read_line(char *str, int num, void *stream)
{
    ini_ctx *c = stream;
    if (c->pos >= c->len)
        return NULL;
    const char *start = c->buf + c->pos;
    size_t rest = c->len - c->pos;
    const char *nl = memchr(start, '\n', rest);
    size_t linelen = nl ? (size_t)(nl - start) + 1 : rest;
    c->pos += linelen;
    c->line++;
    if (memchr(start, 0, linelen))
        ctx_fail(c, c->line, PTIM_ERR_CONFIG, "line contains a NUL byte");
    size_t copy = linelen;
    if (copy > (size_t)num - 1) {
        ctx_fail(c, c->line, PTIM_ERR_CONFIG, "line is longer than %d characters", num - 2);
        copy = 0; /* hand inih an empty line; the error above stands */
    }
    memcpy(str, start, copy);
    str[copy] = 0;
    return str;
}

static int on_ini_pair(void *user, const char *section, const char *name, const char *value)
{
    ini_ctx *c = user;
    char key[256], shown[80], hint[160];
    if (*section)
        snprintf(key, sizeof key, "%s.%s", section, name);
    else
        snprintf(key, sizeof key, "%s", name);
    int i = ptim_option_index(key);
    if (i < 0) {
        quote_value(key, shown, sizeof shown);
        did_you_mean(key, hint, sizeof hint);
        ctx_fail(c, c->line, PTIM_ERR_CONFIG, "unknown key %s%s", shown, hint);
        return 1;
    }
    char norm[VALUE_MAX + 1], why[160];
    if (ptim_option_validate(&ptim_options[i], value, norm, sizeof norm, why, sizeof why)) {
        quote_value(value, shown, sizeof shown);
        ctx_fail(c, c->line, PTIM_ERR_CONFIG, "%s = %s %s", key, shown, why);
        return 1;
    }
    if (c->d) {
        char origin[300];
        snprintf(origin, sizeof origin, "%s:%d", c->name, c->line);
        ptim_error e;
        if (draft_put(c->d, i, norm, PTIM_CONFIG_FILE, origin, &e))
            ctx_fail(c, c->line, PTIM_ERR_MEMORY, "%s", e.message);
    }
    return 1;
}

static int parse_ini(const char *text, size_t len, const char *name, draft *d, ptim_error *err)
{
    ini_ctx c = {.name = name, .buf = text, .len = len, .d = d};
    int rc = ini_parse_stream(ini_read_line, &c, on_ini_pair, &c);
    if (rc > 0)
        ctx_fail(&c, rc, PTIM_ERR_CONFIG, "malformed line (expected name = value or [section])");
    if (rc == -2)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory parsing %s", name);
    if (c.err_line) {
        if (err)
            *err = c.err;
        return -1;
    }
    return 0;
}

/* Whole file into memory (config files are small; cap at 1 MiB). */
static int read_file(const char *path, char **out, size_t *len, ptim_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "cannot read config file %s: %s",
                              path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        if (cap >= (1u << 20)) {
            free(buf);
            fclose(f);
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                  "config file %s is larger than 1 MiB", path);
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    bool bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "cannot read config file %s", path);
    }
    *out = buf;
    *len = n;
    return 0;
}

int ptim_config_check_ini(const char *text, size_t len, const char *name, ptim_error *err)
{
    return parse_ini(text, len, name, NULL, err);
}

int ptim_config_check_file(const char *path, ptim_error *err)
{
    char *text;
    size_t len;
    if (read_file(path, &text, &len, err))
        return -1;
    int rc = parse_ini(text, len, path, NULL, err);
    free(text);
    return rc;
}

static const struct {
    const char *env, *key;
} seed_env[] = {
    {"PTIM_GPU_MEMORY_POOL_SIZE", "performance.gpu_memory_pool_size_mb"},
    {"PTIM_MAX_WORKERS", "performance.max_processing_workers"},
    {"PTIM_TARGET_FPS", "performance.target_fps"},
    {"PTIM_MODEL_QUALITY", "quality.model_quality"},
};
#define SEED_ENV_COUNT ((int)(sizeof seed_env / sizeof seed_env[0]))

/* The value of variable `name`, or NULL when it is unset or empty (an empty
 * variable, PTIM_TARGET_FPS=, means "not set", as in most tools). */
static const char *env_lookup(char *const *env, const char *name)
{
    size_t n = strlen(name);
    for (; env && *env; env++)
        if (!strncmp(*env, name, n) && (*env)[n] == '=')
            return (*env)[n + 1] ? *env + n + 1 : NULL;
    return NULL;
}

static int env_apply_one(draft *d, int i, const char *var, const char *value, ptim_error *err)
{
    char norm[VALUE_MAX + 1], why[160], shown[80];
    if (ptim_option_validate(&ptim_options[i], value, norm, sizeof norm, why, sizeof why)) {
        quote_value(value, shown, sizeof shown);
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "environment %s='%s' %s", var, shown, why);
    }
    char origin[96];
    snprintf(origin, sizeof origin, "environment %s", var);
    return draft_put(d, i, norm, PTIM_CONFIG_ENV, origin, err);
}

/* Does PTIM_<rest> start with a known section ("DETECTOR_")? */
static bool env_names_section(const char *rest, char *key, size_t size)
{
    for (int i = 0; i < ptim_option_count; i++) {
        const char *k = ptim_options[i].key;
        size_t sl = (size_t)(strchr(k, '.') - k);
        if (!strncasecmp(rest, k, sl) && rest[sl] == '_' && rest[sl + 1]) {
            size_t n = 0;
            for (const char *p = rest; *p && *p != '=' && n + 1 < size; p++)
                key[n++] = (p - rest == (ptrdiff_t)sl) ? '.' : (char)tolower((unsigned char)*p);
            key[n] = 0;
            return true;
        }
    }
    return false;
}

static int apply_env(draft *d, char *const *env, ptim_error *err)
{
    if (!env)
        return 0;
    for (int s = 0; s < SEED_ENV_COUNT; s++) {
        const char *v = env_lookup(env, seed_env[s].env);
        if (v && env_apply_one(d, ptim_option_index(seed_env[s].key), seed_env[s].env, v, err))
            return -1;
    }
    char var[160];
    for (int i = 0; i < ptim_option_count; i++) {
        ptim_option_env_name(&ptim_options[i], var, sizeof var);
        const char *v = env_lookup(env, var);
        if (v && env_apply_one(d, i, var, v, err))
            return -1;
    }
    /* A PTIM_<SECTION>_… variable that names no key is a misspelt setting. */
    for (char *const *e = env; *e; e++) {
        if (strncmp(*e, "PTIM_", 5))
            continue;
        const char *eq = strchr(*e, '=');
        if (!eq || eq - *e >= (ptrdiff_t)sizeof var)
            continue;
        snprintf(var, sizeof var, "%.*s", (int)(eq - *e), *e);
        bool known = false;
        for (int s = 0; s < SEED_ENV_COUNT && !known; s++)
            known = !strcmp(var, seed_env[s].env);
        char name[160];
        for (int i = 0; i < ptim_option_count && !known; i++) {
            ptim_option_env_name(&ptim_options[i], name, sizeof name);
            known = !strcmp(var, name);
        }
        char key[160];
        if (known || !env_names_section(var + 5, key, sizeof key))
            continue;
        const char *s = ptim_option_suggest(key);
        if (s) {
            ptim_option_env_name(ptim_option_find(s), name, sizeof name);
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                  "environment %s is not a setting (did you mean %s?)", var, name);
        }
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "environment %s is not a setting (see ptim config keys)", var);
    }
    return 0;
}

/* One "key=value"; `label` is "--set" or "live change". */
static int apply_assignment(draft *d, const char *kv, const char *label, ptim_config_source src,
                            ptim_error *err)
{
    char shown[80], key[160], hint[160];
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof key) {
        quote_value(kv, shown, sizeof shown);
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s '%s' is not key=value", label, shown);
    }
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = 0;
    int i = ptim_option_index(key);
    if (i < 0) {
        quote_value(key, shown, sizeof shown);
        did_you_mean(key, hint, sizeof hint);
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s %s: unknown key %s%s", label, shown,
                              shown, hint);
    }
    char norm[VALUE_MAX + 1], why[160];
    if (ptim_option_validate(&ptim_options[i], eq + 1, norm, sizeof norm, why, sizeof why)) {
        quote_value(eq + 1, shown, sizeof shown);
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s %s='%s' %s", label, key, shown, why);
    }
    return draft_put(d, i, norm, src, src == PTIM_CONFIG_LIVE ? "live" : label, err);
}

static char *resolve_model_dir(const char *configured)
{
    if (configured && *configured)
        return strdup(configured);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 64);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            strcpy(slash, "/../share/ptim/models");
            struct stat st;
            if (!stat(exe, &st) && S_ISDIR(st.st_mode))
                return strdup(exe);
        }
    }
#ifdef PTIM_SOURCE_DIR
    return strdup(PTIM_SOURCE_DIR "/models");
#else
    return strdup("models");
#endif
}

/* Turn a draft into a snapshot; the draft is consumed. */
static int finish(draft *d, const char *file, ptim_config **out, ptim_error *err)
{
    ptim_config *c = calloc(1, sizeof *c + sizeof(slot) * (size_t)ptim_option_count);
    if (!c) {
        draft_free(d);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory building the configuration");
    }
    atomic_init(&c->refs, 1);
    for (int i = 0; i < ptim_option_count; i++) {
        slot *s = &c->slots[i];
        s->text = d->text[i];
        s->origin = d->origin[i];
        s->src = d->src[i];
        d->text[i] = d->origin[i] = NULL;
        switch (ptim_options[i].type) {
        case PTIM_OPT_BOOL: s->b = !strcmp(s->text, "true"); break;
        case PTIM_OPT_INT:
        case PTIM_OPT_SIZE: s->i = strtoll(s->text, NULL, 10); break;
        case PTIM_OPT_FLOAT: s->f = strtod(s->text, NULL); break;
        default: break;
        }
    }
    draft_free(d);
    c->file = file ? strdup(file) : NULL;
    c->model_dir = resolve_model_dir(c->slots[ptim_option_index("system.model_dir")].text);
    if ((file && !c->file) || !c->model_dir) {
        ptim_config_release(c);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory building the configuration");
    }
    *out = c;
    return 0;
}

/* Every source except live changes into a fresh draft. */
static draft *build_draft(const ptim_config_sources *src, const char **file_used, ptim_error *err)
{
    draft *d = draft_new();
    if (!d) {
        ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory building the configuration");
        return NULL;
    }
    *file_used = NULL;
    if (src && src->file) {
        struct stat st;
        if (src->file_required || !stat(src->file, &st)) {
            char *text;
            size_t len;
            if (read_file(src->file, &text, &len, err)) {
                draft_free(d);
                return NULL;
            }
            int rc = parse_ini(text, len, src->file, d, err);
            free(text);
            if (rc) {
                draft_free(d);
                return NULL;
            }
            *file_used = src->file;
        }
    }
    if (src && apply_env(d, src->environ, err)) {
        draft_free(d);
        return NULL;
    }
    for (int k = 0; src && k < src->set_count; k++)
        if (apply_assignment(d, src->sets[k], "--set", PTIM_CONFIG_CLI, err)) {
            draft_free(d);
            return NULL;
        }
    return d;
}

int ptim_config_load(const ptim_config_sources *src, ptim_config **out, ptim_error *err)
{
    const char *file;
    draft *d = build_draft(src, &file, err);
    return d ? finish(d, file, out, err) : -1;
}

int ptim_config_new(const char *const *overrides, int count, ptim_config **out, ptim_error *err)
{
    ptim_config_sources src = {.sets = overrides, .set_count = count};
    return ptim_config_load(&src, out, err);
}

ptim_config *ptim_config_retain(ptim_config *cfg)
{
    if (cfg)
        atomic_fetch_add_explicit(&cfg->refs, 1, memory_order_relaxed);
    return cfg;
}

void ptim_config_release(ptim_config *cfg)
{
    if (!cfg || atomic_fetch_sub_explicit(&cfg->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (int i = 0; i < ptim_option_count; i++) {
        free(cfg->slots[i].text);
        free(cfg->slots[i].origin);
    }
    free(cfg->file);
    free(cfg->model_dir);
    free(cfg);
}

/* ---- getters ---------------------------------------------------------------- */

static const slot *typed_slot(const ptim_config *cfg, const char *key, ptim_opt_type a, ptim_opt_type b,
                              ptim_opt_type c)
{
    int i = ptim_option_index(key);
    if (i < 0 || (ptim_options[i].type != a && ptim_options[i].type != b && ptim_options[i].type != c)) {
        fprintf(stderr, "ptim: internal error: no option %s of the requested type\n", key ? key : "(null)");
        abort();
    }
    return &cfg->slots[i];
}

bool ptim_config_bool(const ptim_config *cfg, const char *key)
{
    return typed_slot(cfg, key, PTIM_OPT_BOOL, PTIM_OPT_BOOL, PTIM_OPT_BOOL)->b;
}

int64_t ptim_config_int(const ptim_config *cfg, const char *key)
{
    return typed_slot(cfg, key, PTIM_OPT_INT, PTIM_OPT_SIZE, PTIM_OPT_SIZE)->i;
}

double ptim_config_float(const ptim_config *cfg, const char *key)
{
    return typed_slot(cfg, key, PTIM_OPT_FLOAT, PTIM_OPT_FLOAT, PTIM_OPT_FLOAT)->f;
}

const char *ptim_config_str(const ptim_config *cfg, const char *key)
{
    int i = ptim_option_index(key);
    if (i >= 0 && (ptim_options[i].type == PTIM_OPT_COLOR || ptim_options[i].type == PTIM_OPT_TILES))
        return cfg->slots[i].text;
    return typed_slot(cfg, key, PTIM_OPT_STRING, PTIM_OPT_ENUM, PTIM_OPT_PATH)->text;
}

const char *ptim_config_text(const ptim_config *cfg, int index)
{
    return index >= 0 && index < ptim_option_count ? cfg->slots[index].text : NULL;
}

ptim_config_source ptim_config_source_of(const ptim_config *cfg, int index)
{
    return index >= 0 && index < ptim_option_count ? cfg->slots[index].src : PTIM_CONFIG_DEFAULT;
}

const char *ptim_config_origin(const ptim_config *cfg, int index)
{
    return index >= 0 && index < ptim_option_count ? cfg->slots[index].origin : NULL;
}

const char *ptim_model_dir(const ptim_config *cfg)
{
    return cfg->model_dir;
}

const char *ptim_config_file(const ptim_config *cfg)
{
    return cfg->file;
}

/* ---- config init -------------------------------------------------------------- */

bool ptim_option_is_debug(const ptim_option *o)
{
    return !strncmp(o->key, "debug.", 6);
}

static void print_defaults(FILE *f, bool all)
{
    fprintf(f, "; ptim configuration. Every key is shown at its default, commented out.\n"
               "; Precedence: defaults < this file < PTIM_<SECTION>_<NAME> environment < --set key=value.\n"
               "; Keys marked (live) take effect while running; others need a restart.\n");
    char section[64] = "";
    for (int i = 0; i < ptim_option_count; i++) {
        const ptim_option *o = &ptim_options[i];
        if (!all && ptim_option_is_debug(o))
            continue;
        const char *dot = strchr(o->key, '.');
        if (strncmp(section, o->key, (size_t)(dot - o->key)) || section[dot - o->key]) {
            snprintf(section, sizeof section, "%.*s", (int)(dot - o->key), o->key);
            fprintf(f, "\n[%s]\n", section);
        }
        fprintf(f, "; %s%s\n", o->help, o->live ? " (live)" : "");
        fprintf(f, "; type %s", ptim_opt_type_name(o->type));
        if (o->type == PTIM_OPT_ENUM)
            fprintf(f, ", one of %s", o->choices);
        else if (o->min <= o->max) {
            char range[96];
            ptim_option_range_text(o, range, sizeof range);
            fprintf(f, ", range %s", range);
        }
        fprintf(f, "\n;%s = %s\n", dot + 1, o->def);
    }
}

int ptim_config_init_file(const char *path, bool force, bool all, ptim_error *err)
{
    if (!strcmp(path, "-")) {
        print_defaults(stdout, all);
        if (fflush(stdout) != 0)
            return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot write to stdout: %s",
                                  strerror(errno));
        return 0;
    }
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) { /* /dev/stdout, a fifo: write through */
        FILE *f = fopen(path, "w");
        if (!f)
            return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot write %s: %s", path, strerror(errno));
        print_defaults(f, all);
        if (fclose(f))
            return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot write %s: %s", path, strerror(errno));
        return 0;
    }
    /* A file: written under a temporary name beside it, then moved, so that a
     * failure never leaves half a file under the name. */
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "path too long: %.80s...", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot create %s: %s", path, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    }
    print_defaults(f, all);
    if (fclose(f)) {
        int e = errno;
        unlink(tmp);
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot write %s: %s", path, strerror(e));
    }
    chmod(tmp, 0644); /* mkstemp makes it 0600; a settings file is not secret */
    /* never replace a user's file unless asked: link() fails on an existing name */
    int r = force ? rename(tmp, path) : link(tmp, path);
    int e = errno;
    if (!force || r != 0)
        unlink(tmp);
    if (r != 0)
        return ptim_error_set(err, e == EEXIST ? PTIM_ERR_CONFIG : PTIM_ERR_IO, PTIM_SEV_HIGH,
                              "cannot create %s: %s%s", path, strerror(e),
                              e == EEXIST ? " (give --force to replace it)" : "");
    return 0;
}

int ptim_config_write_defaults(const char *path, ptim_error *err)
{
    return ptim_config_init_file(path, false, false, err);
}

/* ---- the store ------------------------------------------------------------------ */

struct ptim_config_store {
    pthread_mutex_t lock;   /* guards `current` for acquire vs swap */
    pthread_mutex_t update; /* serializes reload, poll and live changes (pipeline vs API thread) */
    ptim_config *current;
    char *file;
    bool file_required;
    char **env;           /* PTIM_* entries captured at creation */
    char **sets;
    int set_count;
    char *live[1024];     /* live changes, "key=value", or NULL */
    int ifd;
    char *file_base;
    atomic_uint_fast64_t generation;
};

static char **copy_strv(const char *const *v, int n)
{
    char **out = calloc((size_t)n + 1, sizeof *out);
    if (!out)
        return NULL;
    for (int i = 0; i < n; i++)
        if (!(out[i] = strdup(v[i]))) {
            for (int k = 0; k < i; k++)
                free(out[k]);
            free(out);
            return NULL;
        }
    return out;
}

static void free_strv(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

void ptim_config_store_free(ptim_config_store *s)
{
    if (!s)
        return;
    ptim_config_release(s->current);
    free(s->file);
    free(s->file_base);
    free_strv(s->env);
    free_strv(s->sets);
    for (int i = 0; i < ptim_option_count; i++)
        free(s->live[i]);
    if (s->ifd >= 0)
        close(s->ifd);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->update);
    free(s);
}

/* Build the snapshot the sources describe now, live changes on top. */
static int store_build(ptim_config_store *s, ptim_config **out, ptim_error *err)
{
    ptim_config_sources src = {.file = s->file, .file_required = s->file_required, .environ = s->env,
                               .sets = (const char *const *)s->sets, .set_count = s->set_count};
    const char *file;
    draft *d = build_draft(&src, &file, err);
    if (!d)
        return -1;
    for (int i = 0; i < ptim_option_count; i++)
        if (s->live[i] && apply_assignment(d, s->live[i], "live change", PTIM_CONFIG_LIVE, err)) {
            draft_free(d);
            return -1;
        }
    return finish(d, file, out, err);
}

int ptim_config_store_new(const ptim_config_sources *src, ptim_config_store **out, ptim_error *err)
{
    ptim_config_store *s = calloc(1, sizeof *s);
    if (!s)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory creating the configuration");
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->update, NULL);
    s->ifd = -1;
    bool oom = false;
    if (src && src->file)
        oom |= !(s->file = strdup(src->file));
    s->file_required = src && src->file_required;
    int n = 0;
    for (char *const *e = src ? src->environ : NULL; e && *e; e++)
        n += !strncmp(*e, "PTIM_", 5);
    const char **env = calloc((size_t)n + 1, sizeof *env);
    n = 0;
    for (char *const *e = src ? src->environ : NULL; env && e && *e; e++)
        if (!strncmp(*e, "PTIM_", 5))
            env[n++] = *e;
    oom |= !env || !(s->env = copy_strv(env, n));
    free(env);
    s->set_count = src ? src->set_count : 0;
    oom |= !(s->sets = copy_strv(src ? src->sets : NULL, s->set_count));
    if (oom) {
        ptim_config_store_free(s);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory creating the configuration");
    }
    if (store_build(s, &s->current, err)) {
        ptim_config_store_free(s);
        return -1;
    }
    atomic_init(&s->generation, 1);
    *out = s;
    return 0;
}

ptim_config *ptim_config_store_acquire(ptim_config_store *s)
{
    pthread_mutex_lock(&s->lock);
    ptim_config *c = ptim_config_retain(s->current);
    pthread_mutex_unlock(&s->lock);
    return c;
}

uint64_t ptim_config_store_generation(ptim_config_store *s)
{
    return atomic_load(&s->generation);
}

/* Compare next with the current snapshot: non-live keys keep their current
 * value (and are reported as needing a restart); swap only when a live key
 * changed. Returns 1 when anything changed, else 0. */
static int store_apply(ptim_config_store *s, ptim_config *next, ptim_config_changes *ch)
{
    ptim_config_changes local;
    if (!ch)
        ch = &local;
    ch->count = ch->restart_count = 0;
    ptim_config *cur = s->current; /* swaps happen under s->update only */
    int applied = 0;
    for (int i = 0; i < ptim_option_count; i++) {
        slot *a = &cur->slots[i], *b = &next->slots[i];
        if (!strcmp(a->text, b->text))
            continue;
        bool restart = !ptim_options[i].live;
        if (ch->count < PTIM_CONFIG_MAX_CHANGES) {
            ch->keys[ch->count] = ptim_options[i].key;
            ch->needs_restart[ch->count] = restart;
            ch->count++;
        }
        if (restart) {
            ch->restart_count++;
            char *t = strdup(a->text), *o = strdup(a->origin);
            if (t && o) {
                free(b->text);
                free(b->origin);
                b->text = t;
                b->origin = o;
                b->src = a->src;
                b->b = a->b, b->i = a->i, b->f = a->f;
            } else {
                free(t);
                free(o);
            }
        } else {
            applied++;
        }
    }
    if (!applied) {
        ptim_config_release(next);
        return ch->count > 0;
    }
    pthread_mutex_lock(&s->lock);
    s->current = next;
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_add(&s->generation, 1);
    ptim_config_release(cur);
    return 1;
}

static int reload_locked(ptim_config_store *s, ptim_config_changes *changes, ptim_error *err)
{
    if (changes)
        changes->count = changes->restart_count = 0;
    ptim_config *next;
    if (store_build(s, &next, err))
        return -1;
    return store_apply(s, next, changes);
}

int ptim_config_store_reload(ptim_config_store *s, ptim_config_changes *changes, ptim_error *err)
{
    pthread_mutex_lock(&s->update);
    int rc = reload_locked(s, changes, err);
    pthread_mutex_unlock(&s->update);
    return rc;
}

int ptim_config_store_set(ptim_config_store *s, const char *key, const char *value,
                          ptim_config_changes *changes, ptim_error *err)
{
    if (changes)
        changes->count = changes->restart_count = 0;
    int i = ptim_option_index(key);
    char hint[160], shown[80];
    if (i < 0) {
        quote_value(key ? key : "", shown, sizeof shown);
        did_you_mean(shown, hint, sizeof hint);
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_MEDIUM, "live change: unknown key %s%s", shown, hint);
    }
    if (!ptim_options[i].live)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_MEDIUM,
                              "live change: %s cannot change while running; it needs a restart", key);
    size_t n = strlen(key) + strlen(value) + 2;
    char *kv = malloc(n);
    if (!kv)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    snprintf(kv, n, "%s=%s", key, value);
    pthread_mutex_lock(&s->update);
    /* On top of the current snapshot, not the file: a live change must not
     * fail because the file on disk holds an edit that was rejected. */
    ptim_config *cur = s->current;
    draft *d = draft_new();
    int rc = d ? 0 : ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    for (int k = 0; !rc && k < ptim_option_count; k++)
        rc = draft_put(d, k, cur->slots[k].text, cur->slots[k].src, cur->slots[k].origin, err);
    if (!rc)
        rc = apply_assignment(d, kv, "live change", PTIM_CONFIG_LIVE, err);
    ptim_config *next = NULL;
    if (!rc) {
        rc = finish(d, cur->file, &next, err);
        d = NULL;
    }
    if (d)
        draft_free(d);
    if (!rc) {
        free(s->live[i]);
        s->live[i] = kv;
        kv = NULL;
        rc = store_apply(s, next, changes);
    }
    free(kv);
    pthread_mutex_unlock(&s->update);
    return rc;
}

int ptim_config_store_watch(ptim_config_store *s, ptim_error *err)
{
    if (s->ifd >= 0)
        return s->ifd;
    if (!s->file)
        return -1;
    ptim_config *c = ptim_config_store_acquire(s);
    bool enabled = ptim_config_bool(c, "system.enable_hot_reload");
    ptim_config_release(c);
    if (!enabled)
        return -1;
    char *dir = strdup(s->file);
    if (!dir)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    char *slash = strrchr(dir, '/');
    free(s->file_base);
    s->file_base = strdup(slash ? slash + 1 : s->file);
    if (slash)
        slash[slash == dir] = 0; /* "/x.ini" watches "/" */
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0 || inotify_add_watch(fd, slash ? dir : ".", IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_MEDIUM, "cannot watch %s for edits: %s", s->file, strerror(e));
        free(dir);
        return -1;
    }
    free(dir);
    s->ifd = fd;
    return fd;
}

int ptim_config_store_poll(ptim_config_store *s, ptim_config_changes *changes, ptim_error *err)
{
    if (changes)
        changes->count = changes->restart_count = 0;
    if (s->ifd < 0)
        return 0;
    pthread_mutex_lock(&s->update);
    bool hit = false;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(s->ifd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            if ((ev->len && s->file_base && !strcmp(ev->name, s->file_base)) || (ev->mask & IN_Q_OVERFLOW))
                hit = true;
            p += sizeof *ev + ev->len;
        }
    }
    int rc = hit ? reload_locked(s, changes, err) : 0;
    pthread_mutex_unlock(&s->update);
    return rc;
}
