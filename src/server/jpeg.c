/* server/jpeg — preview JPEGs; see jpeg.h. */
#include "server/jpeg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "img/warp.h"

struct server_jpeg {
    AVCodecContext *enc;
    AVFrame *canvas;        /* YUVJ420P, the picture encoded */
    AVFrame *crop;          /* YUVJ420P, the face view's region before it is turned upright */
    uint8_t *valid;         /* side x side: which face view pixels came from the frame */
    int valid_side;
    AVPacket *pkt;
    struct SwsContext *sws;
    int64_t pts;
};

static const char *const view_names[SERVER_VIEW__COUNT] = {"output", "source", "side", "face"};

const char *server_view_name(server_view v)
{
    return (unsigned)v < SERVER_VIEW__COUNT ? view_names[v] : "output";
}

int server_view_parse(const char *name)
{
    for (int i = 0; i < SERVER_VIEW__COUNT; i++)
        if (name && !strcmp(name, view_names[i]))
            return i;
    return -1;
}

server_jpeg *server_jpeg_new(void)
{
    server_jpeg *j = calloc(1, sizeof *j);
    if (j && !(j->pkt = av_packet_alloc())) {
        free(j);
        return NULL;
    }
    return j;
}

void server_jpeg_free(server_jpeg *j)
{
    if (!j)
        return;
    avcodec_free_context(&j->enc);
    av_frame_free(&j->canvas);
    av_frame_free(&j->crop);
    free(j->valid);
    av_packet_free(&j->pkt);
    sws_freeContext(j->sws);
    free(j);
}

/* Encoder and canvas of w x h (even), made again only when the size changes. */
static int prepare(server_jpeg *j, int w, int h)
{
    if (j->enc && j->enc->width == w && j->enc->height == h)
        return av_frame_make_writable(j->canvas) < 0 ? -1 : 0; /* the encoder may still hold the last one */
    avcodec_free_context(&j->enc);
    av_frame_free(&j->canvas);
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (!codec || !(j->enc = avcodec_alloc_context3(codec)))
        return -1;
    j->enc->width = w;
    j->enc->height = h;
    j->enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
    j->enc->time_base = (AVRational){1, 25};
    j->enc->flags |= AV_CODEC_FLAG_QSCALE;
    j->enc->global_quality = FF_QP2LAMBDA * 3; /* sharp enough to judge a mask by */
    if (avcodec_open2(j->enc, codec, NULL) < 0)
        return -1;
    if (!(j->canvas = av_frame_alloc()))
        return -1;
    j->canvas->format = AV_PIX_FMT_YUVJ420P;
    j->canvas->width = w;
    j->canvas->height = h;
    if (av_frame_get_buffer(j->canvas, 0) < 0)
        return -1;
    return 0;
}

/* Scale the region (x, y, cw, ch) of `src` into `dst` (YUVJ420P) at (dx, 0),
 * dw x dh. x, y, dx even. */
static int blit_to(server_jpeg *j, AVFrame *dst_frame, const AVFrame *src, int x, int y, int cw, int ch,
                   int dx, int dw, int dh)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(src->format);
    if (!d)
        return -1;
    const uint8_t *planes[4] = {0};
    int strides[4] = {0};
    for (int p = 0; p < 4 && src->data[p]; p++) {
        int chroma = p > 0 && !(d->flags & AV_PIX_FMT_FLAG_RGB);
        int px = chroma ? x >> d->log2_chroma_w : x, py = chroma ? y >> d->log2_chroma_h : y;
        int step = 1;
        for (int c = 0; c < d->nb_components; c++)
            if (d->comp[c].plane == p)
                step = d->comp[c].step;
        planes[p] = src->data[p] + (ptrdiff_t)py * src->linesize[p] + (ptrdiff_t)px * step;
        strides[p] = src->linesize[p];
    }
    j->sws = sws_getCachedContext(j->sws, cw, ch, src->format, dw, dh, AV_PIX_FMT_YUVJ420P,
                                  SWS_BILINEAR, NULL, NULL, NULL);
    if (!j->sws)
        return -1;
    uint8_t *dst[4] = {dst_frame->data[0] + dx, dst_frame->data[1] + dx / 2, dst_frame->data[2] + dx / 2, NULL};
    sws_scale(j->sws, planes, strides, 0, ch, dst, dst_frame->linesize);
    return 0;
}

static int blit(server_jpeg *j, const AVFrame *src, int x, int y, int cw, int ch, int dx, int dw, int dh)
{
    return blit_to(j, j->canvas, src, x, y, cw, ch, dx, dw, dh);
}

static int even(int v) { return v & ~1; }

/* The face view: face box b (x, y, w, h) of `src`, 1.6 times its size,
 * turned so that the eye line e (right eye x, y, left eye x, y) is level,
 * like the aligned face DeepFaceLive shows, into the side x side canvas. The
 * region is first scaled out of the frame axis-aligned, big enough to hold
 * the turned square, then turned plane by plane. Returns 0, 1 when the box
 * is unusable (nothing drawn), -1 on a failure. */
