/* io/audio — copy, or decode → filter (rubberband) → encode. */
#include "io/audio.h"

#include <libavutil/opt.h>
#include <math.h>
#include <stdio.h>

#include "io/ffmpeg_libs.h"

struct io_audio {
    AVFormatContext *oc;
    AVStream *st;
    AVRational in_tb;
    bool copy;
    AVCodecContext *dec, *enc;
    const io_avfilter_api *F; /* libavfilter, loaded when audio is first re-encoded */
    AVFilterGraph *graph;
    AVFilterContext *buffersrc, *buffersink;
    AVFrame *frame, *filtered;
    AVPacket *out;
    int64_t next_pts; /* in enc->time_base, for frames the filter leaves unstamped */
};

bool io_audio_is_copy(const io_audio *a) { return a->copy; }

static int fail(ptim_error *err, const char *what, int r)
{
    return ptim_error_set(err, PTIM_ERR_ENCODE, PTIM_SEV_HIGH, "audio: %s (%s)", what,
                          av_err2str(r));
}

static enum AVCodecID audio_codec_for(const AVOutputFormat *ofmt)
{
    enum AVCodecID id = ofmt->audio_codec;
    if (id == AV_CODEC_ID_NONE || !avcodec_find_encoder(id))
        id = AV_CODEC_ID_AAC;
    if (!strcmp(ofmt->name, "webm") && !avcodec_find_encoder(id))
        id = AV_CODEC_ID_VORBIS;
    return id;
}

static int build_filter(io_audio *a, const io_audio_options *opts, ptim_error *err)
{
    char args[512], layout[128] = "", chain[512];
    int r;
    const io_avfilter_api *F = a->F = io_avfilter(err);
    if (!F)
        return -1;
    a->graph = F->graph_alloc();
    if (!a->graph)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    if (a->dec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
        av_channel_layout_default(&a->dec->ch_layout, a->dec->ch_layout.nb_channels);
    av_channel_layout_describe(&a->dec->ch_layout, layout, sizeof layout);
    snprintf(args, sizeof args, "time_base=%d/%d:sample_rate=%d:sample_fmt=%s:channel_layout=%s",
             a->in_tb.num, a->in_tb.den, a->dec->sample_rate,
             av_get_sample_fmt_name(a->dec->sample_fmt), layout);
    if ((r = F->graph_create_filter(&a->buffersrc, F->get_by_name("abuffer"), "in",
                                          args, NULL, a->graph)) < 0 ||
        (r = F->graph_create_filter(&a->buffersink, F->get_by_name("abuffersink"),
                                          "out", NULL, NULL, a->graph)) < 0)
        return fail(err, "cannot set up the audio filter", r);
    char enc_layout[128];
    av_channel_layout_describe(&a->enc->ch_layout, enc_layout, sizeof enc_layout);
    char pitch[128] = "";
    if (opts->voice == IO_VOICE_PITCH) {
        if (!F->get_by_name("rubberband"))
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                                  "audio.voice=pitch needs FFmpeg's rubberband filter, which this "
                                  "FFmpeg lacks");
        snprintf(pitch, sizeof pitch, "rubberband=pitch=%.6f:formant=preserved,",
                 pow(2.0, opts->pitch_semitones / 12.0));
    }
    snprintf(chain, sizeof chain, "%saresample=%d,aformat=sample_fmts=%s:sample_rates=%d:channel_layouts=%s",
             pitch, a->enc->sample_rate, av_get_sample_fmt_name(a->enc->sample_fmt),
             a->enc->sample_rate, enc_layout);
    AVFilterInOut *outputs = F->inout_alloc(), *inputs = F->inout_alloc();
    if (!outputs || !inputs) {
        F->inout_free(&outputs);
        F->inout_free(&inputs);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    }
    outputs->name = av_strdup("in");
    outputs->filter_ctx = a->buffersrc;
    inputs->name = av_strdup("out");
    inputs->filter_ctx = a->buffersink;
    r = F->graph_parse_ptr(a->graph, chain, &inputs, &outputs, NULL);
    F->inout_free(&outputs);
    F->inout_free(&inputs);
    if (r < 0 || (r = F->graph_config(a->graph, NULL)) < 0)
        return fail(err, "cannot build the voice filter", r);
    if (a->enc->frame_size > 0 &&
        !(a->enc->codec->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE))
        F->buffersink_set_frame_size(a->buffersink, a->enc->frame_size);
    return 0;
}

