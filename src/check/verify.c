/* check/verify — see verify.h. Decoding here is its own small reader on
 * libavformat/libavcodec on purpose: a bug in the pipeline's source must not
 * be able to hide itself from the check. */
#include "check/verify.h"

#include "io/image_file.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include "face/embed.h"
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

void verify_options_default(verify_options *opt)
{
    *opt = (verify_options){
        .leak_threshold = 0.5f,
        .presence_threshold = 0.9f,
        .unchanged_corr = 0.4f,
        .open_detail = 0.45f,
        .unconfirmed_threshold = 0.6f,
        .original_threshold = 0.5f,
        .confirm_presence = 0.8f,
        .confirm_min_px = 20.0f,
        .identity_threshold = 0.95f,
        .identity_min_px = 24.0f,
        .identity_margin = 0.1f,
        .every = 1,
        .max_frames = 0,
    };
}

/* ---- a minimal video reader ------------------------------------------- */

typedef struct vreader {
    const char *path;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *raw;
    struct SwsContext *sws;
    int stream;
    AVRational time_base;
    int64_t first_pts; /* AV_NOPTS_VALUE until the first frame */
    double last_time;  /* the previous frame's time (s), NAN before one had a time */
    double frame_s;    /* one frame's duration from the stream's rate, 0 when unknown */
    int64_t index;     /* frames returned so far */
    int64_t decode_errors;
    bool draining, done;
} vreader;

static int av_fail(ptim_error *err, ptim_err_category cat, const char *path, const char *what, int averr)
{
    char buf[AV_ERROR_MAX_STRING_SIZE] = "";
    av_strerror(averr, buf, sizeof buf);
    return ptim_error_set(err, cat, PTIM_SEV_HIGH, "%s: %s (%s)", path, what, buf);
}

static void vreader_close(vreader *r)
{
    sws_freeContext(r->sws);
    av_frame_free(&r->raw);
    av_packet_free(&r->pkt);
    avcodec_free_context(&r->dec);
    avformat_close_input(&r->fmt);
}

static int vreader_open(vreader *r, const char *path, ptim_error *err)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->first_pts = AV_NOPTS_VALUE;
    r->last_time = NAN;
    int rc = avformat_open_input(&r->fmt, path, NULL, NULL);
    if (rc == AVERROR_INVALIDDATA)
        return ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH,
                              "%s: not a video or picture file FFmpeg can read", path);
    if (rc < 0)
        return av_fail(err, PTIM_ERR_IO, path, "cannot open", rc);
    if ((rc = avformat_find_stream_info(r->fmt, NULL)) < 0) {
        av_fail(err, PTIM_ERR_DECODE, path, "cannot read stream information", rc);
        goto fail;
    }
    const AVCodec *codec = NULL;
    r->stream = av_find_best_stream(r->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (r->stream < 0 || !codec) {
        ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH,
                       r->stream == AVERROR_DECODER_NOT_FOUND ? "%s: no decoder for its video stream"
                                                               : "%s: has no video stream",
                       path);
        goto fail;
    }
    AVStream *st = r->fmt->streams[r->stream];
    r->time_base = st->time_base;
    AVRational rate = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
    r->frame_s = rate.num > 0 && rate.den > 0 ? av_q2d(av_inv_q(rate)) : 0.0;
    r->dec = avcodec_alloc_context3(codec);
    r->pkt = av_packet_alloc();
    r->raw = av_frame_alloc();
    if (!r->dec || !r->pkt || !r->raw) {
        ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "%s: out of memory", path);
        goto fail;
    }
    if ((rc = avcodec_parameters_to_context(r->dec, st->codecpar)) < 0 ||
        (r->dec->thread_count = 2, rc = avcodec_open2(r->dec, codec, NULL)) < 0) {
        av_fail(err, PTIM_ERR_DECODE, path, "cannot open the video decoder", rc);
        goto fail;
    }
    return 0;
fail:
    vreader_close(r);
    return -1;
}

/* Next decoded frame as YUV420P into `out` (which it owns afterwards), with
 * its time in seconds from the first frame. Returns 1, 0 at the end, -1 on a
 * reader error (decode errors of single packets are counted and skipped). */
static int vreader_next(vreader *r, AVFrame *out, double *time, ptim_error *err)
{
    for (;;) {
        int rc = avcodec_receive_frame(r->dec, r->raw);
        if (rc == 0)
            break;
        if (rc == AVERROR_EOF)
            return 0;
        if (rc != AVERROR(EAGAIN)) {
            r->decode_errors++;
            if (r->draining)
                return 0;
            continue;
        }
        if (r->draining)
            return 0;
        rc = av_read_frame(r->fmt, r->pkt);
        if (rc == AVERROR_EOF || (rc == AVERROR(EIO) && avio_feof(r->fmt->pb))) {
            r->draining = true;
            avcodec_send_packet(r->dec, NULL);
            continue;
        }
        if (rc < 0) {
            /* A damaged container: treat what was read as the whole file. */
            r->decode_errors++;
            r->draining = true;
            avcodec_send_packet(r->dec, NULL);
            continue;
        }
        if (r->pkt->stream_index == r->stream && avcodec_send_packet(r->dec, r->pkt) < 0)
            r->decode_errors++;
        av_packet_unref(r->pkt);
    }

    AVFrame *f = r->raw;
    int64_t ts = f->best_effort_timestamp;
    if (ts != AV_NOPTS_VALUE && r->first_pts == AV_NOPTS_VALUE)
        r->first_pts = ts;
    if (ts != AV_NOPTS_VALUE && r->first_pts != AV_NOPTS_VALUE)
        *time = (double)(ts - r->first_pts) * av_q2d(r->time_base);
    else if (!isnan(r->last_time) && r->frame_s > 0)
        /* A frame without a timestamp after frames with one (an AVI's last
         * frame): one frame after the previous. Left NAN, the frame before
         * it found no original to match and was judged alone, where a face
         * swap is a face like any other. */
        *time = r->last_time + r->frame_s;
    else
        *time = NAN;
    r->last_time = *time;

    av_frame_unref(out);
    if (f->format == AV_PIX_FMT_YUV420P || f->format == AV_PIX_FMT_YUVJ420P) {
        av_frame_move_ref(out, f);
    } else {
        r->sws = sws_getCachedContext(r->sws, f->width, f->height, f->format, f->width, f->height,
                                      AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
        out->format = AV_PIX_FMT_YUV420P;
        out->width = f->width;
        out->height = f->height;
        if (!r->sws || av_frame_get_buffer(out, 0) < 0) {
            av_frame_unref(f);
            return ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH,
                                  "%s: cannot convert %s frames to yuv420p", r->path,
                                  av_get_pix_fmt_name(f->format) ? av_get_pix_fmt_name(f->format) : "?");
        }
        sws_scale(r->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, out->data,
                  out->linesize);
        av_frame_unref(f);
    }
    r->index++;
    return 1;
}

