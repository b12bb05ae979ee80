/* core/fault — fault injection: the debug.faults grammar (see fault.h), the
 * armed plan, and per-point event/fired counters. */
#include "core/fault.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/log.h"

static const char *const point_names[PTIM_FAULT__COUNT] = {
    "source_open", "source_stall", "source_gone", "packet_drop", "packet_corrupt", "decode",
    "detect",      "landmarks",    "analyze_timeout", "alloc",   "render",         "encode",
};

const char *ptim_fault_point_name(ptim_fault_point point)
{
    return (unsigned)point < PTIM_FAULT__COUNT ? point_names[point] : "unknown";
}

int ptim_fault_point_from_name(const char *name)
{
    for (int i = 0; i < PTIM_FAULT__COUNT; i++)
        if (name && !strcmp(name, point_names[i]))
            return i;
    return -1;
}

bool ptim_fault_compiled_in(void)
{
#ifdef PTIM_FAULT_INJECTION
    return true;
#else
    return false;
#endif
}

/* ---- the plan ---------------------------------------------------------- */

#define RULES_PER_POINT 8

typedef struct fault_rule {
    uint64_t first, last; /* event numbers covered, inclusive, from 1 */
    double rate;          /* 1.0: every covered event fails */
} fault_rule;

typedef struct point_plan {
    int nrules;
    fault_rule rules[RULES_PER_POINT];
    bool has_param;
    uint64_t param;
} point_plan;

typedef struct fault_plan {
    point_plan points[PTIM_FAULT__COUNT];
} fault_plan;

/* The armed plan is written only by configure (never concurrently with hits,
 * see fault.h); armed_mask is stored last with release order so a hit that
 * sees a point armed also sees its rules. */
static fault_plan armed_plan;
static uint64_t armed_seed;
static _Atomic uint32_t armed_mask;
static _Atomic uint64_t event_count[PTIM_FAULT__COUNT];
static _Atomic uint64_t fired_count[PTIM_FAULT__COUNT];

/* ---- parsing ----------------------------------------------------------- */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 64;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static const char *closest_point(const char *name)
{
    const char *best = NULL;
    size_t best_d = 0;
    for (int i = 0; i < PTIM_FAULT__COUNT; i++) {
        size_t d = edit_distance(name, point_names[i]);
        if (!best || d < best_d) {
            best = point_names[i];
            best_d = d;
        }
    }
    if (edit_distance(name, "all") < best_d) {
        best = "all";
        best_d = edit_distance(name, "all");
    }
    /* One name a prefix of the other ("decoder", "landmark") is a near miss. */
    size_t ln = strlen(name);
    for (int i = 0; i < PTIM_FAULT__COUNT; i++) {
        size_t lp = strlen(point_names[i]);
        if (ln >= 3 && !strncmp(point_names[i], name, ln < lp ? ln : lp))
            return point_names[i];
    }
    /* Otherwise suggest only close misses: a third of the name, at least 2 edits. */
    size_t limit = ln / 3 > 2 ? ln / 3 : 2;
    return best_d <= limit ? best : NULL;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

/* Parses an unsigned decimal at *p (no sign), advancing *p. */
static int parse_u64(const char **p, uint64_t *out)
{
    if (!isdigit((unsigned char)**p))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(*p, &end, 10);
    if (errno == ERANGE)
        return -1;
    *out = v;
    *p = end;
    return 0;
}

static int rule_error(ptim_error *err, const char *rule, const char *why)
{
    return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "debug.faults: rule '%s' %s", rule, why);
}

