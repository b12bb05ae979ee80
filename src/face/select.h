/* face/select — whom to mask: privacy.keep (people left visible, e.g. the
 * reporter) and privacy.only (the only people masked, e.g. one child), by
 * face recognition (face/embed), fail-closed.
 *
 * Each listed photo must show exactly one face; its embedding is the
 * reference. Per track (face.id) the module keeps an identity: the mean of
 * its recognitions' embeddings, each weighted by its quality (detection
 * score, face size up to 112 px). A face is left visible only after at
 * least privacy.match_frames recognitions, and then: keep, when both that
 * identity and the latest recognition match a kept person (similarity >=
 * privacy.match_threshold); only, when neither any recognition nor the
 * identity of the track ever matched a listed person (a person to hide stays
 * hidden for the track's life, through frames the recognizer gets wrong).
 * Until then, after a disagreeing recognition, for faces too
 * small to recognize
 * (privacy.recognize_min_px), for a crowd's box-only faces and when
 * recognition fails, the face is masked. The recognizer runs on a track
 * every other frame while it is undecided and every 5th frame once decided
 * (a tracker may carry an id onto another person after an occlusion), never
 * on held faces.
 *
 * Not thread-safe: one analysis thread calls it. Owns its recognizer and a
 * copy of the references; keeps no pointer into the config. */
#ifndef PTIM_FACE_SELECT_H
#define PTIM_FACE_SELECT_H

#include <stdbool.h>

#include "core/config.h"
#include "core/error.h"
#include "face/face.h"
#include "img/image.h"

typedef struct face_select face_select;

/* From privacy.keep / privacy.only (comma-separated photo paths). *out is
 * NULL when neither is set: every face is masked. Errors (PTIM_ERR_CONFIG):
 * both set, a photo that cannot be read or shows no face or several. */
int face_select_create(const ptim_config *cfg, face_select **out, ptim_error *err);
void face_select_destroy(face_select *s);
/* New settings: rebuilt when the lists change (photos loaded again), else the
 * thresholds are taken over and the tracks' identities kept. On error *sel is
 * left as it was. */
int face_select_reconfigure(face_select **sel, const ptim_config *cfg, ptim_error *err);
/* "keep" or "only". */
const char *face_select_rule(const face_select *s);
/* Number of reference people. */
int face_select_people(const face_select *s);

/* Sets FACE_KEPT on the faces of `faces` to leave visible on this analysed
 * frame (and clears it on the rest), with face.identity_sim the similarity
 * of the track's identity (its mean embedding) to the nearest listed person
 * (-2: not recognized yet). Returns 0, or -1 with *err,
 * in which case no face is marked kept. */
int face_select_apply(face_select *s, const img_view *frame, face_list *faces, ptim_error *err);

/* Clears FACE_KEPT on every face (no selection active). */
void face_select_clear(face_list *faces);

#endif
