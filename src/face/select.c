/* face/select — whom to mask, by face recognition (see select.h). */
#include "face/select.h"

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
    int same, other; /* consecutive recognitions as / not as a listed person */
    float sim;      /* latest similarity (-2: none yet) */
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
    if (!s->refs || !s->scratch) {
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
    *t = (select_track){.id = id, .next = s->frame, .sim = -2.0f};
    return t;
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
            /* Not judged on this frame: a held face keeps its standing, a
             * face too small to recognize has none. */
            if (!(f->flags & FACE_HELD))
                t->same = t->other = 0;
        } else if (s->frame >= t->next) {
            if (face_embed(s->embedder, frame, f, s->scratch, err) < 0) {
                face_select_clear(faces);
                return ptim_error_prefix(err, "recognition of face %d: ", f->id);
            }
            float best = -2.0f;
            for (int k = 0; k < s->people; k++) {
                float sim = face_embed_similarity(s->scratch, s->refs + (size_t)k * s->dim, s->dim);
                if (sim > best)
                    best = sim;
            }
            t->sim = best;
            if (best >= s->threshold) {
                t->same++;
                t->other = 0;
            } else {
                t->other++;
                t->same = 0;
            }
            bool decided = (s->only ? t->other : t->same) >= s->frames;
            t->next = s->frame + (decided ? SELECT_DECIDED_EVERY : SELECT_UNDECIDED_EVERY);
        }
        f->identity_sim = t->sim;
        bool visible = (s->only ? t->other : t->same) >= s->frames;
        if (visible)
            f->flags |= FACE_KEPT;
    }
    return 0;
}