static int face_view(server_jpeg *j, const AVFrame *src, const float b[4], const float e[4], int side)
{
    float a = atan2f(e[3] - e[1], e[2] - e[0]);
    if (!isfinite(a) || (e[0] == e[2] && e[1] == e[3]))
        a = 0.0f;
    float c = cosf(a), s = sinf(a);
    float size = (b[2] > b[3] ? b[2] : b[3]) * 1.6f, span = size * (fabsf(c) + fabsf(s));
    if (!(size >= 2.0f && size < 1e6f) || !isfinite(b[0] + b[1]))
        return 1; /* no usable box */
    int lim = even(src->width < src->height ? src->width : src->height);
    int n = even((int)ceilf(span));
    n = n > lim ? lim : n < 16 ? (16 <= lim ? 16 : lim) : n;
    int x = even((int)(b[0] + b[2] / 2 - n / 2.0f)), y = even((int)(b[1] + b[3] / 2 - n / 2.0f));
    x = x < 0 ? 0 : x + n > src->width ? even(src->width - n) : x;
    y = y < 0 ? 0 : y + n > src->height ? even(src->height - n) : y;
    /* the crop at the canvas's scale: side pixels per `size` frame pixels */
    int t = even((int)ceilf(side * (float)n / size));
    t = t < 2 ? 2 : t > 4 * side ? even(4 * side) : t;
    if (!j->crop || j->crop->width != t) {
        av_frame_free(&j->crop);
        if (!(j->crop = av_frame_alloc()))
            return -1;
        j->crop->format = AV_PIX_FMT_YUVJ420P;
        j->crop->width = j->crop->height = t;
        if (av_frame_get_buffer(j->crop, 0) < 0)
            return -1;
    }
    if (blit_to(j, j->crop, src, x, y, n, n, 0, t, t))
        return -1;
    /* canvas pixel (u, v) -> crop: about the face's centre, turned by a,
     * k crop pixels per canvas pixel */
    float px = (float)t / n, k = size * px / side;
    float cx = (b[0] + b[2] / 2 - x) * px, cy = (b[1] + b[3] / 2 - y) * px;
    float m[6] = {k * c, -k * s, 0, k * s, k * c, 0};
    m[2] = cx - (m[0] + m[1]) * side / 2.0f;
    m[5] = cy - (m[3] + m[4]) * side / 2.0f;
    if (j->valid_side != side) {
        free(j->valid);
        j->valid_side = 0;
        if (!(j->valid = malloc((size_t)side * side)))
            return -1;
        j->valid_side = side;
    }
    /* past the frame's edge (a face at the border): dark grey, no colour */
    img_warp_affine_u8(j->crop->data[0], t, t, j->crop->linesize[0], 1, m, j->canvas->data[0], side, side,
                       j->canvas->linesize[0], j->valid);
    for (int v = 0; v < side; v++)
        for (int u = 0; u < side; u++)
            if (!j->valid[(size_t)v * side + u])
                j->canvas->data[0][(size_t)v * j->canvas->linesize[0] + u] = 40;
    float mc[6] = {m[0], m[1], m[2] / 2.0f, m[3], m[4], m[5] / 2.0f}; /* chroma: half the size */
    for (int p = 1; p < 3; p++) {
        img_warp_affine_u8(j->crop->data[p], t / 2, t / 2, j->crop->linesize[p], 1, mc, j->canvas->data[p],
                           side / 2, side / 2, j->canvas->linesize[p], j->valid);
        for (int v = 0; v < side / 2; v++)
            for (int u = 0; u < side / 2; u++)
                if (!j->valid[(size_t)v * (side / 2) + u])
                    j->canvas->data[p][(size_t)v * j->canvas->linesize[p] + u] = 128;
    }
    return 0;
}

int server_jpeg_encode(server_jpeg *j, const ptim_preview_frame *f, server_view v, int width,
                       uint8_t **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    const AVFrame *out = f->output, *src = f->source ? f->source : f->output;
    if (!out || out->width < 2 || out->height < 2)
        return -1;
    width = even(width < 64 ? 64 : width);
    int h = even((int)((int64_t)width * out->height / out->width));
    if (h < 2)
        h = 2;
    int rc = 0;
    if (v == SERVER_VIEW_FACE) {
        int side = even(width / 2 < 128 ? 128 : width / 2);
        rc = prepare(j, side, side);
        if (!rc && f->box_count > 0)
            rc = face_view(j, src, f->boxes[0], f->eyes[0], side);
        else if (!rc)
            rc = 1;
        if (rc == 1) { /* no face on this frame: a grey square */
            rc = 0;
            memset(j->canvas->data[0], 40, (size_t)j->canvas->linesize[0] * side);
            memset(j->canvas->data[1], 128, (size_t)j->canvas->linesize[1] * (side / 2));
            memset(j->canvas->data[2], 128, (size_t)j->canvas->linesize[2] * (side / 2));
        }
    } else if (v == SERVER_VIEW_SIDE) {
        rc = prepare(j, 2 * width, h);
        if (!rc)
            rc = blit(j, src, 0, 0, src->width, src->height, 0, width, h);
        if (!rc)
            rc = blit(j, out, 0, 0, out->width, out->height, width, width, h);
    } else {
        const AVFrame *one = v == SERVER_VIEW_SOURCE ? src : out;
        rc = prepare(j, width, h);
        if (!rc)
            rc = blit(j, one, 0, 0, one->width, one->height, 0, width, h);
    }
    if (rc < 0)
        return -1;
    j->canvas->quality = j->enc->global_quality;
    j->canvas->pts = j->pts++; /* the encoder wants rising timestamps */
    int e = avcodec_send_frame(j->enc, j->canvas);
    if (e < 0 || avcodec_receive_packet(j->enc, j->pkt) < 0)
        return -1;
    *data = malloc((size_t)j->pkt->size);
    if (*data) {
        memcpy(*data, j->pkt->data, (size_t)j->pkt->size);
        *size = (size_t)j->pkt->size;
    }
    av_packet_unref(j->pkt);
    return *data ? 0 : -1;
}
