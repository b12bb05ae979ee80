/* server/server — the control panel over libmicrohttpd; see server.h.
 *
 * Threads: libmicrohttpd's listener plus one thread per connection (bounded
 * by server.max_clients), and one worker of ours that once a second samples
 * the statistics and, while anyone watches a preview or records, takes the
 * newest frame from the preview slot and encodes the views being watched.
 * Streaming connections wait on the worker's condition variable for the
 * next picture of their view; a client that does not read blocks only its
 * own connection thread (and is dropped after the connection timeout). */
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "core/log.h"
#include "face/nswap.h"
#include "img/image.h"
#include "io/image_file.h"
#include "server/assets.h"
#include "server/jpeg.h"
#include "server/metrics.h"
#include "server/request.h"

#define MAX_QUERY 1024
#define MAX_CHANGES 64
#define BOUNDARY "ptimframe"

/* One encoded picture, shared by every client of its view. */
typedef struct picture {
    atomic_int refs;
    uint64_t seq;
    size_t size;
    uint8_t data[];
} picture;

static void picture_unref(picture *p)
{
    if (p && atomic_fetch_sub(&p->refs, 1) == 1)
        free(p);
}

struct ptim_server {
    struct MHD_Daemon *mhd;
    server_listen listen;
    char token[80];
    bool need_token;
    size_t max_body;
    ptim_config_store *store;
    bool read_only;
    char *userdata;
    char name[32];
    char url[96];
    ptim_preview *preview;

    pthread_mutex_t lock; /* everything below */
    pthread_cond_t fresh; /* a new picture or sample */
    const ptim_pipeline_stats *stats;
    server_sample sample;
    int watchers[SERVER_VIEW__COUNT];
    picture *latest[SERVER_VIEW__COUNT];
    uint64_t pic_seq;
    ptim_recorder *recorder;
    server_counters counters;
    int upload_seq;
    /* the frame behind the latest preview pictures: size and face boxes */
    int frame_w, frame_h, box_count;
    float boxes[PTIM_PREVIEW_MAX_BOXES][4];

    pthread_t worker;
    bool worker_started;
    atomic_bool stopping;
    struct timespec t0;
};

static void recording_json(ptim_server *s, cJSON *r);


typedef struct request {
    char query[MAX_QUERY];
    bool query_bad;
    char *body;
    size_t len;
    bool too_big, started;
    ptim_server *srv;
} request;

/* A preview viewer. A stream's is owned by its MHD response, which may
 * outlive the request record. */
typedef struct viewer {
    ptim_server *srv;
    server_view view;
    bool watching;
    picture *pic; /* being sent */
    size_t sent;  /* bytes of pic (then of the CRLF after it) sent */
} viewer;

static double since_start_s(const ptim_server *s)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - s->t0.tv_sec) + (t.tv_nsec - s->t0.tv_nsec) / 1e9;
}

/* ---- responses ---- */

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
                               const void *data, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)data, mode);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
                            "script-src 'self'; connect-src 'self'; frame-ancestors 'none'");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"ptim\"");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result respond_json(struct MHD_Connection *c, unsigned status, cJSON *o)
{
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!text)
        return respond(c, 500, "text/plain", "out of memory\n", 14, MHD_RESPMEM_PERSISTENT);
    return respond(c, status, "application/json", text, strlen(text), MHD_RESPMEM_MUST_FREE);
}

/* {"error": "<sentence>"} with `status`. */
static enum MHD_Result respond_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    if (o)
        cJSON_AddStringToObject(o, "error", msg);
    return respond_json(c, status, o);
}

/* ---- the worker: samples and preview pictures ---- */

static int total_watchers(const ptim_server *s, bool *want_source)
{
    int n = 0;
    *want_source = false;
    for (int v = 0; v < SERVER_VIEW__COUNT; v++) {
        n += s->watchers[v];
        if (s->watchers[v] && server_view_needs_source(v))
            *want_source = true;
    }
    return n;
}

/* Call with s->lock held after changing watchers or recording. */
static void update_viewers(ptim_server *s)
{
    bool want_source;
    int n = total_watchers(s, &want_source);
    ptim_config *cfg = ptim_config_store_acquire(s->store);
    int fps = (int)ptim_config_int(cfg, "server.preview_fps");
    ptim_config_release(cfg);
    ptim_preview_set_viewers(s->preview, n, want_source, fps);
}

