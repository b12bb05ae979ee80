/* pipeline/pipeline — the four stage threads, their queues and policies.
 *
 * Frames are pl_frame records from a small free list (the face_list inside is
 * large, so records are recycled, never allocated per frame); the pixels are
 * the decoder's refcounted AVFrame, passed along, not copied. The main thread
 * supervises: it turns *stop into an interrupt of the source and joins. */
#include "pipeline/pipeline.h"

#include <cjson/cJSON.h>
#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libavutil/time.h>
#include <libswscale/swscale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fault.h"
#include "core/mem.h"
#include "io/image_file.h"
#include "face/select.h"
#include "face/tracker.h"
#include "io/sink.h"
#include "io/source.h"
#include "pipeline/guard.h"
#include "pipeline/queue.h"

typedef struct pl_frame {
        AVFrame *av;
    int64_t index;
    int64_t t_in_us, t_analyzed_us;
    /* the face result's origin: media time (ms) of this frame and of the
     * oldest measurement its faces rest on (a held face: where it was last
     * seen), and when that frame entered (wall, µs) */
    int64_t t_ms, result_t_ms, result_t_in_us;
    bool analyzed, filler, stale, dropped;
    ptim_guard_action action;
    ptim_guard_reason reason;
    ptim_cover cover;
    /* which of the stats' outcome counters the render stage added this frame
     * to: taken back if live mode then evicts it before the sink writes it */
    enum { RENDERED_NOT, RENDERED_MASKED, RENDERED_MODE_NONE, RENDERED_COVERED,
           RENDERED_PASSTHROUGH } rendered;
    AVFrame *preview_src; /* the frame before masking, for a preview viewer, or NULL */
    face_list faces;
} pl_frame;

typedef struct audio_item {
    struct audio_item *next;
    AVPacket *pkt;
    int64_t t_us;
} audio_item;

#define AUDIO_QUEUE_MAX 20000

/* A picture option (swap.identity, mask.image) as the render thread last
 * saw it: `tried` is the path last attempted (so a bad file is tried once,
 * not on every settings change), `img` the picture loaded here (NULL while
 * the caller's picture from desc->assets is in use). */
typedef struct live_asset {
    char tried[1024];
    char name[1024]; /* the file of `img`, for the masker's messages */
    img_image *img;
} live_asset;

/* Face analysis (the tracker's models; the recognizer behind privacy.keep /
 * only) and the masker, built on a thread of their own while the source and
 * the sink open: reading and packing the models is the largest part of
 * start-up (issue 12). The pipeline's thread takes the results, and judges
 * their failures, once both are open (join_analysis). */
typedef struct analysis_load {
    pthread_t th;
    bool running, first_run;
    const ptim_config *cfg;
    const face_masker_assets *assets;
    face_tracker *tracker;
    face_select *select;
    face_masker *masker;
    int select_rc;
    ptim_error tracker_err, select_err, masker_err;
    double tracker_ms, masker_ms;
} analysis_load;

typedef struct pl {
    const ptim_pipeline_desc *desc;
    analysis_load *load; /* while the analysis is being built; see join_analysis */
    ptim_pipeline_result *res;
    ptim_pipeline_stats *st;
    io_source *src;
    io_sink *sink;
    face_tracker *tracker;
    face_select *select; /* privacy.keep / privacy.only; NULL: every face masked */
    bool warned_select;
    face_masker *masker;
    ptim_queue *q_analyze, *q_render, *q_sink;
    ptim_histogram *hist[PTIM_STAGE__COUNT];
    AVRational tb, atb;
    int64_t t_start_us;
    int64_t expected_frames;
    /* frame records and pixel buffers we allocate come from core/mem */
    ptim_mem_pool *pool;
    /* audio packets on their way to the sink, in source order */
    pthread_mutex_t audio_lock;
    audio_item *a_head, *a_tail;
    int a_count;
    /* hot reload: the analyze thread polls, the render thread follows */
    pthread_mutex_t cfg_lock;
    ptim_config *cfg_latest;
    atomic_int cfg_gen;
    /* failure: the first fatal error wins */
    atomic_bool failed, stopping;
    pthread_mutex_t err_lock;
    bool have_fatal;
    /* timeline the pipeline guarantees rising (filler frames in between reopens) */
    int64_t last_pts, pts_shift, frame_dur;
    bool pts_started;
    /* settings read at start */
    int target_fps, target_delay_ms, reconnect_attempts, reconnect_backoff_ms, cells_across;
    bool warned_analysis, warned_render;
    /* analyze thread: the media time of the last frame analysed, the limit
     * on a gap the tracker may follow faces across (privacy.max_result_age_ms
     * in live mode, else none), and where each face id was last measured */
    int64_t last_analyzed_ms;
    int64_t follow_max_gap_ms;
    struct { int id; int64_t t_ms, t_in_us; } seen[2 * FACE_LIST_MAX];
    /* offline look-back (analyze thread): analysed frames not yet handed to
     * render, oldest first, and the highest face id already followed back */
    pl_frame *held[FACE_TRACKER_LOOKBACK_MAX];
    int n_held;
    int max_traced_id;
    face_list scan; /* end-of-stream full scan, scratch */
    int64_t next_mem_publish_us;
    /* render thread: the pictures the masker works from. They start as the
     * caller's (desc->assets) and are replaced when swap.identity or
     * mask.image changes live (live_asset). */
    face_masker_assets assets;
    live_asset identity, overlay;
    char model_seen[1024]; /* swap.model as last handed to the masker */
    /* the sink thread's settings for a panel recording (desc->recorder) */
    io_sink_options rec_opts;
    io_source_info rec_info;
} pl;

static int64_t now_us(void) { return av_gettime_relative(); }

static void record(ptim_histogram *h, double ms)
{
    if (h)
        ptim_histogram_record_ms(h, ms);
}

static void count_error(pl *p, ptim_err_category c)
{
    if ((unsigned)c < PTIM_ERR__COUNT)
        atomic_fetch_add(&p->st->errors[c], 1);
}

/* Every error goes through core/error (policy, errors.log, statistics) and
 * is counted for this run; returns the policy's answer. */
static ptim_recovery report(pl *p, const char *stage, const ptim_error *err,
                            ptim_recovery_state *rs, int *delay_ms)
{
    count_error(p, err->category);
    return ptim_error_handle(stage, err, rs, delay_ms);
}

/* The run cannot go on (the error was reported where it happened). */
static void fail(pl *p, int status, const ptim_error *err)
{
    pthread_mutex_lock(&p->err_lock);
    if (!p->have_fatal) {
        p->have_fatal = true;
        p->res->status = status;
        p->res->error = *err;
    }
    pthread_mutex_unlock(&p->err_lock);
    atomic_store(&p->failed, true);
    io_source_interrupt(p->src);
}

/* ---- frame records ---- */

static void sleep_ms(pl *p, int ms)
{
    int64_t until = now_us() + (int64_t)ms * 1000;
    while (now_us() < until && !atomic_load(p->desc->stop) && !atomic_load(&p->failed))
        av_usleep(5000);
}

/* An allocation for `what` failed: report it and follow the policy. Returns
 * true to try again (after the policy's wait). Retries come first; a degrade
 * answer gets one last try after frames in flight had time to drain (offline
 * only: a live run drops the frame and counts it instead of waiting). An
 * offline run never loses a frame silently: when the policy gives up, the
 * run aborts with exit 1. */
static bool alloc_failed(pl *p, const char *stage, const char *what, ptim_recovery_state *rs,
                         bool *degraded)
{
    ptim_error e;
    ptim_error_set(&e, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "no memory for %s", what);
    int delay = 0;
    ptim_recovery a = report(p, stage, &e, rs, &delay);
    if (a == PTIM_RECOVER_RETRY) {
        sleep_ms(p, delay);
        return !atomic_load(p->desc->stop) && !atomic_load(&p->failed);
    }
    if (a == PTIM_RECOVER_DEGRADE && !p->desc->live && !*degraded) {
        *degraded = true;
        sleep_ms(p, 200);
        return !atomic_load(p->desc->stop) && !atomic_load(&p->failed);
    }
    ptim_error_resolved(rs, 0);
    if (!p->desc->live) {
        ptim_error_set(&e, PTIM_ERR_MEMORY, PTIM_SEV_HIGH,
                       "out of memory: no memory for %s (raise performance.memory_budget_mb?)", what);
        fail(p, 1, &e);
    }
    return false;
}

static pl_frame *frame_get_once(pl *p)
{
    if (ptim_fault_hit(PTIM_FAULT_ALLOC))
        return NULL;
    ptim_error err;
    pl_frame *f = ptim_mem_alloc(p->pool, sizeof *f, PTIM_MEM_HIGH, &err);
    if (!f)
        return NULL;
    atomic_fetch_add(&p->st->pool_allocs, 1);
    long long in_use = atomic_fetch_add(&p->st->pool_in_use, 1) + 1;
    long long peak = atomic_load(&p->st->pool_peak);
    while (in_use > peak && !atomic_compare_exchange_weak(&p->st->pool_peak, &peak, in_use))
        ;
    f->av = NULL;
    f->index = 0;
    f->t_in_us = f->t_analyzed_us = 0;
    f->t_ms = f->result_t_ms = f->result_t_in_us = 0;
    f->analyzed = f->filler = f->stale = f->dropped = false;
    f->rendered = RENDERED_NOT;
    f->action = PTIM_GUARD_COVER;
    f->reason = PTIM_GUARD_REASON_NONE;
    f->cover = PTIM_COVER_BLUR;
    face_list_clear(&f->faces);
    f->preview_src = NULL;
    return f;
}

/* A frame record, with recovery per policy; NULL when the policy gave up. */
static pl_frame *frame_get(pl *p)
{
    ptim_recovery_state rs = {0};
    bool degraded = false;
    for (;;) {
        pl_frame *f = frame_get_once(p);
        if (f) {
            if (rs.open)
                ptim_error_resolved(&rs, 1);
            return f;
        }
        if (!alloc_failed(p, "source", "a frame record", &rs, &degraded))
            return NULL;
    }
}

static void frame_put(pl *p, pl_frame *f)
{
    if (!f)
        return;
    av_frame_free(&f->av);
    av_frame_free(&f->preview_src);
    atomic_fetch_sub(&p->st->pool_in_use, 1);
    ptim_mem_free(p->pool, f);
}

