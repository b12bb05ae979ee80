/* face/face — the face record every stage after analysis reads.
 * All coordinates are frame pixels (x right, y down) of the frame analysed. */
#ifndef PTIM_FACE_FACE_H
#define PTIM_FACE_FACE_H

#include <stdint.h>

#define FACE_KEYPOINTS 6   /* right eye, left eye, nose tip, mouth, right ear, left ear */
#define FACE_LANDMARKS 468 /* FaceMesh topology */
#define FACE_LIST_MAX 32

enum face_flags {
    FACE_DETECTED = 1u << 0,      /* the detector found it on this frame */
    FACE_TRACKED = 1u << 1,       /* followed from the previous frame's landmarks */
    FACE_HELD = 1u << 2,          /* lost on this frame; kept at its last place (track.hold_ms) */
    FACE_HAS_LANDMARKS = 1u << 3, /* landmarks[] and presence are valid */
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
} face;

typedef struct face_list {
    int count;
    face faces[FACE_LIST_MAX];
} face_list;

#endif
