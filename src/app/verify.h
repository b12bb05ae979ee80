/* app/verify — check a masked video for faces that are still recognizable.
 *
 * A second pair of eyes, deliberately independent of the masking pipeline: it
 * decodes the files itself (libavformat/libavcodec), runs a detector tuned for
 * recall on the masked output and, when the original is given, on the
 * original's frame at the same timestamp, and reports every masked frame where
 * a face is still recognizable:
 *
 *   detected   the detector finds a face on the masked frame with a score of
 *              at least leak_threshold, and FaceMesh confirms it (presence
 *              >= confirm_presence) when the face is wide enough to judge
 *              (a face-shaped blur or fill alone scores 0.5-0.65);
 *   landmarks  (original given) FaceMesh finds a face (presence >=
 *              presence_threshold) on the masked frame inside a region where
 *              the original has a face;
 *   unchanged  (original given, same frame size) the fine detail of an
 *              original face's eyes, nose and mouth (the span of those
 *              keypoints, padded) is still there: the correlation of the
 *              luma Laplacian of original and masked is >= unchanged_corr.
 *              This catches faces the detector misses on both (small ones)
 *              as long as the detector saw them on the original.
 *
 * Frames are matched by presentation time relative to each stream's first
 * frame (frame order when timestamps are missing). Boxes are masked-frame
 * pixels x, y, w, h. */
#ifndef PTIM_APP_VERIFY_H
#define PTIM_APP_VERIFY_H

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
    float unchanged_corr;     /* detail correlation that counts as an unmasked region */
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
} verify_hit;

typedef struct verify_leak {
    int64_t frame;          /* masked frame number, from 0 in decode order */
    double time;            /* seconds from the masked stream's first frame */
    int64_t original_frame; /* matched original frame number (-1: none) */
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

/* Correlation of the 4-neighbour Laplacian of two luma planes over the
 * rectangle x, y, w, h (clipped); -2 when the rectangle is empty, 0 when one
 * side has no detail at all. Exposed for tests. */
float verify_detail_correlation(const uint8_t *a, int stride_a, const uint8_t *b, int stride_b,
                                int width, int height, const float box[4]);

#endif