static void pool_buffer_free(void *opaque, uint8_t *data) { ptim_mem_free(opaque, data); }

/* A frame of the same format and size as `like`, its pixels in a core/mem
 * buffer (frames in flight: high priority); with copy, the pixels too. */
static AVFrame *pool_frame_once(pl *p, const AVFrame *like, bool copy)
{
    if (ptim_fault_hit(PTIM_FAULT_ALLOC))
        return NULL;
    int size = av_image_get_buffer_size(like->format, like->width, like->height, 64);
    if (size <= 0)
        return NULL;
    ptim_error err;
    uint8_t *mem = ptim_mem_alloc(p->pool, (size_t)size + 64, PTIM_MEM_HIGH, &err);
    if (!mem)
        return NULL;
    AVFrame *f = av_frame_alloc();
    AVBufferRef *buf = f ? av_buffer_create(mem, size + 64, pool_buffer_free, p->pool, 0) : NULL;
    if (!buf) {
        av_frame_free(&f);
        ptim_mem_free(p->pool, mem);
        return NULL;
    }
    f->buf[0] = buf;
    f->format = like->format;
    f->width = like->width;
    f->height = like->height;
    av_image_fill_arrays(f->data, f->linesize, mem, like->format, like->width, like->height, 64);
    av_frame_copy_props(f, like);
    if (copy && av_frame_copy(f, like) < 0)
        av_frame_free(&f);
    return f;
}

/* pool_frame_once with recovery per policy; NULL when the policy gave up. */
static AVFrame *pool_frame(pl *p, const AVFrame *like, bool copy)
{
    ptim_recovery_state rs = {0};
    bool degraded = false;
    for (;;) {
        AVFrame *f = pool_frame_once(p, like, copy);
        if (f) {
            if (rs.open)
                ptim_error_resolved(&rs, 1);
            return f;
        }
        if (!alloc_failed(p, "render", copy ? "a frame copy" : "a cover buffer", &rs, &degraded))
            return NULL;
    }
}

/* A frame evicted after render is never written: its outcome comes off the
 * counts (it is counted as dropped instead), so the statistics add up to the
 * frames written and the audit log's lines. */
static void uncount_rendered(pl *p, pl_frame *f)
{
    switch (f->rendered) {
    case RENDERED_MASKED:
        atomic_fetch_sub(&p->st->frames_masked, 1);
        atomic_fetch_sub(&p->st->faces, f->faces.count + f->faces.nboxes);
        break;
    case RENDERED_MODE_NONE:
        atomic_fetch_sub(&p->st->frames_mode_none, 1);
        if (f->faces.count)
            atomic_fetch_sub(&p->st->frames_faces_unmasked_none, 1);
        break;
    case RENDERED_COVERED:
        atomic_fetch_sub(&p->st->frames_covered, 1);
        atomic_fetch_sub(&p->st->covered_by_reason[f->reason], 1);
        break;
    case RENDERED_PASSTHROUGH:
        atomic_fetch_sub(&p->st->frames_passthrough, 1);
        break;
    case RENDERED_NOT:
        break;
    }
    f->rendered = RENDERED_NOT;
}

/* Offline: wait for room. Live: the newest frame wins; the evicted one is counted. */
static int forward(pl *p, ptim_queue *q, pl_frame *f)
{
    if (!p->desc->live) {
        if (ptim_queue_push(q, f) < 0) {
            frame_put(p, f);
            return -1;
        }
        return 0;
    }
    void *evicted = NULL;
    if (ptim_queue_push_newest(q, f, &evicted) < 0) {
        frame_put(p, f);
        return -1;
    }
    if (evicted) {
        uncount_rendered(p, evicted);
        atomic_fetch_add(&p->st->frames_dropped_live, 1);
        frame_put(p, evicted);
    }
    return 0;
}

/* ---- audio hand-over ---- */

static void audio_push(pl *p, AVPacket *pkt)
{
    audio_item *a = malloc(sizeof *a);
    if (!a) {
        av_packet_free(&pkt);
        return;
    }
    a->pkt = pkt;
    a->next = NULL;
    int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    a->t_us = ts == AV_NOPTS_VALUE ? INT64_MIN : av_rescale_q(ts, p->atb, AV_TIME_BASE_Q);
    pthread_mutex_lock(&p->audio_lock);
    if (p->a_tail)
        p->a_tail->next = a;
    else
        p->a_head = a;
    p->a_tail = a;
    p->a_count++;
    audio_item *old = NULL;
    if (p->a_count > AUDIO_QUEUE_MAX) { /* video stalled for minutes: keep the newest */
        old = p->a_head;
        p->a_head = old->next;
        p->a_count--;
    }
    pthread_mutex_unlock(&p->audio_lock);
    if (old) {
        av_packet_free(&old->pkt);
        free(old);
    }
}

/* Write audio up to video time `t_us` (INT64_MAX: all). Sink thread only. */
static int audio_drain(pl *p, int64_t t_us, ptim_error *err)
{
    for (;;) {
        pthread_mutex_lock(&p->audio_lock);
        audio_item *a = p->a_head;
        if (a && (a->t_us <= t_us || t_us == INT64_MAX)) {
            p->a_head = a->next;
            if (!p->a_head)
                p->a_tail = NULL;
            p->a_count--;
        } else {
            a = NULL;
        }
        pthread_mutex_unlock(&p->audio_lock);
        if (!a)
            return 0;
        int r = io_sink_write_audio(p->sink, a->pkt, err);
        av_packet_free(&a->pkt);
        free(a);
        if (r < 0)
            return -1;
    }
}

static void audio_clear(pl *p)
{
    while (p->a_head) {
        audio_item *a = p->a_head;
        p->a_head = a->next;
        av_packet_free(&a->pkt);
        free(a);
    }
    p->a_tail = NULL;
    p->a_count = 0;
}

/* ---- pixel formats ---- */

static bool view_of(const AVFrame *f, img_view *v)
{
    memset(v, 0, sizeof *v);
    switch (f->format) {
    case AV_PIX_FMT_YUV420P:
    case AV_PIX_FMT_YUVJ420P: v->format = IMG_FMT_YUV420P; break;
    case AV_PIX_FMT_NV12: v->format = IMG_FMT_NV12; break;
    case AV_PIX_FMT_RGB24: v->format = IMG_FMT_RGB24; break;
    case AV_PIX_FMT_BGR24: v->format = IMG_FMT_BGR24; break;
    default: return false;
    }
    v->width = f->width;
    v->height = f->height;
    for (int i = 0; i < img_format_planes(v->format); i++) {
        v->data[i] = f->data[i];
        v->stride[i] = f->linesize[i];
    }
    return true;
}

/* Formats the masker does not draw in are converted once at the source:
 * pictures to RGB24, other video to YUV420P. Common decoders never need it. */
static AVFrame *normalize(AVFrame *f)
{
    img_view v;
    if (view_of(f, &v))
        return f;
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    enum AVPixelFormat want = d && (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL))
                                  ? AV_PIX_FMT_RGB24
                                  : AV_PIX_FMT_YUV420P;
    AVFrame *o = av_frame_alloc();
    struct SwsContext *sws = sws_getContext(f->width, f->height, f->format, f->width, f->height,
                                            want, SWS_BICUBIC, NULL, NULL, NULL);
    if (!o || !sws) {
        av_frame_free(&o);
        sws_freeContext(sws);
        av_frame_free(&f);
        return NULL;
    }
    o->format = want;
    o->width = f->width;
    o->height = f->height;
    if (av_frame_get_buffer(o, 0) < 0) {
        av_frame_free(&o);
        sws_freeContext(sws);
        av_frame_free(&f);
        return NULL;
    }
    av_frame_copy_props(o, f);
    sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, o->data, o->linesize);
    sws_freeContext(sws);
    av_frame_free(&f);
    return o;
}

/* ---- source stage ---- */

static void shift_timeline(pl *p, AVFrame *f)
{
    f->pts += p->pts_shift;
    if (p->pts_started && f->pts <= p->last_pts) {
        int64_t add = p->last_pts + p->frame_dur - f->pts;
        p->pts_shift += add;
        f->pts += add;
    }
    p->pts_started = true;
    p->last_pts = f->pts;
}

static int emit(pl *p, AVFrame *av, bool filler)
{
    pl_frame *f = frame_get(p);
    if (!f) { /* reported; live: dropped, offline: the run fails */
        atomic_fetch_add(&p->st->frames_dropped_alloc, 1);
        av_frame_free(&av);
        return atomic_load(&p->failed) ? -1 : 0;
    }
    f->av = av;
    f->filler = filler;
    f->index = atomic_fetch_add(&p->st->frames_in, 1);
    f->t_in_us = now_us();
    if (filler)
        atomic_fetch_add(&p->st->frames_filler, 1);
    return forward(p, p->q_analyze, f);
}

/* The source is away: keep the output alive with covered copies of the last
 * frame while reopening with backoff. Returns 0 when it is back. */
static int reconnect(pl *p, AVFrame *last, int first_delay_ms, ptim_recovery_state *rs, ptim_error *err)
{
    int backoff = first_delay_ms > 0 ? first_delay_ms : p->reconnect_backoff_ms;
    int64_t tick_us = 1000000 / (p->target_fps > 0 ? p->target_fps : 30);
    for (int attempt = 1; attempt <= p->reconnect_attempts; attempt++) {
        int64_t until = now_us() + (int64_t)backoff * 1000;
        while (now_us() < until) {
            if (atomic_load(p->desc->stop) || atomic_load(&p->failed))
                return -1;
            if (last) { /* keep the output running, covered: these frames are never analysed */
                AVFrame *fill = av_frame_clone(last);
                if (fill) {
                    fill->pts = p->last_pts + p->frame_dur;
                    p->last_pts = fill->pts;
                    emit(p, fill, true);
                }
            }
            av_usleep((unsigned)tick_us);
        }
        if (io_source_reopen(p->src, err) == 0) {
            atomic_fetch_add(&p->st->recoveries, 1);
            ptim_error_resolved(rs, 1);
            fprintf(stderr, "ptim: %s is back (attempt %d)\n", p->desc->input, attempt);
            return 0;
        }
        int delay = 0;
        if (report(p, "source", err, rs, &delay) == PTIM_RECOVER_ABORT)
            break;
        backoff = delay > 0 ? delay : (backoff * 2 > 5000 ? 5000 : backoff * 2);
    }
    ptim_error_resolved(rs, 0);
    return -1;
}

