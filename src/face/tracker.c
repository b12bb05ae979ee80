/* face/tracker — detect, follow, measure and hold faces across frames.
 *
 * Per frame: every tracked face is first re-measured by FaceMesh in the region
 * its previous landmarks give (MediaPipe's face mesh loop); the detector runs
 * every track.detect_interval frames, whenever a face's presence drops, while a
 * face is held, and while nothing is tracked. Detections join tracks by box
 * overlap; a new one opens a track with the next id. A track not seen is held
 * at its last place for track.hold_ms, then dropped.
 *
 * Fail closed across cuts: a frame whose luma signature (face/scene) differs
 * from the previous one by track.scene_cut_threshold is a scene cut. On it
 * the smoothing is reset and the detector runs on the whole frame and every
 * tile before the frame's faces are reported; every track a detection matches
 * is measured afresh from that detection, since FaceMesh run in the old
 * region can report a confident face on part of the new one. Outside cuts a
 * detection that FaceMesh's box does not cover is measured afresh too. */
#include "face/tracker.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "face/align.h"
#include "face/detector.h"
#include "face/landmarks.h"
#include "face/one_euro.h"
#include "face/scene.h"
#include "face/tile_still.h"

#define MATCH_IOU 0.3f     /* a detection belongs to a track above this overlap */
#define DUPLICATE_IOU 0.5f /* two tracks this alike are one face */
#define CLOSE_FACE 0.25f   /* a face taller than this fraction of the frame is close */
/* A detection (clipped to the frame) covered less than this by the box
 * FaceMesh gives a track is not what FaceMesh follows: the face is measured
 * again from the detection. Agreeing ones cover 0.85-0.9 (the detector's
 * square box reaches higher up the forehead than the landmarks). */
#define MIN_COVERAGE 0.7f
/* FaceMesh's region jumping by more than this against the predicted one
 * (side ratio, or centre shift over the side) means it may have landed on
 * something else (a cut the signature missed): detect on this frame. */
/* A track lost no longer ago than this may take a detection near it. */
#define RECENT_MS 100
#define JUMP_SIDE 1.2f
#define JUMP_SHIFT 0.2f

typedef struct track {
    bool active;
    bool seen;          /* measured or detected on the current frame */
    bool has_roi;       /* roi holds the region for the next FaceMesh run */
    bool measured;      /* FaceMesh has followed it (else only the detector sees it) */
    bool last_cx_valid; /* last_cx/cy hold the previous measured region centre */
    bool suspect;       /* FaceMesh's result on this frame is not trusted: a
                           matching detection measures the face again */
    bool motion_valid;  /* motion_x/y hold the previous measured eye centre */
    float last_cx, last_cy;
    /* Coverage (issue 17 item 3): the eye centre of the last measurement
     * (raw, unsmoothed) and when it was taken, the measured velocity and
     * its last change (px/s), and this frame's raw measured box. */
    float motion_x, motion_y;
    int64_t motion_ms;
    float vx, vy, dvx, dvy;
    float raw_box[4];
    int64_t last_seen_ms, last_update_ms;
    face_roi roi;
    face f;             /* what is reported (smoothed) */
    one_euro lm[FACE_LANDMARKS][3];
    one_euro box[4];
    one_euro kp[FACE_KEYPOINTS][2];
} track;

typedef struct tracker_settings {
    int detect_interval;
    int64_t hold_ms;
    bool smoothing;
    one_euro_params euro;
    bool landmarks;
    float min_presence;
    float scene_cut; /* signature distance that is a cut; 0 = off */
    bool turned_views; /* detector.turned_views */
    face_detector_settings det;
} tracker_settings;

struct face_tracker {
    tracker_settings s;
    face_detector *det;
    face_landmarker *lm;
    track tracks[FACE_LIST_MAX];
    int next_id;
    int frames_since_detect;
    int tile_cursor;  /* next tile of the rolling tiled scan, 0-based */
    int tile_count;   /* tiles of the current frame size */
    int tile_phase;   /* frame of the rolling scan's cycle, 0..detect_interval-1 */
    /* tiles the rolling scan may pass by (unchanged since scanned), for the
     * frame size still_w x still_h; and how many it scanned and passed */
    tile_still *still;
    int still_w, still_h;
    long long tiles_scanned, tiles_skipped;
    /* where the analysis time goes (face_tracker_counters_get), nanoseconds;
     * FACE_PART_TRACKER is derived there, not kept */
    uint64_t part_ns[FACE_PART__COUNT];
    long long frames_timed;
    face_list found;  /* detector output, scratch */
    face_list more;   /* tile detections, scratch */
    face_list turned; /* this frame's turned-view detections, scratch */
    face scratch;
    scene_signature sig[2]; /* the previous frame's and this frame's */
    int sig_cur;            /* index of the previous frame's signature */
    float scene_distance;   /* of the last frame against the one before */
    bool cut;               /* the last frame was a scene cut */
    /* Crowd: the last full scan found more faces than tracks follow (kept as
     * boxes in found). Boxes are not followed, so while it lasts every frame
     * gets a full scan (whole frame and every tile) and its boxes masked. */
    bool crowd;
    bool scanned_all;       /* this frame's detection covered the whole frame and every tile */
    bool first;             /* the first frame since create or reset: every tile is scanned */
    /* The crowd's boxes, each held at its last place for track.hold_ms when
     * a later scan misses it (as a track is): masked on every frame. */
    int nheld;
    struct held_box {
        face_box b;
        int64_t seen_ms;
    } held[FACE_BOXES_MAX];
    /* turned views (see detect_turned) */
    bool fresh;             /* first frame since create or reset */
    int turn_cursor;        /* next (turn, tile) of the rolling turned scan */
    int turn_whole;         /* frames into the whole frame's turned cycle */
    bool live;              /* whole-frame detection on every frame */
    int64_t prev_ms;        /* media time of the previous frame (INT64_MIN: none) */
};

static const char *const part_names[FACE_PART__COUNT] = {
    "whole_frame", "tiles", "turned_views", "facemesh", "tracker_other", "look_back", "all"};

const char *face_tracker_part_name(face_tracker_part part)
{
    return part >= 0 && part < FACE_PART__COUNT ? part_names[part] : "?";
}

void face_tracker_counters_get(const face_tracker *t, face_tracker_counters *out)
{
    out->frames = t->frames_timed;
    out->tiles_scanned = t->tiles_scanned;
    out->tiles_passed = t->tiles_skipped;
    for (int i = 0; i < FACE_PART__COUNT; i++)
        out->ms[i] = (double)t->part_ns[i] / 1e6;
    double rest = out->ms[FACE_PART_ALL];
    for (int i = FACE_PART_WHOLE_FRAME; i < FACE_PART_TRACKER; i++)
        rest -= out->ms[i];
    out->ms[FACE_PART_TRACKER] = rest > 0 ? rest : 0;
}

