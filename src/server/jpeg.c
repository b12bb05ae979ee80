/* server/jpeg — preview JPEGs; see jpeg.h. */
#include "server/jpeg.h"

#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

struct server_jpeg {
    AVCodecContext *enc;
    AVFrame *canvas;        /* YUVJ420P, the picture encoded */
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

/* Scale the region (x, y, cw, ch) of `src` into the canvas at (dx, 0),
 * dw x dh. x, y, dx even. */
static int blit(server_jpeg *j, const AVFrame *src, int x, int y, int cw, int ch, int dx, int dw, int dh)
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
    uint8_t *dst[4] = {j->canvas->data[0] + dx, j->canvas->data[1] + dx / 2, j->canvas->data[2] + dx / 2, NULL};
    sws_scale(j->sws, planes, strides, 0, ch, dst, j->canvas->linesize);
    return 0;
}

static int even(int v) { return v & ~1; }

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
        if (!rc && f->box_count > 0) {
            const float *b = f->boxes[0];
            float size = (b[2] > b[3] ? b[2] : b[3]) * 1.6f;
            int s = even((int)size), lim = even(src->width < src->height ? src->width : src->height);
            if (s > lim)
                s = lim;
            if (s < 16)
                s = 16 <= lim ? 16 : lim;
            int x = even((int)(b[0] + b[2] / 2 - s / 2.0f)), y = even((int)(b[1] + b[3] / 2 - s / 2.0f));
            x = x < 0 ? 0 : x + s > src->width ? even(src->width - s) : x;
            y = y < 0 ? 0 : y + s > src->height ? even(src->height - s) : y;
            rc = blit(j, src, x, y, s, s, 0, side, side);
        } else if (!rc) { /* no face on this frame: a grey square */
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