/* Offline read error `err` (not yet reported): follow the policy (the state
 * `rs` lasts until a frame is read again); on retry or restart, wait and
 * open the input again where it failed. Returns 0 to read on, -1 when the
 * policy gave up (err says why). */
static int resume_offline(pl *p, ptim_recovery_state *rs, ptim_error *err)
{
    for (;;) {
        int delay = 0;
        ptim_recovery act = report(p, "source", err, rs, &delay);
        /* a retry is bounded by the policy; a restart by source.reconnect_attempts */
        if ((act != PTIM_RECOVER_RETRY && act != PTIM_RECOVER_RESTART) ||
            (act == PTIM_RECOVER_RESTART && rs->attempts > p->reconnect_attempts)) {
            ptim_error_resolved(rs, 0);
            return -1;
        }
        sleep_ms(p, act == PTIM_RECOVER_RESTART && delay <= 0 ? p->reconnect_backoff_ms : delay);
        if (atomic_load(p->desc->stop) || atomic_load(&p->failed))
            return -1;
        ptim_error rerr = {0};
        if (io_source_resume(p->src, &rerr) == 0)
            return 0;
        *err = rerr;
    }
}

static void *source_thread(void *arg)
{
    pl *p = arg;
    AVFrame *last = NULL; /* for filler frames while a live source is away */
    int64_t last_accept_us = -1; /* none yet */
    int64_t min_gap_us = p->target_fps > 0 ? 1000000 / p->target_fps * 9 / 10 : 0;
    ptim_recovery_state read_rs = {0}; /* offline read errors until the next frame */
    for (;;) {
        if (atomic_load(p->desc->stop) || atomic_load(&p->failed))
            break;
        AVFrame *av = NULL;
        AVPacket *pkt = NULL;
        ptim_error err = {0};
        int64_t t0 = now_us();
        int r = io_source_next(p->src, &av, &pkt, &err);
        if (r == 1)
            break;
        if (r < 0) {
            if (atomic_load(p->desc->stop))
                break;
            int delay = 0;
            if (!p->desc->live) {
                /* offline: retry as the policy says, reading on after the last
                 * frame from a fresh open; give up when it says so */
                if (resume_offline(p, &read_rs, &err) == 0)
                    continue;
                fail(p, 1, &err);
                break;
            }
            ptim_recovery_state rs = {0};
            ptim_recovery act = report(p, "source", &err, &rs, &delay);
            if (act == PTIM_RECOVER_ABORT) {
                ptim_error_resolved(&rs, 0);
                fail(p, 1, &err);
                break;
            }
            fprintf(stderr, "ptim: %s; reconnecting (output continues on covered frames)\n",
                    err.message);
            ptim_error rerr = {0};
            if (reconnect(p, last, act == PTIM_RECOVER_RETRY ? delay : 0, &rs, &rerr) < 0) {
                if (atomic_load(p->desc->stop))
                    break;
                ptim_error_set(&err, err.category, PTIM_SEV_HIGH,
                               "%s stopped and could not be reopened after %d attempts (%s)",
                               p->desc->input, p->reconnect_attempts,
                               rerr.message[0] ? rerr.message : err.message);
                fail(p, 1, &err);
                break;
            }
            continue;
        }
        if (pkt) {
            if (p->pts_shift) {
                int64_t s = av_rescale_q(p->pts_shift, p->tb, p->atb);
                if (pkt->pts != AV_NOPTS_VALUE)
                    pkt->pts += s;
                if (pkt->dts != AV_NOPTS_VALUE)
                    pkt->dts += s;
            }
            audio_push(p, pkt);
            continue;
        }
        if (read_rs.open) { /* read again after a read error */
            ptim_error_resolved(&read_rs, 1);
            atomic_fetch_add(&p->st->recoveries, 1);
        }
        read_rs = (ptim_recovery_state){0};
        record(p->hist[PTIM_STAGE_SOURCE], (now_us() - t0) / 1000.0);
        if (p->desc->live && min_gap_us) {
            int64_t t = now_us();
            if (last_accept_us >= 0 && t - last_accept_us < min_gap_us) {
                atomic_fetch_add(&p->st->frames_dropped_rate, 1);
                av_frame_free(&av);
                continue;
            }
            last_accept_us = t;
        }
        if (!(av = normalize(av))) {
            atomic_fetch_add(&p->st->frames_dropped_alloc, 1);
            count_error(p, PTIM_ERR_MEMORY);
            continue;
        }
        shift_timeline(p, av);
        if (p->desc->live) {
            av_frame_free(&last);
            last = av_frame_clone(av);
        }
        if (emit(p, av, false) < 0)
            break;
    }
    av_frame_free(&last);
    ptim_queue_close(p->q_analyze);
    return NULL;
}

/* ---- analyze stage ---- */

static void poll_config(pl *p, int64_t *next_poll_us)
{
    if (!p->desc->poll_config || now_us() < *next_poll_us)
        return;
    *next_poll_us = now_us() + 100000;
    ptim_config *cfg = p->desc->poll_config(p->desc->poll_opaque);
    if (!cfg)
        return;
    ptim_error err = {0};
    if (p->tracker && face_tracker_reconfigure(p->tracker, cfg, &err) < 0) {
        count_error(p, err.category);
        fprintf(stderr, "ptim: new settings not applied to face analysis: %s\n", err.message);
    }
    if (p->tracker && face_select_reconfigure(&p->select, cfg, &err) < 0) {
        count_error(p, err.category);
        fprintf(stderr, "ptim: new privacy.keep/only not applied (the previous choice stays): %s\n",
                err.message);
    }
    p->follow_max_gap_ms = p->desc->live ? ptim_config_int(cfg, "privacy.max_result_age_ms") : -1;
    pthread_mutex_lock(&p->cfg_lock);
    ptim_config_release(p->cfg_latest);
    p->cfg_latest = cfg;
    pthread_mutex_unlock(&p->cfg_lock);
    atomic_fetch_add(&p->cfg_gen, 1);
    atomic_fetch_add(&p->st->reconfigures, 1);
}

/* The byte pool's figures into the run's statistics, at most ten times a
 * second (the pool's lock is taken once per publication, never per frame of
 * a fast run), so the control panel reads them live without the pool. */
static void publish_memory(pl *p)
{
    int64_t now = now_us();
    if (now < p->next_mem_publish_us)
        return;
    p->next_mem_publish_us = now + 100000;
    ptim_mem_stats m;
    ptim_mem_get_stats(p->pool, &m);
    atomic_store(&p->st->mem_budget, (long long)m.budget);
    atomic_store(&p->st->mem_in_use, (long long)m.in_use);
    atomic_store(&p->st->mem_peak, (long long)m.peak);
    atomic_store(&p->st->mem_cached_free, (long long)m.cached_free);
    atomic_store(&p->st->mem_requests, (long long)m.requests);
    atomic_store(&p->st->mem_reused, (long long)m.reused);
    atomic_store(&p->st->mem_failures, (long long)m.failures);
}

/* What the face result of analysed frame f rests on. A face detected on f:
 * f itself. A face followed by FaceMesh: also the frame it was measured on
 * before, since it was looked for where that frame had it (across a long
 * gap the face has moved on and the region catches part of it, or none). A
 * held face adds nothing: it is not looked for, but masked where it was last
 * seen, moved along its velocity and grown by how far it could have moved
 * since (face_tracker coverage), and a live frame runs the whole-frame
 * detector, so a face still in view is found afresh. (Judged by its last
 * sighting, a hold older than privacy.max_result_age_ms covered whole live
 * frames while analysis kept up.) The guard judges the oldest, in media time
 * (t_ms) and in wall time (when that frame came in). */
static void result_origin(pl *p, pl_frame *f)
{
    f->result_t_ms = f->t_ms;
    f->result_t_in_us = f->t_in_us;
    const int n = (int)(sizeof p->seen / sizeof p->seen[0]);
    for (int i = 0; i < f->faces.count; i++) {
        const face *fc = &f->faces.faces[i];
        int slot = -1, oldest = 0; /* oldest: a free entry, else the least recent */
        for (int j = 0; j < n; j++) {
            if (p->seen[j].id == fc->id) {
                slot = j;
                break;
            }
            if (p->seen[oldest].id && (!p->seen[j].id || p->seen[j].t_ms < p->seen[oldest].t_ms))
                oldest = j;
        }
        if (!(fc->flags & (FACE_DETECTED | FACE_HELD))) { /* rests on an earlier frame */
            if (slot < 0) { /* not known here: of unknown age */
                f->result_t_ms = INT64_MIN / 2;
                f->result_t_in_us = INT64_MIN / 2;
            } else {
                if (p->seen[slot].t_ms < f->result_t_ms)
                    f->result_t_ms = p->seen[slot].t_ms;
                if (p->seen[slot].t_in_us < f->result_t_in_us)
                    f->result_t_in_us = p->seen[slot].t_in_us;
            }
        }
        if (!(fc->flags & FACE_HELD)) { /* measured on f */
            if (slot < 0)
                slot = oldest;
            p->seen[slot].id = fc->id;
            p->seen[slot].t_ms = f->t_ms;
            p->seen[slot].t_in_us = f->t_in_us;
        }
    }
}

/* ---- offline look-back (issue 17 item 1) ----
 *
 * The detector does not run on every frame, so a face that appears while
 * others are followed is first found a few frames late. Offline, analysed
 * frames wait here (track.detect_interval of them, see face_tracker_lookback)
 * before they go to render; a face with a new id is followed back through
 * them, newest first, until it is no longer there, and added to each frame it
 * is found on. No frame is written with a face found on it or on a later
 * frame analysed before it leaves. */

/* Follow face `fc` back through the first `n` waiting frames, newest first,
 * adding it to each frame it is found on, until it is not there. */