static int read_settings(const ptim_config *cfg, tracker_settings *s, ptim_error *err)
{
    if (face_detector_settings_from_config(cfg, &s->det, err))
        return -1;
    s->detect_interval = (int)ptim_config_int(cfg, "track.detect_interval");
    s->hold_ms = ptim_config_int(cfg, "track.hold_ms");
    s->smoothing = ptim_config_bool(cfg, "track.smoothing");
    s->euro.min_cutoff = (float)ptim_config_float(cfg, "track.smoothing_min_cutoff");
    s->euro.beta = (float)ptim_config_float(cfg, "track.smoothing_beta");
    s->euro.d_cutoff = 1.0f;
    s->landmarks = ptim_config_bool(cfg, "landmarks.enabled");
    s->min_presence = (float)ptim_config_float(cfg, "landmarks.min_presence");
    s->scene_cut = (float)ptim_config_float(cfg, "track.scene_cut_threshold");
    s->turned_views = ptim_config_bool(cfg, "detector.turned_views");
    if (s->detect_interval < 1)
        s->detect_interval = 1;
    /* Offline, a face found on a frame is followed back through the frames
     * not yet written (the pipeline's look-back); every face gets a full
     * scan at least this often, so the look-back can reach its first frame. */
    if (s->detect_interval > FACE_TRACKER_LOOKBACK_MAX)
        s->detect_interval = FACE_TRACKER_LOOKBACK_MAX;
    /* detector.max_faces never limits what is hidden: the detector returns
     * every face and every one is tracked (the masker swaps at most
     * max_faces of them and blurs the rest). */
    s->det.max_faces = 0;
    /* The rolling scan covers frames of every size (issue 17 item 2). */
    if (s->det.tiles == FACE_DET_TILES_AUTO)
        s->det.tiles = FACE_DET_TILES_AUTO_ALL;
    return 0;
}

/* FaceMesh is loaded on a thread of its own while the detector's networks
 * load: reading and packing the three models is most of a run's start-up
 * (issue 12), and the two do not share anything. */
typedef struct landmarker_load {
    const ptim_config *cfg;
    face_landmarker *lm;
    ptim_error err;
    int rc;
} landmarker_load;

static void *load_landmarker(void *arg)
{
    landmarker_load *l = arg;
    l->rc = face_landmarker_create(l->cfg, &l->lm, &l->err);
    return NULL;
}

int face_tracker_create(const ptim_config *cfg, face_tracker **out, ptim_error *err)
{
    *out = NULL;
    face_tracker *t = calloc(1, sizeof *t);
    if (!t)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory for the face tracker");
    if (read_settings(cfg, &t->s, err)) {
        face_tracker_destroy(t);
        return -1;
    }
    if (!(t->still = tile_still_create())) {
        face_tracker_destroy(t);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory for the face tracker");
    }
    landmarker_load l = {.cfg = cfg};
    pthread_t th;
    bool threaded = t->s.landmarks && pthread_create(&th, NULL, load_landmarker, &l) == 0;
    if (t->s.landmarks && !threaded)
        load_landmarker(&l); /* no thread to be had: one after the other */
    int det_rc = face_detector_create_with(&t->s.det, &t->det, err);
    if (threaded)
        pthread_join(th, NULL);
    t->lm = l.lm;
    if (det_rc || l.rc) {
        if (!det_rc && err)
            *err = l.err;
        face_tracker_destroy(t);
        return -1;
    }
    t->next_id = 1;
    t->prev_ms = INT64_MIN;
    *out = t;
    return 0;
}

void face_tracker_destroy(face_tracker *t)
{
    if (!t)
        return;
    face_detector_destroy(t->det);
    face_landmarker_destroy(t->lm);
    tile_still_destroy(t->still);
    free(t);
}

int face_tracker_reconfigure(face_tracker *t, const ptim_config *cfg, ptim_error *err)
{
    tracker_settings s;
    if (read_settings(cfg, &s, err))
        return -1;
    if (s.landmarks && !t->lm && face_landmarker_create(cfg, &t->lm, err))
        return -1;
    face_detector_set_live(t->det, &s.det);
    s.det = *face_detector_settings_of(t->det);
    t->s = s;
    tile_still_reset(t->still); /* scanned with other settings: scan again */
    return 0;
}

void face_tracker_reset(face_tracker *t)
{
    for (int i = 0; i < FACE_LIST_MAX; i++)
        t->tracks[i].active = false;
    t->frames_since_detect = 0;
    t->tile_cursor = 0;
    t->tile_phase = 0;
    t->turn_cursor = 0;
    t->turn_whole = 0;
    tile_still_reset(t->still);
    t->sig[0].width = t->sig[1].width = 0;
    t->crowd = false;
    t->nheld = 0;
    t->prev_ms = INT64_MIN;
}

void face_tracker_set_orientation(face_tracker *t, int turns)
{
    face_detector_set_orientation(t->det, turns);
    tile_still_reset(t->still);
}

void face_tracker_set_live(face_tracker *t, bool live) { t->live = live; }

int face_tracker_lookback(const face_tracker *t) { return t->s.detect_interval; }

float face_tracker_scene_distance(const face_tracker *t, bool *cut)
{
    if (cut)
        *cut = t->cut;
    return t->scene_distance;
}

static float box_iou(const float a[4], const float b[4])
{
    float ix = fminf(a[0] + a[2], b[0] + b[2]) - fmaxf(a[0], b[0]);
    float iy = fminf(a[1] + a[3], b[1] + b[3]) - fmaxf(a[1], b[1]);
    if (ix <= 0 || iy <= 0)
        return 0.0f;
    float inter = ix * iy, uni = a[2] * a[3] + b[2] * b[3] - inter;
    return uni > 0 ? inter / uni : 0.0f;
}

static float smooth(face_tracker *t, one_euro *f, float x, float dt, float scale)
{
    return t->s.smoothing ? one_euro_step(f, &t->s.euro, x, dt, scale) : x;
}

/* Forget the smoothing state: what comes next is not the same motion (a cut,
 * or FaceMesh found to follow something else). */
static void reset_filters(track *k)
{
    for (int i = 0; i < FACE_LANDMARKS; i++)
        for (int c = 0; c < 3; c++)
            one_euro_reset(&k->lm[i][c]);
    for (int c = 0; c < 4; c++)
        one_euro_reset(&k->box[c]);
    for (int i = 0; i < FACE_KEYPOINTS; i++)
        for (int c = 0; c < 2; c++)
            one_euro_reset(&k->kp[i][c]);
    k->last_cx_valid = false;
    k->motion_valid = false;
    k->vx = k->vy = k->dvx = k->dvy = 0.0f;
}

/* A raw measurement of the face's eye centre (cx, cy) at t_ms: the
 * velocity the mask grows along, and how much it just changed (its
 * uncertainty). */
static void note_motion(track *k, float cx, float cy, int64_t t_ms)
{
    if (k->motion_valid && t_ms > k->motion_ms) {
        float dt = (float)(t_ms - k->motion_ms) / 1000.0f;
        float vx = (cx - k->motion_x) / dt, vy = (cy - k->motion_y) / dt;
        k->dvx = vx - k->vx;
        k->dvy = vy - k->vy;
        k->vx = vx;
        k->vy = vy;
    } else if (!k->motion_valid) {
        k->vx = k->vy = k->dvx = k->dvy = 0.0f;
    }
    k->motion_x = cx;
    k->motion_y = cy;
    k->motion_ms = t_ms;
    k->motion_valid = true;
}