static img_view frame_view(const AVFrame *f)
{
    img_view v = {.format = IMG_FMT_YUV420P, .width = f->width, .height = f->height};
    for (int i = 0; i < 3; i++) {
        v.data[i] = f->data[i];
        v.stride[i] = f->linesize[i];
    }
    return v;
}

/* ---- comparisons ------------------------------------------------------- */

/* Mean luma over an n x n grid laid on `box` (frame pixels, clipped to the
 * frame): the face at one fixed scale whatever its size in the frame. A cell
 * smaller than a pixel takes the pixel under it. Returns false when the box
 * lies outside the frame. */
static bool grid_luma(const uint8_t *p, int stride, int w, int h, const float box[4], float *out)
{
    const int n = VERIFY_DETAIL_GRID;
    if (!(box[2] > 0.0f && box[3] > 0.0f) || box[0] >= w || box[1] >= h || box[0] + box[2] <= 0 ||
        box[1] + box[3] <= 0)
        return false;
    for (int j = 0; j < n; j++) {
        int y0 = (int)floorf(box[1] + j * box[3] / n), y1 = (int)floorf(box[1] + (j + 1) * box[3] / n);
        if (y1 <= y0)
            y1 = y0 + 1;
        y0 = y0 < 0 ? 0 : y0 >= h ? h - 1 : y0;
        y1 = y1 > h ? h : y1 <= y0 ? y0 + 1 : y1;
        for (int i = 0; i < n; i++) {
            int x0 = (int)floorf(box[0] + i * box[2] / n), x1 = (int)floorf(box[0] + (i + 1) * box[2] / n);
            if (x1 <= x0)
                x1 = x0 + 1;
            x0 = x0 < 0 ? 0 : x0 >= w ? w - 1 : x0;
            x1 = x1 > w ? w : x1 <= x0 ? x0 + 1 : x1;
            unsigned sum = 0;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++)
                    sum += p[(size_t)y * stride + x];
            out[j * n + i] = (float)sum / (float)((y1 - y0) * (x1 - x0));
        }
    }
    return true;
}

/* 4-neighbour Laplacian of an n x n grid, (n-2)^2 values. */
static void grid_laplacian(const float *g, float *out)
{
    const int n = VERIFY_DETAIL_GRID;
    for (int j = 1; j < n - 1; j++)
        for (int i = 1; i < n - 1; i++)
            out[(j - 1) * (n - 2) + (i - 1)] = 4 * g[j * n + i] - g[j * n + i - 1] - g[j * n + i + 1] -
                                               g[(j - 1) * n + i] - g[(j + 1) * n + i];
}

float verify_identity_detail(const uint8_t *a, int stride_a, int width_a, int height_a, const float box_a[4],
                             const uint8_t *b, int stride_b, int width_b, int height_b, const float box_b[4])
{
    enum { N = VERIFY_DETAIL_GRID, L = (VERIFY_DETAIL_GRID - 2) * (VERIFY_DETAIL_GRID - 2) };
    float ga[N * N], gb[N * N], la[L], lb[L];
    if (!grid_luma(a, stride_a, width_a, height_a, box_a, ga) ||
        !grid_luma(b, stride_b, width_b, height_b, box_b, gb))
        return -2.0f;
    grid_laplacian(ga, la);
    grid_laplacian(gb, lb);
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    for (int k = 0; k < L; k++) {
        sa += la[k];
        sb += lb[k];
        saa += (double)la[k] * la[k];
        sbb += (double)lb[k] * lb[k];
        sab += (double)la[k] * lb[k];
    }
    double va = saa - sa * sa / L, vb = sbb - sb * sb / L, cov = sab - sa * sb / L;
    /* Below ~0.25 grey level of Laplacian RMS there is no detail to compare:
     * a flat fill, or an original too dark to show anyone. */
    if (va < 0.0625 * L || vb < 0.0625 * L)
        return 0.0f;
    return (float)(cov / sqrt(va * vb));
}

float verify_open_detail(const uint8_t *p, int stride, int width, int height, const float box[4])
{
    enum { N = VERIFY_DETAIL_GRID, L = (VERIFY_DETAIL_GRID - 2) * (VERIFY_DETAIL_GRID - 2) };
    float g[N * N], l[L];
    if (!grid_luma(p, stride, width, height, box, g))
        return 0.0f;
    grid_laplacian(g, l);
    double s = 0, ss = 0, ls = 0;
    for (int k = 0; k < N * N; k++) {
        s += g[k];
        ss += (double)g[k] * g[k];
    }
    for (int k = 0; k < L; k++)
        ls += (double)l[k] * l[k];
    double var = ss / (N * N) - (s / (N * N)) * (s / (N * N));
    return (float)(sqrt(ls / L) / (sqrt(var > 0 ? var : 0) + 1.0));
}

/* Correlation of 16x12 mean-luma thumbnails of two frames: masking changes
 * faces, not the scene, so a masked frame and its source correlate highly
 * (blur keeps the coarse picture); another clip does not. */