static void *worker_main(void *arg)
{
    ptim_server *s = arg;
    server_jpeg *enc[SERVER_VIEW__COUNT] = {0};
    for (int v = 0; v < SERVER_VIEW__COUNT; v++)
        enc[v] = server_jpeg_new();
    uint64_t seen = 0;
    double next_sample = 0;
    int tick = 0;
    while (!atomic_load(&s->stopping)) {
        double now = since_start_s(s);
        if (now >= next_sample) {
            next_sample = now + 1.0;
            pthread_mutex_lock(&s->lock);
            server_sample next = s->sample;
            server_sample_take(&next, &s->sample, s->stats, now);
            s->sample = next;
            if (++tick % 5 == 0)
                update_viewers(s); /* follows live changes of server.preview_fps */
            pthread_cond_broadcast(&s->fresh);
            pthread_mutex_unlock(&s->lock);
        }
        if (!ptim_preview_active(s->preview)) {
            usleep(50000);
            continue;
        }
        ptim_preview_frame f;
        int r = ptim_preview_take(s->preview, seen, 200, &f);
        if (r <= 0)
            continue;
        seen = f.seq;
        ptim_config *cfg = ptim_config_store_acquire(s->store);
        int width = (int)ptim_config_int(cfg, "server.preview_width");
        ptim_config_release(cfg);
        pthread_mutex_lock(&s->lock);
        int watch[SERVER_VIEW__COUNT];
        memcpy(watch, s->watchers, sizeof watch);
        s->frame_w = f.output->width;
        s->frame_h = f.output->height;
        s->box_count = f.box_count;
        memcpy(s->boxes, f.boxes, sizeof s->boxes);
        pthread_mutex_unlock(&s->lock);
        for (int v = 0; v < SERVER_VIEW__COUNT; v++) {
            if (!watch[v] || !enc[v])
                continue;
            uint8_t *data;
            size_t size;
            if (server_jpeg_encode(enc[v], &f, v, width, &data, &size) < 0)
                continue; /* a viewer misses this picture */
            picture *p = malloc(sizeof *p + size);
            if (!p) {
                free(data);
                continue;
            }
            atomic_init(&p->refs, 1);
            p->size = size;
            memcpy(p->data, data, size);
            free(data);
            pthread_mutex_lock(&s->lock);
            p->seq = ++s->pic_seq;
            picture_unref(s->latest[v]);
            s->latest[v] = p;
            s->counters.preview_frames++;
            pthread_cond_broadcast(&s->fresh);
            pthread_mutex_unlock(&s->lock);
        }
        ptim_preview_release(s->preview, &f);
    }
    for (int v = 0; v < SERVER_VIEW__COUNT; v++)
        server_jpeg_free(enc[v]);
    return NULL;
}

/* ---- preview streams ---- */

static void watch(ptim_server *s, viewer *rq, server_view v)
{
    pthread_mutex_lock(&s->lock);
    s->watchers[v]++;
    s->counters.preview_clients++;
    update_viewers(s);
    pthread_mutex_unlock(&s->lock);
    rq->view = v;
    rq->watching = true;
}

static void unwatch(ptim_server *s, viewer *rq)
{
    if (!rq->watching)
        return;
    pthread_mutex_lock(&s->lock);
    s->watchers[rq->view]--;
    s->counters.preview_clients--;
    update_viewers(s);
    pthread_mutex_unlock(&s->lock);
    rq->watching = false;
}

/* The next picture of rq's view newer than `after`, waiting up to
 * timeout_ms; a new reference or NULL. */
static picture *next_picture(ptim_server *s, server_view v, uint64_t after, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L)
        until.tv_sec++, until.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&s->lock);
    while (!atomic_load(&s->stopping) && (!s->latest[v] || s->latest[v]->seq <= after))
        if (pthread_cond_timedwait(&s->fresh, &s->lock, &until) == ETIMEDOUT)
            break;
    picture *p = s->latest[v] && s->latest[v]->seq > after ? s->latest[v] : NULL;
    if (p)
        atomic_fetch_add(&p->refs, 1);
    pthread_mutex_unlock(&s->lock);
    return p;
}

/* Multipart stream: each part a header, the JPEG, CRLF. Only the newest
 * picture is ever sent; a slow reader skips the ones in between. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    viewer *rq = cls;
    ptim_server *s = rq->srv;
    for (;;) {
        if (atomic_load(&s->stopping))
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (rq->pic && rq->sent < rq->pic->size + 2) {
            size_t n = 0;
            if (rq->sent < rq->pic->size) {
                n = rq->pic->size - rq->sent < max ? rq->pic->size - rq->sent : max;
                memcpy(buf, rq->pic->data + rq->sent, n);
            } else {
                const char *crlf = &"\r\n"[rq->sent - rq->pic->size];
                n = strlen(crlf) < max ? strlen(crlf) : max;
                memcpy(buf, crlf, n);
            }
            rq->sent += n;
            return (ssize_t)n;
        }
        uint64_t after = rq->pic ? rq->pic->seq : 0;
        picture *p = next_picture(s, rq->view, after, 1000);
        if (!p)
            continue; /* nothing new yet: keep waiting (the stop flag ends it) */
        picture_unref(rq->pic);
        rq->pic = p;
        rq->sent = 0;
        char head[160];
        int n = snprintf(head, sizeof head, "--" BOUNDARY "\r\nContent-Type: image/jpeg\r\nContent-Length: %zu\r\n\r\n",
                         p->size);
        if ((size_t)n > max)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        memcpy(buf, head, (size_t)n);
        return n;
    }
}

static void stream_done(void *cls)
{
    viewer *rq = cls;
    picture_unref(rq->pic);
    unwatch(rq->srv, rq);
    free(rq);
}