static void landmark_box(const face *m, float box[4])
{
    float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int i = 0; i < FACE_LANDMARKS; i++) {
        x0 = fminf(x0, m->landmarks[i][0]);
        y0 = fminf(y0, m->landmarks[i][1]);
        x1 = fmaxf(x1, m->landmarks[i][0]);
        y1 = fmaxf(y1, m->landmarks[i][1]);
    }
    box[0] = x0, box[1] = y0, box[2] = x1 - x0, box[3] = y1 - y0;
}

static void box_union(float a[4], const float b[4])
{
    float x0 = fminf(a[0], b[0]), y0 = fminf(a[1], b[1]);
    float x1 = fmaxf(a[0] + a[2], b[0] + b[2]), y1 = fmaxf(a[1] + a[3], b[1] + b[3]);
    a[0] = x0, a[1] = y0, a[2] = x1 - x0, a[3] = y1 - y0;
}

/* Fraction of box a, clipped to the w x h frame, covered by box b. */
static float covered_by(const float box[4], const float b[4], int w, int h)
{
    float x0 = fmaxf(box[0], 0.0f), y0 = fmaxf(box[1], 0.0f);
    float a[4] = {x0, y0, fminf(box[0] + box[2], (float)w) - x0, fminf(box[1] + box[3], (float)h) - y0};
    float ix = fminf(a[0] + a[2], b[0] + b[2]) - fmaxf(a[0], b[0]);
    float iy = fminf(a[1] + a[3], b[1] + b[3]) - fmaxf(a[1], b[1]);
    float area = a[2] * a[3];
    return ix <= 0 || iy <= 0 || area <= 0 ? 0.0f : ix * iy / area;
}

/* Take a FaceMesh measurement (raw landmarks in m) into track k. */
static void update_from_landmarks(face_tracker *t, track *k, const face *m, int64_t t_ms)
{
    float dt = (float)(t_ms - k->last_update_ms) / 1000.0f;
    float scale = fmaxf(k->f.box[2], 1.0f) / 100.0f;
    face *f = &k->f;
    for (int i = 0; i < FACE_LANDMARKS; i++)
        for (int c = 0; c < 3; c++)
            f->landmarks[i][c] = smooth(t, &k->lm[i][c], m->landmarks[i][c], dt, scale);
    f->presence = m->presence;
    f->flags = (f->flags & FACE_DETECTED) | FACE_TRACKED | FACE_HAS_LANDMARKS;
    face_from_landmarks(f);
    /* The next region comes from the raw measurement: smoothing is for what
     * is shown, not for where to look. */
    face_roi roi = face_roi_from_landmarks(m);
    /* The mask covers this raw measurement whatever smoothing shows. */
    landmark_box(m, k->raw_box);
    const float(*l)[3] = m->landmarks;
    note_motion(k, 0.25f * (l[33][0] + l[133][0] + l[362][0] + l[263][0]),
                0.25f * (l[33][1] + l[133][1] + l[362][1] + l[263][1]), t_ms);
    /* Constant-velocity prediction: a face that moved since the last
     * measurement is looked for where it will be, so fast motion does not
     * leave it at the crop's edge. */
    if (k->has_roi && k->last_cx_valid && dt > 0 && dt < 0.2f) {
        float vx = roi.cx - k->last_cx, vy = roi.cy - k->last_cy;
        k->last_cx = roi.cx;
        k->last_cy = roi.cy;
        roi.cx += vx;
        roi.cy += vy;
    } else {
        k->last_cx = roi.cx;
        k->last_cy = roi.cy;
    }
    k->last_cx_valid = true;
    k->roi = roi;
    k->has_roi = true;
    k->measured = true;
    k->seen = true;
    k->last_seen_ms = k->last_update_ms = t_ms;
}

/* Take a detection (no landmarks) into track k. */
static void update_from_detection(face_tracker *t, track *k, const face *d, int64_t t_ms)
{
    float dt = (float)(t_ms - k->last_update_ms) / 1000.0f;
    float scale = fmaxf(d->box[2], 1.0f) / 100.0f;
    face *f = &k->f;
    for (int c = 0; c < 4; c++)
        f->box[c] = smooth(t, &k->box[c], d->box[c], dt, scale);
    for (int i = 0; i < FACE_KEYPOINTS; i++)
        for (int c = 0; c < 2; c++)
            f->keypoints[i][c] = smooth(t, &k->kp[i][c], d->keypoints[i][c], dt, scale);
    f->score = d->score;
    f->flags = FACE_DETECTED;
    f->presence = 0.0f;
    f->roll = atan2f(f->keypoints[1][1] - f->keypoints[0][1], f->keypoints[1][0] - f->keypoints[0][0]);
    align_face(f);
    memcpy(k->raw_box, d->box, sizeof k->raw_box);
    note_motion(k, 0.5f * (d->keypoints[0][0] + d->keypoints[1][0]),
                0.5f * (d->keypoints[0][1] + d->keypoints[1][1]), t_ms);
    k->has_roi = false;
    k->seen = true;
    k->last_seen_ms = k->last_update_ms = t_ms;
}

/* FaceMesh in the region detection d gives, into t->scratch: 1 when it
 * finds a face there (presence >= the tracker's min_presence), 0 when not or
 * when landmarks are off, -1 when inference failed. */
static int landmarks_at_detection(face_tracker *t, const face *d, const img_view *frame, ptim_error *err)
{
    if (!t->s.landmarks)
        return 0;
    face_roi roi = face_roi_from_detection(d);
    t->scratch.flags = 0;
    if (face_landmarker_run(t->lm, frame, &roi, &t->scratch, err))
        return -1;
    return t->scratch.presence >= t->s.min_presence;
}

/* Measure a freshly detected face with FaceMesh (when enabled); -1 only when
 * inference itself failed. */
static int measure_detected(face_tracker *t, track *k, const face *d, const img_view *frame,
                            int64_t t_ms, ptim_error *err)
{
    int r = landmarks_at_detection(t, d, frame, err);
    if (r < 0)
        return -1;
    if (r) {
        update_from_landmarks(t, k, &t->scratch, t_ms);
        box_union(k->raw_box, d->box); /* the mask covers both measurements */
        k->f.score = d->score;
        k->f.flags |= FACE_DETECTED;
        return 0;
    }
    update_from_detection(t, k, d, t_ms);
    return 0;
}

static track *open_track(face_tracker *t)
{
    /* No limit but the list's: every face found is masked (detector.max_faces
     * limits what is swapped, see face/masker). */
    for (int i = 0; i < FACE_LIST_MAX; i++) {
        track *k = &t->tracks[i];
        if (!k->active) {
            memset(k, 0, sizeof *k);
            k->active = true;
            k->f.id = t->next_id++;
            return k;
        }
    }
    return NULL; /* FACE_LIST_MAX faces tracked already */
}

/* How well detection d fits a track's box: its IoU, or, for a detection
 * lying mostly inside the box (a tile's view of part of the face, or the
 * detector's tighter box inside the landmarks' extent), the covered fraction
 * scaled below any real overlap. 0 when it is not the same face. */