static float thumb_correlation(const AVFrame *a, const AVFrame *b)
{
    enum { TW = 16, TH = 12 };
    double ta[TW * TH], tb[TW * TH];
    const AVFrame *fr[2] = {a, b};
    double *out[2] = {ta, tb};
    for (int k = 0; k < 2; k++)
        for (int ty = 0; ty < TH; ty++)
            for (int tx = 0; tx < TW; tx++) {
                int x0 = tx * fr[k]->width / TW, x1 = (tx + 1) * fr[k]->width / TW;
                int y0 = ty * fr[k]->height / TH, y1 = (ty + 1) * fr[k]->height / TH;
                double s = 0;
                long n = 0;
                for (int y = y0; y < y1; y += 2)
                    for (int x = x0; x < x1; x += 2, n++)
                        s += fr[k]->data[0][(size_t)y * fr[k]->linesize[0] + x];
                out[k][ty * TW + tx] = n ? s / n : 0;
            }
    double ma = 0, mb = 0;
    for (int i = 0; i < TW * TH; i++) {
        ma += ta[i];
        mb += tb[i];
    }
    ma /= TW * TH;
    mb /= TW * TH;
    double va = 0, vb = 0, cov = 0;
    for (int i = 0; i < TW * TH; i++) {
        va += (ta[i] - ma) * (ta[i] - ma);
        vb += (tb[i] - mb) * (tb[i] - mb);
        cov += (ta[i] - ma) * (tb[i] - mb);
    }
    if (va < 1e-6 * TW * TH || vb < 1e-6 * TW * TH) /* flat frames: only their levels can differ */
        return fabs(ma - mb) < 16 ? 1.0f : 0.0f;
    return (float)(cov / sqrt(va * vb));
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static float box_iou(const float a[4], const float b[4])
{
    float ix = fmaxf(0, fminf(a[0] + a[2], b[0] + b[2]) - fmaxf(a[0], b[0]));
    float iy = fmaxf(0, fminf(a[1] + a[3], b[1] + b[3]) - fmaxf(a[1], b[1]));
    float inter = ix * iy, uni = a[2] * a[3] + b[2] * b[3] - inter;
    return uni > 0 ? inter / uni : 0;
}

static verify_hit *leak_hit(verify_leak *leak, const float box[4])
{
    /* One entry per place: merge with an overlapping one already reported. */
    for (int i = 0; i < leak->count; i++)
        if (box_iou(leak->hits[i].box, box) > 0.3f)
            return &leak->hits[i];
    if (leak->count == FACE_LIST_MAX)
        return NULL;
    verify_hit *h = &leak->hits[leak->count++];
    *h = (verify_hit){.presence = -1.0f, .detail_corr = -2.0f, .similarity = -2.0f, .similarity_blurred = -2.0f,
                      .open_detail = -1.0f};
    memcpy(h->box, box, sizeof h->box);
    return h;
}

static int push_leak(verify_report *rep, const verify_leak *leak, ptim_error *err)
{
    if (rep->frames_leaked == rep->leaks_cap) {
        int cap = rep->leaks_cap ? rep->leaks_cap * 2 : 16;
        verify_leak *grown = realloc(rep->leaks, sizeof *grown * cap);
        if (!grown)
            return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "verify: out of memory");
        rep->leaks = grown;
        rep->leaks_cap = cap;
    }
    rep->leaks[rep->frames_leaked++] = *leak;
    rep->faces_leaked += leak->count;
    return 0;
}

/* The part of a face box that identifies a person: the span of the eyes,
 * nose and mouth keypoints, padded by pad_frac of the box width and kept
 * inside the box. A box alone also holds ears, hair and background, which
 * masking rightly leaves alone. Without usable keypoints: the central 60 %.
 * Identity detail uses a 4 % pad: with 15 % the jaw and cheek line came in,
 * and a mask that follows the face's outline (a model swap's) correlated
 * with it (0.41-0.46 on a fixture .dfm swap that shows nobody). */
static void inner_region(const float box[4], const float (*kp)[2], float pad_frac, float out[4])
{
    float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int k = 0; k < 4; k++) { /* right eye, left eye, nose tip, mouth */
        x0 = fminf(x0, kp[k][0]);
        y0 = fminf(y0, kp[k][1]);
        x1 = fmaxf(x1, kp[k][0]);
        y1 = fmaxf(y1, kp[k][1]);
    }
    float pad = pad_frac * box[2];
    x0 = fmaxf(x0 - pad, box[0]);
    y0 = fmaxf(y0 - pad, box[1]);
    x1 = fminf(x1 + pad, box[0] + box[2]);
    y1 = fminf(y1 + pad, box[1] + box[3]);
    if (!(x1 - x0 >= 0.3f * box[2] && y1 - y0 >= 0.3f * box[3])) {
        x0 = box[0] + 0.2f * box[2];
        y0 = box[1] + 0.2f * box[3];
        x1 = box[0] + 0.8f * box[2];
        y1 = box[1] + 0.8f * box[3];
    }
    out[0] = x0;
    out[1] = y0;
    out[2] = x1 - x0;
    out[3] = y1 - y0;
}

/* Luma crop of `box` (grown by half its size, clipped) from a YUV420P frame
 * into dst (a GRAY8 picture w x h, nearest sampling). */
static void crop_gray(const AVFrame *f, const float box[4], float sx, float sy, uint8_t *dst, int w, int h)
{
    float cx = (box[0] + box[2] / 2) / sx, cy = (box[1] + box[3] / 2) / sy;
    float half = fmaxf(box[2] / sx, box[3] / sy);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int fx = (int)floorf(cx - half + (x + 0.5f) * 2 * half / w);
            int fy = (int)floorf(cy - half + (y + 0.5f) * 2 * half / h);
            bool in = fx >= 0 && fy >= 0 && fx < f->width && fy < f->height;
            dst[y * w + x] = in ? f->data[0][(size_t)fy * f->linesize[0] + fx] : 0;
        }
}

/* The first face of a leaked frame as a picture a person can judge in a
 * second: the masked crop, and the original's beside it. Best effort: a
 * failure only leaves the report without this picture. */
