/* face/select — whom to mask, by face recognition (see select.h). */
#include "face/select.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face/embed.h"
#include "face/tracker.h"
#include "io/image_file.h"

enum {
    SELECT_TRACKS = 64,         /* tracks remembered at once (least recently seen dropped) */
    SELECT_PEOPLE_MAX = 16,     /* photos per list */
    SELECT_UNDECIDED_EVERY = 2, /* frames between recognitions of an undecided track */
    SELECT_DECIDED_EVERY = 5,   /* ... of a decided one (re-checked: a track may jump to another person) */
};

typedef struct select_track {
    int id;         /* 0: free */
    int64_t seen;   /* frame counter when last seen */
    int64_t next;   /* frame counter of its next recognition */
    int n;          /* recognitions summed into its identity */
    float last;     /* the latest recognition's similarity to the nearest listed person (-2: none) */
    float sim;      /* its identity's (the quality-weighted mean embedding's) similarity (-2: none) */
    float *sum;     /* dim: the quality-weighted sum of its embeddings */
    bool matched;   /* some recognition, or its identity, reached match_threshold */
} select_track;

struct face_select {
    bool only;      /* privacy.only (else privacy.keep) */
    char lists[2][2048]; /* privacy.keep, privacy.only as configured: rebuilt when they change */
    float threshold;
    int frames;
    float min_px;
    face_embedder *embedder;
    int dim, people;
    float *refs;    /* people x dim */
    float *scratch; /* dim */
    float *sums;    /* SELECT_TRACKS x dim, the tracks' sums */
    select_track tracks[SELECT_TRACKS];
    int64_t frame;
    bool warned_small;
};

/* The one face of the photo at `path` into *out (frame pixels of the photo). */
static int photo_face(face_tracker *tracker, const char *key, const char *path, img_image *img, face *out,
                      ptim_error *err)
{
    if (io_image_load(path, IMG_FMT_RGB24, img, err) < 0) {
        char why[sizeof err->message];
        snprintf(why, sizeof why, "%s", err->message); /* err is rewritten below */
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s: photo %s cannot be read: %s", key, path,
                              why);
    }
    face_list *list = malloc(sizeof *list);
    if (!list)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "%s: out of memory", key);
    face_tracker_reset(tracker);
    int rc = face_tracker_process(tracker, &img->view, 0, list, err);
    if (rc < 0) {
        ptim_error_prefix(err, "%s: photo %s: ", key, path);
    } else if (list->count + list->nboxes != 1) {
        rc = ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                            "%s: photo %s shows %d faces; give a photo of exactly one person", key, path,
                            list->count + list->nboxes);
    } else if (list->count != 1) {
        rc = ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s: photo %s: its face could not be followed",
                            key, path);
    } else {
        *out = list->faces[0];
    }
    free(list);
    return rc;
}

/* Splits a comma-separated list into up to SELECT_PEOPLE_MAX trimmed paths. */
static int split_paths(const char *key, const char *list, char paths[][1024], int *n, ptim_error *err)
{
    *n = 0;
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (*n == SELECT_PEOPLE_MAX)
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s: more than %d photos", key,
                                  SELECT_PEOPLE_MAX);
        if (len >= 1024)
            return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s: a path is too long", key);
        memcpy(paths[*n], p, len);
        paths[(*n)++][len] = '\0';
        p += len;
    }
    return 0;
}

static void take_thresholds(face_select *s, const ptim_config *cfg)
{
    s->threshold = (float)ptim_config_float(cfg, "privacy.match_threshold");
    s->frames = (int)ptim_config_int(cfg, "privacy.match_frames");
    s->min_px = (float)ptim_config_int(cfg, "privacy.recognize_min_px");
}