int io_audio_create(AVFormatContext *oc, const AVCodecParameters *in_par, AVRational in_tb,
                    const io_audio_options *opts, io_audio **out, ptim_error *err)
{
    *out = NULL;
    io_audio *a = calloc(1, sizeof *a);
    if (!a)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    a->oc = oc;
    a->in_tb = in_tb;
    a->st = avformat_new_stream(oc, NULL);
    if (!a->st) {
        free(a);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    }
    a->copy = opts->voice == IO_VOICE_NONE &&
              avformat_query_codec(oc->oformat, in_par->codec_id, FF_COMPLIANCE_NORMAL) == 1;
    int r;
    if (a->copy) {
        if ((r = avcodec_parameters_copy(a->st->codecpar, in_par)) < 0) {
            io_audio_destroy(a);
            return fail(err, "cannot copy the stream parameters", r);
        }
        a->st->codecpar->codec_tag = 0;
        a->st->time_base = in_tb;
        *out = a;
        return 0;
    }
    const AVCodec *dcodec = avcodec_find_decoder(in_par->codec_id);
    enum AVCodecID eid = audio_codec_for(oc->oformat);
    const AVCodec *ecodec = avcodec_find_encoder(eid);
    if (!dcodec || !ecodec) {
        io_audio_destroy(a);
        return ptim_error_set(err, PTIM_ERR_ENCODE, PTIM_SEV_HIGH,
                              "audio: no %s for %s", dcodec ? "encoder" : "decoder",
                              avcodec_get_name(dcodec ? eid : in_par->codec_id));
    }
    a->dec = avcodec_alloc_context3(dcodec);
    a->enc = avcodec_alloc_context3(ecodec);
    a->frame = av_frame_alloc();
    a->filtered = av_frame_alloc();
    a->out = av_packet_alloc();
    if (!a->dec || !a->enc || !a->frame || !a->filtered || !a->out) {
        io_audio_destroy(a);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    }
    avcodec_parameters_to_context(a->dec, in_par);
    a->dec->pkt_timebase = in_tb;
    if ((r = avcodec_open2(a->dec, dcodec, NULL)) < 0) {
        io_audio_destroy(a);
        return fail(err, "cannot start the decoder", r);
    }
    a->enc->sample_fmt = ecodec->sample_fmts ? ecodec->sample_fmts[0] : AV_SAMPLE_FMT_FLTP;
    a->enc->sample_rate = a->dec->sample_rate;
    if (ecodec->supported_samplerates) {
        int best = ecodec->supported_samplerates[0];
        for (const int *s = ecodec->supported_samplerates; *s; s++)
            if (*s == a->dec->sample_rate)
                best = *s;
        a->enc->sample_rate = best;
    }
    int channels = a->dec->ch_layout.nb_channels > 2 ? 2 : a->dec->ch_layout.nb_channels;
    av_channel_layout_default(&a->enc->ch_layout, channels > 0 ? channels : 2);
    a->enc->time_base = (AVRational){1, a->enc->sample_rate};
    a->enc->bit_rate = 128000;
    if (oc->oformat->flags & AVFMT_GLOBALHEADER)
        a->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if ((r = avcodec_open2(a->enc, ecodec, NULL)) < 0) {
        io_audio_destroy(a);
        return fail(err, "cannot start the encoder", r);
    }
    avcodec_parameters_from_context(a->st->codecpar, a->enc);
    a->st->time_base = a->enc->time_base;
    if (build_filter(a, opts, err) < 0) {
        io_audio_destroy(a);
        return -1;
    }
    *out = a;
    return 0;
}