static void write_thumbnail(const verify_options *opt, verify_report *rep, verify_leak *leak,
                            const AVFrame *masked, const AVFrame *orig)
{
    if (!opt->thumbnail_dir || rep->thumbnails >= opt->max_thumbnails || !leak->count)
        return;
    enum { SIDE = 160 };
    static uint8_t pix[SIDE * 2 * SIDE]; /* verify runs on one thread */
    const int w = orig ? 2 * SIDE : SIDE;
    crop_gray(masked, leak->hits[0].box, 1.0f, 1.0f, pix, SIDE, SIDE);
    uint8_t *row = pix;
    if (orig) {
        static uint8_t side[SIDE * SIDE];
        crop_gray(orig, leak->hits[0].box, (float)masked->width / orig->width,
                  (float)masked->height / orig->height, side, SIDE, SIDE);
        static uint8_t both[SIDE * 2 * SIDE];
        for (int y = 0; y < SIDE; y++) {
            memcpy(both + (size_t)y * w, pix + (size_t)y * SIDE, SIDE);
            memcpy(both + (size_t)y * w + SIDE, side + (size_t)y * SIDE, SIDE);
        }
        row = both;
    }
    img_view v = {.format = IMG_FMT_GRAY8, .width = w, .height = SIDE};
    v.data[0] = row;
    v.stride[0] = w;
    char path[sizeof leak->thumbnail];
    if (snprintf(path, sizeof path, "%s/frame_%06lld.jpg", opt->thumbnail_dir, (long long)leak->frame) >=
        (int)sizeof path)
        return;
    ptim_error err = {0};
    if (io_image_save(path, &v, &err) == 0) {
        memcpy(leak->thumbnail, path, sizeof path);
        rep->thumbnails++;
    }
}

/* Index of the first face of `faces_o` (original pixels, scaled by sx, sy)
 * that overlaps `box` (masked-frame pixels) at all, however unsure; -1. */
static int overlapping_original(const float box[4], const face_list *faces_o, float sx, float sy)
{
    int best = -1;
    float best_area = 0.0f;
    for (int i = 0; i < faces_o->count; i++) {
        const float *o = faces_o->faces[i].box;
        float ob[4] = {o[0] * sx, o[1] * sy, o[2] * sx, o[3] * sy};
        float w = fminf(box[0] + box[2], ob[0] + ob[2]) - fmaxf(box[0], ob[0]);
        float h = fminf(box[1] + box[3], ob[1] + ob[3]) - fmaxf(box[1], ob[1]);
        if (w > 0.0f && h > 0.0f && w * h > best_area) {
            best = i;
            best_area = w * h;
        }
    }
    return best;
}

/* A place to judge on one frame: a face of the original (original pixels in
 * `fo`, scaled into the masked frame in box/kp/inner). */
typedef struct verify_region {
    const face *fo;
    float box[4], inner[4], kp[FACE_KEYPOINTS][2];
    float m_score, m_presence; /* the masked-frame detection that points here (0 / -1: none) */
} verify_region;

static int add_region(verify_region *regions, int n, const face *fo, float sx, float sy)
{
    for (int r = 0; r < n; r++)
        if (regions[r].fo == fo)
            return r;
    if (n == 2 * FACE_LIST_MAX)
        return -1;
    verify_region *g = &regions[n];
    *g = (verify_region){.fo = fo, .m_presence = -1.0f};
    g->box[0] = fo->box[0] * sx;
    g->box[1] = fo->box[1] * sy;
    g->box[2] = fo->box[2] * sx;
    g->box[3] = fo->box[3] * sy;
    for (int k = 0; k < FACE_KEYPOINTS; k++) {
        g->kp[k][0] = fo->keypoints[k][0] * sx;
        g->kp[k][1] = fo->keypoints[k][1] * sy;
    }
    inner_region(g->box, (const float(*)[2])g->kp, 0.04f, g->inner);
    return n;
}

/* Everything recognizable on one masked frame; `orig` may be NULL.
 *
 * With the original, a person is judged, not a face shape: masking leaves a
 * head-shaped blob that a detector and FaceMesh may still call a face, and
 * it cannot reveal anyone the original does not show. So the places to judge
 * are the original's faces (sure detections that FaceMesh confirms on the
 * original) and any original detection a confirmed masked-frame detection
 * points at; each is a leak when the detail that identifies a person (eyes,
 * nose, mouth at a fixed scale) is still the original's, or, with the
 * recognizer on, when it still matches the person. Without the original,
 * a confirmed detection is a leak when its face shows open detail. */