static float match_score(const float det[4], const float trk[4])
{
    float iou = box_iou(det, trk);
    if (iou > MATCH_IOU)
        return iou;
    float ix = fminf(det[0] + det[2], trk[0] + trk[2]) - fmaxf(det[0], trk[0]);
    float iy = fminf(det[1] + det[3], trk[1] + trk[3]) - fmaxf(det[1], trk[1]);
    float area = det[2] * det[3];
    if (ix <= 0 || iy <= 0 || area <= 0)
        return 0.0f;
    float covered = ix * iy / area;
    return covered > 0.6f && det[2] > 0.25f * trk[2] ? MATCH_IOU * covered : 0.0f;
}

/* Where box is among a's faces (index), -2 when it is one of a's boxes, -1
 * when it is not in a. */
static int listed_at(const face_list *a, const float box[4])
{
    for (int j = 0; j < a->count; j++)
        if (match_score(box, a->faces[j].box) > 0.0f || match_score(a->faces[j].box, box) > 0.0f)
            return j;
    for (int j = 0; j < a->nboxes; j++)
        if (match_score(box, a->boxes[j].box) > 0.0f || match_score(a->boxes[j].box, box) > 0.0f)
            return -2;
    return -1;
}

static bool listed(const face_list *a, const float box[4])
{
    return listed_at(a, box) != -1;
}

/* Append the faces and boxes of b that are not already in a (what does not
 * fit a's faces goes to its boxes: nothing found is dropped). A face both
 * lists hold keeps the better-scored sighting: the whole-frame pass sees a
 * small face at a few tensor pixels, near the threshold and misplaced, where
 * its tile sees it clearly. */
static void merge_lists(face_list *a, const face_list *b)
{
    for (int i = 0; i < b->count; i++) {
        int j = listed_at(a, b->faces[i].box);
        if (j == -1)
            face_list_add(a, &b->faces[i]);
        else if (j >= 0 && b->faces[i].score > a->faces[j].score)
            a->faces[j] = b->faces[i];
    }
    for (int i = 0; i < b->nboxes; i++)
        if (!listed(a, b->boxes[i].box))
            face_list_add_box(a, &b->boxes[i]);
    a->overflow |= b->overflow;
}

/* Where track k's face is now by its measured velocity (its box when it was
 * seen on this frame or never moved). */
static void predicted_box(const track *k, int64_t t_ms, float at[4])
{
    float gone = k->seen ? 0.0f : (float)(t_ms - k->last_seen_ms) / 1000.0f;
    at[0] = k->f.box[0] + k->vx * gone;
    at[1] = k->f.box[1] + k->vy * gone;
    at[2] = k->f.box[2];
    at[3] = k->f.box[3];
}

/* The detector on windows [first, first + count) (0: the whole frame),
 * merged into t->found; its time counted as the whole frame's or the tiles'. */
static int detect_window(face_tracker *t, const img_view *frame, unsigned models, int first,
                         int count, ptim_error *err)
{
    uint64_t t0 = ptim_clock_ns();
    int rc = face_detector_detect_windows(t->det, frame, models, first, count, &t->more, err);
    t->part_ns[first == 0 ? FACE_PART_WHOLE_FRAME : FACE_PART_TILES] += ptim_clock_ns() - t0;
    if (rc)
        return -1;
    merge_lists(&t->found, &t->more);
    return 0;
}

/* Tiles [first, first + count) of the rolling scan, less those unchanged
 * since they were last scanned (face/tile_still): the rest go to the
 * detector in runs of neighbours, as one call when none is passed by. With
 * `all`, none is passed by (a cut, the first frame, a crowd). */
static int scan_tiles(face_tracker *t, const img_view *frame, int first, int count, bool all,
                      ptim_error *err)
{
    float rect[TILE_STILL_WINDOWS][4];
    bool known[TILE_STILL_WINDOWS] = {false}, scanned[TILE_STILL_WINDOWS] = {false};
    int run = -1, end = first + count;
    for (int w = first; w <= end; w++) {
        bool pass = false;
        if (w < end && w < TILE_STILL_WINDOWS) {
            known[w] = !face_detector_window_rect(t->det, frame->width, frame->height, w, rect[w]);
            pass = !all && known[w] && tile_still_unchanged(t->still, frame, w, rect[w]);
        }
        if (w < end && !pass) {
            if (run < 0)
                run = w;
            continue;
        }
        if (run >= 0) {
            if (detect_window(t, frame, 0, run, w - run, err))
                return -1;
            for (int i = run; i < w && i < TILE_STILL_WINDOWS; i++)
                scanned[i] = true;
            t->tiles_scanned += w - run;
            run = -1;
        }
        t->tiles_skipped += pass;
    }
    for (int w = first; w < end && w < TILE_STILL_WINDOWS; w++)
        if (scanned[w] && known[w])
            tile_still_scanned(t->still, frame, w, rect[w], all);
    return 0;
}

/* The detector's windows for this frame: the whole frame when `whole`; the
 * next slice of the rolling tiled scan, sized so every tile is visited once
 * per track.detect_interval frames (all of them when landmarks are off: then
 * detection is all there is); and the tile of every face only the detector
 * can see (too small for FaceMesh), so its box stays current. */
