/* batch/sidecar — see sidecar.h. */
#include "batch/sidecar.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libavutil/mem.h>
#include <libavutil/sha.h>

#include "pipeline/guard.h"

#define MIB (1024 * 1024)

static void hex(const uint8_t *d, int n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = 0;
}

/* Hashes up to `n` bytes of fd from `off`; -1 on a read error. */
static int sha_range(struct AVSHA *sha, int fd, int64_t off, int64_t n, uint8_t *buf)
{
    while (n > 0) {
        ssize_t r = pread(fd, buf, (size_t)(n < 65536 ? n : 65536), (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        av_sha_update(sha, buf, (unsigned)r);
        off += r;
        n -= r;
    }
    return 0;
}

int batch_fingerprint_input(const char *path, bool url, batch_fingerprint *fp, ptim_error *err)
{
    memset(fp, 0, sizeof *fp);
    if (url) {
        fp->size = -1;
        return 0;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot open %.300s: %s", path,
                              strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "%.300s is not a regular file", path);
    }
    fp->size = (int64_t)st.st_size;
    fp->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    struct AVSHA *sha = av_sha_alloc();
    uint8_t *buf = malloc(65536);
    int rc = 0;
    if (!sha || !buf || av_sha_init(sha, 256) < 0) {
        rc = ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    } else {
        char size_text[32];
        int n = snprintf(size_text, sizeof size_text, "%lld\n", (long long)fp->size);
        av_sha_update(sha, (const uint8_t *)size_text, (unsigned)n);
        int64_t head = fp->size < MIB ? fp->size : MIB;
        int64_t tail_off = fp->size > 2 * MIB ? fp->size - MIB : head;
        if (sha_range(sha, fd, 0, head, buf) || sha_range(sha, fd, tail_off, fp->size - tail_off, buf))
            rc = ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot read %.300s: %s", path,
                                strerror(errno));
        uint8_t digest[32];
        av_sha_final(sha, digest);
        hex(digest, 32, fp->checksum);
    }
    av_free(sha);
    free(buf);
    close(fd);
    return rc;
}

bool batch_setting_is_cosmetic(const char *key)
{
    static const char *const cosmetic[] = {
        "system.",                          /* log level, model dir, hot reload */
        "performance.gpu_memory_pool_size_mb", "performance.max_processing_workers",
        "performance.frame_buffer_size",    "performance.target_fps", /* live mode only */
        "source.input", "source.realtime",  "source.reconnect_", "source.read_timeout_ms",
        "output.target", "output.target_delay_ms", "output.write_retries", "output.overwrite",
        "server.", "log.",
    };
    for (size_t i = 0; i < sizeof cosmetic / sizeof cosmetic[0]; i++) {
        size_t n = strlen(cosmetic[i]);
        if (cosmetic[i][n - 1] == '.' || cosmetic[i][n - 1] == '_' ? !strncmp(key, cosmetic[i], n)
                                                                   : !strcmp(key, cosmetic[i]))
            return true;
    }
    return false;
}

/* Normalized default of a row (bools as "true"/"false", sizes in bytes). */
static const char *normalized_default(const ptim_option *o, char *buf, size_t size)
{
    char why[128];
    if (ptim_option_validate(o, o->def, buf, size, why, sizeof why) < 0)
        return o->def;
    return buf;
}

static int sha_file(struct AVSHA *sha, const char *key, const char *path, ptim_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s: cannot read %.300s: %s", key,
                              path, strerror(errno));
    }
    uint8_t *buf = malloc(65536);
    int rc = buf ? sha_range(sha, fd, 0, (int64_t)st.st_size, buf) : -1;
    free(buf);
    close(fd);
    if (rc)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s: cannot read %.300s", key, path);
    return 0;
}