static int check_frame(const verify_options *opt, const verify_detector *det, verify_report *rep,
                       const AVFrame *masked, int64_t mframe, double mtime, const AVFrame *orig,
                       int64_t oframe, face_list *faces_m, face_list *faces_o, ptim_error *err)
{
    img_view vm = frame_view(masked);
    img_view vo = orig ? frame_view(orig) : (img_view){0};
    verify_leak leak = {.frame = mframe, .time = mtime, .original_frame = orig ? oframe : -1};
    verify_region regions[2 * FACE_LIST_MAX];
    int nregions = 0;

    if (det->detect(det->ctx, &vm, faces_m, err))
        return ptim_error_prefix(err, "%s frame %lld: ", rep->masked, (long long)mframe);
    faces_o->count = 0;
    float sx = orig ? (float)masked->width / orig->width : 1.0f;
    float sy = orig ? (float)masked->height / orig->height : 1.0f;
    if (orig) {
        if (det->detect(det->ctx, &vo, faces_o, err))
            return ptim_error_prefix(err, "%s frame %lld: ", rep->original, (long long)oframe);
        /* The original's faces: sure detections, confirmed by FaceMesh where
         * one is wide enough to judge (a recall-tuned detector also fires on
         * hair, collars and shuttle parts, and those show no one). */
        int counted = 0;
        for (int i = 0; i < faces_o->count; i++) {
            const face *fo = &faces_o->faces[i];
            if (fo->score < opt->original_threshold)
                continue;
            if (det->presence && fo->box[2] >= opt->confirm_min_px) {
                float po = 0.0f;
                if (det->presence(det->ctx, &vo, fo->box, (const float(*)[2])fo->keypoints, &po, err))
                    return ptim_error_prefix(err, "%s frame %lld: ", rep->original, (long long)oframe);
                if (po < opt->confirm_presence)
                    continue;
            }
            counted++;
            if (add_region(regions, nregions, fo, sx, sy) == nregions)
                nregions++;
        }
        rep->original_faces += counted;
        rep->original_face_frames += counted > 0;
    }

    /* Detections on the masked frame, confirmed by FaceMesh where it can
     * judge (a face-shaped blur or fill scores 0.5-0.65 with BlazeFace, as
     * much as a real face far away). */
    for (int i = 0; i < faces_m->count; i++) {
        const face *f = &faces_m->faces[i];
        if (f->score < opt->leak_threshold)
            continue;
        float presence = -1.0f;
        if (det->presence && f->box[2] >= opt->confirm_min_px) {
            if (det->presence(det->ctx, &vm, f->box, (const float(*)[2])f->keypoints, &presence, err))
                return ptim_error_prefix(err, "%s frame %lld: ", rep->masked, (long long)mframe);
            if (presence < opt->confirm_presence)
                continue;
        }
        if (orig) {
            /* Nothing at this place in the original: masking removes
             * information, it cannot show a person the original did not. */
            int o = overlapping_original(f->box, faces_o, sx, sy);
            if (o < 0)
                continue;
            /* Too small for FaceMesh to confirm: only where the original is
             * sure of a face (unsure small hits are the detector's guesses
             * on dark texture, on both frames alike; seen on Megamind). */
            if (presence < 0.0f && faces_o->faces[o].score < opt->original_threshold)
                continue;
            int r = add_region(regions, nregions, &faces_o->faces[o], sx, sy);
            if (r < 0)
                continue;
            nregions += r == nregions;
            regions[r].m_score = fmaxf(regions[r].m_score, f->score);
            regions[r].m_presence = fmaxf(regions[r].m_presence, presence);
            continue;
        }
        /* Masked file alone. Too small for FaceMesh: the detector must be surer. */
        if (presence < 0.0f && f->score < opt->unconfirmed_threshold)
            continue;
        float in[4];
        /* The keypoints' own span: padded, a blob's box reaches the blob's
         * edge, and an edge is detail. */
        inner_region(f->box, (const float(*)[2])f->keypoints, 0.0f, in);
        float open = verify_open_detail(masked->data[0], masked->linesize[0], masked->width, masked->height, in);
        if (open < opt->open_detail)
            continue; /* a face shape without the detail of a face: a blur or fill */
        verify_hit *h = leak_hit(&leak, f->box);
        if (h) {
            h->reasons |= VERIFY_DETECTED;
            h->score = fmaxf(h->score, f->score);
            h->presence = fmaxf(h->presence, presence);
            h->open_detail = fmaxf(h->open_detail, open);
        }
    }

    bool identity = orig && det->embed;
    for (int r = 0; r < nregions; r++) {
        const verify_region *g = &regions[r];
        const face *fo = g->fo;
        verify_hit *h = NULL;
        /* Is the detail that identifies this person still the original's? */
        float orig_inner[4] = {g->inner[0] / sx, g->inner[1] / sy, g->inner[2] / sx, g->inner[3] / sy};
        float corr = verify_identity_detail(orig->data[0], orig->linesize[0], orig->width, orig->height,
                                            orig_inner, masked->data[0], masked->linesize[0], masked->width,
                                            masked->height, g->inner);
        if (corr >= opt->unchanged_corr && (h = leak_hit(&leak, g->box))) {
            h->reasons |= VERIFY_UNCHANGED;
            h->detail_corr = fmaxf(h->detail_corr, corr);
        }
        if (identity && g->box[2] >= opt->identity_min_px) {
            /* Does the recognizer still see the person? Both crops use the
             * original's keypoints, so masking is the only difference. */
            float eo[FACE_EMBED_DIM_MAX], em[FACE_EMBED_DIM_MAX], eb[FACE_EMBED_DIM_MAX];
            int dim_o = 0, dim_m = 0, dim_b = 0;
            if (det->embed(det->ctx, &vo, fo->box, (const float(*)[2])fo->keypoints, eo, &dim_o, err))
                return ptim_error_prefix(err, "%s frame %lld: ", rep->original, (long long)oframe);
            if (det->embed(det->ctx, &vm, g->box, (const float(*)[2])g->kp, em, &dim_m, err))
                return ptim_error_prefix(err, "%s frame %lld: ", rep->masked, (long long)mframe);
            float sim = -2.0f, base = -2.0f;
            if (dim_o == dim_m && dim_o > 0)
                sim = face_embed_similarity(eo, em, dim_o);
            /* A dark or tiny original carries little identity: even a hard
             * blur of it stays "similar". Only a match clearly above that
             * baseline says the mask left the person recognizable. */
            if (sim >= opt->identity_threshold) {
                if (det->embed_blurred(det->ctx, &vo, fo->box, (const float(*)[2])fo->keypoints, eb, &dim_b,
                                       err))
                    return ptim_error_prefix(err, "%s frame %lld: ", rep->original, (long long)oframe);
                if (dim_b == dim_o)
                    base = face_embed_similarity(eo, eb, dim_o);
            }
            rep->identity_compared++;
            rep->identity_max = fmaxf(rep->identity_max, sim);
            if (sim >= opt->identity_threshold && sim >= base + opt->identity_margin &&
                (h = leak_hit(&leak, g->box))) {
                h->reasons |= VERIFY_IDENTITY;
                h->similarity = fmaxf(h->similarity, sim);
                h->similarity_blurred = base;
            }
        }
        if (!h)
            continue;
        /* A leak: say what else sees a face here, for the person who checks. */
        h->original_score = fmaxf(h->original_score, fo->score);
        if (g->m_score > 0.0f) {
            h->reasons |= VERIFY_DETECTED;
            h->score = fmaxf(h->score, g->m_score);
        }
        if (det->presence) {
            float presence = 0.0f;
            if (det->presence(det->ctx, &vm, g->box, (const float(*)[2])g->kp, &presence, err))
                return ptim_error_prefix(err, "%s frame %lld: ", rep->masked, (long long)mframe);
            h->presence = fmaxf(h->presence, presence);
            if (presence >= opt->presence_threshold)
                h->reasons |= VERIFY_LANDMARKS;
        }
    }
    if (leak.count) {
        write_thumbnail(opt, rep, &leak, masked, orig);
        return push_leak(rep, &leak, err);
    }
    return 0;
}