static int detect_frame(face_tracker *t, const img_view *frame, int64_t t_ms, bool whole,
                        bool all_tiles, ptim_error *err)
{
    face_list_clear(&t->found);
    t->scanned_all = false;
    /* detector.model=auto: short range on the whole frame while every face
     * followed is close (webcam-like), full range otherwise; tiles always
     * use full range. */
    unsigned models = 0;
    if (face_detector_settings_of(t->det)->auto_model) {
        int close = 0, active = 0;
        for (int i = 0; i < FACE_LIST_MAX; i++)
            if (t->tracks[i].active) {
                active++;
                close += t->tracks[i].f.box[3] > CLOSE_FACE * frame->height;
            }
        models = active && close == active ? FACE_DET_SHORT : FACE_DET_FULL;
    }
    if (whole && detect_window(t, frame, models, 0, 1, err))
        return -1;
    int tiles = face_detector_window_count(face_detector_settings_of(t->det)->tiles, frame->width,
                                           frame->height) - 1;
    if (tiles != t->tile_count || frame->width != t->still_w || frame->height != t->still_h) {
        t->tile_count = tiles;
        t->tile_cursor = 0;
        t->tile_phase = 0;
        t->still_w = frame->width;
        t->still_h = frame->height;
        tile_still_reset(t->still);
    }
    if (tiles <= 0) {
        t->scanned_all = whole;
        return 0;
    }
    /* Every tile once per track.detect_interval frames, spread evenly: frame
     * p of the cycle scans tiles [p*tiles/n, (p+1)*tiles/n). With fewer
     * tiles than frames some frames scan none (6 upsampled tiles of a 640x360
     * frame: 6 frames of 10), which is what keeps the scan of small frames
     * affordable (issue 12). */
    int slice = tiles;
    if (t->s.landmarks) {
        int n = t->s.detect_interval, p = t->tile_phase;
        slice = (p + 1) * tiles / n - p * tiles / n;
        t->tile_phase = (p + 1) % n;
    }
    if (slice > tiles - t->tile_cursor)
        slice = tiles - t->tile_cursor;
    int first = 1 + t->tile_cursor;
    t->tile_cursor = (t->tile_cursor + slice) % tiles;
    /* After a cut (and on the first frame) every tile is scanned: no face of
     * the new shot waits for the rolling scan, which then goes on as if this
     * were an ordinary frame. */
    if (all_tiles && slice < tiles) {
        t->scanned_all = whole;
        return scan_tiles(t, frame, 1, tiles, true, err);
    }
    if (slice > 0 && scan_tiles(t, frame, first, slice, slice == tiles, err))
        return -1;
    if (slice == tiles) {
        t->scanned_all = whole;
        return 0;
    }
    /* Up to a few tiles of faces FaceMesh does not follow on this frame
     * (detector-only, or lost just now: a fast face leaves its region, and
     * the whole-frame detector cannot see a small one), each once: the tile
     * where its measured velocity has taken it. Faces held longer wait for
     * the rolling scan. */
    int done[FACE_LIST_MAX], ndone = 0;
    bool tried[FACE_LIST_MAX] = {false};
    for (int n = 0; n < FACE_LIST_MAX && ndone < 4; n++) {
        int i = -1; /* the most recently seen first */
        for (int j = 0; j < FACE_LIST_MAX; j++)
            if (!tried[j] && t->tracks[j].active && !t->tracks[j].has_roi &&
                t_ms - t->tracks[j].last_seen_ms <= RECENT_MS &&
                (i < 0 || t->tracks[j].last_seen_ms > t->tracks[i].last_seen_ms))
                i = j;
        if (i < 0)
            break;
        tried[i] = true;
        const track *k = &t->tracks[i];
        float at[4];
        predicted_box(k, t_ms, at);
        /* the tile that holds the face wherever it went within a face width
         * of that (its velocity is unknown until measured twice) */
        float gx = at[2] * 0.75f, gy = at[3] * 0.75f;
        float grown[4] = {at[0] - gx, at[1] - gy, at[2] + 2 * gx, at[3] + 2 * gy};
        int w = face_detector_window_at(t->det, frame->width, frame->height, grown);
        if (w == 0)
            w = face_detector_window_at(t->det, frame->width, frame->height, at);
        bool seen = w == 0 || (w >= first && w < first + slice);
        /* found already on this frame (the whole-frame pass sees it): its
         * box is current without the tile. Not so a much weaker sighting:
         * a small face seen by the whole-frame pass at a few tensor pixels
         * scores near the threshold with a misplaced box (a 64 px face in
         * 1280x720: 0.51, 12 px off, where its tile finds it at 0.95). */
        for (int j = 0; j < t->found.count && !seen; j++)
            seen = match_score(t->found.faces[j].box, at) > 0.0f &&
                   t->found.faces[j].score >= 0.8f * k->f.score;
        for (int j = 0; j < ndone && !seen; j++)
            seen = done[j] == w;
        if (seen)
            continue;
        done[ndone++] = w;
        if (detect_window(t, frame, 0, w, 1, err))
            return -1;
    }
    return 0;
}

/* Turned views: BlazeFace finds faces rolled up to about 45-60 degrees, not
 * a face on its side or upside down (a camera mounted upside down, someone
 * lying down, an acrobat). The whole frame and every tile are also seen
 * turned by 90, 180 and 270 degrees: the whole frame's three once per detect
 * interval (one every interval/3 frames), so that the look-back, which
 * follows a new face back through one interval, masks a large face from the
 * frame it enters on; the tiles' in a rolling scan that visits them all once
 * per TURN_CYCLE detect intervals (a window or two per frame, about as much
 * as the upright tile scan). The first frame after a reset (a picture, a new
 * file) sees them all at once, a scene cut the whole frame's three. A face
 * found so is followed upright by FaceMesh, whose region turns with the eye
 * line. */
#define TURN_CYCLE 3
/* On a fresh frame (a picture, the first frame), which has no second chance,
 * turned candidates are taken from this score (a face turned by a resampling
 * scores lower than the same face upright): each new one must pass the
 * upright second look at detector.threshold (and FaceMesh) anyway. The
 * rolling scan, which comes back, keeps detector.threshold. */
#define TURN_THRESHOLD_FRESH 0.4f
#define TURN_MESH_MIN_PX 40.0f /* FaceMesh's presence means something from this width */

/* Inside box (x, y, w, h) grown by a quarter on each side. */
static bool centre_inside(const float a[4], const float box[4])
{
    float cx = a[0] + 0.5f * a[2], cy = a[1] + 0.5f * a[3];
    float gx = 0.25f * box[2], gy = 0.25f * box[3];
    return cx >= box[0] - gx && cx <= box[0] + box[2] + gx && cy >= box[1] - gy &&
           cy <= box[1] + box[3] + gy;
}

/* Into t->turned, t->more's detections; where two views see the same face
 * (one of them sideways, with a poorer score and box) the better one stays. */
static void gather_turned(face_tracker *t)
{
    face_list *acc = &t->turned;
    for (int i = 0; i < t->more.count; i++) {
        const face *m = &t->more.faces[i];
        int j = 0;
        while (j < acc->count && !centre_inside(m->box, acc->faces[j].box) &&
               !centre_inside(acc->faces[j].box, m->box))
            j++;
        if (j < acc->count) {
            if (m->score > acc->faces[j].score)
                acc->faces[j] = *m;
        } else if (acc->count < FACE_LIST_MAX) {
            acc->faces[acc->count++] = *m;
        }
    }
}

/* Turned views are there for faces the upright one misses: a turned
 * detection of a face already followed is dropped, so it cannot start a
 * second track; one the upright view found too replaces that detection when
 * it scores better (BlazeFace sees a face lying sideways too, with a poorer
 * box). */