int batch_settings_digest(const ptim_config *cfg, char out[65], ptim_error *err)
{
    struct AVSHA *sha = av_sha_alloc();
    if (!sha || av_sha_init(sha, 256) < 0) {
        av_free(sha);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    }
    /* Only values that differ from their defaults: a setting added in a later
     * version, at its default, leaves old records valid (the version is
     * compared on its own). */
    for (int i = 0; i < ptim_option_count; i++) {
        const ptim_option *o = &ptim_options[i];
        if (batch_setting_is_cosmetic(o->key))
            continue;
        char def[512];
        const char *v = ptim_config_text(cfg, i);
        if (!strcmp(v, normalized_default(o, def, sizeof def)))
            continue;
        av_sha_update(sha, (const uint8_t *)o->key, (unsigned)strlen(o->key) + 1);
        av_sha_update(sha, (const uint8_t *)v, (unsigned)strlen(v) + 1);
        /* A picture drawn into the output counts by its contents. */
        if (o->type == PTIM_OPT_PATH && *v && (!strcmp(o->key, "mask.image") || !strcmp(o->key, "swap.identity")) &&
            sha_file(sha, o->key, v, err) < 0) {
            av_free(sha);
            return -1;
        }
    }
    uint8_t digest[32];
    av_sha_final(sha, digest);
    av_free(sha);
    hex(digest, 32, out);
    return 0;
}

/* ---- records ---------------------------------------------------------- */

static cJSON *settings_json(const ptim_config *cfg)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < ptim_option_count; i++)
        if (!batch_setting_is_cosmetic(ptim_options[i].key))
            cJSON_AddStringToObject(o, ptim_options[i].key, ptim_config_text(cfg, i));
    return o;
}

int batch_sidecar_write(const char *path, const batch_record *rec, const ptim_config *cfg,
                        ptim_error *err)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    cJSON_AddNumberToObject(j, "ptim_sidecar", 1);
    cJSON_AddStringToObject(j, "status", rec->done ? "done" : "failed");
    if (!rec->done)
        cJSON_AddStringToObject(j, "reason", rec->reason);
    cJSON_AddStringToObject(j, "input", rec->input);
    cJSON_AddNumberToObject(j, "input_size", (double)rec->fp.size);
    char mtime[32]; /* as text: nanoseconds since 1970 need more digits than a JSON number keeps */
    snprintf(mtime, sizeof mtime, "%lld", (long long)rec->fp.mtime_ns);
    cJSON_AddStringToObject(j, "input_mtime_ns", mtime);
    cJSON_AddStringToObject(j, "input_checksum", rec->fp.checksum);
    cJSON_AddStringToObject(j, "checksum_method", "sha256(size, first MiB, last MiB)");
    cJSON_AddStringToObject(j, "ptim_version", rec->version);
    cJSON_AddStringToObject(j, "settings_digest", rec->digest);
    if (cfg)
        cJSON_AddItemToObject(j, "settings", settings_json(cfg));
    cJSON_AddNumberToObject(j, "frames", (double)rec->frames);
    cJSON_AddNumberToObject(j, "frames_masked", (double)rec->frames_masked);
    cJSON_AddNumberToObject(j, "frames_covered", (double)rec->frames_covered);
    cJSON_AddNumberToObject(j, "frames_dropped", (double)rec->frames_dropped);
    cJSON_AddNumberToObject(j, "faces", (double)rec->faces);
    cJSON *g = cJSON_AddObjectToObject(j, "covered_by_reason");
    for (int r = 1; g && r < BATCH_GUARD_REASONS && r < PTIM_GUARD_REASON__COUNT; r++)
        cJSON_AddNumberToObject(g, ptim_guard_reason_name((ptim_guard_reason)r),
                                (double)rec->covered_by_reason[r]);
    if (rec->verify != BATCH_VERIFY_NONE) {
        cJSON *v = cJSON_AddObjectToObject(j, "verify");
        cJSON_AddStringToObject(v, "result", rec->verify == BATCH_VERIFY_CLEAN ? "clean" : "leaked");
        cJSON_AddNumberToObject(v, "frames_checked", (double)rec->verify_frames_checked);
        cJSON_AddNumberToObject(v, "frames_leaked", (double)rec->verify_frames_leaked);
    }
    cJSON_AddNumberToObject(j, "output_size", (double)rec->output_size);
    cJSON_AddNumberToObject(j, "wall_s", rec->wall_s);
    cJSON_AddStringToObject(j, "finished_at", rec->finished_at);
    cJSON_AddStringToObject(j, "host", rec->host);
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.partial", path) >= (int)sizeof tmp) {
        free(text);
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "path too long: %.200s", path);
    }
    FILE *f = fopen(tmp, "w");
    bool ok = f && fprintf(f, "%s\n", text) >= 0;
    ok = f && fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    if (f && fclose(f) != 0)
        ok = false;
    free(text);
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot write %.300s: %s", path,
                              strerror(e));
    }
    return 0;
}