static enum MHD_Result serve_preview(ptim_server *s, struct MHD_Connection *c, request *rq, bool stream)
{
    char name[16] = "output";
    int q = server_query_param(rq->query, "view", name, sizeof name);
    if (q == -1)
        strcpy(name, "output");
    int v = q == -2 ? -1 : server_view_parse(name);
    if (v < 0)
        return respond_error(c, 400, "view must be output, source, side or face");
    if (!stream) {
        viewer one = {.srv = s};
        watch(s, &one, v);
        picture *p = next_picture(s, v, 0, 5000);
        unwatch(s, &one);
        if (!p)
            return respond_error(c, 503, "no preview picture yet (is the pipeline running?)");
        void *copy = malloc(p->size);
        size_t size = p->size;
        if (copy)
            memcpy(copy, p->data, size);
        picture_unref(p);
        if (!copy)
            return respond_error(c, 500, "out of memory");
        return respond(c, 200, "image/jpeg", copy, size, MHD_RESPMEM_MUST_FREE);
    }
    viewer *vw = calloc(1, sizeof *vw);
    if (!vw)
        return respond_error(c, 500, "out of memory");
    vw->srv = s;
    watch(s, vw, v);
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_read, vw,
                                                               stream_done);
    if (!r) {
        unwatch(s, vw);
        free(vw);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "multipart/x-mixed-replace; boundary=" BOUNDARY);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- the JSON API ---- */

static cJSON *typed_value(const ptim_option *o, const char *text)
{
    switch (o->type) {
    case PTIM_OPT_BOOL: return cJSON_CreateBool(!strcmp(text, "true"));
    case PTIM_OPT_INT:
    case PTIM_OPT_SIZE:
    case PTIM_OPT_FLOAT: return cJSON_CreateNumber(strtod(text, NULL));
    default: return cJSON_CreateString(text);
    }
}

static enum MHD_Result get_config(ptim_server *s, struct MHD_Connection *c)
{
    ptim_config *cfg = ptim_config_store_acquire(s->store);
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < ptim_option_count; i++) {
        /* The token is a secret: shown only as set or not. */
        if (!strcmp(ptim_options[i].key, "server.token"))
            cJSON_AddStringToObject(o, "server.token", *s->token ? "(set)" : "");
        else
            cJSON_AddItemToObject(o, ptim_options[i].key, typed_value(&ptim_options[i], ptim_config_text(cfg, i)));
    }
    ptim_config_release(cfg);
    return respond_json(c, 200, o);
}

static enum MHD_Result get_options(ptim_server *s, struct MHD_Connection *c)
{
    ptim_config *cfg = ptim_config_store_acquire(s->store);
    cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "options");
    cJSON_AddBoolToObject(root, "read_only", s->read_only);
    cJSON_AddBoolToObject(root, "uploads", s->userdata != NULL && !s->read_only);
    for (int i = 0; arr && i < ptim_option_count; i++) {
        const ptim_option *o = &ptim_options[i];
        cJSON *e = cJSON_CreateObject();
        if (!e)
            break;
        cJSON_AddStringToObject(e, "key", o->key);
        cJSON_AddStringToObject(e, "type", ptim_opt_type_name(o->type));
        cJSON_AddStringToObject(e, "default", !strcmp(o->key, "server.token") ? "" : o->def);
        if (o->min <= o->max) {
            cJSON_AddNumberToObject(e, "min", o->min);
            cJSON_AddNumberToObject(e, "max", o->max);
        }
        if (o->choices) {
            cJSON *ch = cJSON_AddArrayToObject(e, "choices");
            const char *p = o->choices;
            while (*p) {
                const char *bar = strchr(p, '|');
                size_t n = bar ? (size_t)(bar - p) : strlen(p);
                char one[64];
                snprintf(one, sizeof one, "%.*s", (int)n, p);
                cJSON_AddItemToArray(ch, cJSON_CreateString(one));
                p += n + (bar ? 1 : 0);
            }
        }
        cJSON_AddBoolToObject(e, "live", o->live);
        cJSON_AddStringToObject(e, "help", o->help);
        cJSON_AddStringToObject(e, "origin", ptim_config_origin(cfg, i));
        cJSON_AddItemToArray(arr, e);
    }
    ptim_config_release(cfg);
    return respond_json(c, 200, root);
}

static enum MHD_Result patch_config(ptim_server *s, struct MHD_Connection *c, request *rq)
{
    server_change ch[MAX_CHANGES];
    char why[512];
    int n = server_parse_config_patch(rq->body ? rq->body : "", rq->len, ch, MAX_CHANGES, why, sizeof why);
    if (n < 0)
        return respond_error(c, 400, why);
    cJSON *o = cJSON_CreateObject(), *changed = cJSON_AddArrayToObject(o, "changed");
    for (int i = 0; i < n; i++) {
        ptim_error err = {0};
        int r = ptim_config_store_set(s->store, ch[i].key, ch[i].value, NULL, &err);
        if (r < 0) { /* validated above; only memory can fail here */
            cJSON_Delete(o);
            return respond_error(c, err.category == PTIM_ERR_CONFIG ? 400 : 500, err.message);
        }
        if (r > 0) {
            cJSON_AddItemToArray(changed, cJSON_CreateString(ch[i].key));
            ptim_log_info("server", "%s = %s (live change from the control panel)", ch[i].key, ch[i].value);
        }
    }
    pthread_mutex_lock(&s->lock);
    s->counters.live_changes += n;
    update_viewers(s);
    pthread_mutex_unlock(&s->lock);
    return respond_json(c, 200, o);
}