static int merge_turned(face_tracker *t, const img_view *frame, ptim_error *err)
{
    int n = 0;
    t->more = t->turned;
    for (int i = 0; i < t->more.count; i++) {
        const float *b = t->more.faces[i].box;
        bool known = false;
        for (int k = 0; k < FACE_LIST_MAX && !known; k++)
            known = t->tracks[k].active && centre_inside(b, t->tracks[k].f.box);
        for (int j = 0; j < t->found.count && !known; j++) {
            known = centre_inside(b, t->found.faces[j].box);
            /* the upright view saw it sideways: the turned view's box and
             * keypoints are the better measure */
            if (known && t->more.faces[i].score > t->found.faces[j].score) {
                /* ... but the mask never shrinks: the box kept holds both */
                float x0 = fminf(b[0], t->found.faces[j].box[0]), y0 = fminf(b[1], t->found.faces[j].box[1]);
                float x1 = fmaxf(b[0] + b[2], t->found.faces[j].box[0] + t->found.faces[j].box[2]);
                float y1 = fmaxf(b[1] + b[3], t->found.faces[j].box[1] + t->found.faces[j].box[3]);
                t->found.faces[j] = t->more.faces[i];
                t->found.faces[j].box[0] = x0, t->found.faces[j].box[1] = y0;
                t->found.faces[j].box[2] = x1 - x0, t->found.faces[j].box[3] = y1 - y0;
            }
        }
        if (known)
            continue;
        /* Turned views of clutter fire more often than upright ones: a new
         * face must also be found upright on a crop turned by its eye line. */
        float score;
        const face *f = &t->more.faces[i];
        if (face_detector_confirm(t->det, frame, f, &score, err))
            return -1;
        if (score <= 0.0f)
            continue;
        /* FaceMesh, where the face is big enough for it, has the last word. */
        if (t->lm && f->box[2] >= TURN_MESH_MIN_PX) {
            face_roi roi = face_roi_from_detection(f);
            t->scratch.flags = 0;
            if (face_landmarker_run(t->lm, frame, &roi, &t->scratch, err))
                return -1;
            if (t->scratch.presence < t->s.min_presence)
                continue;
        }
        t->more.faces[n++] = t->more.faces[i];
    }
    t->more.count = n;
    merge_lists(&t->found, &t->more);
    return 0;
}
static int detect_turned(face_tracker *t, const img_view *frame, ptim_error *err)
{
    if (!t->s.turned_views)
        return 0;
    int windows = face_detector_window_count(face_detector_settings_of(t->det)->tiles,
                                             frame->width, frame->height);
    face_list_clear(&t->turned);
    float threshold = t->fresh ? TURN_THRESHOLD_FRESH : 0.0f;
    if (t->fresh) { /* every window, every turn */
        for (int q = 1; q <= 3; q++) {
            if (face_detector_detect_turned(t->det, frame, 0, 0, windows, q, threshold, &t->more, err))
                return -1;
            gather_turned(t);
        }
        return t->turned.count ? merge_turned(t, frame, err) : 0;
    }
    /* The whole frame's three turns within one detect interval (the look-back
     * follows a face found so back through that interval: a large face
     * entering upside down is masked from its first frame); on a cut, all
     * three at once. */
    int step = t->s.detect_interval / 3 > 1 ? t->s.detect_interval / 3 : 1;
    int q0 = 1, q1 = 0; /* turns of the whole frame on this frame */
    if (t->cut)
        q1 = 3;
    else if (t->turn_whole % step == 0)
        q0 = q1 = 1 + (t->turn_whole / step) % 3;
    t->turn_whole = (t->turn_whole + 1) % (3 * step);
    for (int q = q0; q <= q1; q++) {
        if (face_detector_detect_turned(t->det, frame, 0, 0, 1, q, 0.0f, &t->more, err))
            return -1;
        gather_turned(t);
    }
    /* The tiles' turns in a rolling scan over TURN_CYCLE intervals. */
    int tiles = windows - 1, total = 3 * tiles;
    if (tiles > 0) {
        int cycle = TURN_CYCLE * t->s.detect_interval;
        int count = (total + cycle - 1) / cycle, first = t->turn_cursor % total;
        t->turn_cursor = (first + count) % total;
        for (int i = 0; i < count; i++) {
            int k = (first + i) % total;
            if (face_detector_detect_turned(t->det, frame, 0, 1 + k % tiles, 1, 1 + k / tiles, 0.0f, &t->more,
                                            err))
                return -1;
            gather_turned(t);
        }
    }
    return t->turned.count ? merge_turned(t, frame, err) : 0;
}

static int detect_and_match(face_tracker *t, const img_view *frame, int64_t t_ms, bool whole,
                            ptim_error *err)
{
    if (detect_frame(t, frame, t_ms, whole, t->cut || t->crowd || t->first, err))
        return -1;
    uint64_t t0 = ptim_clock_ns();
    int rc = detect_turned(t, frame, err);
    t->part_ns[FACE_PART_TURNED] += ptim_clock_ns() - t0;
    if (rc)
        return -1;
    if (whole)
        t->frames_since_detect = 0;
    bool used[FACE_LIST_MAX] = {false};
    /* Greedy matching, best overlap first. */
    for (;;) {
        float best = 0.0f;
        int bi = -1, bk = -1;
        for (int i = 0; i < t->found.count; i++) {
            if (used[i])
                continue;
            for (int k = 0; k < FACE_LIST_MAX; k++) {
                track *tk = &t->tracks[k];
                if (!tk->active || (tk->f.flags & FACE_DETECTED)) /* matched already */
                    continue;
                float at[4];
                predicted_box(tk, t_ms, at); /* a face lost on this frame: where it went */
                float score = match_score(t->found.faces[i].box, at);
                if (score <= 0.0f && !tk->seen && t_ms - tk->last_seen_ms <= RECENT_MS) {
                    /* lost just now, its velocity perhaps not yet known: a
                     * face within a face width of where it should be */
                    float gx = at[2] * 0.75f, gy = at[3] * 0.75f;
                    float grown[4] = {at[0] - gx, at[1] - gy, at[2] + 2 * gx, at[3] + 2 * gy};
                    score = 0.5f * match_score(t->found.faces[i].box, grown);
                }
                if (score > best) {
                    best = score;
                    bi = i;
                    bk = k;
                }
            }
        }
        if (bi < 0)
            break;
        used[bi] = true;
        track *tk = &t->tracks[bk];
        const face *d = &t->found.faces[bi];
        if (tk->seen && !tk->suspect &&
            covered_by(d->box, tk->f.box, frame->width, frame->height) >= MIN_COVERAGE) {
            /* FaceMesh followed it already this frame: the detection confirms
             * it. The shown shape stays FaceMesh's (steady for swapping); the
             * detector's box, which reaches higher up the forehead, joins
             * what the mask must cover. */
            box_union(tk->raw_box, d->box);
            tk->f.score = d->score;
            tk->f.flags |= FACE_DETECTED;
            continue;
        }
        if (tk->seen) {
            /* FaceMesh's landmarks do not cover the face the detector sees
             * (after a cut, or drifted onto part of it): this frame's mask
             * comes from the detection, measured afresh. */
            reset_filters(tk);
            tk->has_roi = false;
        }
        if (measure_detected(t, tk, d, frame, t_ms, err))
            return -1;
    }
    for (int i = 0; i < t->found.count; i++) {
        if (used[i])
            continue;
        track *tk = open_track(t);
        if (!tk) {
            /* Every track is taken: this face is masked by its box. */
            const face *d = &t->found.faces[i];
            face_box b = {{d->box[0], d->box[1], d->box[2], d->box[3]}, d->score};
            face_list_add_box(&t->found, &b);
            continue;
        }
        tk->last_update_ms = t_ms;
        if (measure_detected(t, tk, &t->found.faces[i], frame, t_ms, err)) {
            /* Never measured, it has no place to be held at: an active track
             * at an empty box would be "held" there and, with tiles on this
             * frame size, looked for only in the tile of that empty box, never
             * found again (the face written unmasked until track.hold_ms from
             * the start). The frame is covered; the next one detects again. */
            tk->active = false;
            return -1;
        }
    }
    return 0;
}

/* The held boxes after this frame: the old ones that this frame's detections
 * and reported faces do not account for, within track.hold_ms, then every
 * box found on this frame. */
static void hold_boxes(face_tracker *t, face_list *out, int64_t t_ms)
{
    int n = 0;
    for (int i = 0; i < t->nheld; i++) {
        const struct held_box *h = &t->held[i];
        if (t_ms - h->seen_ms > t->s.hold_ms || listed(&t->found, h->b.box) || listed(out, h->b.box))
            continue;
        t->held[n++] = *h;
    }
    for (int i = 0; i < t->found.nboxes; i++) {
        if (n == FACE_BOXES_MAX) {
            out->overflow = 1;
            break;
        }
        t->held[n].b = t->found.boxes[i];
        t->held[n++].seen_ms = t_ms;
    }
    t->nheld = n;
}