int face_select_create(const ptim_config *cfg, face_select **out, ptim_error *err)
{
    *out = NULL;
    const char *keep = ptim_config_str(cfg, "privacy.keep"), *only = ptim_config_str(cfg, "privacy.only");
    if (!*keep && !*only)
        return 0;
    if (*keep && *only)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH,
                              "privacy.keep and privacy.only cannot both be set: choose whom to leave visible "
                              "(keep) or whom to mask (only)");
    const char *key = *keep ? "privacy.keep" : "privacy.only";
    static char paths[SELECT_PEOPLE_MAX][1024]; /* one analysis thread creates at a time */
    int n = 0;
    if (split_paths(key, *keep ? keep : only, paths, &n, err))
        return -1;
    if (n == 0)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s: no photo given", key);

    face_select *s = calloc(1, sizeof *s);
    if (!s)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "%s: out of memory", key);
    s->only = !*keep;
    snprintf(s->lists[0], sizeof s->lists[0], "%s", keep);
    snprintf(s->lists[1], sizeof s->lists[1], "%s", only);
    take_thresholds(s, cfg);
    face_tracker *tracker = NULL;
    if (face_embedder_create(cfg, &s->embedder, err) < 0 || face_tracker_create(cfg, &tracker, err) < 0) {
        ptim_error_prefix(err, "%s: ", key);
        goto fail;
    }
    s->dim = face_embedder_dim(s->embedder);
    s->refs = malloc(sizeof(float) * (size_t)s->dim * (size_t)n);
    s->scratch = malloc(sizeof(float) * (size_t)s->dim);
    s->sums = calloc((size_t)SELECT_TRACKS * (size_t)s->dim, sizeof(float));
    if (!s->refs || !s->scratch || !s->sums) {
        ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "%s: out of memory", key);
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        img_image img = {0};
        face f;
        int rc = photo_face(tracker, key, paths[i], &img, &f, err);
        if (rc == 0 && face_embed(s->embedder, &img.view, &f, s->refs + (size_t)i * s->dim, err) < 0)
            rc = ptim_error_prefix(err, "%s: photo %s: ", key, paths[i]);
        img_image_free(&img);
        if (rc < 0)
            goto fail;
        s->people++;
    }
    face_tracker_destroy(tracker);
    *out = s;
    return 0;
fail:
    face_tracker_destroy(tracker);
    face_select_destroy(s);
    return -1;
}

void face_select_destroy(face_select *s)
{
    if (!s)
        return;
    face_embedder_destroy(s->embedder);
    free(s->refs);
    free(s->scratch);
    free(s->sums);
    free(s);
}

int face_select_reconfigure(face_select **sel, const ptim_config *cfg, ptim_error *err)
{
    face_select *s = *sel;
    const char *keep = ptim_config_str(cfg, "privacy.keep"), *only = ptim_config_str(cfg, "privacy.only");
    if (s && !strcmp(s->lists[0], keep) && !strcmp(s->lists[1], only)) {
        take_thresholds(s, cfg);
        return 0;
    }
    if (!s && !*keep && !*only)
        return 0;
    face_select *fresh = NULL;
    if (face_select_create(cfg, &fresh, err) < 0)
        return -1;
    face_select_destroy(s);
    *sel = fresh;
    return 0;
}

const char *face_select_rule(const face_select *s)
{
    return s->only ? "only" : "keep";
}

int face_select_people(const face_select *s)
{
    return s->people;
}

void face_select_clear(face_list *faces)
{
    for (int i = 0; i < faces->count; i++) {
        faces->faces[i].flags &= ~(uint32_t)FACE_KEPT;
        faces->faces[i].identity_sim = -2.0f;
    }
}

static select_track *track_of(face_select *s, int id)
{
    select_track *free_slot = NULL, *oldest = &s->tracks[0];
    for (int i = 0; i < SELECT_TRACKS; i++) {
        select_track *t = &s->tracks[i];
        if (t->id == id)
            return t;
        if (!t->id && !free_slot)
            free_slot = t;
        if (t->seen < oldest->seen)
            oldest = t;
    }
    select_track *t = free_slot ? free_slot : oldest;
    *t = (select_track){.id = id, .next = s->frame, .last = -2.0f, .sim = -2.0f,
                        .sum = s->sums + (size_t)(t - s->tracks) * (size_t)s->dim};
    memset(t->sum, 0, sizeof(float) * (size_t)s->dim);
    return t;
}

