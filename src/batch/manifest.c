/* batch/manifest — see manifest.h. */
#include "batch/manifest.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/source.h"

#define LINE_MAX_BYTES 4096

static bool is_video_name(const char *name)
{
    static const char *const video[] = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v",
                                        ".ts",  ".flv", ".mpg", ".mpeg", ".wmv", ".3gp"};
    const char *dot = strrchr(name, '.');
    if (!dot)
        return false;
    for (size_t i = 0; i < sizeof video / sizeof video[0]; i++)
        if (!strcasecmp(dot, video[i]))
            return true;
    return false;
}

static bool is_media_name(const char *name)
{
    return is_video_name(name) || io_is_image_name(name);
}

uint64_t batch_key_hash(const char *key)
{
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    return h;
}

/* Appends the path's segments to buf at *n, normalized (see manifest.h). */
static int append_segments(const char *path, char *buf, size_t size, size_t *n)
{
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        const char *e = p;
        while (*e && *e != '/')
            e++;
        size_t len = (size_t)(e - p);
        if (len == 0)
            break;
        const char *seg = p;
        if (len == 1 && p[0] == '.') {
            p = e;
            continue;
        }
        if (len == 2 && p[0] == '.' && p[1] == '.')
            seg = "__parent__", len = 10;
        if (*n + len + 2 > size)
            return -1;
        if (*n)
            buf[(*n)++] = '/';
        memcpy(buf + *n, seg, len);
        *n += len;
        buf[*n] = 0;
        p = e;
    }
    return 0;
}

int batch_output_key(const char *path, char *buf, size_t size)
{
    size_t n = 0;
    if (!size)
        return -1;
    buf[0] = 0;
    const char *scheme = strstr(path, "://");
    if (scheme) {
        const char *rest = scheme + 3;
        size_t cut = strcspn(rest, "?#"); /* queries and fragments are not names */
        char tmp[LINE_MAX_BYTES];
        if (cut >= sizeof tmp)
            return -1;
        memcpy(tmp, rest, cut);
        tmp[cut] = 0;
        if (append_segments("url", buf, size, &n) || append_segments(tmp, buf, size, &n))
            return -1;
        const char *base = strrchr(buf, '/');
        if (!base || !strchr(base, '.') || !strcmp(buf, "url") || base == strchr(buf, '/')) {
            /* no file name with an extension (or only a host): give it one */
            if (n + 5 > size)
                return -1;
            memcpy(buf + n, ".mp4", 5);
            n += 4;
        }
        return 0;
    }
    if (append_segments(path, buf, size, &n))
        return -1;
    return n ? 0 : -1;
}

static int push(batch_plan *plan, const char *path, ptim_error *err)
{
    char key[PATH_MAX];
    if (batch_output_key(path, key, sizeof key) < 0)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "%.200s: no output name can be made from it (empty or too long)", path);
    if (plan->count == plan->cap) {
        int cap = plan->cap ? plan->cap * 2 : 64;
        batch_input *it = realloc(plan->items, sizeof *it * (size_t)cap);
        if (!it)
            return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
        plan->items = it;
        plan->cap = cap;
    }
    batch_input *in = &plan->items[plan->count];
    in->path = strdup(path);
    in->key = strdup(key);
    in->url = strstr(path, "://") != NULL;
    if (!in->path || !in->key) {
        free(in->path);
        free(in->key);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    }
    plan->count++;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool same_dir(const char *dir, const char *skip_real)
{
    char real[PATH_MAX];
    return skip_real && realpath(dir, real) && !strcmp(real, skip_real);
}

static int walk(batch_plan *plan, const char *dir, const char *skip_real, int depth, ptim_error *err)
{
    if (depth > 64)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "%.200s: directories nested too deep", dir);
    DIR *d = opendir(dir);
    if (!d)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot read the directory %.200s: %s",
                              dir, strerror(errno));
    char **names = NULL;
    int n = 0, cap = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, sizeof *nn * (size_t)cap);
            if (!nn) {
                rc = ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(e->d_name))) {
            rc = ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
            break;
        }
        n++;
    }
    closedir(d);
    if (!rc)
        qsort(names, (size_t)n, sizeof *names, by_name);
    for (int i = 0; i < n && !rc; i++) {
        char path[PATH_MAX];
        size_t dl = strlen(dir);
        if (snprintf(path, sizeof path, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/",
                     names[i]) >= (int)sizeof path) {
            rc = ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "path too long: %.200s/%.80s",
                                dir, names[i]);
            break;
        }
        struct stat st;
        if (stat(path, &st) != 0)
            continue; /* vanished or a dangling link */
        if (S_ISDIR(st.st_mode)) {
            if (!same_dir(path, skip_real))
                rc = walk(plan, path, skip_real, depth + 1, err);
        } else if (S_ISREG(st.st_mode) && is_media_name(names[i]) && !strstr(names[i], ".partial")) {
            rc = push(plan, path, err);
        }
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int batch_plan_add_entry(batch_plan *plan, const char *entry, const char *skip_dir, ptim_error *err)
{
    char skip_real[PATH_MAX];
    const char *skip = skip_dir && realpath(skip_dir, skip_real) ? skip_real : NULL;
    struct stat st;
    if (strstr(entry, "://"))
        return push(plan, entry, err);
    if (stat(entry, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (same_dir(entry, skip))
            return 0;
        return walk(plan, entry, skip, 0, err);
    }
    if (strpbrk(entry, "*?[") && access(entry, F_OK) != 0) {
        glob_t g;
        int r = glob(entry, 0, NULL, &g);
        if (r == GLOB_NOMATCH) /* kept as it is: fails alone as a missing file */
            return push(plan, entry, err);
        if (r != 0)
            return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot expand %.200s", entry);
        int rc = 0;
        for (size_t i = 0; i < g.gl_pathc && !rc; i++) {
            if (stat(g.gl_pathv[i], &st) == 0 && S_ISDIR(st.st_mode))
                rc = same_dir(g.gl_pathv[i], skip) ? 0 : walk(plan, g.gl_pathv[i], skip, 0, err);
            else
                rc = push(plan, g.gl_pathv[i], err);
        }
        globfree(&g);
        return rc;
    }
    return push(plan, entry, err);
}

int batch_manifest_lines(const char *text, size_t len, const char *name,
                         int (*fn)(void *ctx, const char *entry, ptim_error *err), void *ctx,
                         ptim_error *err)
{
    char line[LINE_MAX_BYTES];
    size_t pos = 0;
    int lineno = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        lineno++;
        size_t a = pos, b = end;
        pos = end + 1;
        while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r'))
            a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r'))
            b--;
        if (a == b || text[a] == '#')
            continue;
        if (b - a >= sizeof line)
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                  "%s:%d: the line is longer than %d bytes", name, lineno,
                                  LINE_MAX_BYTES - 1);
        if (memchr(text + a, 0, b - a))
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                  "%s:%d: the line holds a NUL byte (not a text manifest?)", name,
                                  lineno);
        memcpy(line, text + a, b - a);
        line[b - a] = 0;
        int r = fn(ctx, line, err);
        if (r)
            return r;
    }
    return 0;
}