/* What the mask must cover beyond the face's (smoothed) shape. A face seen
 * on this frame: its raw measurement, and the shape moved along its measured
 * motion over one frame, grown by how much that motion just changed. A held
 * face: moved as far as its velocity took it since it was last seen, grown
 * by the distance it could have moved besides (its velocity's change, and
 * half its width per second), at most its width. */
static void coverage(track *k, int64_t t_ms, int64_t frame_ms)
{
    face *f = &k->f;
    float w = fmaxf(f->box[2], 1.0f);
    f->sweep[0] = f->sweep[1] = f->grow = 0.0f;
    memcpy(f->extra, k->raw_box, sizeof f->extra);
    float speed = hypotf(k->vx, k->vy), change = hypotf(k->dvx, k->dvy);
    if (k->seen) {
        float dt = (float)frame_ms / 1000.0f;
        if (speed * dt < 1.0f)
            return; /* still: nothing to grow */
        float gain = 1.0f + fminf(change / fmaxf(speed, 1.0f), 1.0f);
        f->sweep[0] = k->vx * dt * gain;
        f->sweep[1] = k->vy * dt * gain;
        /* and on every side by how much the velocity just changed over a
         * frame: a face speeding up (entering the frame) is ahead of even
         * this frame's landmarks, which FaceMesh fits from the predicted
         * region (a 24 px face sliding in at 12 px per frame: 7 px ahead) */
        f->grow = fminf(change * dt, 0.5f * w);
        return;
    }
    float gone = (float)(t_ms - k->last_seen_ms) / 1000.0f;
    if (gone <= 0.0f)
        return;
    f->sweep[0] = k->vx * gone;
    f->sweep[1] = k->vy * gone;
    f->grow = fminf((change + 0.5f * w) * gone, w);
}

static int process_frame(face_tracker *t, const img_view *frame, int64_t t_ms, face_list *out,
                         ptim_error *err);

int face_tracker_process(face_tracker *t, const img_view *frame, int64_t t_ms, face_list *out,
                         ptim_error *err)
{
    uint64_t t0 = ptim_clock_ns();
    int rc = process_frame(t, frame, t_ms, out, err);
    t->part_ns[FACE_PART_ALL] += ptim_clock_ns() - t0;
    t->frames_timed++;
    return rc;
}

static int process_frame(face_tracker *t, const img_view *frame, int64_t t_ms, face_list *out,
                         ptim_error *err)
{
    face_list_clear(out);
    bool need_detect = !t->s.landmarks || ++t->frames_since_detect >= t->s.detect_interval;
    /* Live frames cannot wait for a later frame's look-back: the whole-frame
     * detector (one small inference whatever the frame size) runs on each. */
    if (t->live)
        need_detect = true;
    int64_t frame_ms = t->prev_ms != INT64_MIN && t_ms > t->prev_ms ? t_ms - t->prev_ms : 0;
    t->prev_ms = t_ms;

    /* Scene cut: nothing learnt on the previous frames says where the faces
     * of this one are. Every face is detected on this frame (whole frame and
     * every tile) before any mask is decided; FaceMesh's results from the old
     * regions stand only where no detection says otherwise. */
    scene_signature *prev = &t->sig[t->sig_cur], *cur = &t->sig[t->sig_cur ^ 1];
    t->fresh = prev->width <= 0;
    scene_signature_take(cur, frame);
    t->sig_cur ^= 1;
    t->scene_distance = scene_signature_distance(prev, cur);
    /* The first frame (or the first after a reset) has nothing to cut from;
     * a change of frame size is a cut. */
    t->cut = t->s.scene_cut > 0.0f && prev->width > 0 && t->scene_distance >= t->s.scene_cut;
    t->first = prev->width == 0;
    if (t->cut || t->first)
        need_detect = true;

    int active = 0;
    for (int i = 0; i < FACE_LIST_MAX; i++) {
        track *k = &t->tracks[i];
        if (!k->active)
            continue;
        active++;
        k->seen = false;
        k->suspect = t->cut;
        if (t->cut)
            reset_filters(k);
        k->f.flags &= ~(FACE_DETECTED | FACE_TRACKED | FACE_HELD);
        if (!(t->s.landmarks && k->has_roi)) {
            /* Lost by FaceMesh, or held: look again everywhere. A face only
             * the detector ever saw is looked for in its own tile instead. */
            need_detect = need_detect || k->measured ||
                          face_detector_window_at(t->det, frame->width, frame->height, k->f.box) == 0;
            continue;
        }
        t->scratch.flags = 0;
        uint64_t t0 = ptim_clock_ns();
        int rc = face_landmarker_run(t->lm, frame, &k->roi, &t->scratch, err);
        t->part_ns[FACE_PART_FACEMESH] += ptim_clock_ns() - t0;
        if (rc)
            return -1;
        if (t->scratch.presence >= t->s.min_presence) {
            face_roi got = face_roi_from_landmarks(&t->scratch), want = k->roi;
            float ratio = got.side / fmaxf(want.side, 1.0f);
            float shift = hypotf(got.cx - want.cx, got.cy - want.cy) / fmaxf(want.side, 1.0f);
            if (ratio > JUMP_SIDE || ratio < 1.0f / JUMP_SIDE || shift > JUMP_SHIFT) {
                k->suspect = true;
                need_detect = true;
            }
            update_from_landmarks(t, k, &t->scratch, t_ms);
        } else {
            k->has_roi = false; /* handed back to detection */
            need_detect = true;
        }
    }
    if (active == 0 || t->crowd)
        need_detect = true;
    if (detect_and_match(t, frame, t_ms, need_detect, err))
        return -1;
    /* A full scan says whether the crowd is still there; a partial one can
     * only find that it is. */
    bool crowd = t->found.nboxes > 0 || t->found.overflow;
    t->crowd = t->scanned_all ? crowd : (t->crowd || crowd);

    /* One face followed by two tracks (a new detection beside a drifting
     * region): keep the older id. */
    for (int a = 0; a < FACE_LIST_MAX; a++)
        for (int b = 0; b < FACE_LIST_MAX; b++) {
            track *ka = &t->tracks[a], *kb = &t->tracks[b];
            if (a == b || !ka->active || !kb->active || !ka->seen || !kb->seen ||
                ka->f.id > kb->f.id)
                continue;
            if (box_iou(ka->f.box, kb->f.box) <= DUPLICATE_IOU)
                continue;
            if ((kb->f.flags & FACE_DETECTED) && !(ka->f.flags & FACE_DETECTED)) {
                /* The newer one was measured from this frame's detection, the
                 * older only from its old region: keep the newer's measure. */
                int id = ka->f.id;
                *ka = *kb;
                ka->f.id = id;
            }
            kb->active = false;
        }

    for (int i = 0; i < FACE_LIST_MAX; i++) {
        track *k = &t->tracks[i];
        if (!k->active)
            continue;
        if (!k->seen) {
            if (t_ms - k->last_seen_ms > t->s.hold_ms) {
                k->active = false;
                continue;
            }
            k->f.flags |= FACE_HELD;
        }
        coverage(k, t_ms, frame_ms);
        out->faces[out->count++] = k->f;
    }
    /* Report in id order: stable for readers and tests. */
    for (int i = 1; i < out->count; i++)
        for (int j = i; j > 0 && out->faces[j - 1].id > out->faces[j].id; j--) {
            t->scratch = out->faces[j];
            out->faces[j] = out->faces[j - 1];
            out->faces[j - 1] = t->scratch;
        }
    /* The faces no track follows: this frame's detections and the held
     * ones, masked by box. */
    hold_boxes(t, out, t_ms);
    for (int i = 0; i < t->nheld; i++)
        face_list_add_box(out, &t->held[i].b);
    out->overflow |= t->found.overflow;
    return 0;
}