static void trace_back_held(pl *p, const face *fc, int n)
{
    face cur = *fc, got;
    for (int j = n - 1; j >= 0; j--) {
        pl_frame *r = p->held[j];
        img_view v;
        if (r->filler || !r->analyzed || !view_of(r->av, &v))
            continue; /* covered whole by the guard anyway */
        ptim_error err = {0};
        int found = face_tracker_trace_back(p->tracker, &v, &cur, &got, &err);
        if (found < 0) {
            /* unknown whether the face is on the frames before: the guard
             * covers them */
            report(p, "analyze", &err, NULL, NULL);
            for (; j >= 0; j--)
                p->held[j]->analyzed = false;
            return;
        }
        if (found == 0)
            return;
        /* past the list's room it is masked by its box (a crowd); past that
         * too the list overflows and the frame is covered */
        face_list_add(&r->faces, &got);
        cur = got;
    }
}

static void lookback_trace(pl *p, const pl_frame *f)
{
    for (int i = 0; i < f->faces.count; i++) {
        const face *fc = &f->faces.faces[i];
        if (fc->id > p->max_traced_id && !(fc->flags & FACE_HELD))
            trace_back_held(p, fc, p->n_held);
    }
    for (int i = 0; i < f->faces.count; i++)
        if (f->faces.faces[i].id > p->max_traced_id)
            p->max_traced_id = f->faces.faces[i].id;
}

/* End of stream: the waiting frames have no later frame whose scheduled
 * scan could find a face that appeared on them. The newest gets a full scan
 * (whole frame, every tile); a face it finds that its list does not hold is
 * added and followed back like a new track. */
static void lookback_final_scan(pl *p)
{
    if (p->n_held == 0 || !p->tracker)
        return;
    pl_frame *r = p->held[p->n_held - 1];
    img_view v;
    if (r->filler || !r->analyzed || !view_of(r->av, &v))
        return;
    ptim_error err = {0};
    if (face_tracker_scan(p->tracker, &v, &p->scan, &err)) {
        report(p, "analyze", &err, NULL, NULL);
        for (int j = 0; j < p->n_held; j++)
            p->held[j]->analyzed = false; /* unknown: the guard covers them */
        return;
    }
    int before = r->faces.count;
    for (int i = 0; i < p->scan.count; i++) {
        face *d = &p->scan.faces[i];
        bool known = false;
        for (int k = 0; k < before && !known; k++) {
            const float *a = d->box, *b = r->faces.faces[k].box;
            float w = fminf(a[0] + a[2], b[0] + b[2]) - fmaxf(a[0], b[0]);
            float h = fminf(a[1] + a[3], b[1] + b[3]) - fmaxf(a[1], b[1]);
            known = w > 0 && h > 0 && w * h > 0.3f * fminf(a[2] * a[3], b[2] * b[3]);
        }
        if (known)
            continue;
        if (r->faces.count >= FACE_LIST_MAX) {
            face_list_add(&r->faces, d); /* by its box, or the list overflows: covered */
            continue;
        }
        d->id = ++p->max_traced_id + FACE_LIST_MAX * 1000; /* apart from the tracker's ids */
        r->faces.faces[r->faces.count++] = *d;
    }
    if (r->faces.count == before)
        return;
    /* follow the added faces back through the frames before */
    face_list added = r->faces;
    for (int i = before; i < added.count; i++)
        trace_back_held(p, &added.faces[i], p->n_held - 1); /* r itself is not traced */
}

/* Hand on the oldest waiting frames until `keep` wait. */
static void lookback_release(pl *p, int keep)
{
    int out = p->n_held - (keep < 0 ? 0 : keep);
    if (out <= 0)
        return;
    for (int i = 0; i < out; i++)
        forward(p, p->q_render, p->held[i]);
    memmove(p->held, p->held + out, (size_t)(p->n_held - out) * sizeof p->held[0]);
    p->n_held -= out;
}

static void *analyze_thread(void *arg)
{
    pl *p = arg;
    int64_t next_poll = 0;
    p->last_analyzed_ms = INT64_MIN;
    p->follow_max_gap_ms = p->desc->live ? ptim_config_int(p->desc->cfg, "privacy.max_result_age_ms") : -1;
    for (;;) {
        void *item;
        int r = ptim_queue_pop(p->q_analyze, &item, 100);
        poll_config(p, &next_poll);
        publish_memory(p);
        if (r < 0)
            break;
        if (r == 0)
            continue;
        pl_frame *f = item;
        int64_t t0 = now_us();
        img_view v;
        if (!f->filler && p->tracker && view_of(f->av, &v)) {
            ptim_error err = {0};
            int64_t t_ms = av_rescale_q(f->av->pts, p->tb, (AVRational){1, 1000});
            f->t_ms = t_ms;
            /* A gap in media time longer than a result may be old (a live
             * source read faster than real time, frames dropped): the faces
             * have moved on, and following them from where the last frame
             * had them would mask beside them. Start over: every face is
             * then found by the detector on this frame. */
            if (p->follow_max_gap_ms >= 0 && p->last_analyzed_ms != INT64_MIN &&
                t_ms - p->last_analyzed_ms > p->follow_max_gap_ms)
                face_tracker_reset(p->tracker);
            p->last_analyzed_ms = t_ms;
            int rc = face_tracker_process(p->tracker, &v, t_ms, &f->faces, &err);
            face_tracker_counters tc;
            face_tracker_counters_get(p->tracker, &tc);
            atomic_store(&p->st->tiles_scanned, tc.tiles_scanned);
            atomic_store(&p->st->tiles_skipped, tc.tiles_passed);
            for (int i = 0; i < FACE_PART__COUNT; i++)
                atomic_store(&p->st->analysis_us[i], (long long)(tc.ms[i] * 1000.0));
            atomic_store(&p->st->analysis_frames, tc.frames);
            if (rc == 0) {
                f->analyzed = true;
                result_origin(p, f);
                /* Whom not to mask; on any doubt, or a failure, everyone is masked. */
                if (!p->select) {
                    face_select_clear(&f->faces);
                } else if (face_select_apply(p->select, &v, &f->faces, &err) < 0) {
                    count_error(p, err.category);
                    if (!p->warned_select) {
                        p->warned_select = true;
                        fprintf(stderr, "ptim: face recognition failed (%s); those faces are masked\n",
                                err.message);
                    }
                }
            } else {
                report(p, "analyze", &err, NULL, NULL); /* the guard covers the frame */
                face_list_clear(&f->faces);
                if (!p->warned_analysis) {
                    p->warned_analysis = true;
                    fprintf(stderr, "ptim: face analysis failed on frame %lld (%s); such frames are %s\n",
                            (long long)f->index, err.message,
                            p->desc->unsafe_passthrough ? "written UNMASKED (--unsafe-passthrough)"
                                                        : "covered");
                }
            }
        }
        if (ptim_fault_hit(PTIM_FAULT_ANALYZE_TIMEOUT))
            f->stale = true; /* as if analysis ran past its deadline */
        int depth = p->desc->live || !p->tracker ? 0 : face_tracker_lookback(p->tracker);
        if (depth > 0 && f->analyzed)
            lookback_trace(p, f);
        f->t_analyzed_us = now_us();
        record(p->hist[PTIM_STAGE_ANALYZE], (f->t_analyzed_us - t0) / 1000.0);
        /* A viewer of the unmasked source holds a reference; masking then
         * works on its own copy (make_writable), only while one watches. */
        if (!f->filler && f->av && ptim_preview_wants_source(p->desc->preview) &&
            ptim_preview_due(p->desc->preview))
            f->preview_src = av_frame_clone(f->av);
        if (depth > 0) {
            lookback_release(p, depth - 1);
            p->held[p->n_held++] = f;
        } else {
            lookback_release(p, 0);
            forward(p, p->q_render, f);
        }
    }
    lookback_final_scan(p);
    lookback_release(p, 0);
    ptim_queue_close(p->q_render);
    return NULL;
}

/* ---- render stage ---- */

static void read_policy(pl *p, const ptim_config *cfg, ptim_guard_policy *pol)
{
    pol->max_result_age_ms = p->desc->live ? ptim_config_int(cfg, "privacy.max_result_age_ms") : -1;
    int c = ptim_cover_parse(ptim_config_str(cfg, "privacy.on_failure"));
    pol->on_failure = c < 0 ? PTIM_COVER_BLUR : (ptim_cover)c;
    pol->unsafe_passthrough = p->desc->unsafe_passthrough;
}

static bool full_range(const AVFrame *f)
{
    return f->color_range == AVCOL_RANGE_JPEG || f->format == AV_PIX_FMT_YUVJ420P ||
           f->format == AV_PIX_FMT_RGB24 || f->format == AV_PIX_FMT_BGR24;
}

/* Cover per policy; never lets the frame out unmasked. */
static void cover(pl *p, pl_frame *f, const ptim_guard_policy *pol, ptim_cover_scratch *scratch)
{
    f->action = PTIM_GUARD_COVER;
    f->cover = pol->on_failure;
    if (pol->on_failure == PTIM_COVER_DROP) {
        f->dropped = true;
        av_frame_free(&f->av);
        atomic_fetch_add(&p->st->frames_dropped_guard, 1);
        return;
    }
    img_view src, dst;
    view_of(f->av, &src);
    AVFrame *out = f->av;
    if (!av_frame_is_writable(f->av)) {
        /* the decoder still holds these pixels: cover into a new buffer */
        out = pool_frame(p, f->av, false);
        if (!out) { /* reported; no memory for a cover: the frame is not written */
            f->dropped = true;
            av_frame_free(&f->av);
            atomic_fetch_add(&p->st->frames_dropped_alloc, 1);
            return;
        }
        atomic_fetch_add(&p->st->cover_buffers, 1);
    }
    view_of(out, &dst);
    if (ptim_cover_frame(&src, &dst, pol->on_failure, full_range(f->av), p->cells_across, scratch) < 0) {
        if (out != f->av)
            av_frame_free(&out);
        f->dropped = true;
        av_frame_free(&f->av);
        atomic_fetch_add(&p->st->frames_dropped_alloc, 1);
        count_error(p, PTIM_ERR_MEMORY);
        return;
    }
    if (out != f->av) {
        av_frame_free(&f->av);
        f->av = out;
    }
    atomic_fetch_add(&p->st->frames_covered, 1);
    atomic_fetch_add(&p->st->covered_by_reason[f->reason], 1);
    f->rendered = RENDERED_COVERED;
}