static enum MHD_Result get_stats(ptim_server *s, struct MHD_Connection *c)
{
    pthread_mutex_lock(&s->lock);
    cJSON *o = server_sample_json(&s->sample);
    if (o) {
        cJSON *p = cJSON_AddObjectToObject(o, "preview");
        cJSON_AddNumberToObject(p, "clients", (double)s->counters.preview_clients);
        cJSON_AddNumberToObject(p, "frames", (double)s->counters.preview_frames);
        cJSON_AddNumberToObject(p, "frame_width", s->frame_w);
        cJSON_AddNumberToObject(p, "frame_height", s->frame_h);
        cJSON *faces = cJSON_AddArrayToObject(p, "faces"); /* x, y, w, h in frame pixels */
        for (int i = 0; faces && i < s->box_count; i++)
            cJSON_AddItemToArray(faces, cJSON_CreateFloatArray(s->boxes[i], 4));
        recording_json(s, cJSON_AddObjectToObject(o, "recording"));
        cJSON_AddBoolToObject(o, "read_only", s->read_only);
    }
    pthread_mutex_unlock(&s->lock);
    return respond_json(c, 200, o);
}

static enum MHD_Result get_metrics(ptim_server *s, struct MHD_Connection *c)
{
    pthread_mutex_lock(&s->lock);
    size_t len = 0;
    char *text = server_metrics_text(&s->sample, &s->counters, &len);
    pthread_mutex_unlock(&s->lock);
    if (!text)
        return respond(c, 500, "text/plain", "out of memory\n", 14, MHD_RESPMEM_PERSISTENT);
    return respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, MHD_RESPMEM_MUST_FREE);
}

/* userdata/<sub>, created; false when there is no userdata directory. */
static bool userdata_sub(ptim_server *s, const char *sub, char *out, size_t n)
{
    if (!s->userdata || snprintf(out, n, "%s/%s", s->userdata, sub) >= (int)n)
        return false;
    return mkdir(out, 0700) == 0 || errno == EEXIST;
}

static void utc_stamp(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y%m%dT%H%M%SZ", &tm);
}

/* The bytes of an upload body {"filename": "…", "data": "<base64>"} (the
 * file name is ignored: ptim names the file), malloc'd; NULL with the
 * sentence for a 400 in why. */
static unsigned char *upload_bytes(const request *rq, long *n, char *why, size_t whyn)
{
    cJSON *o = cJSON_ParseWithLength(rq->body ? rq->body : "", rq->len);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(o, "data");
    if (!cJSON_IsObject(o) || !cJSON_IsString(data)) {
        cJSON_Delete(o);
        snprintf(why, whyn, "the body must be {\"filename\": \"…\", \"data\": \"<base64 file>\"}");
        return NULL;
    }
    const char *b64 = data->valuestring;
    const char *comma = !strncmp(b64, "data:", 5) ? strchr(b64, ',') : NULL; /* a data: URL is fine */
    if (comma)
        b64 = comma + 1;
    size_t len = strlen(b64);
    unsigned char *bytes = malloc(len / 4 * 3 + 4);
    *n = bytes ? server_base64_decode(b64, len, bytes, len / 4 * 3 + 4) : -1;
    cJSON_Delete(o);
    if (*n <= 0) {
        free(bytes);
        snprintf(why, whyn, "data is not base64");
        return NULL;
    }
    return bytes;
}

/* Stores an upload as userdata/uploads/<prefix>-<UTC>-<n>.<ext>, mode 0600,
 * never over an existing file: ptim chooses the name, nothing of the
 * client's reaches the file system. 0, or an HTTP status with why. */