/* The nearest listed person's similarity to embedding e (unit length). */
static float nearest(const face_select *s, const float *e)
{
    float best = -2.0f;
    for (int k = 0; k < s->people; k++) {
        float sim = face_embed_similarity(e, s->refs + (size_t)k * s->dim, s->dim);
        if (sim > best)
            best = sim;
    }
    return best;
}

/* How much a recognition counts toward its track's identity: a surer
 * detection and a bigger face (up to the recognizer's 112 px) count more,
 * so a few poor frames (motion blur, a face turning away or far off) barely
 * move an identity built on good ones. */
static float quality(const face *f)
{
    float size = f->box[2] / 112.0f;
    size = size < 0.25f ? 0.25f : size > 1.0f ? 1.0f : size;
    return (f->score > 0.05f ? f->score : 0.05f) * size;
}

/* Whether the track's face is to stay visible, after at least
 * privacy.match_frames recognitions. keep: its identity (the weighted mean
 * of its recognitions) and its latest recognition both match a kept person:
 * one lucky frame of someone else does not show them, and a track that
 * jumped to another person after an occlusion is masked from its first
 * recognition there. only: no recognition and no identity of the track ever
 * matched a listed person: once recognized, a person to hide stays hidden
 * for the track's life, through frames where the recognizer does not know
 * them (darkened by -0.35 brightness, astronaut.png scores 0.08 against her
 * own photo; three such recognitions in a row once made her "someone else"). */
static bool track_visible(const face_select *s, const select_track *t)
{
    if (t->n < s->frames)
        return false;
    if (s->only)
        return !t->matched;
    return t->sim >= s->threshold && t->last >= s->threshold;
}

/* Track t's identity starts over (it is kept in its slot). */
static void track_forget(face_select *s, select_track *t)
{
    memset(t->sum, 0, sizeof(float) * (size_t)s->dim);
    t->n = 0;
    t->next = s->frame;
    t->last = t->sim = -2.0f;
    t->matched = false;
}

/* Adds embedding e (unit length) of face f to track t. */
static void track_add(face_select *s, select_track *t, const face *f, const float *e)
{
    float q = quality(f);
    double norm = 0.0;
    for (int k = 0; k < s->dim; k++) {
        t->sum[k] += q * e[k];
        norm += (double)t->sum[k] * t->sum[k];
    }
    t->n++;
    t->last = nearest(s, e);
    if (norm > 0.0) {
        float inv = (float)(1.0 / sqrt(norm));
        for (int k = 0; k < s->dim; k++)
            s->scratch[k] = t->sum[k] * inv;
        t->sim = nearest(s, s->scratch);
    }
    t->matched |= t->last >= s->threshold || t->sim >= s->threshold;
}

int face_select_apply(face_select *s, const img_view *frame, face_list *faces, ptim_error *err)
{
    s->frame++;
    face_select_clear(faces);
    for (int i = 0; i < faces->count; i++) {
        face *f = &faces->faces[i];
        select_track *t = track_of(s, f->id);
        t->seen = s->frame;
        bool recognizable = f->box[2] >= s->min_px && !(f->flags & FACE_HELD);
        if (!recognizable) {
            /* Not judged on this frame: a held face keeps its standing; a
             * face too small to recognize has none (it may be anyone now). */
            if (!(f->flags & FACE_HELD))
                track_forget(s, t);
        } else if (s->frame >= t->next) {
            if (face_embed(s->embedder, frame, f, s->scratch, err) < 0) {
                face_select_clear(faces);
                return ptim_error_prefix(err, "recognition of face %d: ", f->id);
            }
            track_add(s, t, f, s->scratch);
            t->next = s->frame + (track_visible(s, t) ? SELECT_DECIDED_EVERY : SELECT_UNDECIDED_EVERY);
        }
        f->identity_sim = t->sim;
        if (track_visible(s, t))
            f->flags |= FACE_KEPT;
    }
    return 0;
}