/* A hit FaceMesh could not judge (too small) and no other check backs up. */
static bool unconfirmed_small(const verify_hit *h, const verify_options *opt)
{
    return h->box[2] < opt->confirm_min_px && !(h->reasons & (VERIFY_LANDMARKS | VERIFY_IDENTITY));
}

/* Small unconfirmed hits count only when they recur: a face stays for more
 * than one frame, while the detector's guesses on dark texture under 20 px
 * flicker (seen on Megamind: one frame at a time, a different corner each
 * time). A hit recurs when a hit within `window` frames overlaps it. */
static void drop_flicker(verify_report *rep, const verify_options *opt)
{
    const int64_t window = 2 * (int64_t)opt->every;
    bool *keep_hit = calloc((size_t)rep->frames_leaked * FACE_LIST_MAX + 1, sizeof *keep_hit);
    if (!keep_hit)
        return; /* no memory: report everything, the safe side */
    for (int64_t i = 0; i < rep->frames_leaked; i++) {
        const verify_leak *l = &rep->leaks[i];
        for (int k = 0; k < l->count; k++) {
            const verify_hit *h = &l->hits[k];
            bool keep = !unconfirmed_small(h, opt);
            for (int64_t j = i - 1; !keep && j >= 0 && l->frame - rep->leaks[j].frame <= window; j--)
                for (int q = 0; q < rep->leaks[j].count && !keep; q++)
                    keep = box_iou(rep->leaks[j].hits[q].box, h->box) > 0.1f;
            for (int64_t j = i + 1; !keep && j < rep->frames_leaked && rep->leaks[j].frame - l->frame <= window; j++)
                for (int q = 0; q < rep->leaks[j].count && !keep; q++)
                    keep = box_iou(rep->leaks[j].hits[q].box, h->box) > 0.1f;
            keep_hit[i * FACE_LIST_MAX + k] = keep;
        }
    }
    int64_t out = 0;
    rep->faces_leaked = 0;
    for (int64_t i = 0; i < rep->frames_leaked; i++) {
        verify_leak l = rep->leaks[i];
        int n = 0;
        for (int k = 0; k < l.count; k++)
            if (keep_hit[i * FACE_LIST_MAX + k])
                l.hits[n++] = l.hits[k];
        rep->flicker_dropped += l.count - n;
        l.count = n;
        if (n) {
            rep->leaks[out++] = l;
            rep->faces_leaked += n;
        } else if (l.thumbnail[0]) {
            remove(l.thumbnail);
            rep->thumbnails--;
        }
    }
    rep->frames_leaked = out;
    free(keep_hit);
}

/* Is ORIGINAL the source of MASKED? The median thumbnail correlation of
 * the probed frame pairs must be 0.5 or more; -1 with *err when not. */
static int judge_source(verify_report *rep, float *probe, int n, const char *original, const char *masked,
                        ptim_error *err)
{
    qsort(probe, (size_t)n, sizeof probe[0], cmp_float);
    rep->source_match = probe[n / 2];
    if (rep->source_match >= 0.5f)
        return 0;
    return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                          "%s does not look like the source of %s (frames at the same times differ: correlation "
                          "%.2f); give the file %s was made from",
                          original, masked, rep->source_match, masked);
}

int verify_run(const char *original, const char *masked, const verify_options *opt_in,
               const verify_detector *det, verify_report *rep, ptim_error *err)
{
    memset(rep, 0, sizeof *rep);
    verify_options opt;
    if (opt_in)
        opt = *opt_in;
    else
        verify_options_default(&opt);
    if (opt.every < 1)
        opt.every = 1;
    snprintf(rep->masked, sizeof rep->masked, "%s", masked);
    snprintf(rep->original, sizeof rep->original, "%s", original ? original : "");
    rep->landmarks_check = det->presence != NULL;
    rep->unchanged_check = original != NULL;
    rep->identity_check = original && det->embed;
    rep->identity_max = -2.0f;

    vreader rm, ro;
    bool have_o = false;
    enum { SOURCE_PROBE = 15 }; /* matched frames compared to decide ORIGINAL is MASKED's source */
    float probe[SOURCE_PROBE];
    int n_probe = 0;
    rep->source_match = -2.0f;
    int rc = -1;
    AVFrame *fm = av_frame_alloc(), *cur = av_frame_alloc(), *nxt = av_frame_alloc();
    face_list *faces = malloc(2 * sizeof *faces);
    if (!fm || !cur || !nxt || !faces) {
        ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "verify: out of memory");
        goto out_nofiles;
    }
    if (vreader_open(&rm, masked, err))
        goto out_nofiles;
    const AVStream *mst = rm.fmt->streams[rm.stream];
    int64_t total = mst->nb_frames > 0 ? mst->nb_frames : 0;
    if (!total && rm.fmt->duration > 0 && mst->avg_frame_rate.num > 0)
        total = (int64_t)((double)rm.fmt->duration / AV_TIME_BASE * av_q2d(mst->avg_frame_rate) + 0.5);
    if (original) {
        if (vreader_open(&ro, original, err)) {
            vreader_close(&rm);
            goto out_nofiles;
        }
        have_o = true;
    }

    /* Original frames: `cur` is the latest at or before the masked frame's
     * time, `nxt` the one after it (read ahead). */
    double t_cur = NAN, t_nxt = NAN;
    int64_t i_cur = -1, i_nxt = -1;
    bool o_end = !have_o;
    if (have_o) {
        int got = vreader_next(&ro, nxt, &t_nxt, err);
        if (got < 0)
            goto out;
        if (got == 0) {
            ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH, "%s: no video frame could be decoded",
                           original);
            goto out;
        }
        i_nxt = 0;
    }

    for (;;) {
        double tm;
        int got = vreader_next(&rm, fm, &tm, err);
        if (got < 0)
            goto out;
        if (got == 0)
            break;
        int64_t mi = rm.index - 1;
        if (mi == 0) {
            rep->width = fm->width;
            rep->height = fm->height;
        }
        rep->frames_decoded++;
        if (opt.max_frames && mi >= opt.max_frames)
            break;

        /* Advance the original until `nxt` lies after this masked frame. */
        bool by_index = isnan(tm) || (have_o && isnan(t_nxt) && isnan(t_cur));
        while (!o_end) {
            bool past = by_index ? i_nxt > mi : t_nxt > tm + 1e-4;
            if (past)
                break;
            AVFrame *tmp = cur;
            cur = nxt;
            nxt = tmp;
            t_cur = t_nxt;
            i_cur = i_nxt;
            int g = vreader_next(&ro, nxt, &t_nxt, err);
            if (g < 0)
                goto out;
            if (g == 0) {
                o_end = true;
                av_frame_unref(nxt);
                i_nxt = -1;
            } else {
                i_nxt = ro.index - 1;
            }
        }
        if (mi % opt.every)
            continue;

        /* The nearer of cur / nxt, within half a frame of the original. */
        const AVFrame *match = NULL;
        int64_t mo = -1;
        if (have_o) {
            if (by_index) {
                if (i_cur == mi) match = cur, mo = i_cur;
                else if (i_nxt == mi) match = nxt, mo = i_nxt;
            } else {
                double dc = i_cur >= 0 ? fabs(t_cur - tm) : INFINITY;
                double dn = i_nxt >= 0 ? fabs(t_nxt - tm) : INFINITY;
                double frame_s = (i_cur >= 0 && i_nxt >= 0) ? t_nxt - t_cur : 0.1;
                double tol = fmax(0.5 * frame_s, 0.002);
                if (dc <= dn && dc <= tol) match = cur, mo = i_cur;
                else if (dn < dc && dn <= tol) match = nxt, mo = i_nxt;
            }
        }
        if (match && n_probe < SOURCE_PROBE) {
            probe[n_probe++] = thumb_correlation(fm, match);
            if (n_probe == SOURCE_PROBE && judge_source(rep, probe, n_probe, original, masked, err))
                goto out;
        }
        rep->frames_checked++;
        rep->frames_matched += match != NULL;
        if (check_frame(&opt, det, rep, fm, mi, isnan(tm) ? NAN : tm, match, mo, &faces[0], &faces[1], err))
            goto out;
        if (opt.progress)
            opt.progress(opt.progress_ctx, mi, total);
    }
    if (rep->frames_decoded == 0) {
        ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH, "%s: no video frame could be decoded", masked);
        goto out;
    }
    /* A short clip: judge on what there is. */
    if (n_probe > 0 && n_probe < SOURCE_PROBE && judge_source(rep, probe, n_probe, original, masked, err))
        goto out;
    if (have_o && rep->frames_checked > 0 && rep->frames_matched == 0) {
        ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                       "no frame of %s matches a frame of %s in time; give the file it was made from", masked,
                       original);
        goto out;
    }
    drop_flicker(rep, &opt);
    rc = 0;