/* The decoder may still reference a frame's pixels (a reference frame for
 * the next ones): masking in place would corrupt decoding, so such a frame
 * gets its own copy first. Counted, since it is the one full-frame copy. */
static bool make_writable(pl *p, pl_frame *f)
{
    if (av_frame_is_writable(f->av))
        return true;
    atomic_fetch_add(&p->st->frame_copies, 1);
    AVFrame *copy = pool_frame(p, f->av, true);
    if (!copy)
        return false;
    av_frame_free(&f->av);
    f->av = copy;
    return true;
}

static int64_t result_wall_age_ms(const pl_frame *f) { return (f->t_analyzed_us - f->result_t_in_us) / 1000; }
static int64_t result_media_age_ms(const pl_frame *f) { return f->t_ms - f->result_t_ms; }
static int64_t result_age_ms(const pl_frame *f)
{
    int64_t w = result_wall_age_ms(f), m = result_media_age_ms(f);
    return w > m ? w : m;
}

static void free_asset(img_image *img)
{
    if (img) {
        img_image_free(img);
        free(img);
    }
}

/* The picture at `path` on the heap, or NULL with *err set. */
static img_image *load_asset(const char *path, img_format format, ptim_error *err)
{
    img_image *img = calloc(1, sizeof *img);
    if (!img) {
        ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "out of memory loading %s", path);
        return NULL;
    }
    if (io_image_load(path, format, img, err) < 0) {
        free(img);
        return NULL;
    }
    return img;
}

/* Whether the picture option `key` names another file than last tried: then
 * *fresh is the new picture (NULL when the option was emptied) or the
 * function returns -1 with *err set (unreadable). */
static int asset_changed(live_asset *a, const ptim_config *cfg, const char *key, img_format format,
                         img_image **fresh, ptim_error *err)
{
    const char *path = ptim_config_str(cfg, key);
    *fresh = NULL;
    if (!strcmp(path, a->tried))
        return 0;
    snprintf(a->tried, sizeof a->tried, "%s", path);
    if (*path && !(*fresh = load_asset(path, format, err)))
        return -1;
    return 1;
}

/* Render thread, between frames, after a settings change: the masker gets
 * the new settings and, when swap.identity or mask.image names another file,
 * the new picture (the identity photo uploaded through the control panel
 * takes effect here, without a restart). All or nothing, and fail closed: a
 * picture that cannot be read, or that the masker refuses (no face, several
 * faces), leaves the masker with its previous settings and pictures, so
 * frames go on being masked as before; the file is not tried again until the
 * option names another one. */
static void reconfigure_masker(pl *p, const ptim_config *cfg)
{
    if (!p->masker)
        return;
    ptim_error err = {0};
    face_masker_assets next = p->assets;
    img_image *id = NULL, *ov = NULL;
    int idc = asset_changed(&p->identity, cfg, "swap.identity", IMG_FMT_RGB24, &id, &err);
    int ovc = idc < 0 ? 0 : asset_changed(&p->overlay, cfg, "mask.image", IMG_FMT_RGBA, &ov, &err);
    /* swap.model is loaded by the masker itself; a change of it counts
     * here too, so its verdict is reported like a picture's */
    const char *model = ptim_config_str(cfg, "swap.model");
    bool model_changed = strcmp(model, p->model_seen) != 0;
    snprintf(p->model_seen, sizeof p->model_seen, "%s", model);
    bool changed = idc != 0 || ovc != 0 || model_changed;
    if (idc > 0) {
        next.identity = id ? &id->view : NULL;
        next.identity_name = id ? p->identity.tried : NULL;
        next.identity_face = NULL; /* it was the old photo's face */
    }
    if (ovc > 0) {
        next.overlay = ov ? &ov->view : NULL;
        next.overlay_name = ov ? p->overlay.tried : NULL;
    }
    if (idc < 0 || ovc < 0 || face_masker_reconfigure(p->masker, cfg, &next, &err) < 0) {
        free_asset(id);
        free_asset(ov);
        /* An identity read well but dropped because mask.image could not be
         * read was never judged: try it again with the next change ("\1"
         * matches no path). */
        if (ovc < 0 && idc > 0)
            snprintf(p->identity.tried, sizeof p->identity.tried, "\1");
        count_error(p, err.category);
        if (changed) {
            size_t i = 0, cap = sizeof p->st->asset_error;
            for (; i + 1 < cap && err.message[i]; i++)
                atomic_store_explicit(&p->st->asset_error[i], err.message[i], memory_order_relaxed);
            atomic_store_explicit(&p->st->asset_error[i], 0, memory_order_relaxed);
            atomic_fetch_add(&p->st->asset_rejects, 1); /* seq_cst: after the text */
        }
        fprintf(stderr, "ptim: new settings not applied to masking (the previous ones stay): %s\n", err.message);
        return;
    }
    /* The masker now works from the new pictures. A replaced picture is
     * freed only when a new one takes its place: the masker tells pictures
     * apart by address, so one it has seen must not be reused while it may
     * still compare against it. */
    if (id) {
        free_asset(p->identity.img);
        p->identity.img = id;
        snprintf(p->identity.name, sizeof p->identity.name, "%s", p->identity.tried);
        next.identity_name = p->identity.name; /* `tried` changes with the next attempt */
    }
    if (ov) {
        free_asset(p->overlay.img);
        p->overlay.img = ov;
        snprintf(p->overlay.name, sizeof p->overlay.name, "%s", p->overlay.tried);
        next.overlay_name = p->overlay.name;
    }
    p->assets = next;
    if (changed)
        atomic_fetch_add(&p->st->asset_reloads, 1);
}

static void *render_thread(void *arg)
{
    pl *p = arg;
    ptim_guard_policy pol;
    read_policy(p, p->desc->cfg, &pol);
    ptim_cover_scratch scratch = {0};
    int gen = 0;
    /* mask.mode=none masks nothing: such frames are counted apart, never as masked */
    bool mode_none = !strcmp(ptim_config_str(p->desc->cfg, "mask.mode"), "none");
    for (;;) {
        void *item;
        if (ptim_queue_pop(p->q_render, &item, -1) < 0)
            break;
        pl_frame *f = item;
        if (atomic_load(&p->cfg_gen) != gen) {
            gen = atomic_load(&p->cfg_gen);
            pthread_mutex_lock(&p->cfg_lock);
            ptim_config *cfg = ptim_config_retain(p->cfg_latest);
            pthread_mutex_unlock(&p->cfg_lock);
            if (cfg) {
                read_policy(p, cfg, &pol);
                mode_none = !strcmp(ptim_config_str(cfg, "mask.mode"), "none");
                reconfigure_masker(p, cfg);
                ptim_config_release(cfg);
            }
        }
        int64_t t0 = now_us();
        /* the result's age in wall time AND in media time: a source read
         * faster than real time runs many frames ahead in little wall time */
        int64_t age_ms = f->stale ? PTIM_GUARD_AGE_EXPIRED : result_age_ms(f);
        f->action = ptim_guard_check(&pol, f->analyzed, age_ms, &f->reason);
        if (f->action == PTIM_GUARD_MASKED) {
            ptim_error err = {0};
            bool ok = false, copy_failed = false;
            if (!p->masker) {
                ptim_error_set(&err, PTIM_ERR_INTERNAL, PTIM_SEV_HIGH, "no masker");
            } else if (!make_writable(p, f)) {
                copy_failed = true; /* reported by pool_frame; covering is the degraded mode */
            } else {
                img_view v;
                view_of(f->av, &v);
                if (ptim_fault_hit(PTIM_FAULT_RENDER))
                    ptim_error_set(&err, PTIM_ERR_INTERNAL, PTIM_SEV_MEDIUM, "masking failed (injected)");
                else if (face_masker_render(p->masker, &v, &f->faces, &err) == 0)
                    ok = true;
                /* what happens next is the same for every masking failure: the
                 * frame is covered (skip); reported with the severity whose
                 * policy says so */
                if (!ok && err.category != PTIM_ERR_MEMORY)
                    err.category = PTIM_ERR_INTERNAL, err.severity = PTIM_SEV_MEDIUM;
                else if (!ok)
                    err.severity = PTIM_SEV_LOW; /* memory/low: degrade */
            }
            if (ok && mode_none) {
                atomic_fetch_add(&p->st->frames_mode_none, 1);
                if (f->faces.count)
                    atomic_fetch_add(&p->st->frames_faces_unmasked_none, 1);
                f->rendered = RENDERED_MODE_NONE;
            } else if (ok) {
                atomic_fetch_add(&p->st->frames_masked, 1);
                atomic_fetch_add(&p->st->faces, f->faces.count + f->faces.nboxes);
                f->rendered = RENDERED_MASKED;
            } else {
                if (copy_failed)
                    ; /* reported where the copy failed */
                else if (p->masker) /* without a masker every frame fails: reported once at start */
                    report(p, "render", &err, NULL, NULL);
                else
                    count_error(p, err.category);
                if (!p->warned_render && p->masker && !copy_failed) {
                    p->warned_render = true;
                    fprintf(stderr, "ptim: masking failed on frame %lld (%s); such frames are %s\n",
                            (long long)f->index, err.message,
                            pol.unsafe_passthrough ? "written UNMASKED (--unsafe-passthrough)" : "covered");
                }
                f->reason = PTIM_GUARD_REASON_RENDER;
                if (pol.unsafe_passthrough) {
                    f->action = PTIM_GUARD_PASSTHROUGH;
                    atomic_fetch_add(&p->st->frames_passthrough, 1);
                    f->rendered = RENDERED_PASSTHROUGH;
                } else {
                    cover(p, f, &pol, &scratch);
                }
            }
        } else if (f->action == PTIM_GUARD_PASSTHROUGH) {
            atomic_fetch_add(&p->st->frames_passthrough, 1);
            f->rendered = RENDERED_PASSTHROUGH;
        } else {
            cover(p, f, &pol, &scratch);
        }
        record(p->hist[PTIM_STAGE_RENDER], (now_us() - t0) / 1000.0);
        forward(p, p->q_sink, f);
    }
    ptim_cover_scratch_free(&scratch);
    ptim_queue_close(p->q_sink);
    return NULL;
}

/* ---- sink stage ---- */

