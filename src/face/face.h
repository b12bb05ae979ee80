/* face/face — the face record every stage after analysis reads.
 * All coordinates are frame pixels (x right, y down) of the frame analysed. */
#ifndef PTIM_FACE_FACE_H
#define PTIM_FACE_FACE_H

#include <stdint.h>

#define FACE_KEYPOINTS 6   /* right eye, left eye, nose tip, mouth, right ear, left ear */
#define FACE_LANDMARKS 468 /* FaceMesh topology */
#define FACE_LIST_MAX 32     /* faces followed with full records (tracking, landmarks) */
/* Crowds: faces found beyond faces[] are kept as boxes and masked by them.
 * More than this on one frame and the whole frame is covered (overflow). A
 * 3840x2160 frame holds at most ~9000 faces the detector can see (~30 px). */
#define FACE_BOXES_MAX 8192

enum face_flags {
    FACE_DETECTED = 1u << 0,      /* the detector found it on this frame */
    FACE_TRACKED = 1u << 1,       /* followed from the previous frame's landmarks */
    FACE_HELD = 1u << 2,          /* lost on this frame; kept at its last place (track.hold_ms) */
    FACE_HAS_LANDMARKS = 1u << 3, /* landmarks[] and presence are valid */
    FACE_KEPT = 1u << 4,          /* left visible on purpose: privacy.keep / privacy.only (face/select) */
    FACE_TRACED = 1u << 5,        /* found by following a later frame's face back (offline look-back) */
};

typedef struct face {
    int id;                                  /* stable track id, >= 1 */
    uint32_t flags;                          /* enum face_flags */
    float score;                             /* detection score 0..1 */
    float box[4];                            /* x, y, w, h */
    float keypoints[FACE_KEYPOINTS][2];      /* x, y */
    float landmarks[FACE_LANDMARKS][3];      /* x, y, z (z in the same pixel scale, relative) */
    float presence;                          /* FaceMesh face presence 0..1 */
    float roll;                              /* radians, eyes' tilt; 0 = upright */
    float align[6];                          /* 2x3 similarity: frame px -> canonical face [0,1]^2 */
    float identity_sim;                      /* face/select: similarity to the listed people (-2: none) */
    /* Coverage beyond the face's shape (set by face/tracker, read by the
     * masker; all 0 = none): the mask also covers the shape moved by
     * sweep (px: the face's motion over one frame, grown by its
     * uncertainty; for a held face, how far it may have gone), grown by
     * grow (px, every side), and the box extra (x, y, w, h; w = 0: none), a
     * measurement of this frame the smoothed shape may not reach. */
    float sweep[2];
    float grow;
    float extra[4];
} face;

/* A face known only by its detection: what masking needs of a face nobody
 * follows (the tracker's or a caller's limit was reached). */
typedef struct face_box {
    float box[4]; /* x, y, w, h */
    float score;  /* detection score 0..1 */
} face_box;

/* Every face of one frame. faces[] are full records; boxes[] the rest of a
 * crowd. Masking hides both: no face is left out because a list is full. */
typedef struct face_list {
    int count;
    face faces[FACE_LIST_MAX];
    int nboxes;    /* boxes[0..nboxes): faces beyond faces[], best first */
    int overflow;  /* more faces than faces[] and boxes[] hold: cover the whole frame */
    face_box boxes[FACE_BOXES_MAX];
} face_list;

/* Empties a list (count, nboxes, overflow). */
static inline void face_list_clear(face_list *l)
{
    l->count = 0;
    l->nboxes = 0;
    l->overflow = 0;
}

/* Adds face f: as a full record while faces[] has room, else as a box, else
 * marks the list overflowed. */
static inline void face_list_add(face_list *l, const face *f)
{
    if (l->count < FACE_LIST_MAX)
        l->faces[l->count++] = *f;
    else if (l->nboxes < FACE_BOXES_MAX)
        l->boxes[l->nboxes++] = (face_box){{f->box[0], f->box[1], f->box[2], f->box[3]}, f->score};
    else
        l->overflow = 1;
}

/* Adds a face known only by its box (as face_list_add). */
static inline void face_list_add_box(face_list *l, const face_box *b)
{
    if (l->nboxes < FACE_BOXES_MAX)
        l->boxes[l->nboxes++] = *b;
    else
        l->overflow = 1;
}

#endif
