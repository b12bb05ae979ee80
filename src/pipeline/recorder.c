/* pipeline/recorder — recording the output from the control panel; see recorder.h. */
#include "pipeline/recorder.h"

#include "core/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ptim_recorder {
    pthread_mutex_t lock;
    pthread_cond_t acted;
    /* asked for by the server (under lock) */
    bool want;
    char want_path[1024];
    uint64_t asked, done; /* requests made, and acted on by the sink thread */
    ptim_recording_status status;
    atomic_bool busy;     /* want, or a file open: the sink thread has something to do */
    /* the sink thread's own */
    io_sink *sink;
    uint64_t sink_ask;    /* the request that opened it */
    int64_t first_pts;
    AVFrame *ref;
};

ptim_recorder *ptim_recorder_new(void)
{
    ptim_recorder *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (!(r->ref = av_frame_alloc())) {
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->lock, NULL);
    ptim_cond_init_monotonic(&r->acted);
    atomic_init(&r->busy, false);
    return r;
}

void ptim_recorder_free(ptim_recorder *r)
{
    if (!r)
        return;
    ptim_recorder_end(r);
    av_frame_free(&r->ref);
    pthread_cond_destroy(&r->acted);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

int ptim_recorder_start(ptim_recorder *r, const char *path)
{
    pthread_mutex_lock(&r->lock);
    if (r->want) {
        pthread_mutex_unlock(&r->lock);
        return -1;
    }
    r->want = true;
    r->asked++;
    snprintf(r->want_path, sizeof r->want_path, "%s", path);
    r->status.on = true;
    r->status.writing = false;
    snprintf(r->status.path, sizeof r->status.path, "%s", path);
    r->status.frames = 0;
    r->status.error[0] = '\0';
    atomic_store(&r->busy, true);
    pthread_mutex_unlock(&r->lock);
    return 0;
}

void ptim_recorder_stop(ptim_recorder *r)
{
    pthread_mutex_lock(&r->lock);
    if (r->want) {
        r->want = false;
        r->asked++;
        r->status.on = false;
    }
    pthread_mutex_unlock(&r->lock);
}

bool ptim_recorder_wait(ptim_recorder *r, int timeout_ms)
{
    struct timespec until = ptim_deadline_after_ms(timeout_ms);
    pthread_mutex_lock(&r->lock);
    while (r->done != r->asked)
        if (pthread_cond_timedwait(&r->acted, &r->lock, &until) == ETIMEDOUT)
            break;
    bool acted = r->done == r->asked;
    pthread_mutex_unlock(&r->lock);
    return acted;
}

void ptim_recorder_status(ptim_recorder *r, ptim_recording_status *out)
{
    pthread_mutex_lock(&r->lock);
    *out = r->status;
    pthread_mutex_unlock(&r->lock);
}

/* Under lock: the sink thread acted on every request up to `ask`. */
static void acted(ptim_recorder *r, uint64_t ask)
{
    if (ask > r->done)
        r->done = ask;
    atomic_store(&r->busy, r->want || r->sink);
    pthread_cond_broadcast(&r->acted);
}

/* Sink thread: finish the open file (renamed to its final name) and close it;
 * `why` (or NULL) is kept as the reason it stopped early. */
static void finish(ptim_recorder *r, const char *why)
{
    ptim_error err = {0};
    int rc = io_sink_finish(r->sink, &err);
    io_sink_close(r->sink);
    r->sink = NULL;
    pthread_mutex_lock(&r->lock);
    r->status.writing = false;
    if (why || rc < 0) {
        snprintf(r->status.error, sizeof r->status.error, "%s", why ? why : err.message);
        if (r->sink_ask == r->asked) { /* the recording asked for ends here */
            r->want = false;
            r->status.on = false;
        }
    }
    acted(r, r->sink_ask);
    pthread_mutex_unlock(&r->lock);
}

void ptim_recorder_frame(ptim_recorder *r, const io_sink_options *opts, const io_source_info *in,
                         const AVFrame *frame)
{
    if (!r || !atomic_load(&r->busy))
        return;
    pthread_mutex_lock(&r->lock);
    bool want = r->want;
    uint64_t ask = r->asked;
    char path[sizeof r->want_path];
    memcpy(path, r->want_path, sizeof path);
    pthread_mutex_unlock(&r->lock);

    /* stopped, or stopped and started again: the open file is finished */
    if (r->sink && (!want || ask != r->sink_ask))
        finish(r, NULL);
    if (want && !r->sink) {
        io_sink_options o = *opts;
        o.target = path;
        o.audio = false;
        io_source_info info = *in;
        info.video_par = info.audio_par = NULL;
        ptim_error err = {0};
        int rc = io_sink_open(&o, &info, &r->sink, &err);
        pthread_mutex_lock(&r->lock);
        if (rc < 0) {
            r->sink = NULL;
            if (ask == r->asked) {
                r->want = false;
                r->status.on = false;
            }
            snprintf(r->status.error, sizeof r->status.error, "%s", err.message);
        } else {
            r->sink_ask = ask;
            r->first_pts = frame->pts;
            r->status.writing = true;
        }
        acted(r, ask);
        pthread_mutex_unlock(&r->lock);
    } else if (!want && !r->sink) {
        pthread_mutex_lock(&r->lock);
        acted(r, ask);
        pthread_mutex_unlock(&r->lock);
    }
    if (!r->sink)
        return;
    /* a reference with times from the recording's start */
    ptim_error err = {0};
    int rc = av_frame_ref(r->ref, frame);
    if (rc == 0) {
        r->ref->pts = frame->pts - r->first_pts;
        rc = io_sink_write_frame(r->sink, r->ref, &err);
        av_frame_unref(r->ref);
    } else {
        ptim_error_set(&err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "out of memory recording a frame");
    }
    if (rc < 0) {
        finish(r, err.message);
        return;
    }
    pthread_mutex_lock(&r->lock);
    r->status.frames++;
    pthread_mutex_unlock(&r->lock);
}

void ptim_recorder_end(ptim_recorder *r)
{
    if (!r)
        return;
    if (r->sink)
        finish(r, NULL);
    pthread_mutex_lock(&r->lock);
    if (r->want) {
        r->want = false;
        r->asked++;
        r->status.on = false;
    }
    acted(r, r->asked);
    pthread_mutex_unlock(&r->lock);
}