static void audit_line(pl *p, const pl_frame *f)
{
    FILE *a = p->desc->audit;
    if (!a)
        return;
    const char *guard = f->dropped ? "dropped"
                        : f->action == PTIM_GUARD_MASKED ? "masked"
                        : f->action == PTIM_GUARD_PASSTHROUGH ? "unsafe_passthrough"
                                                              : "covered";
    int64_t pts = f->av ? f->av->pts : -1;
    fprintf(a, "{\"frame\":%lld,\"pts\":%lld,\"time\":%.6f,\"guard\":\"%s\"", (long long)f->index,
            (long long)pts, f->av ? pts * av_q2d(p->tb) : -1.0, guard);
    if (f->action != PTIM_GUARD_MASKED)
        fprintf(a, ",\"reason\":\"%s\"", ptim_guard_reason_name(f->reason));
    if (f->action == PTIM_GUARD_COVER)
        fprintf(a, ",\"cover\":\"%s\"", ptim_cover_name(f->cover));
    if (f->filler)
        fprintf(a, ",\"filler\":true");
    if (f->analyzed)
        fprintf(a, ",\"result_media_age_ms\":%lld,\"result_wall_age_ms\":%lld",
                (long long)result_media_age_ms(f), (long long)result_wall_age_ms(f));
    fprintf(a, ",\"faces\":[");
    int shown = f->action == PTIM_GUARD_MASKED ? f->faces.count : 0;
    for (int i = 0; i < shown; i++) {
        const face *fc = &f->faces.faces[i];
        fprintf(a, "%s{\"id\":%d,\"box\":[%.1f,%.1f,%.1f,%.1f],\"score\":%.3f,\"state\":\"%s\"",
                i ? "," : "", fc->id, fc->box[0], fc->box[1], fc->box[2], fc->box[3], fc->score,
                (fc->flags & FACE_HELD) ? "held" : (fc->flags & FACE_DETECTED) ? "detected"
                : (fc->flags & FACE_TRACED) ? "traced" : "tracked");
        if (p->select)
            fprintf(a, ",\"kept\":%s", (fc->flags & FACE_KEPT) ? "true" : "false");
        if (fc->identity_sim > -2.0f)
            fprintf(a, ",\"similarity\":%.3f", fc->identity_sim);
        fputc('}', a);
    }
    /* a crowd's faces beyond those followed: masked by their box */
    int boxes = f->action == PTIM_GUARD_MASKED ? f->faces.nboxes : 0;
    for (int i = 0; i < boxes; i++) {
        const face_box *b = &f->faces.boxes[i];
        fprintf(a, "%s{\"id\":0,\"box\":[%.1f,%.1f,%.1f,%.1f],\"score\":%.3f,\"state\":\"box\"}",
                shown || i ? "," : "", b->box[0], b->box[1], b->box[2], b->box[3], b->score);
    }
    fprintf(a, "]}\n");
}

static void progress(pl *p, int64_t *next_us, bool final)
{
    if (!p->desc->progress)
        return;
    int64_t t = now_us();
    if (!final && t < *next_us)
        return;
    *next_us = t + 500000;
    double el = (t - p->t_start_us) / 1e6;
    long long done = atomic_load(&p->st->frames_out);
    double fps = el > 0 ? done / el : 0;
    if (p->expected_frames > 0 && fps > 0 && !p->desc->live)
        fprintf(stderr, "\rptim: frame %lld/%lld  %.1f fps  ETA %.0f s   ", done,
                (long long)p->expected_frames, fps,
                (p->expected_frames - done) > 0 ? (p->expected_frames - done) / fps : 0.0);
    else
        fprintf(stderr, "\rptim: frame %lld  %.1f fps   ", done, fps);
    if (final)
        fputc('\n', stderr);
}

static void *sink_thread(void *arg)
{
    pl *p = arg;
    int64_t next_progress = 0;
    for (;;) {
        void *item;
        if (ptim_queue_pop(p->q_sink, &item, -1) < 0)
            break;
        pl_frame *f = item;
        if (atomic_load(&p->failed)) {
            frame_put(p, f);
            continue;
        }
        audit_line(p, f);
        if (f->dropped) {
            frame_put(p, f);
            continue;
        }
        if (p->desc->live && p->target_delay_ms > 0) {
            int64_t due = f->t_in_us + (int64_t)p->target_delay_ms * 1000;
            while (now_us() < due && !atomic_load(p->desc->stop))
                av_usleep((unsigned)(due - now_us() > 20000 ? 20000 : due - now_us()));
        }
        if (p->desc->preview && ptim_preview_due(p->desc->preview)) {
            float boxes[PTIM_PREVIEW_MAX_BOXES][4], eyes[PTIM_PREVIEW_MAX_BOXES][4];
            int n = f->faces.count < PTIM_PREVIEW_MAX_BOXES ? f->faces.count : PTIM_PREVIEW_MAX_BOXES;
            for (int i = 0; i < n; i++) {
                const face *fc = &f->faces.faces[i];
                memcpy(boxes[i], fc->box, sizeof boxes[i]);
                eyes[i][0] = fc->keypoints[0][0], eyes[i][1] = fc->keypoints[0][1];
                eyes[i][2] = fc->keypoints[1][0], eyes[i][3] = fc->keypoints[1][1];
            }
            ptim_preview_offer(p->desc->preview, f->av, f->preview_src, (const float (*)[4])boxes,
                               (const float (*)[4])eyes, n);
        }
        int64_t t0 = now_us();
        ptim_error err = {0};
        if (audio_drain(p, av_rescale_q(f->av->pts, p->tb, AV_TIME_BASE_Q), &err) < 0 ||
            io_sink_write_frame(p->sink, f->av, &err) < 0) {
            count_error(p, err.category); /* the sink reported each attempt to core/error */
            fail(p, 1, &err);
            frame_put(p, f);
            continue;
        }
        ptim_recorder_frame(p->desc->recorder, &p->rec_opts, &p->rec_info, f->av);
        int64_t t1 = now_us();
        if (atomic_fetch_add(&p->st->frames_out, 1) == 0) {
            p->st->startup_ms[PTIM_JOB_STARTUP_FIRST_FRAME] = (t1 - p->t_start_us) / 1000.0;
            if (ptim_startup_ms(PTIM_STARTUP_FIRST_FRAME) < 0)
                ptim_startup_end(PTIM_STARTUP_FIRST_FRAME); /* the process's first frame */
        }
        record(p->hist[PTIM_STAGE_SINK], (t1 - t0) / 1000.0);
        record(p->hist[PTIM_STAGE_LATENCY], (t1 - f->t_in_us) / 1000.0);
        frame_put(p, f);
        progress(p, &next_progress, false);
    }
    ptim_recorder_end(p->desc->recorder); /* a recording is finished with the run */
    if (atomic_load(&p->st->frames_out) || p->desc->progress)
        progress(p, &next_progress, true);
    return NULL;
}

/* ---- setup and supervision ---- */

static void join_analysis(pl *p);

static void close_all(pl *p)
{
    join_analysis(p); /* what it built is freed below */
    io_sink_close(p->sink);
    io_source_close(p->src);
    face_tracker_destroy(p->tracker);
    face_select_destroy(p->select);
    face_masker_destroy(p->masker);
    free_asset(p->identity.img); /* after the masker that worked from them */
    free_asset(p->overlay.img);
    ptim_queue_destroy(p->q_analyze);
    ptim_queue_destroy(p->q_render);
    ptim_queue_destroy(p->q_sink);
    audio_clear(p);
    ptim_preview_clear(p->desc->preview); /* a preview viewer may hold pool buffers */
    ptim_mem_pool_destroy(p->pool); /* last: frames above held its buffers */
    ptim_config_release(p->cfg_latest);
    pthread_mutex_destroy(&p->audio_lock);
    pthread_mutex_destroy(&p->cfg_lock);
    pthread_mutex_destroy(&p->err_lock);
}

/* Open the input; a failure that may pass (I/O, a device, the network; not
 * a missing file or a file that is not a video) is retried as the policy
 * says. Every failure is reported. */
static int open_source(pl *p, const io_source_options *so, ptim_error *err)
{
    ptim_recovery_state rs = {0};
    for (;;) {
        if (io_source_open(so, &p->src, err) == 0) {
            if (rs.open)
                ptim_error_resolved(&rs, 1);
            return 0;
        }
        bool transient = !err->bad_input && (err->category == PTIM_ERR_IO ||
                                             err->category == PTIM_ERR_DEVICE ||
                                             err->category == PTIM_ERR_NETWORK);
        if (!transient) {
            count_error(p, err->category);
            return -1;
        }
        int delay = 0;
        ptim_recovery act = report(p, "source", err, &rs, &delay);
        if (act != PTIM_RECOVER_RETRY) { /* retries are bounded by the policy */
            ptim_error_resolved(&rs, 0);
            return -1;
        }
        sleep_ms(p, delay);
        if (atomic_load(p->desc->stop))
            return -1;
    }
}

static double ms_since(int64_t t0) { return (now_us() - t0) / 1000.0; }

static void *load_analysis(void *arg)
{
    analysis_load *a = arg;
    int64_t t = now_us();
    if (face_tracker_create(a->cfg, &a->tracker, &a->tracker_err) < 0)
        a->tracker = NULL;
    if (a->tracker && (a->select_rc = face_select_create(a->cfg, &a->select, &a->select_err)) < 0)
        a->select = NULL;
    a->tracker_ms = ms_since(t);
    t = now_us();
    if (face_masker_create(a->cfg, a->assets, &a->masker, &a->masker_err) < 0)
        a->masker = NULL;
    a->masker_ms = ms_since(t);
    if (a->first_run)
        ptim_startup_end(PTIM_STARTUP_MODELS);
    return NULL;
}

static void start_analysis(pl *p, analysis_load *a)
{
    p->load = a;
    if (a->first_run)
        ptim_startup_begin(PTIM_STARTUP_MODELS);
    a->running = pthread_create(&a->th, NULL, load_analysis, a) == 0;
    if (!a->running)
        load_analysis(a); /* no thread to be had: before the source instead */
}

/* Waits for the analysis being built and hands what it built to the
 * pipeline, which owns it from then on. */