out:
    rep->decode_errors = rm.decode_errors + (have_o ? ro.decode_errors : 0);
    vreader_close(&rm);
    if (have_o)
        vreader_close(&ro);
out_nofiles:
    av_frame_free(&fm);
    av_frame_free(&cur);
    av_frame_free(&nxt);
    free(faces);
    return rc;
}

void verify_report_free(verify_report *rep)
{
    free(rep->leaks);
    rep->leaks = NULL;
    rep->leaks_cap = 0;
}

/* ---- output ------------------------------------------------------------ */

static cJSON *box_json(const float b[4])
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < 4; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(round((double)b[i] * 10) / 10));
    return a;
}

static double round3(double v)
{
    return round(v * 1000) / 1000;
}

char *verify_report_json(const verify_report *rep)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "masked", rep->masked);
    if (rep->original[0])
        cJSON_AddStringToObject(root, "original", rep->original);
    else
        cJSON_AddNullToObject(root, "original");
    cJSON_AddBoolToObject(root, "clean", rep->frames_leaked == 0);
    cJSON_AddNumberToObject(root, "width", rep->width);
    cJSON_AddNumberToObject(root, "height", rep->height);
    cJSON_AddNumberToObject(root, "frames_decoded", (double)rep->frames_decoded);
    cJSON_AddNumberToObject(root, "frames_checked", (double)rep->frames_checked);
    cJSON_AddNumberToObject(root, "frames_matched", (double)rep->frames_matched);
    cJSON_AddNumberToObject(root, "original_faces", (double)rep->original_faces);
    cJSON_AddNumberToObject(root, "original_face_frames", (double)rep->original_face_frames);
    cJSON_AddNumberToObject(root, "frames_leaked", (double)rep->frames_leaked);
    cJSON_AddNumberToObject(root, "faces_leaked", (double)rep->faces_leaked);
    cJSON_AddNumberToObject(root, "small_flicker_ignored", (double)rep->flicker_dropped);
    cJSON_AddNumberToObject(root, "decode_errors", (double)rep->decode_errors);
    cJSON *checks = cJSON_AddArrayToObject(root, "checks");
    cJSON_AddItemToArray(checks, cJSON_CreateString("detected"));
    if (rep->landmarks_check)
        cJSON_AddItemToArray(checks, cJSON_CreateString("landmarks"));
    if (rep->unchanged_check)
        cJSON_AddItemToArray(checks, cJSON_CreateString("unchanged"));
    if (rep->identity_check) {
        cJSON_AddItemToArray(checks, cJSON_CreateString("identity"));
        cJSON_AddNumberToObject(root, "identity_compared", (double)rep->identity_compared);
        if (rep->identity_max > -2)
            cJSON_AddNumberToObject(root, "identity_max", round3(rep->identity_max));
    }
    cJSON *leaks = cJSON_AddArrayToObject(root, "leaks");
    for (int64_t i = 0; i < rep->frames_leaked; i++) {
        const verify_leak *l = &rep->leaks[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "frame", (double)l->frame);
        if (isnan(l->time))
            cJSON_AddNullToObject(o, "time");
        else
            cJSON_AddNumberToObject(o, "time", round3(l->time));
        if (l->original_frame >= 0)
            cJSON_AddNumberToObject(o, "original_frame", (double)l->original_frame);
        if (l->thumbnail[0])
            cJSON_AddStringToObject(o, "thumbnail", l->thumbnail);
        cJSON *faces = cJSON_AddArrayToObject(o, "faces");
        for (int k = 0; k < l->count; k++) {
            const verify_hit *h = &l->hits[k];
            cJSON *fo = cJSON_CreateObject();
            cJSON_AddItemToObject(fo, "box", box_json(h->box));
            cJSON *why = cJSON_AddArrayToObject(fo, "reasons");
            if (h->reasons & VERIFY_DETECTED)
                cJSON_AddItemToArray(why, cJSON_CreateString("detected"));
            if (h->reasons & VERIFY_LANDMARKS)
                cJSON_AddItemToArray(why, cJSON_CreateString("landmarks"));
            if (h->reasons & VERIFY_UNCHANGED)
                cJSON_AddItemToArray(why, cJSON_CreateString("unchanged"));
            if (h->reasons & VERIFY_IDENTITY)
                cJSON_AddItemToArray(why, cJSON_CreateString("identity"));
            cJSON_AddNumberToObject(fo, "score", round3(h->score));
            if (h->presence >= 0)
                cJSON_AddNumberToObject(fo, "presence", round3(h->presence));
            if (h->detail_corr > -2)
                cJSON_AddNumberToObject(fo, "detail_corr", round3(h->detail_corr));
            if (h->open_detail >= 0)
                cJSON_AddNumberToObject(fo, "open_detail", round3(h->open_detail));
            if (h->original_score > 0)
                cJSON_AddNumberToObject(fo, "original_score", round3(h->original_score));
            if (h->similarity > -2)
                cJSON_AddNumberToObject(fo, "similarity", round3(h->similarity));
            if (h->similarity_blurred > -2)
                cJSON_AddNumberToObject(fo, "similarity_blurred_original", round3(h->similarity_blurred));
            cJSON_AddItemToArray(faces, fo);
        }
        cJSON_AddItemToArray(leaks, o);
    }
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    return s;
}

