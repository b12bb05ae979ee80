/* check/verify — check a masked video for faces that are still recognizable.
 *
 * A second pair of eyes, deliberately independent of the masking pipeline: it
 * decodes the files itself (libavformat/libavcodec), runs a detector tuned for
 * recall on the masked output and, when the original is given, on the
 * original's frame at the same timestamp, and reports every masked frame where
 * a person is still recognizable. A face *shape* is not a person: masking
 * leaves head-shaped blobs that detectors and FaceMesh still call faces.
 *
 * With the original (the check to trust), the places judged are the
 * original's faces (detections of at least original_threshold that FaceMesh
 * confirms on the original) and any original detection that a confirmed
 * detection on the masked frame points at. A place leaks when
 *   unchanged  the detail that identifies a person is still the original's:
 *              the eyes-nose-mouth region of both frames resampled to a
 *              VERIFY_DETAIL_GRID grid (one scale for every face size) and
 *              the correlation of their Laplacians >= unchanged_corr (0.4:
 *              blur 0.2, pixelate and solid stay under 0.23 on the samples,
 *              the original gives 1.0, a blur of 0.02 face widths 0.3-0.75);
 *   identity   (recognizer on) MobileFaceNet still matches the original person.
 * The masked frame's detection (detected) and FaceMesh (landmarks) are listed
 * with a leak as further evidence, but never decide alone.
 *
 * Without the original: a detection of at least leak_threshold, confirmed by
 * FaceMesh when wide enough (a smaller one needs unconfirmed_threshold),
 * whose face shows open detail: Laplacian RMS over luma deviation on the grid
 * laid on the span of its eyes, nose and mouth keypoints >= open_detail
 * (0.45: real faces of the samples 0.34-1.7, median 1.1; the demo's blurred
 * blobs up to 0.39). Weaker than the check with the original: a weak blur
 * (0.02) is caught only with it.
 *
 * Hits too small for FaceMesh (under confirm_min_px) that nothing else
 * confirms count only when they recur within two checked frames.
 *
 * Frames are matched by presentation time relative to each stream's first
 * frame (frame order when timestamps are missing). Boxes are masked-frame
 * pixels x, y, w, h. */
#ifndef PTIM_CHECK_VERIFY_H
#define PTIM_CHECK_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "face/face.h"
#include "img/image.h"

/* The detector verify runs, supplied by the caller (app/cmd_verify.c binds
 * the face/ detector; tests may bind a fake). `frame` is YUV420P. */
typedef struct verify_detector {
    void *ctx;
    /* All faces found with recall settings; 0 or -1 with *err. */
    int (*detect)(void *ctx, const img_view *frame, face_list *out, ptim_error *err);
    /* Optional (NULL: the landmarks check is skipped): FaceMesh presence 0..1
     * of a face in `box` (x, y, w, h, frame pixels) whose detector keypoints
     * are `kp` (NULL when unknown: upright assumed); 0 or -1 with *err. */
    int (*presence)(void *ctx, const img_view *frame, const float box[4],
                    const float (*kp)[2], float *presence, ptim_error *err);
    /* Optional (NULL: no identity check): the unit identity embedding of the
     * face at `box` aligned by detector keypoints `kp` into out (at most
     * FACE_EMBED_DIM_MAX floats), its length into *dim; 0 or -1 with *err. */
    int (*embed)(void *ctx, const img_view *frame, const float box[4], const float (*kp)[2], float *out,
                 int *dim, ptim_error *err);
    /* Required with embed: the same crop blurred hard (identity removed), the
     * baseline a masked face must stay near. */
    int (*embed_blurred)(void *ctx, const img_view *frame, const float box[4], const float (*kp)[2],
                         float *out, int *dim, ptim_error *err);
} verify_detector;

typedef struct verify_options {
    float leak_threshold;     /* detection score on a masked frame that counts as a face */
    float presence_threshold; /* FaceMesh presence that counts as a face */
    float unchanged_corr;     /* identity detail correlation that counts as unmasked */
    float open_detail;        /* masked file alone: detail that makes a detection a face */
    float unconfirmed_threshold; /* masked file alone: score a detection too small for FaceMesh needs */
    float original_threshold; /* original detections at least this sure are the faces to check */
    float confirm_presence;   /* a detection on the masked frame counts only when FaceMesh
                               * finds a face there with at least this presence ... */
    float confirm_min_px;     /* ... if it is at least this wide (px); smaller ones count as they are */
    float identity_threshold; /* (original given, recognizer on) similarity of the masked face to
                               * the original person at that place that counts as recognizable */
    float identity_margin;    /* ... and that is at least this much above the similarity of a hard
                               * blur of the original (the recognizer's "no identity" level) */
    float identity_min_px;    /* faces narrower than this are too small for the recognizer: the
                               * detail ("unchanged") check judges them instead */
    int every;                /* check every Nth masked frame (1 = all) */
    /* Optional: called after each masked frame with its number (from 0) and
     * the expected frame count (0 when unknown), e.g. for a progress line. */
    void (*progress)(void *ctx, int64_t frame, int64_t total);
    void *progress_ctx;
    /* Optional: a directory (created by the caller) where each leaked frame's
     * first face is written as a JPEG, the masked crop beside the original's,
     * at most max_thumbnails of them (the report names each). */
    const char *thumbnail_dir;
    int max_thumbnails;
    int64_t max_frames;       /* stop after this many masked frames (0 = all) */
} verify_options;