static int parse_rule(char *text, fault_plan *plan, ptim_error *err)
{
    const char *rule = text;
    size_t nlen = strcspn(text, "@=:");
    char name[64];
    if (nlen == 0)
        return rule_error(err, rule, "has no fault point name before its @, = or :");
    if (nlen >= sizeof name) {
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "debug.faults: rule '%.40s…' names no known fault point", rule);
    }
    memcpy(name, text, nlen);
    name[nlen] = 0;
    char *nt = trim(name);

    int point = -1; /* -1 with all = every point */
    bool all = !strcmp(nt, "all") || !strcmp(nt, "*");
    if (!all) {
        point = ptim_fault_point_from_name(nt);
        if (point < 0) {
            const char *hint = closest_point(nt);
            char list[256] = "";
            for (int i = 0; i < PTIM_FAULT__COUNT; i++) {
                strncat(list, point_names[i], sizeof list - strlen(list) - 1);
                strncat(list, i + 1 < PTIM_FAULT__COUNT ? ", " : "", sizeof list - strlen(list) - 1);
            }
            if (hint)
                return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                      "debug.faults: unknown fault point '%s' (did you mean '%s'?)", nt, hint);
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                  "debug.faults: unknown fault point '%s' (known: %s, all)", nt, list);
        }
    }

    fault_rule r = {.first = 1, .last = UINT64_MAX, .rate = 1.0};
    bool has_events = false, has_rate = false, has_param = false;
    uint64_t param = 0;
    const char *p = text + nlen;
    while (*p) {
        char kind = *p++;
        while (isspace((unsigned char)*p))
            p++;
        if (kind == '@') {
            if (has_events)
                return rule_error(err, rule, "gives @EVENTS twice");
            has_events = true;
            if (parse_u64(&p, &r.first) || r.first == 0)
                return rule_error(err, rule, "needs an event number from 1 after @ (N, N-M or N+)");
            if (*p == '+') {
                p++;
                r.last = UINT64_MAX;
            } else if (*p == '-') {
                p++;
                if (parse_u64(&p, &r.last))
                    return rule_error(err, rule, "needs a last event number after '-' (N-M)");
                if (r.last < r.first)
                    return rule_error(err, rule, "has a range whose last event comes before its first");
            } else {
                r.last = r.first;
            }
        } else if (kind == '=') {
            if (has_rate)
                return rule_error(err, rule, "gives =RATE twice");
            has_rate = true;
            errno = 0;
            char *end;
            if (!isdigit((unsigned char)*p) && *p != '.')
                return rule_error(err, rule, "needs a rate after = (0..1 or a percentage)");
            double v = strtod(p, &end);
            if (end == p || errno == ERANGE || !isfinite(v))
                return rule_error(err, rule, "needs a rate after = (0..1 or a percentage)");
            p = end;
            if (*p == '%') {
                p++;
                v /= 100.0;
            }
            if (v < 0.0 || v > 1.0)
                return rule_error(err, rule, "has a rate outside 0..1 (0%..100%)");
            r.rate = v;
        } else if (kind == ':') {
            if (has_param)
                return rule_error(err, rule, "gives :PARAM twice");
            has_param = true;
            if (parse_u64(&p, &param))
                return rule_error(err, rule, "needs a non-negative integer after :");
        } else {
            return rule_error(err, rule, "has unexpected text (expected POINT[@EVENTS][=RATE][:PARAM])");
        }
        while (isspace((unsigned char)*p))
            p++;
        if (*p && !strchr("@=:", *p))
            return rule_error(err, rule, "has unexpected text (expected POINT[@EVENTS][=RATE][:PARAM])");
    }
    if (!has_events && !has_rate)
        return rule_error(err, rule, "says neither when (@EVENTS) nor how often (=RATE) to fail");

    for (int i = 0; i < PTIM_FAULT__COUNT; i++) {
        if (!all && i != point)
            continue;
        point_plan *pp = &plan->points[i];
        if (pp->nrules == RULES_PER_POINT)
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                  "debug.faults: more than %d rules for fault point '%s'",
                                  RULES_PER_POINT, point_names[i]);
        pp->rules[pp->nrules++] = r;
        if (has_param) {
            pp->has_param = true;
            pp->param = param;
        }
    }
    return 0;
}

static int parse_spec(const char *spec, fault_plan *plan, ptim_error *err)
{
    memset(plan, 0, sizeof *plan);
    if (!spec)
        return 0;
    char *copy = strdup(spec);
    if (!copy)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "debug.faults: out of memory");
    int rc = 0;
    char *whole = trim(copy);
    if (*whole) {
        /* strtok_r would skip empty items silently; walk commas by hand. */
        char *item = whole;
        for (;;) {
            char *comma = strchr(item, ',');
            if (comma)
                *comma = 0;
            char *t = trim(item);
            if (!*t) {
                rc = ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                    "debug.faults: empty rule in '%s' (rules are separated by single commas)", spec);
                break;
            }
            if ((rc = parse_rule(t, plan, err)) != 0)
                break;
            if (!comma)
                break;
            item = comma + 1;
        }
    }
    free(copy);
    return rc;
}

static bool spec_is_empty(const char *spec)
{
    if (!spec)
        return true;
    while (isspace((unsigned char)*spec))
        spec++;
    return *spec == 0;
}

int ptim_fault_validate(const char *spec, ptim_error *err)
{
    if (spec_is_empty(spec))
        return 0;
    fault_plan *plan = malloc(sizeof *plan);
    if (!plan)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "debug.faults: out of memory");
    int rc = parse_spec(spec, plan, err);
    free(plan);
    if (rc == 0 && !ptim_fault_compiled_in())
        rc = ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                            "debug.faults is set but this build has no fault injection "
                            "(configure with -DPTIM_FAULT_INJECTION=ON)");
    return rc;
}

/* Error reports (core/error) carry the fault counters of the run. */
static void report_stats(void *user, cJSON *object)
{
    (void)user;
    for (int i = 0; i < PTIM_FAULT__COUNT; i++) {
        if (!ptim_fault_armed((ptim_fault_point)i))
            continue;
        cJSON *o = cJSON_AddObjectToObject(object, point_names[i]);
        if (o) {
            cJSON_AddNumberToObject(o, "events", (double)ptim_fault_events((ptim_fault_point)i));
            cJSON_AddNumberToObject(o, "fired", (double)ptim_fault_fired((ptim_fault_point)i));
        }
    }
}

