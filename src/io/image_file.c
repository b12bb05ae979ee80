/* io/image_file — single pictures in and out through libavformat/libavcodec.
 * Decoding goes through the demuxer so every format FFmpeg knows works;
 * conversion to the requested layout is one swscale pass. */
#include "io/image_file.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <string.h>

static enum AVPixelFormat to_av_format(img_format f)
{
    switch (f) {
    case IMG_FMT_GRAY8: return AV_PIX_FMT_GRAY8;
    case IMG_FMT_YUV420P: return AV_PIX_FMT_YUV420P;
    case IMG_FMT_NV12: return AV_PIX_FMT_NV12;
    case IMG_FMT_RGB24: return AV_PIX_FMT_RGB24;
    case IMG_FMT_BGR24: return AV_PIX_FMT_BGR24;
    case IMG_FMT_RGBA: return AV_PIX_FMT_RGBA;
    }
    return AV_PIX_FMT_NONE;
}

static int convert_frame(const AVFrame *src, img_format format, img_image *out, const char *path,
                         ptim_error *err)
{
    if (img_image_alloc(out, format, src->width, src->height) < 0)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH,
                              "%s: cannot allocate a %dx%d picture", path, src->width, src->height);
    struct SwsContext *sws = sws_getContext(src->width, src->height, src->format, src->width,
                                            src->height, to_av_format(format),
                                            SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT,
                                            NULL, NULL, NULL);
    if (!sws) {
        img_image_free(out);
        return ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH,
                              "%s: cannot convert pixel format %s", path,
                              av_get_pix_fmt_name(src->format));
    }
    sws_scale(sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height,
              out->view.data, out->view.stride);
    sws_freeContext(sws);
    return 0;
}

int io_image_load(const char *path, img_format format, img_image *out, ptim_error *err)
{
    memset(out, 0, sizeof *out);
    AVFormatContext *fmt = NULL;
    AVCodecContext *dec = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    int rc = -1, r;
    if (!pkt || !frame) {
        ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "%s: out of memory", path);
        goto done;
    }
    if ((r = avformat_open_input(&fmt, path, NULL, NULL)) < 0) {
        ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot open picture %s: %s", path,
                       av_err2str(r));
        goto done;
    }
    if (avformat_find_stream_info(fmt, NULL) < 0 ||
        (r = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0)) < 0) {
        ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH, "%s is not a picture ptim can read",
                       path);
        goto done;
    }
    int stream = r;
    const AVCodec *codec = avcodec_find_decoder(fmt->streams[stream]->codecpar->codec_id);
    if (!codec || !(dec = avcodec_alloc_context3(codec)) ||
        avcodec_parameters_to_context(dec, fmt->streams[stream]->codecpar) < 0 ||
        avcodec_open2(dec, codec, NULL) < 0) {
        ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH, "%s: no decoder for this picture",
                       path);
        goto done;
    }
    int got = 0;
    while (!got && av_read_frame(fmt, pkt) >= 0) {
        if (pkt->stream_index == stream && avcodec_send_packet(dec, pkt) >= 0)
            got = avcodec_receive_frame(dec, frame) >= 0;
        av_packet_unref(pkt);
    }
    if (!got && avcodec_send_packet(dec, NULL) >= 0)
        got = avcodec_receive_frame(dec, frame) >= 0;
    if (!got || frame->width <= 0 || frame->height <= 0) {
        ptim_error_set(err, PTIM_ERR_DECODE, PTIM_SEV_HIGH, "%s: the picture could not be decoded",
                       path);
        goto done;
    }
    rc = convert_frame(frame, format, out, path, err);
done:
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    return rc;
}

static enum AVCodecID codec_for_path(const char *path, enum AVPixelFormat *pix)
{
    const char *dot = strrchr(path, '.');
    if (dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"))) {
        *pix = AV_PIX_FMT_YUVJ420P;
        return AV_CODEC_ID_MJPEG;
    }
    if (dot && !strcasecmp(dot, ".bmp")) {
        *pix = AV_PIX_FMT_BGR24;
        return AV_CODEC_ID_BMP;
    }
    *pix = AV_PIX_FMT_RGB24;
    return AV_CODEC_ID_PNG;
}

int io_image_save(const char *path, const img_view *img, ptim_error *err)
{
    enum AVPixelFormat pix;
    enum AVCodecID id = codec_for_path(path, &pix);
    if (id == AV_CODEC_ID_PNG && img->format == IMG_FMT_RGBA)
        pix = AV_PIX_FMT_RGBA;
    const AVCodec *codec = avcodec_find_encoder(id);
    AVCodecContext *enc = codec ? avcodec_alloc_context3(codec) : NULL;
    AVFrame *frame = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    struct SwsContext *sws = NULL;
    FILE *f = NULL;
    int rc = -1;
    if (!enc || !frame || !pkt) {
        ptim_error_set(err, PTIM_ERR_ENCODE, PTIM_SEV_HIGH, "%s: no encoder for this picture type",
                       path);
        goto done;
    }
    enc->width = img->width;
    enc->height = img->height;
    enc->pix_fmt = pix;
    enc->time_base = (AVRational){1, 25};
    enc->color_range = AVCOL_RANGE_JPEG;
    if (id == AV_CODEC_ID_MJPEG) {
        enc->flags |= AV_CODEC_FLAG_QSCALE;
        enc->global_quality = FF_QP2LAMBDA * 2;
    }
    frame->format = pix;
    frame->width = img->width;
    frame->height = img->height;
    if (avcodec_open2(enc, codec, NULL) < 0 || av_frame_get_buffer(frame, 32) < 0) {
        ptim_error_set(err, PTIM_ERR_ENCODE, PTIM_SEV_HIGH, "%s: cannot start the encoder", path);
        goto done;
    }
    sws = sws_getContext(img->width, img->height, to_av_format(img->format), img->width,
                         img->height, pix, SWS_BICUBIC | SWS_ACCURATE_RND, NULL, NULL, NULL);
    if (!sws) {
        ptim_error_set(err, PTIM_ERR_ENCODE, PTIM_SEV_HIGH, "%s: cannot convert %s", path,
                       img_format_name(img->format));
        goto done;
    }
    sws_scale(sws, (const uint8_t *const *)img->data, img->stride, 0, img->height, frame->data,
              frame->linesize);
    if (avcodec_send_frame(enc, frame) < 0 || avcodec_send_frame(enc, NULL) < 0 ||
        avcodec_receive_packet(enc, pkt) < 0) {
        ptim_error_set(err, PTIM_ERR_ENCODE, PTIM_SEV_HIGH, "%s: encoding failed", path);
        goto done;
    }
    if (!(f = fopen(path, "wb")) || fwrite(pkt->data, 1, pkt->size, f) != (size_t)pkt->size) {
        ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot write %s", path);
        goto done;
    }
    rc = 0;
done:
    if (f && fclose(f) != 0 && rc == 0)
        rc = ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot write %s", path);
    sws_freeContext(sws);
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&enc);
    return rc;
}