void io_audio_destroy(io_audio *a)
{
    if (!a)
        return;
    avcodec_free_context(&a->dec);
    avcodec_free_context(&a->enc);
    if (a->F)
        a->F->graph_free(&a->graph);
    av_frame_free(&a->frame);
    av_frame_free(&a->filtered);
    av_packet_free(&a->out);
    free(a);
}

void io_audio_header_written(io_audio *a) { (void)a; }

static int drain_encoder(io_audio *a, ptim_error *err)
{
    int r;
    while ((r = avcodec_receive_packet(a->enc, a->out)) >= 0) {
        av_packet_rescale_ts(a->out, a->enc->time_base, a->st->time_base);
        a->out->stream_index = a->st->index;
        if ((r = av_interleaved_write_frame(a->oc, a->out)) < 0)
            return fail(err, "writing failed", r);
    }
    return r == AVERROR(EAGAIN) || r == AVERROR_EOF ? 0 : fail(err, "encoding failed", r);
}

static int drain_filter(io_audio *a, ptim_error *err)
{
    int r;
    while ((r = a->F->buffersink_get_frame(a->buffersink, a->filtered)) >= 0) {
        AVRational tb = a->F->buffersink_get_time_base(a->buffersink);
        if (a->filtered->pts != AV_NOPTS_VALUE)
            a->filtered->pts = av_rescale_q(a->filtered->pts, tb, a->enc->time_base);
        else
            a->filtered->pts = a->next_pts;
        a->next_pts = a->filtered->pts + a->filtered->nb_samples;
        r = avcodec_send_frame(a->enc, a->filtered);
        av_frame_unref(a->filtered);
        if (r < 0)
            return fail(err, "encoding failed", r);
        if (drain_encoder(a, err) < 0)
            return -1;
    }
    return r == AVERROR(EAGAIN) || r == AVERROR_EOF ? 0 : fail(err, "filtering failed", r);
}

static int decode_some(io_audio *a, ptim_error *err)
{
    int r;
    while ((r = avcodec_receive_frame(a->dec, a->frame)) >= 0) {
        a->frame->pts = a->frame->best_effort_timestamp;
        r = a->F->buffersrc_add_frame(a->buffersrc, a->frame);
        av_frame_unref(a->frame);
        if (r < 0)
            return fail(err, "filtering failed", r);
        if (drain_filter(a, err) < 0)
            return -1;
    }
    return 0; /* EAGAIN, EOF, or a damaged frame the decoder skipped */
}

int io_audio_write(io_audio *a, AVPacket *pkt, ptim_error *err)
{
    int r;
    if (a->copy) {
        AVPacket *p = av_packet_clone(pkt);
        if (!p)
            return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
        av_packet_rescale_ts(p, a->in_tb, a->st->time_base);
        p->stream_index = a->st->index;
        p->pos = -1;
        r = av_interleaved_write_frame(a->oc, p);
        av_packet_free(&p);
        return r < 0 ? fail(err, "writing failed", r) : 0;
    }
    if (avcodec_send_packet(a->dec, pkt) < 0)
        return 0; /* a damaged audio packet: skip it, as the video path does */
    return decode_some(a, err);
}

int io_audio_flush(io_audio *a, ptim_error *err)
{
    if (a->copy)
        return 0;
    avcodec_send_packet(a->dec, NULL);
    if (decode_some(a, err) < 0)
        return -1;
    if (a->F->buffersrc_add_frame(a->buffersrc, NULL) < 0)
        return fail(err, "filtering failed", AVERROR(EINVAL));
    if (drain_filter(a, err) < 0)
        return -1;
    avcodec_send_frame(a->enc, NULL);
    return drain_encoder(a, err);
}