static unsigned store_upload(ptim_server *s, const char *prefix, const char *ext, const unsigned char *bytes, long n,
                             char *path, size_t pathn, char *why, size_t whyn)
{
    char dir[512];
    if (!userdata_sub(s, "uploads", dir, sizeof dir)) {
        snprintf(why, whyn, "uploads need a userdata directory: start ptim with --userdata-dir DIR");
        return 409;
    }
    char stamp[32];
    utc_stamp(stamp, sizeof stamp);
    pthread_mutex_lock(&s->lock);
    int seq = ++s->upload_seq;
    pthread_mutex_unlock(&s->lock);
    if (snprintf(path, pathn, "%s/%s-%s-%d.%s", dir, prefix, stamp, seq, ext) >= (int)pathn) {
        snprintf(why, whyn, "the userdata directory's path is too long");
        return 500;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write(fd, bytes, (size_t)n) == n;
    int e = errno;
    if (fd >= 0 && close(fd) != 0 && ok)
        ok = false, e = errno;
    if (!ok) {
        if (fd >= 0)
            unlink(path);
        snprintf(why, whyn, "cannot store the upload in %s: %s", dir, strerror(e));
        return 500;
    }
    return 0;
}

/* The pipeline's counts of picture/model changes it applied and refused;
 * false when no run is attached. */
static bool asset_counts(ptim_server *s, long long *applied, long long *refused)
{
    pthread_mutex_lock(&s->lock);
    const ptim_pipeline_stats *st = s->stats;
    if (st) {
        *applied = atomic_load(&st->asset_reloads);
        *refused = atomic_load(&st->asset_rejects);
    }
    pthread_mutex_unlock(&s->lock);
    return st != NULL;
}

/* Sets `key` to the uploaded file and waits (up to 20 s) for the running
 * masker to take it between frames. 1: in use; 0: set, but no run took it
 * yet (none attached, or no frame came); -1: the masker refused it (why says
 * why): `key` is put back to its previous value, the masker kept the
 * previous file all along (pipeline.c reconfigure_masker), so no frame went
 * out unmasked. The caller removes the file on -1. */
static int apply_upload(ptim_server *s, const char *key, const char *path, char *why, size_t whyn)
{
    ptim_config *cfg = ptim_config_store_acquire(s->store);
    char *before = strdup(ptim_config_str(cfg, key));
    ptim_config_release(cfg);
    long long ok0 = 0, bad0 = 0;
    bool live = asset_counts(s, &ok0, &bad0);
    ptim_error err = {0};
    if (!before || ptim_config_store_set(s->store, key, path, NULL, &err) < 0) {
        snprintf(why, whyn, "%s", before ? err.message : "out of memory");
        free(before);
        return -1;
    }
    int verdict = 0;
    for (int i = 0; live && i < 400 && !atomic_load(&s->stopping); i++) {
        usleep(50000);
        long long ok = 0, bad = 0;
        pthread_mutex_lock(&s->lock);
        const ptim_pipeline_stats *st = s->stats;
        if (st) {
            ok = atomic_load(&st->asset_reloads);
            bad = atomic_load(&st->asset_rejects);
            if (bad > bad0) /* the text was written before the count rose */
                ptim_pipeline_stats_asset_error(st, why, whyn);
        }
        pthread_mutex_unlock(&s->lock);
        if (!st || ok < ok0 || bad < bad0)
            break; /* the run ended or another began: no verdict */
        if (bad > bad0) {
            verdict = -1;
            break;
        }
        if (ok > ok0) {
            verdict = 1;
            break;
        }
    }
    if (verdict < 0 && ptim_config_store_set(s->store, key, before, NULL, &err) < 0)
        ptim_log_error("server", "cannot put %s back to %s: %s", key, before, err.message);
    free(before);
    return verdict;
}

/* POST /api/identity (swap.identity) and /api/mask-image (mask.image): a PNG
 * or JPEG, checked by decoding it, then handed to the running masker, which
 * checks the rest (an identity photo needs exactly one face). */
static enum MHD_Result post_picture(ptim_server *s, struct MHD_Connection *c, request *rq, const char *key,
                                    const char *prefix)
{
    char why[1024], path[640];
    long n = 0;
    unsigned char *bytes = upload_bytes(rq, &n, why, sizeof why);
    if (!bytes)
        return respond_error(c, 400, why);
    const char *ext = n > 8 && !memcmp(bytes, "\x89PNG\r\n\x1a\n", 8)  ? "png"
                      : n > 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 ? "jpg"
                                                                       : NULL;
    if (!ext) {
        free(bytes);
        snprintf(why, sizeof why, "%s must be a PNG or JPEG picture", key);
        return respond_error(c, 400, why);
    }
    unsigned st = store_upload(s, prefix, ext, bytes, n, path, sizeof path, why, sizeof why);
    free(bytes);
    if (st)
        return respond_error(c, st, why);
    img_image img = {0};
    ptim_error err = {0};
    if (io_image_load(path, IMG_FMT_RGB24, &img, &err) < 0) {
        unlink(path);
        snprintf(why, sizeof why, "the picture cannot be read: %s", err.message);
        return respond_error(c, 400, why);
    }
    int w = img.view.width, h = img.view.height;
    img_image_free(&img);
    char verdict_why[512] = "";
    int v = apply_upload(s, key, path, verdict_why, sizeof verdict_why);
    if (v < 0) {
        unlink(path);
        snprintf(why, sizeof why, "the masker refused this picture and keeps the previous one: %s", verdict_why);
        return respond_error(c, 400, why);
    }
    ptim_log_info("server", "%s uploaded: %s (%dx%d)%s", key, path, w, h, v ? ", in use" : "");
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "key", key);
    cJSON_AddStringToObject(r, "path", path);
    cJSON_AddNumberToObject(r, "width", w);
    cJSON_AddNumberToObject(r, "height", h);
    cJSON_AddBoolToObject(r, "applied", v > 0);
    cJSON_AddStringToObject(r, "note", v > 0 ? "in use by the running masker"
                                             : "set; the masker takes it at the next frame it renders");
    return respond_json(c, 200, r);
}

/* POST /api/swap-model (swap.model: a DeepFaceLive .dfm or an inswapper
 * .onnx) and /api/swap-encoder (swap.encoder: an inswapper's ArcFace
 * encoder): stored, read with the ONNX reader and checked as the masker
 * checks it (inputs, outputs, sizes) before the option is set; a bad file is
 * removed. */