static int64_t num(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != v->valuedouble)
        return 0;
    if (v->valuedouble > 9e18 || v->valuedouble < -9e18)
        return 0;
    return (int64_t)v->valuedouble;
}

static void str(const cJSON *j, const char *key, char *out, size_t size)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    snprintf(out, size, "%s", cJSON_IsString(v) && v->valuestring ? v->valuestring : "");
}

int batch_sidecar_parse(const char *text, size_t len, batch_record *rec, ptim_error *err)
{
    memset(rec, 0, sizeof *rec);
    cJSON *j = cJSON_ParseWithLength(text, len);
    if (!j || !cJSON_IsObject(j) || num(j, "ptim_sidecar") != 1) {
        cJSON_Delete(j);
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "not a ptim sidecar record");
    }
    char status[16];
    str(j, "status", status, sizeof status);
    rec->done = !strcmp(status, "done");
    str(j, "reason", rec->reason, sizeof rec->reason);
    str(j, "input", rec->input, sizeof rec->input);
    rec->fp.size = num(j, "input_size");
    char mtime[32];
    str(j, "input_mtime_ns", mtime, sizeof mtime);
    rec->fp.mtime_ns = strtoll(mtime, NULL, 10);
    str(j, "input_checksum", rec->fp.checksum, sizeof rec->fp.checksum);
    str(j, "ptim_version", rec->version, sizeof rec->version);
    str(j, "settings_digest", rec->digest, sizeof rec->digest);
    rec->frames = num(j, "frames");
    rec->frames_masked = num(j, "frames_masked");
    rec->frames_covered = num(j, "frames_covered");
    rec->frames_dropped = num(j, "frames_dropped");
    rec->faces = num(j, "faces");
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(j, "covered_by_reason");
    for (int r = 1; cJSON_IsObject(g) && r < BATCH_GUARD_REASONS && r < PTIM_GUARD_REASON__COUNT; r++)
        rec->covered_by_reason[r] = num(g, ptim_guard_reason_name((ptim_guard_reason)r));
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "verify");
    if (cJSON_IsObject(v)) {
        char result[16];
        str(v, "result", result, sizeof result);
        rec->verify = !strcmp(result, "clean") ? BATCH_VERIFY_CLEAN : BATCH_VERIFY_LEAKED;
        rec->verify_frames_checked = num(v, "frames_checked");
        rec->verify_frames_leaked = num(v, "frames_leaked");
    }
    rec->output_size = num(j, "output_size");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(j, "wall_s");
    rec->wall_s = cJSON_IsNumber(w) ? w->valuedouble : 0;
    str(j, "finished_at", rec->finished_at, sizeof rec->finished_at);
    str(j, "host", rec->host, sizeof rec->host);
    cJSON_Delete(j);
    return 0;
}

int batch_sidecar_read(const char *path, batch_record *rec, ptim_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot read %.300s: %s", path,
                              strerror(errno));
    char *buf = malloc(1 << 20); /* a record is a few KiB; anything this big is not one */
    size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    int rc = buf ? batch_sidecar_parse(buf, n, rec, err)
                 : ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    free(buf);
    if (rc)
        ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%.300s is not a ptim sidecar record", path);
    return rc;
}

bool batch_sidecar_matches(const batch_record *rec, const batch_fingerprint *fp,
                           const char *digest, const char *output, bool want_verify, char *why,
                           size_t why_size)
{
    struct stat st;
    const char *diff = NULL;
    if (!rec->done)
        diff = "the last attempt failed";
    else if (strcmp(rec->version, PTIM_VERSION))
        diff = "another ptim version wrote it";
    else if (strcmp(rec->digest, digest))
        diff = "settings that change the pixels differ";
    else if (rec->fp.size != fp->size || rec->fp.mtime_ns != fp->mtime_ns ||
             strcmp(rec->fp.checksum, fp->checksum))
        diff = "the input changed";
    else if (stat(output, &st) != 0 || (int64_t)st.st_size != rec->output_size)
        diff = "the output is missing or has another size";
    else if (want_verify && rec->verify != BATCH_VERIFY_CLEAN)
        diff = "it was not verified clean";
    if (why && why_size)
        snprintf(why, why_size, "%s", diff ? diff : "up to date");
    return diff == NULL;
}