void verify_options_default(verify_options *opt);

enum verify_reason {
    VERIFY_DETECTED = 1u << 0,
    VERIFY_LANDMARKS = 1u << 1,
    VERIFY_UNCHANGED = 1u << 2,
    VERIFY_IDENTITY = 1u << 3, /* the recognizer still matches the original person */
};

typedef struct verify_hit {
    float box[4];         /* masked-frame pixels */
    uint32_t reasons;     /* enum verify_reason */
    float score;          /* detection score on the masked frame (0: not detected) */
    float presence;       /* FaceMesh presence on the masked frame (-1: not run) */
    float detail_corr;    /* -2: not computed */
    float original_score; /* score of the matching original face (0: none) */
    float similarity;     /* identity similarity to the original face (-2: not computed) */
    float similarity_blurred; /* the original hard-blurred vs the original (the baseline) */
    float open_detail;    /* masked file alone: open detail of the face (-1: not measured) */
} verify_hit;

typedef struct verify_leak {
    int64_t frame;          /* masked frame number, from 0 in decode order */
    double time;            /* seconds from the masked stream's first frame */
    int64_t original_frame; /* matched original frame number (-1: none) */
    char thumbnail[200];    /* picture of the first face (masked | original), "" when none written */
    int count;
    verify_hit hits[FACE_LIST_MAX];
} verify_leak;

typedef struct verify_report {
    char original[1024]; /* "" when verifying the masked file alone */
    char masked[1024];
    int width, height;          /* masked frame size */
    int64_t frames_decoded;     /* masked frames decoded */
    int64_t frames_checked;     /* masked frames analysed */
    int64_t frames_matched;     /* of those, with an original frame at the same time */
    int64_t original_faces;     /* faces on the matched original frames */
    int64_t original_face_frames;
    int64_t frames_leaked;
    int64_t faces_leaked;
    int64_t flicker_dropped;
    int thumbnails;             /* pictures written to thumbnail_dir */    /* hits under confirm_min_px that did not recur within 2 checked frames */
    int64_t decode_errors;      /* packets either decoder rejected */
    bool unchanged_check;       /* false when the sizes differ or no original */
    bool landmarks_check;
    bool identity_check;        /* original given and the recognizer on */
    float source_match;         /* median thumbnail correlation of matched frames (-2: not measured) */
    int64_t identity_compared;  /* original faces compared by identity */
    float identity_max;         /* highest similarity seen (-2: none compared) */
    verify_leak *leaks;         /* frames_leaked entries, in frame order */
    int leaks_cap;
} verify_report;

/* Verify `masked` (against `original` unless NULL). Returns 0 with *rep
 * filled (clean or not: see rep->frames_leaked), or -1 with *err for input
 * that cannot be verified (missing or undecodable file, no video stream,
 * no frames, a detector error). Free the report with verify_report_free
 * either way. */
int verify_run(const char *original, const char *masked, const verify_options *opt,
               const verify_detector *det, verify_report *rep, ptim_error *err);
void verify_report_free(verify_report *rep);

/* The report as one JSON document (malloc'd string, NULL on no memory). */
char *verify_report_json(const verify_report *rep);
/* A few human lines: one per leaked frame (up to `max_lines`), then a summary. */
void verify_report_print(const verify_report *rep, FILE *f, int max_lines);

/* Samples across a face region at which identity detail is compared. */
#define VERIFY_DETAIL_GRID 24

/* Identity detail: the correlation of the 4-neighbour Laplacians of two luma
 * planes, each over its own rectangle x, y, w, h (pixels) resampled to a
 * VERIFY_DETAIL_GRID square, so frames of other sizes compare. -2 when a
 * rectangle lies outside its plane, 0 when one side has no detail at all. */
float verify_identity_detail(const uint8_t *a, int stride_a, int width_a, int height_a, const float box_a[4],
                             const uint8_t *b, int stride_b, int width_b, int height_b, const float box_b[4]);
/* Open detail of one region on the same grid: Laplacian RMS over (luma
 * standard deviation + 1); 0 for an empty region. */
float verify_open_detail(const uint8_t *p, int stride, int width, int height, const float box[4]);

#endif