static enum MHD_Result post_model(ptim_server *s, struct MHD_Connection *c, request *rq, const char *key)
{
    bool encoder = !strcmp(key, "swap.encoder");
    char why[1024], path[640];
    long n = 0;
    unsigned char *bytes = upload_bytes(rq, &n, why, sizeof why);
    if (!bytes)
        return respond_error(c, 400, why);
    unsigned st = store_upload(s, encoder ? "swap-encoder" : "swap-model", "onnx", bytes, n, path, sizeof path, why,
                               sizeof why);
    free(bytes);
    if (st)
        return respond_error(c, st, why);
    face_nswap_kind kind = FACE_NSWAP_INSWAPPER;
    int res = 112;
    ptim_error err = {0};
    if ((encoder ? face_nswap_check_encoder(path, &err) : face_nswap_check(path, &kind, &res, &err)) < 0) {
        unlink(path);
        return respond_error(c, 400, err.message);
    }
    /* A DFM keeps DeepFaceLive's extension, so the file says what it is. */
    if (!encoder && kind == FACE_NSWAP_DFM) {
        char dfm[640];
        snprintf(dfm, sizeof dfm, "%.*s.dfm", (int)(strlen(path) - strlen(".onnx")), path);
        if (link(path, dfm) == 0) { /* link, not rename: never over an existing file */
            unlink(path);
            snprintf(path, sizeof path, "%s", dfm);
        }
    }
    const char *what = encoder ? "arcface" : kind == FACE_NSWAP_DFM ? "dfm" : "inswapper";
    char verdict_why[512] = "";
    int v = apply_upload(s, key, path, verdict_why, sizeof verdict_why);
    if (v < 0) {
        unlink(path);
        snprintf(why, sizeof why, "the masker refused this %s and keeps the previous one: %s",
                 encoder ? "encoder" : "model", verdict_why);
        return respond_error(c, 400, why);
    }
    ptim_log_info("server", "%s uploaded: %s (%s, %d px)", key, path, what, res);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "key", key);
    cJSON_AddStringToObject(r, "path", path);
    cJSON_AddStringToObject(r, "kind", what);
    cJSON_AddNumberToObject(r, "resolution", res);
    cJSON_AddBoolToObject(r, "applied", v > 0);
    cJSON_AddStringToObject(r, "note", v > 0       ? "in use by the running masker"
                                       : encoder ? "set; the masker takes it with an inswapper swap.model"
                                                 : "set; the masker takes it at the next frame it renders");
    return respond_json(c, 200, r);
}

/* The recording's state as the panel shows it: on, file, frames, error. */
static void recording_json(ptim_server *s, cJSON *r)
{
    ptim_recording_status st;
    ptim_recorder_status(s->recorder, &st);
    cJSON_AddBoolToObject(r, "on", st.on);
    cJSON_AddBoolToObject(r, "writing", st.writing);
    cJSON_AddStringToObject(r, "file", st.path);
    cJSON_AddNumberToObject(r, "frames", (double)st.frames);
    if (st.error[0])
        cJSON_AddStringToObject(r, "error", st.error);
}

/* Start or stop recording the output. The pipeline's sink thread opens or
 * finishes the file at its next frame; the answer waits for that (up to
 * 10 s), so a stopped recording is whole under its name when it comes. */
static enum MHD_Result post_recording(ptim_server *s, struct MHD_Connection *c, request *rq)
{
    cJSON *o = cJSON_ParseWithLength(rq->body ? rq->body : "", rq->len);
    const cJSON *on = cJSON_GetObjectItemCaseSensitive(o, "recording");
    if (!cJSON_IsObject(o) || !cJSON_IsBool(on)) {
        cJSON_Delete(o);
        return respond_error(c, 400, "the body must be {\"recording\": true|false}");
    }
    bool want = cJSON_IsTrue(on);
    cJSON_Delete(o);
    char dir[512];
    if (want && !userdata_sub(s, "recordings", dir, sizeof dir))
        return respond_error(c, 409, "recording needs a userdata directory: start ptim with --userdata-dir DIR");
    if (want) {
        char stamp[32], path[700];
        utc_stamp(stamp, sizeof stamp);
        if (snprintf(path, sizeof path, "%s/recording-%s.mp4", dir, stamp) >= (int)sizeof path)
            return respond_error(c, 500, "the recordings directory's path is too long");
        ptim_recorder_start(s->recorder, path); /* -1: already on, which is what was asked */
    } else {
        ptim_recorder_stop(s->recorder);
    }
    bool acted = ptim_recorder_wait(s->recorder, 10000);
    cJSON *r = cJSON_CreateObject();
    ptim_recording_status st;
    ptim_recorder_status(s->recorder, &st);
    if (want && !st.on && st.error[0]) {
        cJSON_Delete(r);
        char why[sizeof st.path + sizeof st.error + 32];
        snprintf(why, sizeof why, "cannot record to %s: %s", st.path, st.error);
        return respond_error(c, 500, why);
    }
    cJSON_AddBoolToObject(r, "recording", st.on);
    cJSON_AddStringToObject(r, "file", st.path);
    cJSON_AddNumberToObject(r, "frames", (double)st.frames);
    if (!acted) /* no frame came to act on yet (a stalled source) */
        cJSON_AddStringToObject(r, "note", want ? "starts with the next frame" : "finishes with the next frame");
    return respond_json(c, 200, r);
}

/* ---- request dispatch and the rules every request passes ---- */

static void count(ptim_server *s, long long *field)
{
    pthread_mutex_lock(&s->lock);
    (*field)++;
    pthread_mutex_unlock(&s->lock);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)c;
    request *rq = calloc(1, sizeof *rq);
    if (!rq)
        return NULL;
    rq->srv = cls;
    const char *q = uri ? strchr(uri, '?') : NULL;
    if (q && strlen(q + 1) >= sizeof rq->query)
        rq->query_bad = true;
    else if (q)
        strcpy(rq->query, q + 1);
    return rq;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    request *rq = *con_cls;
    if (!rq)
        return;
    free(rq->body);
    free(rq);
    *con_cls = NULL;
}

static bool is_state_change(const char *method)
{
    return strcmp(method, "GET") && strcmp(method, "HEAD");
}

/* The checks before any body is read (the token is checked before this);
 * *refused says a refusal was queued. */