static void join_analysis(pl *p)
{
    analysis_load *a = p->load;
    if (!a)
        return;
    if (a->running)
        pthread_join(a->th, NULL);
    a->running = false;
    p->tracker = a->tracker;
    p->select = a->select;
    p->masker = a->masker;
    p->st->startup_ms[PTIM_JOB_STARTUP_TRACKER] = a->tracker_ms;
    p->st->startup_ms[PTIM_JOB_STARTUP_MASKER] = a->masker_ms;
    p->load = NULL;
}

int ptim_pipeline_run(const ptim_pipeline_desc *desc, ptim_pipeline_result *res)
{
    memset(res, 0, sizeof *res);
    static atomic_int never;
    ptim_pipeline_desc d = *desc;
    if (!d.stop)
        d.stop = &never;
    pl pp = {0}, *p = &pp;
    p->desc = &d;
    p->res = res;
    p->st = &res->stats;
    if (d.on_start)
        d.on_start(d.on_start_opaque, p->st);
    pthread_mutex_init(&p->audio_lock, NULL);
    pthread_mutex_init(&p->cfg_lock, NULL);
    pthread_mutex_init(&p->err_lock, NULL);
    p->t_start_us = now_us();
    for (int i = 0; i < PTIM_STAGE__COUNT; i++) { /* per run: a directory job runs many */
        char name[64];
        snprintf(name, sizeof name, "pipeline.%s", ptim_stage_name(i));
        if ((p->hist[i] = ptim_histogram_get(name)))
            ptim_histogram_reset(p->hist[i]);
    }
    const ptim_config *cfg = d.cfg;
    p->target_fps = (int)ptim_config_int(cfg, "performance.target_fps");
    p->target_delay_ms = (int)ptim_config_int(cfg, "output.target_delay_ms");
    p->reconnect_attempts = (int)ptim_config_int(cfg, "source.reconnect_attempts");
    p->reconnect_backoff_ms = (int)ptim_config_int(cfg, "source.reconnect_backoff_ms");
    p->cells_across = (int)ptim_config_int(cfg, "privacy.blur_cells");
    int qsize = (int)ptim_config_int(cfg, "performance.frame_buffer_size");
    ptim_error err = {0};
    if (ptim_mem_pool_create_from_config(cfg, &p->pool, &err) < 0) {
        res->status = ptim_error_exit_status(&err);
        res->error = err;
        close_all(p);
        return res->status;
    }

    bool first_run = ptim_startup_ms(PTIM_STARTUP_SOURCE) < 0;
    if (first_run)
        ptim_startup_begin(PTIM_STARTUP_FIRST_FRAME);
    analysis_load load = {.cfg = cfg, .assets = d.assets, .first_run = first_run};
    start_analysis(p, &load);
    int64_t t = now_us();
    if (first_run)
        ptim_startup_begin(PTIM_STARTUP_SOURCE);
    io_source_options so = {
        .input = d.input,
        .realtime = d.live && ptim_config_bool(cfg, "source.realtime"), /* offline: as fast as it goes */
        .loop = ptim_config_bool(cfg, "source.loop"),
        .audio = d.audio,
        .read_timeout_ms = (int)ptim_config_int(cfg, "source.read_timeout_ms"),
    };
    if (open_source(p, &so, &err) < 0) {
        res->status = 2;
        res->error = err;
        close_all(p);
        return res->status;
    }
    p->st->startup_ms[PTIM_JOB_STARTUP_SOURCE_OPEN] = ms_since(t);
    if (first_run)
        ptim_startup_end(PTIM_STARTUP_SOURCE);
    const io_source_info *in = io_source_get_info(p->src);
    p->tb = in->time_base;
    p->atb = in->audio_time_base;
    p->expected_frames = in->nb_frames;
    if (!p->expected_frames && in->duration_s > 0 && in->frame_rate.num > 0)
        p->expected_frames = (int64_t)(in->duration_s * av_q2d(in->frame_rate) + 0.5);
    atomic_store(&p->st->frames_expected, p->expected_frames);
    p->frame_dur = in->frame_rate.num > 0 ? av_rescale_q(1, av_inv_q(in->frame_rate), p->tb) : 1;
    if (p->frame_dur < 1)
        p->frame_dur = 1;

    t = now_us();
    if (first_run)
        ptim_startup_begin(PTIM_STARTUP_SINK);
    const char *voice = ptim_config_str(cfg, "audio.voice");
    io_sink_options sko = {
        .target = d.output,
        .crf = (int)ptim_config_int(cfg, "output.crf"),
        .preset = ptim_config_str(cfg, "output.preset"),
        .live = d.live,
        .audio = d.audio,
        .voice = {.voice = !strcmp(voice, "pitch") ? IO_VOICE_PITCH : IO_VOICE_NONE,
                  .pitch_semitones = ptim_config_float(cfg, "audio.pitch_semitones")},
        .write_retries = (int)ptim_config_int(cfg, "output.write_retries"),
    };
    p->rec_opts = sko;
    p->rec_opts.target = NULL;
    p->rec_opts.audio = false;
    p->rec_info = *in;
    p->rec_info.name = "the output";
    p->rec_info.video_par = p->rec_info.audio_par = NULL;
    if (io_sink_open(&sko, in, &p->sink, &err) < 0) {
        res->status = 2;
        res->error = err;
        count_error(p, err.category);
        close_all(p);
        return res->status;
    }
    p->st->startup_ms[PTIM_JOB_STARTUP_SINK_OPEN] = ms_since(t);
    if (first_run)
        ptim_startup_end(PTIM_STARTUP_SINK);
    snprintf(res->sink_description, sizeof res->sink_description, "%s", io_sink_describe(p->sink));

    /* Face analysis and masking that cannot start: with require_masking the
     * run fails (status 2, settings or assets that could never work);
     * otherwise the guard covers every frame, which is exactly fail-closed. */
    join_analysis(p);
    if (!p->tracker && d.require_masking && load.tracker_err.category != PTIM_ERR_MEMORY) {
        err = load.tracker_err;
        res->status = 2; /* a configuration that could never work: no frame is read */
        res->error = err;
        close_all(p);
        return res->status;
    } else if (!p->tracker) {
        err = load.tracker_err;
        count_error(p, err.category); /* not a failure of the run: the guard covers */
        fprintf(stderr, "ptim: face analysis unavailable (%s): every frame will be covered\n",
                err.message);
        p->warned_analysis = true;
    }
    /* Whom not to mask (privacy.keep / privacy.only). Photos that cannot be
     * used fail the run like any asset; without require_masking everyone is
     * masked, which is the safe side. */
    if (p->tracker && load.select_rc < 0) {
        err = load.select_err;
        if (d.require_masking && err.category != PTIM_ERR_MEMORY) {
            res->status = 2;
            res->error = err;
            close_all(p);
            return res->status;
        }
        count_error(p, err.category);
        fprintf(stderr, "ptim: %s; every face will be masked\n", err.message);
    }
    if (p->select && !strcmp(face_select_rule(p->select), "only"))
        fprintf(stderr, "ptim: privacy.only is set: only faces recognized as the %d listed %s are masked; "
                        "everyone else stays visible\n",
                face_select_people(p->select), face_select_people(p->select) == 1 ? "person" : "people");
    /* A phone video stored turned is analysed as it is shown (masks still
     * land on the stored pixels). */
    if (p->tracker) {
        face_tracker_set_orientation(p->tracker, in->display_turns);
        face_tracker_set_live(p->tracker, d.live);
    }
    /* the pictures behind the masker, as the caller loaded them: the files
     * they came from are what a live change of the option is compared with
     * (the caller's name for them; else the option as the run starts) */
    if (d.assets)
        p->assets = *d.assets;
    if (p->assets.identity)
        snprintf(p->identity.tried, sizeof p->identity.tried, "%s",
                 p->assets.identity_name ? p->assets.identity_name : ptim_config_str(cfg, "swap.identity"));
    if (p->assets.overlay)
        snprintf(p->overlay.tried, sizeof p->overlay.tried, "%s",
                 p->assets.overlay_name ? p->assets.overlay_name : ptim_config_str(cfg, "mask.image"));
    snprintf(p->model_seen, sizeof p->model_seen, "%s", ptim_config_str(cfg, "swap.model"));
    if (!p->masker && d.require_masking && load.masker_err.category != PTIM_ERR_MEMORY) {
        err = load.masker_err;
        res->status = 2;
        res->error = err;
        close_all(p);
        return res->status;
    } else if (!p->masker) {
        err = load.masker_err;
        count_error(p, err.category);
        fprintf(stderr, "ptim: face masking unavailable (%s): every frame will be covered\n",
                err.message);
        p->warned_render = true;
    }
    if (d.unsafe_passthrough)
        fprintf(stderr, "ptim: WARNING: --unsafe-passthrough: frames that could not be masked are "
                        "written UNMASKED and faces on them are visible\n");

    p->q_analyze = ptim_queue_create(qsize);
    p->q_render = ptim_queue_create(qsize);
    p->q_sink = ptim_queue_create(qsize);
    if (!p->q_analyze || !p->q_render || !p->q_sink) {
        res->status = 1;
        ptim_error_set(&res->error, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
        close_all(p);
        return 1;
    }

    pthread_t th[4];
    void *(*fn[4])(void *) = {source_thread, analyze_thread, render_thread, sink_thread};
    int started = 0;
    for (; started < 4; started++)
        if (pthread_create(&th[started], NULL, fn[started], p) != 0)
            break;
    if (started < 4) {
        ptim_error_set(&err, PTIM_ERR_INTERNAL, PTIM_SEV_CRITICAL, "cannot start pipeline threads");
        report(p, "pipeline", &err, NULL, NULL);
        fail(p, 1, &err);
        ptim_queue_close(p->q_analyze);
        ptim_queue_close(p->q_render);
        ptim_queue_close(p->q_sink);
    }
    /* Supervise: a stop request interrupts a blocked read; the stages then drain. */
    bool interrupted = false;
    while (started == 4) {
        if (atomic_load(d.stop) && !interrupted) {
            interrupted = true;
            io_source_interrupt(p->src);
        }
        if (pthread_tryjoin_np(th[3], NULL) == 0) {
            started = 3;
            break;
        }
        usleep(20000);
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    res->interrupted = atomic_load(d.stop) != 0;

    const io_source_counters *sc = io_source_get_counters(p->src);
    res->source_frames_corrupt = sc->frames_corrupt;
    res->source_packets_corrupt = sc->packets_corrupt;
    res->source_packets_dropped = sc->packets_dropped;
    res->source_reopens = sc->reopens;
    if (sc->packets_corrupt)
        p->st->errors[PTIM_ERR_DECODE] += sc->packets_corrupt;
    /* A file whose demuxer ends before the frames its header promises is
     * truncated: the output would silently lack part of the video, so the job
     * fails. (Packets that were read but could not be decoded are skipped and
     * counted instead: the damage is reported, the rest is masked.) */
    if (res->status == 0 && !res->interrupted && !d.live && in->kind == IO_SOURCE_FILE &&
        sc->frames > 0 && !ptim_config_bool(cfg, "source.loop")) {
        int64_t tolerance = 2 + in->nb_frames / 200;
        double end_s = (p->last_pts + p->frame_dur) * av_q2d(p->tb);
        if (in->nb_frames > 0 && sc->packets + tolerance < in->nb_frames)
            res->status = 1, ptim_error_set(&res->error, PTIM_ERR_DECODE, PTIM_SEV_HIGH,
                                            "%s ended early: %lld of its %lld frames could be "
                                            "read (the file is truncated or damaged)",
                                            d.input, (long long)sc->packets, (long long)in->nb_frames);
        else if (in->nb_frames <= 0 && in->duration_s > 0 && end_s + 1.0 < in->duration_s)
            res->status = 1, ptim_error_set(&res->error, PTIM_ERR_DECODE, PTIM_SEV_HIGH,
                                            "%s ended early: frames up to %.1f s of its %.1f s "
                                            "could be read (the file is truncated or damaged)",
                                            d.input, end_s, in->duration_s);
        if (res->status)
            count_error(p, PTIM_ERR_DECODE);
    }
    /* A stop that comes before the first frame is a stop, not a broken input. */
    if (res->status == 0 && !res->interrupted && sc->frames == 0 &&
        atomic_load(&p->st->frames_in) == 0) {
        res->status = 1;
        ptim_error_set(&res->error, PTIM_ERR_DECODE, PTIM_SEV_HIGH,
                       "%s: no frame could be decoded", d.input);
    }
    if (!atomic_load(&p->failed) && res->status == 0) {
        ptim_error e = {0};
        /* An offline job stopped early is finished so that it plays, but keeps
         * NAME.partial: a cut-off file under the final name would pass for the
         * whole video. A live recording stopped by the user is complete. */
        bool cut_off = res->interrupted && !d.live;
        if (audio_drain(p, INT64_MAX, &e) < 0 ||
            (cut_off ? io_sink_finish_partial(p->sink, &e) : io_sink_finish(p->sink, &e)) < 0) {
            res->status = 1;
            res->error = e;
            count_error(p, e.category);
        }
    }
    /* every failed write the sink retried was reported to core/error there */
    p->st->errors[io_sink_kind_of(d.output) == IO_SINK_NETWORK ? PTIM_ERR_NETWORK : PTIM_ERR_ENCODE] +=
        io_sink_get_counters(p->sink)->retries;
    p->st->wall_s = (now_us() - p->t_start_us) / 1e6;
    for (int i = 0; i < PTIM_STAGE__COUNT; i++)
        if (p->hist[i])
            ptim_histogram_summary(p->hist[i], &p->st->stage[i]);
    ptim_mem_get_stats(p->pool, &res->memory);
    res->reader_gone = res->status && io_sink_reader_gone(p->sink);
    close_all(p); /* an unfinished sink removes NAME.partial */
    return res->status;
}

void ptim_pipeline_write_stats_json(FILE *f, const ptim_pipeline_desc *desc,
                                    const ptim_pipeline_result *res)
{
    const ptim_pipeline_stats *s = &res->stats;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "input", desc->input);
    cJSON_AddStringToObject(o, "output", desc->output);
    cJSON_AddStringToObject(o, "writer", res->sink_description);
    cJSON_AddStringToObject(o, "mode", desc->live ? "live" : "offline");
    cJSON_AddNumberToObject(o, "status", res->status);
    cJSON_AddBoolToObject(o, "interrupted", res->interrupted);
    if (res->error.message[0])
        cJSON_AddStringToObject(o, "error", res->error.message);
    cJSON *fr = cJSON_AddObjectToObject(o, "frames");
    cJSON_AddNumberToObject(fr, "in", (double)s->frames_in);
    cJSON_AddNumberToObject(fr, "out", (double)s->frames_out);
    cJSON_AddNumberToObject(fr, "masked", (double)s->frames_masked);
    cJSON_AddNumberToObject(fr, "covered", (double)s->frames_covered);
    cJSON_AddNumberToObject(fr, "passthrough_unsafe", (double)s->frames_passthrough);
    cJSON_AddNumberToObject(fr, "mode_none", (double)s->frames_mode_none);
    cJSON_AddNumberToObject(fr, "mode_none_with_faces", (double)s->frames_faces_unmasked_none);
    cJSON_AddNumberToObject(fr, "filler", (double)s->frames_filler);
    cJSON *dr = cJSON_AddObjectToObject(fr, "dropped");
    cJSON_AddNumberToObject(dr, "guard", (double)s->frames_dropped_guard);
    cJSON_AddNumberToObject(dr, "stale_live", (double)s->frames_dropped_live);
    cJSON_AddNumberToObject(dr, "rate_cap", (double)s->frames_dropped_rate);
    cJSON_AddNumberToObject(dr, "no_memory", (double)s->frames_dropped_alloc);
    cJSON *cr = cJSON_AddObjectToObject(fr, "covered_by_reason");
    for (int r = 1; r < PTIM_GUARD_REASON__COUNT; r++)
        cJSON_AddNumberToObject(cr, ptim_guard_reason_name(r), (double)s->covered_by_reason[r]);
    cJSON *src = cJSON_AddObjectToObject(o, "source");
    cJSON_AddNumberToObject(src, "corrupt_frames", (double)res->source_frames_corrupt);
    cJSON_AddNumberToObject(src, "corrupt_packets", (double)res->source_packets_corrupt);
    cJSON_AddNumberToObject(src, "dropped_packets", (double)res->source_packets_dropped);
    cJSON_AddNumberToObject(src, "reopens", (double)res->source_reopens);
    cJSON_AddNumberToObject(o, "faces", (double)s->faces);
    cJSON_AddNumberToObject(o, "wall_s", s->wall_s);
    cJSON_AddNumberToObject(o, "fps", s->wall_s > 0 ? s->frames_out / s->wall_s : 0);
    cJSON *st = cJSON_AddObjectToObject(o, "stages_ms");
    for (int i = 0; i < PTIM_STAGE__COUNT; i++) {
        const ptim_latency *l = &s->stage[i];
        cJSON *h = cJSON_AddObjectToObject(st, ptim_stage_name(i));
        cJSON_AddNumberToObject(h, "count", (double)l->count);
        cJSON_AddNumberToObject(h, "mean", l->mean_ms);
        cJSON_AddNumberToObject(h, "p50", l->p50_ms);
        cJSON_AddNumberToObject(h, "p95", l->p95_ms);
        cJSON_AddNumberToObject(h, "p99", l->p99_ms);
        cJSON_AddNumberToObject(h, "max", l->max_ms);
    }
    cJSON *ti = cJSON_AddObjectToObject(o, "tiles");
    cJSON_AddNumberToObject(ti, "scanned", (double)s->tiles_scanned);
    cJSON_AddNumberToObject(ti, "passed_unchanged", (double)s->tiles_skipped);
    /* where the analysis time went, ms per analysed frame (face/tracker.h's
     * parts; the look-back is offline only and not in "all") */
    cJSON *an = cJSON_AddObjectToObject(o, "analysis_ms_per_frame");
    double frames = s->analysis_frames > 0 ? (double)s->analysis_frames : 1.0;
    for (int i = 0; i < FACE_PART__COUNT; i++)
        cJSON_AddNumberToObject(an, face_tracker_part_name(i), (double)s->analysis_us[i] / 1000.0 / frames);
    cJSON *su = cJSON_AddObjectToObject(o, "startup_ms");
    for (int i = 0; i < PTIM_JOB_STARTUP__COUNT; i++)
        cJSON_AddNumberToObject(su, ptim_job_startup_name(i), s->startup_ms[i]);
    cJSON *er = cJSON_AddObjectToObject(o, "errors");
    for (int i = 1; i < PTIM_ERR__COUNT; i++)
        cJSON_AddNumberToObject(er, ptim_err_category_name(i), (double)s->errors[i]);
    cJSON_AddNumberToObject(o, "recoveries", (double)s->recoveries);
    if (ptim_fault_armed(PTIM_FAULT__COUNT)) { /* injected faults: events reached and fired per point */
        char buf[2048];
        ptim_fault_stats_json(buf, sizeof buf);
        cJSON *faults = cJSON_Parse(buf);
        if (faults)
            cJSON_AddItemToObject(o, "faults", faults);
    }
    cJSON_AddNumberToObject(o, "reconfigures", (double)s->reconfigures);
    cJSON *mem = cJSON_AddObjectToObject(o, "memory");
    const ptim_mem_stats *m = &res->memory;
    cJSON_AddNumberToObject(mem, "pool_budget_bytes", (double)m->budget);
    cJSON_AddNumberToObject(mem, "pool_peak_bytes", (double)m->peak);
    cJSON_AddNumberToObject(mem, "pool_requests", (double)m->requests);
    cJSON_AddNumberToObject(mem, "pool_reused", (double)m->reused);
    cJSON_AddNumberToObject(mem, "pool_reuse_rate", m->reuse_rate);
    cJSON_AddNumberToObject(mem, "pool_failures", (double)m->failures);
    cJSON_AddNumberToObject(mem, "frames_in_flight_peak", (double)s->pool_peak);
    cJSON_AddNumberToObject(mem, "frame_copies", (double)s->frame_copies);
    cJSON_AddNumberToObject(mem, "cover_buffers", (double)s->cover_buffers);
    char *text = cJSON_PrintUnformatted(o);
    if (text) {
        fputs(text, f);
        fputc('\n', f);
    }
    cJSON_free(text);
    cJSON_Delete(o);
}