static void print_time(FILE *f, double t)
{
    if (isnan(t)) {
        fputs("?", f);
        return;
    }
    int m = (int)(t / 60);
    fprintf(f, "%d:%05.2f", m, t - 60.0 * m);
}

/* Reasons of one hit, in words, with their values. */
static void print_reasons(FILE *f, const verify_hit *h)
{
    if (h->reasons & VERIFY_DETECTED)
        fprintf(f, " detected (score %.2f%s)", h->score, h->presence >= 0 ? "" : ", no FaceMesh");
    if (h->open_detail >= 0)
        fprintf(f, " open detail %.2f", h->open_detail);
    if (h->presence >= 0 && (h->reasons & (VERIFY_DETECTED | VERIFY_LANDMARKS)))
        fprintf(f, " landmarks (FaceMesh presence %.2f)", h->presence);
    if (h->reasons & VERIFY_UNCHANGED)
        fprintf(f, " unchanged (identity detail correlation %.2f)", h->detail_corr);
    if (h->reasons & VERIFY_IDENTITY)
        fprintf(f, " identity (similarity %.2f to the original person; a hard blur of the original: %.2f)",
                h->similarity, h->similarity_blurred);
}

/* Leaked frames grouped into runs: consecutive leaked frames (gaps of a few
 * frames allowed) with a face at about the same place are one line. */
void verify_report_print(const verify_report *rep, FILE *f, int max_lines)
{
    int lines = 0;
    int64_t i = 0;
    while (i < rep->frames_leaked) {
        const verify_leak *first = &rep->leaks[i];
        const verify_hit *h0 = &first->hits[0];
        int64_t j = i + 1;
        while (j < rep->frames_leaked && rep->leaks[j].frame - rep->leaks[j - 1].frame <= 3 &&
               box_iou(rep->leaks[j].hits[0].box, rep->leaks[j - 1].hits[0].box) > 0.2f)
            j++;
        const verify_leak *last = &rep->leaks[j - 1];
        if (lines < max_lines) {
            fputs("LEAK ", f);
            print_time(f, first->time);
            if (j - i > 1) {
                fputs("-", f);
                print_time(f, last->time);
            }
            fprintf(f, ", frame%s %lld", j - i > 1 ? "s" : "", (long long)first->frame);
            if (j - i > 1)
                fprintf(f, "-%lld (%lld frames)", (long long)last->frame, (long long)(j - i));
            fprintf(f, ", face at %.0f,%.0f %.0fx%.0f:", h0->box[0], h0->box[1], h0->box[2], h0->box[3]);
            print_reasons(f, h0);
            if (first->count > 1)
                fprintf(f, " (+%d more face%s on frame %lld)", first->count - 1, first->count > 2 ? "s" : "",
                        (long long)first->frame);
            fputc('\n', f);
        }
        lines++;
        i = j;
    }
    if (max_lines > 0 && lines > max_lines)
        fprintf(f, "… %d more runs of leaked frames (see --json or --report)\n", lines - max_lines);
    fprintf(f, "%s: %lld of %lld frames checked have a recognizable face",
            rep->frames_leaked ? "LEAKED" : "clean", (long long)rep->frames_leaked,
            (long long)rep->frames_checked);
    if (rep->original[0])
        fprintf(f, " (original: faces on %lld of %lld matched frames)", (long long)rep->original_face_frames,
                (long long)rep->frames_matched);
    fputc('\n', f);
    fprintf(f, "checks: detected%s%s%s\n", rep->landmarks_check ? ", landmarks" : "",
            rep->unchanged_check ? ", unchanged" : "", rep->identity_check ? ", identity" : "");
    if (rep->identity_check && rep->identity_max > -2)
        fprintf(f, "identity: %lld original faces compared, highest similarity %.2f\n",
                (long long)rep->identity_compared, rep->identity_max);
    if (rep->frames_leaked)
        fputs("what to do: mask again with a stronger setting (mask.scale up, mask.blur_strength up, or\n"
              "--mode solid), or re-run the masker with detector.threshold lowered, then verify again;\n"
              "check the listed frames by eye (ffmpeg -ss TIME -i MASKED -frames:v 1 frame.png).\n",
              f);
}