static enum MHD_Result check(ptim_server *s, struct MHD_Connection *c, const char *method, bool *refused)
{
    *refused = true;
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (s->listen.loopback && !server_host_is_loopback(host)) {
        count(s, &s->counters.refused_origin);
        return respond_error(c, 403, "this server answers only to loopback host names (localhost, 127.0.0.1, [::1])");
    }
    if (is_state_change(method)) {
        if (s->read_only) {
            count(s, &s->counters.refused_other);
            return respond_error(c, 403, "this panel is read-only (ptim mask --http)");
        }
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
        const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
        if (!server_same_origin(origin, host, site)) {
            count(s, &s->counters.refused_origin);
            return respond_error(c, 403, "cross-origin requests may not change anything");
        }
        if (!server_is_json_type(ct)) {
            count(s, &s->counters.refused_other);
            return respond_error(c, 415, "requests that change something must be Content-Type: application/json");
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > s->max_body) {
            count(s, &s->counters.refused_body);
            char why[120];
            snprintf(why, sizeof why, "the body is larger than server.max_body_mb (%zu MiB)", s->max_body >> 20);
            return respond_error(c, 413, why);
        }
    }
    *refused = false;
    return MHD_YES;
}

static bool token_presented(ptim_server *s, struct MHD_Connection *c, request *rq)
{
    if (!s->need_token)
        return true;
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth)
        return server_token_ok(auth, s->token);
    char tok[128];
    return server_query_param(rq->query, "token", tok, sizeof tok) > 0 && server_token_ok(tok, s->token);
}

static enum MHD_Result route(ptim_server *s, struct MHD_Connection *c, const char *url, const char *method,
                             request *rq)
{
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    bool post = !strcmp(method, "POST");
    if (!strcmp(url, "/healthz"))
        return get ? respond(c, 200, "text/plain", "ok", 2, MHD_RESPMEM_PERSISTENT)
                   : respond_error(c, 405, "GET only");
    if (!strcmp(url, "/api/config")) {
        if (get)
            return get_config(s, c);
        if (!strcmp(method, "PATCH"))
            return patch_config(s, c, rq);
        return respond_error(c, 405, "GET or PATCH only");
    }
    static const char *const get_only[] = {"/api/options", "/api/stats", "/metrics", "/preview.mjpeg", "/preview.jpg"};
    for (size_t i = 0; i < sizeof get_only / sizeof get_only[0]; i++) {
        if (strcmp(url, get_only[i]))
            continue;
        if (!get)
            return respond_error(c, 405, "GET only");
        switch (i) {
        case 0: return get_options(s, c);
        case 1: return get_stats(s, c);
        case 2: return get_metrics(s, c);
        case 3: return serve_preview(s, c, rq, true);
        default: return serve_preview(s, c, rq, false);
        }
    }
    if (!strcmp(url, "/api/identity"))
        return post ? post_picture(s, c, rq, "swap.identity", "identity") : respond_error(c, 405, "POST only");
    if (!strcmp(url, "/api/mask-image"))
        return post ? post_picture(s, c, rq, "mask.image", "mask-image") : respond_error(c, 405, "POST only");
    if (!strcmp(url, "/api/swap-model"))
        return post ? post_model(s, c, rq, "swap.model") : respond_error(c, 405, "POST only");
    if (!strcmp(url, "/api/swap-encoder"))
        return post ? post_model(s, c, rq, "swap.encoder") : respond_error(c, 405, "POST only");
    if (!strcmp(url, "/api/recording"))
        return post ? post_recording(s, c, rq) : respond_error(c, 405, "POST only");
    const server_asset *a = server_asset_find(url);
    if (!a)
        return respond_error(c, 404, "no such page");
    if (!get)
        return respond_error(c, 405, "GET only");
    return respond(c, 200, a->content_type, a->data, a->size, MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    ptim_server *s = cls;
    request *rq = *con_cls;
    if (!rq)
        return MHD_NO; /* out of memory in on_uri */
    if (!rq->started) {
        rq->started = true;
        count(s, &s->counters.requests);
        if (rq->query_bad) {
            count(s, &s->counters.refused_other);
            return respond_error(c, 414, "the query string is too long");
        }
        if (!token_presented(s, c, rq)) {
            count(s, &s->counters.refused_auth);
            return respond_error(c, 401, "this server needs its token: Authorization: Bearer TOKEN (server.token)");
        }
        bool refused;
        enum MHD_Result r = check(s, c, method, &refused);
        if (refused)
            return r;
        return MHD_YES; /* the body, if any, comes next */
    }
    if (*upload_size) {
        if (!rq->too_big) {
            if (rq->len + *upload_size > s->max_body) {
                rq->too_big = true;
                free(rq->body);
                rq->body = NULL;
            } else {
                char *b = realloc(rq->body, rq->len + *upload_size + 1);
                if (!b)
                    return MHD_NO;
                memcpy(b + rq->len, upload, *upload_size);
                rq->len += *upload_size;
                b[rq->len] = 0;
                rq->body = b;
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->too_big) {
        count(s, &s->counters.refused_body);
        char why[120];
        snprintf(why, sizeof why, "the body is larger than server.max_body_mb (%zu MiB)", s->max_body >> 20);
        return respond_error(c, 413, why);
    }
    return route(s, c, url, method, rq);
}

/* ---- start and stop ---- */

static int make_token(char *out, size_t n)
{
    unsigned char raw[24];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t got = read(fd, raw, sizeof raw);
    close(fd);
    if (got != (ssize_t)sizeof raw || n < 2 * sizeof raw + 1)
        return -1;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    return 0;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = 0;
    ptim_log_debug("server", "libmicrohttpd: %s", msg);
}

int ptim_server_start(const ptim_server_desc *d, ptim_server **out, ptim_error *err)
{
    *out = NULL;
    ptim_config *cfg = ptim_config_store_acquire(d->store);
    char why[200];
    server_listen l;
    const char *listen_text = ptim_config_str(cfg, "server.listen");
    if (server_parse_listen(listen_text, &l, why, sizeof why) < 0) {
        ptim_config_release(cfg);
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "server.listen: %s", why);
    }
    ptim_server *s = calloc(1, sizeof *s);
    if (!s || !(s->preview = ptim_preview_new()) || !(s->recorder = ptim_recorder_new())) {
        free(s);
        ptim_config_release(cfg);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory starting the control panel");
    }
    s->listen = l;
    s->store = d->store;
    s->read_only = d->read_only;
    s->userdata = d->userdata_dir ? strdup(d->userdata_dir) : NULL;
    snprintf(s->name, sizeof s->name, "%s", d->name ? d->name : "ptim");
    s->max_body = (size_t)ptim_config_int(cfg, "server.max_body_mb") << 20;
    int max_clients = (int)ptim_config_int(cfg, "server.max_clients");
    const char *token = ptim_config_str(cfg, "server.token");
    if (strlen(token) >= sizeof s->token) {
        ptim_config_release(cfg);
        ptim_server_stop(s);
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "server.token is longer than %zu characters",
                              sizeof s->token - 1);
    }
    snprintf(s->token, sizeof s->token, "%s", token);
    ptim_config_release(cfg);
    s->need_token = !l.loopback;
    bool generated = false;
    if (s->need_token && !*s->token) {
        if (make_token(s->token, sizeof s->token) < 0) {
            ptim_server_stop(s);
            return ptim_error_set(err, PTIM_ERR_INTERNAL, PTIM_SEV_HIGH, "cannot read /dev/urandom for a token");
        }
        generated = true;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->fresh, NULL);
    clock_gettime(CLOCK_MONOTONIC, &s->t0);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (l.family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->mhd = MHD_start_daemon(flags, (uint16_t)l.port, NULL, NULL, on_request, s,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *)l.addr,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)max_clients,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                              MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
                              MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
                              MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
                              MHD_OPTION_END);
    if (!s->mhd) {
        int e = errno;
        ptim_server_stop(s);
        return ptim_error_set(err, PTIM_ERR_NETWORK, PTIM_SEV_HIGH, "control panel: cannot listen on %s: %s",
                              l.shown, e ? strerror(e) : "libmicrohttpd refused");
    }
    s->sample.items = 0;
    if (pthread_create(&s->worker, NULL, worker_main, s) != 0) {
        ptim_server_stop(s);
        return ptim_error_set(err, PTIM_ERR_INTERNAL, PTIM_SEV_HIGH, "control panel: cannot start a thread");
    }
    s->worker_started = true;
    snprintf(s->url, sizeof s->url, "http://%s/", l.shown);
    fprintf(stderr, "%s: control panel at %s%s\n", s->name, s->url, s->read_only ? " (read-only)" : "");
    if (generated)
        fprintf(stderr, "%s: control panel token (set server.token to choose one): %s\n", s->name, s->token);
    ptim_log_info("server", "control panel at %s", s->url);
    *out = s;
    return 0;
}