int ptim_fault_configure(const char *spec, uint64_t seed, ptim_error *err)
{
    if (ptim_fault_validate(spec, err))
        return -1;
    static fault_plan next; /* configure is not concurrent (fault.h) */
    if (parse_spec(spec_is_empty(spec) ? NULL : spec, &next, err))
        return -1;
    atomic_store_explicit(&armed_mask, 0, memory_order_release);
    armed_plan = next;
    armed_seed = seed;
    uint32_t mask = 0;
    for (int i = 0; i < PTIM_FAULT__COUNT; i++) {
        atomic_store_explicit(&event_count[i], 0, memory_order_relaxed);
        atomic_store_explicit(&fired_count[i], 0, memory_order_relaxed);
        if (armed_plan.points[i].nrules)
            mask |= 1u << i;
    }
    atomic_store_explicit(&armed_mask, mask, memory_order_release);
    ptim_error_register_stats("faults", mask ? report_stats : NULL, NULL);
    if (mask)
        ptim_log_warn("fault", "fault injection armed: %s (seed %llu)", spec, (unsigned long long)seed);
    return 0;
}

/* ---- the hot path ------------------------------------------------------ */

/* SplitMix64 finaliser: a well-mixed 64-bit hash of one 64-bit word. */
static inline uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#ifdef PTIM_FAULT_INJECTION
bool ptim_fault_hit(ptim_fault_point point)
{
    if ((unsigned)point >= PTIM_FAULT__COUNT)
        return false;
    uint32_t mask = atomic_load_explicit(&armed_mask, memory_order_acquire);
    if (!(mask & (1u << point)))
        return false;
    uint64_t n = atomic_fetch_add_explicit(&event_count[point], 1, memory_order_relaxed) + 1;
    const point_plan *pp = &armed_plan.points[point];
    bool fire = false;
    for (int i = 0; i < pp->nrules && !fire; i++) {
        const fault_rule *r = &pp->rules[i];
        if (n < r->first || n > r->last)
            continue;
        if (r->rate >= 1.0) {
            fire = true;
        } else if (r->rate > 0.0) {
            /* A pure function of (seed, point, event, rule): reproducible. */
            uint64_t h = mix64(armed_seed ^ mix64(((uint64_t)point << 56) ^ ((uint64_t)i << 48) ^ n));
            fire = (double)(h >> 11) * 0x1.0p-53 < r->rate;
        }
    }
    if (fire) {
        atomic_fetch_add_explicit(&fired_count[point], 1, memory_order_relaxed);
        ptim_log_debug("fault", "injected %s fault at event %llu", point_names[point], (unsigned long long)n);
    }
    return fire;
}
#endif

/* ---- counters ---------------------------------------------------------- */

uint64_t ptim_fault_fired(ptim_fault_point point)
{
    if ((unsigned)point >= PTIM_FAULT__COUNT)
        return 0;
    return atomic_load_explicit(&fired_count[point], memory_order_relaxed);
}

uint64_t ptim_fault_events(ptim_fault_point point)
{
    if ((unsigned)point >= PTIM_FAULT__COUNT)
        return 0;
    return atomic_load_explicit(&event_count[point], memory_order_relaxed);
}

bool ptim_fault_armed(ptim_fault_point point)
{
    uint32_t mask = atomic_load_explicit(&armed_mask, memory_order_acquire);
    if (point == PTIM_FAULT__COUNT)
        return mask != 0;
    return (unsigned)point < PTIM_FAULT__COUNT && (mask & (1u << point));
}

uint64_t ptim_fault_param(ptim_fault_point point, uint64_t def)
{
    if (!ptim_fault_armed(point))
        return def;
    const point_plan *pp = &armed_plan.points[point];
    return pp->has_param ? pp->param : def;
}

size_t ptim_fault_stats_json(char *buf, size_t size)
{
    size_t len = 0;
    char tmp[128];
#define APPEND(s)                                                      \
    do {                                                               \
        size_t l_ = strlen(s);                                         \
        if (buf && size && len < size - 1) {                           \
            size_t room_ = size - 1 - len;                             \
            memcpy(buf + len, (s), l_ < room_ ? l_ : room_);           \
        }                                                              \
        len += l_;                                                     \
    } while (0)
    APPEND("{");
    bool first = true;
    for (int i = 0; i < PTIM_FAULT__COUNT; i++) {
        if (!ptim_fault_armed((ptim_fault_point)i))
            continue;
        snprintf(tmp, sizeof tmp, "%s\"%s\":{\"events\":%llu,\"fired\":%llu}", first ? "" : ",",
                 point_names[i], (unsigned long long)ptim_fault_events((ptim_fault_point)i),
                 (unsigned long long)ptim_fault_fired((ptim_fault_point)i));
        APPEND(tmp);
        first = false;
    }
    APPEND("}");
#undef APPEND
    if (buf && size)
        buf[len < size ? len : size - 1] = 0;
    return len;
}