/* Following a face back (offline look-back): FaceMesh in the region the later
 * frame's face gives; where it finds no face there, the detector (whole frame
 * and the tile around the place) must find one overlapping it. The tracks and
 * the tracker's timing are left alone. */
static int trace_back(face_tracker *t, const img_view *frame, const face *later, face *out,
                      ptim_error *err);

int face_tracker_trace_back(face_tracker *t, const img_view *frame, const face *later, face *out,
                            ptim_error *err)
{
    uint64_t t0 = ptim_clock_ns();
    int rc = trace_back(t, frame, later, out, err);
    t->part_ns[FACE_PART_LOOK_BACK] += ptim_clock_ns() - t0;
    return rc;
}

static int trace_back(face_tracker *t, const img_view *frame, const face *later, face *out,
                      ptim_error *err)
{
    bool has_lm = (later->flags & FACE_HAS_LANDMARKS) != 0;
    /* Where the face was a frame earlier: its motion over a frame (sweep:
     * the tracker's measured velocity, or the step between two traced
     * frames) taken back. A face crossing the frame at 40 px per frame is
     * most of its width away from the later frame's place. */
    float step[2] = {0.0f, 0.0f};
    if (isfinite(later->sweep[0] + later->sweep[1]))
        step[0] = later->sweep[0], step[1] = later->sweep[1];
    float at[4] = {later->box[0] - step[0], later->box[1] - step[1], later->box[2], later->box[3]};
    /* Unknown motion (a track's first frame has no velocity yet): FaceMesh
     * in the later region fits whatever part of a moving face is in it, so
     * the detector, which sees the whole frame, looks first. */
    bool moving_known = hypotf(step[0], step[1]) >= 0.5f;
    if (t->s.landmarks && moving_known) {
        face_roi roi = has_lm ? face_roi_from_landmarks(later) : face_roi_from_detection(later);
        roi.cx -= step[0];
        roi.cy -= step[1];
        t->scratch.flags = 0;
        if (face_landmarker_run(t->lm, frame, &roi, &t->scratch, err))
            return -1;
        if (t->scratch.presence >= t->s.min_presence) {
            face_roi got = face_roi_from_landmarks(&t->scratch);
            float ratio = got.side / fmaxf(roi.side, 1.0f);
            /* the same face, not a landmark fit on something else */
            if (ratio <= JUMP_SIDE * JUMP_SIDE && ratio >= 1.0f / (JUMP_SIDE * JUMP_SIDE) &&
                hypotf(got.cx - roi.cx, got.cy - roi.cy) < 0.5f * roi.side) {
                face_from_landmarks(&t->scratch);
                goto found;
            }
        }
    }
    int w = face_detector_window_at(t->det, frame->width, frame->height, at);
    if (face_detector_detect_windows(t->det, frame, 0, 0, 1, &t->found, err))
        return -1;
    if (w > 0) {
        if (face_detector_detect_windows(t->det, frame, 0, w, 1, &t->more, err))
            return -1;
        merge_lists(&t->found, &t->more);
    }
    /* A face lying sideways or upside down (found by a turned view): the
     * same windows seen turned so that it stands upright (a quarter turn
     * either way for a face on its side). */
    float roll = fabsf(later->roll);
    if (t->s.turned_views && isfinite(roll) && roll > 0.25f * (float)M_PI) {
        int q0 = roll > 0.75f * (float)M_PI ? 2 : 1, q1 = roll > 0.75f * (float)M_PI ? 2 : 3;
        for (int q = q0; q <= q1; q += 2)
            for (int k = 0; k < (w > 0 ? 2 : 1); k++) {
                if (face_detector_detect_turned(t->det, frame, 0, k ? w : 0, 1, q, 0.0f, &t->more, err))
                    return -1;
                merge_lists(&t->found, &t->more);
            }
    }
    int best = -1;
    float best_score = 0.0f;
    /* the detection of about the face's size nearest where it should be,
     * within 1.5 face widths of that (the step is a guess; a face crossing
     * a 720p frame in half a second moves a face width per frame) */
    float lw = fmaxf(later->box[2], 1.0f);
    float acx = at[0] + at[2] / 2, acy = at[1] + at[3] / 2;
    for (int i = 0; i < t->found.count; i++) {
        const float *b = t->found.faces[i].box;
        float sc = fmaxf(match_score(b, at), match_score(at, b));
        float ratio = b[2] / lw, dist = hypotf(b[0] + b[2] / 2 - acx, b[1] + b[3] / 2 - acy);
        if (sc <= 0.0f && ratio <= JUMP_SIDE * JUMP_SIDE && ratio >= 1.0f / (JUMP_SIDE * JUMP_SIDE) &&
            dist < 1.5f * lw)
            sc = 0.5f * (1.0f - dist / (1.5f * lw));
        if (sc > best_score) {
            best_score = sc;
            best = i;
        }
    }
    if (best < 0)
        return 0;
    const face *d = &t->found.faces[best];
    int r = landmarks_at_detection(t, d, frame, err);
    if (r < 0)
        return -1;
    if (r) {
        face_from_landmarks(&t->scratch);
        box_union(t->scratch.box, d->box);
    } else {
        t->scratch = *d;
    }
found:
    *out = t->scratch;
    out->id = later->id;
    out->score = later->score;
    out->flags = (out->flags & FACE_HAS_LANDMARKS) | FACE_TRACKED | FACE_TRACED;
    out->identity_sim = -2.0f; /* not judged (face/select): masked */
    memcpy(out->extra, out->box, sizeof out->extra);
    /* its step to the later frame: the next trace's guess, and the mask
     * covers the way it went */
    out->sweep[0] = (later->box[0] + later->box[2] / 2) - (out->box[0] + out->box[2] / 2);
    out->sweep[1] = (later->box[1] + later->box[3] / 2) - (out->box[1] + out->box[3] / 2);
    out->grow = 0.0f;
    return 1;
}

int face_tracker_scan(face_tracker *t, const img_view *frame, face_list *out, ptim_error *err)
{
    face_list_clear(&t->found);
    int tiles = face_detector_window_count(face_detector_settings_of(t->det)->tiles, frame->width,
                                           frame->height);
    if (face_detector_detect_windows(t->det, frame, 0, 0, tiles > 0 ? tiles : 1, &t->more, err))
        return -1;
    merge_lists(&t->found, &t->more);
    face_list_clear(out);
    for (int i = 0; i < t->found.count; i++) {
        face f = t->found.faces[i];
        f.flags = FACE_DETECTED;
        f.identity_sim = -2.0f;
        face_list_add(out, &f);
    }
    return 0;
}