ptim_preview *ptim_server_preview(ptim_server *s) { return s ? s->preview : NULL; }
ptim_recorder *ptim_server_recorder(ptim_server *s) { return s ? s->recorder : NULL; }

const char *ptim_server_url(const ptim_server *s) { return s->url; }

void ptim_server_attach(ptim_server *s, const ptim_pipeline_stats *stats, const char *input,
                        const char *output, int item, int items)
{
    pthread_mutex_lock(&s->lock);
    s->stats = stats;
    snprintf(s->sample.input, sizeof s->sample.input, "%s", input ? input : "");
    snprintf(s->sample.output, sizeof s->sample.output, "%s", output ? output : "");
    s->sample.item = item;
    s->sample.items = items;
    s->sample.running = false; /* the next sample starts the rates afresh */
    pthread_mutex_unlock(&s->lock);
}

void ptim_server_detach(ptim_server *s)
{
    pthread_mutex_lock(&s->lock);
    /* a last sample, so the final counts stay visible after the run */
    server_sample next = s->sample;
    server_sample_take(&next, &s->sample, s->stats, since_start_s(s));
    s->sample = next;
    s->sample.running = false;
    s->stats = NULL;
    pthread_mutex_unlock(&s->lock);
}

void ptim_server_stop(ptim_server *s)
{
    if (!s)
        return;
    atomic_store(&s->stopping, true);
    if (s->mhd) {
        pthread_mutex_lock(&s->lock);
        pthread_cond_broadcast(&s->fresh);
        pthread_mutex_unlock(&s->lock);
        MHD_stop_daemon(s->mhd);
    }
    if (s->worker_started)
        pthread_join(s->worker, NULL);
    if (s->mhd || s->worker_started) {
        for (int v = 0; v < SERVER_VIEW__COUNT; v++)
            picture_unref(s->latest[v]);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->fresh);
    }
    ptim_preview_free(s->preview);
    ptim_recorder_free(s->recorder);
    free(s->userdata);
    free(s);
}