typedef struct add_ctx {
    batch_plan *plan;
    const char *skip_dir;
} add_ctx;

static int add_line(void *opaque, const char *entry, ptim_error *err)
{
    add_ctx *c = opaque;
    return batch_plan_add_entry(c->plan, entry, c->skip_dir, err);
}

int batch_plan_read_manifest(batch_plan *plan, const char *file, const char *skip_dir,
                             ptim_error *err)
{
    bool std_in = !strcmp(file, "-");
    FILE *f = std_in ? stdin : fopen(file, "rb");
    if (!f)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "cannot read the manifest %.200s: %s",
                              file, strerror(errno));
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap) {
            cap = cap ? cap * 2 : 131072;
            char *t = realloc(text, cap);
            if (!t) {
                free(text);
                if (!std_in)
                    fclose(f);
                return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
            }
            text = t;
        }
        size_t r = fread(text + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
    }
    bool bad = ferror(f);
    if (!std_in)
        fclose(f);
    if (bad) {
        free(text);
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot read the manifest %.200s", file);
    }
    add_ctx c = {plan, skip_dir};
    int rc = batch_manifest_lines(text, len, std_in ? "stdin" : file, add_line, &c, err);
    free(text);
    return rc;
}

int batch_parse_shard(const char *text, int *index, int *count, ptim_error *err)
{
    char *end;
    errno = 0;
    long i = strtol(text, &end, 10);
    if (end != text && *end == '/' && !errno) {
        const char *q = end + 1;
        long n = strtol(q, &end, 10);
        if (end != q && !*end && !errno && n >= 1 && n <= 100000 && i >= 0 && i < n) {
            *index = (int)i;
            *count = (int)n;
            return 0;
        }
    }
    return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                          "--shard %.40s: give I/N with 0 <= I < N (e.g. 0/4)", text);
}

void batch_plan_shard(batch_plan *plan, int index, int count)
{
    int kept = 0;
    for (int i = 0; i < plan->count; i++) {
        batch_input *in = &plan->items[i];
        if ((int)(batch_key_hash(in->key) % (uint64_t)count) == index) {
            plan->items[kept++] = *in;
        } else {
            free(in->path);
            free(in->key);
        }
    }
    plan->count = kept;
}

static int by_key(const void *a, const void *b)
{
    const batch_input *x = *(batch_input *const *)a, *y = *(batch_input *const *)b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x < y ? -1 : x > y);
}

int batch_plan_check(batch_plan *plan, ptim_error *err)
{
    if (plan->count < 2)
        return 0;
    batch_input **order = malloc(sizeof *order * (size_t)plan->count);
    if (!order)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    for (int i = 0; i < plan->count; i++)
        order[i] = &plan->items[i];
    qsort(order, (size_t)plan->count, sizeof *order, by_key);
    int rc = 0;
    /* Mark repeats (path emptied), keeping the first in manifest order. */
    for (int i = 1; i < plan->count && !rc; i++) {
        batch_input *a = order[i - 1], *b = order[i];
        if (strcmp(a->key, b->key))
            continue;
        if (strcmp(a->path, b->path)) {
            rc = ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                "%.200s and %.200s would both be written to %.200s; list one of them "
                                "under another name",
                                a->path, b->path, a->key);
            break;
        }
        free(b->path);
        b->path = NULL;
        order[i] = a; /* a third copy compares with the first */
    }
    free(order);
    int kept = 0;
    for (int i = 0; i < plan->count; i++) {
        if (plan->items[i].path)
            plan->items[kept++] = plan->items[i];
        else
            free(plan->items[i].key);
    }
    plan->count = kept;
    return rc;
}

void batch_plan_free(batch_plan *plan)
{
    for (int i = 0; i < plan->count; i++) {
        free(plan->items[i].path);
        free(plan->items[i].key);
    }
    free(plan->items);
    memset(plan, 0, sizeof *plan);
}
