/* face/detector — find faces in one still image (BlazeFace), in any img_view
 * format. This is the public still-image API: the tracker, `ptim detect`,
 * masking and `ptim verify` all use it.
 *
 *     face_detector *d;
 *     face_detector_create(cfg, &d, &err);          // reads detector.*, models, threads
 *     face_detector_detect(d, &frame, &list, &err); // boxes, keypoints, scores in frame px
 *     face_detector_destroy(d);
 *
 * For recall-tuned use (verify): fill a face_detector_settings yourself, e.g.
 * models = FACE_DET_SHORT | FACE_DET_FULL, tiles = FACE_DET_TILES_AUTO,
 * threshold 0.3, and call face_detector_create_with().
 *
 * A detector is not thread-safe; use one per thread. Detect allocates only on
 * a frame with more face candidates than any before (a crowd).
 * `models` arguments: 0 means the settings' models.
 * Each face it returns has id 0, flags FACE_DETECTED, score, box, keypoints,
 * roll and align (from the keypoints) set; landmarks come from face/landmarks. */
#ifndef PTIM_FACE_DETECTOR_H
#define PTIM_FACE_DETECTOR_H

#include <stdbool.h>

#include "core/config.h"
#include "core/error.h"
#include "face/face.h"
#include "img/image.h"

enum face_det_models {
    FACE_DET_SHORT = 1 << 0, /* short range, 128x128: close faces (webcam) */
    FACE_DET_FULL = 1 << 1,  /* full range, 192x192: faces up to ~5 m */
};

#define FACE_DET_TILES_AUTO (-1)
/* auto, and frames of 640 px or less in upsampled tiles too: what the
 * tracker scans (detector.tiles=auto), so a small face it found once it finds
 * again; stills keep FACE_DET_TILES_AUTO (tiny tiles add false positives
 * at the threshold on small pictures) */
#define FACE_DET_TILES_AUTO_ALL (-2)
#define FACE_DET_TILES_MAX 8

typedef struct face_detector_settings {
    unsigned models;      /* enum face_det_models: which models run on each window */
    bool auto_model;      /* detector.model=auto: both loaded; detect() runs full range, the
                             tracker picks short range while every face it follows is close */
    float threshold;      /* minimum score 0..1 */
    int max_faces;        /* most faces returned as full records, best first (0 = all, at
                             most FACE_LIST_MAX); every other face found is returned in
                             the list's boxes[], never dropped */
    int min_face_px;      /* drop faces narrower than this */
    int tiles;            /* 0 off, 1..8 tiles across, FACE_DET_TILES_AUTO(_ALL) by frame size */
    int threads;          /* inference threads (>= 1) */
    char model_dir[1024]; /* directory of the .tflite files */
} face_detector_settings;

typedef struct face_detector face_detector;

/* Settings from a snapshot: detector.model (see auto_model), threshold,
 * max_faces, min_face_px, tiles; system.model_dir; workers. */
int face_detector_settings_from_config(const ptim_config *cfg, face_detector_settings *s,
                                       ptim_error *err);
int face_detector_create(const ptim_config *cfg, face_detector **out, ptim_error *err);
int face_detector_create_with(const face_detector_settings *s, face_detector **out,
                              ptim_error *err);
void face_detector_destroy(face_detector *d);
/* Change threshold, max_faces, min_face_px and tiles between frames (models
 * and threads are fixed at create). */
void face_detector_set_live(face_detector *d, const face_detector_settings *s);
const face_detector_settings *face_detector_settings_of(const face_detector *d);

/* Detect on the whole frame (plus tiles) with every model in the settings. */
int face_detector_detect(face_detector *d, const img_view *frame, face_list *out, ptim_error *err);
/* The same with an explicit model set and tiling (tiles as in settings). */
int face_detector_detect_ex(face_detector *d, const img_view *frame, unsigned models, int tiles,
                            face_list *out, ptim_error *err);

/* Only windows [first, first + count) of the frame's window list (0 is the
 * whole frame, 1.. the tiles, row by row): the tracker spreads a tiled scan
 * over several frames with this. */
int face_detector_detect_windows(face_detector *d, const img_view *frame, unsigned models,
                                 int first, int count, face_list *out, ptim_error *err);

/* ---- orientation and turned views ----
 * A window can be seen turned by quarter turns: the model gets the crop
 * rotated, and every box and keypoint comes back in the frame's own (stored)
 * pixels, so a face lying on its side or upside down is found and masked
 * where it is. */

/* Quarter turns clockwise that show the frame upright (a video's display
 * matrix, io_source_info.display_turns): every window is seen so. Default 0. */
void face_detector_set_orientation(face_detector *d, int turns);
int face_detector_orientation(const face_detector *d);
/* As face_detector_detect_windows, the windows seen turned `turns` (0..3)
 * quarter turns clockwise past the orientation, keeping detections from
 * `threshold` (0: the settings' threshold). */
int face_detector_detect_turned(face_detector *d, const img_view *frame, unsigned models,
                                int first, int count, int turns, float threshold, face_list *out,
                                ptim_error *err);
/* A second look at a face found in a turned view: the detector on a crop
 * around it turned upright by its eye line (f->roll). *score is the best
 * detection there that is the same face (centred, of its size), 0 when none
 * reaches the threshold. False positives of a turned view rarely survive it. */
int face_detector_confirm(face_detector *d, const img_view *frame, const face *f, float *score,
                          ptim_error *err);

/* The window of a w x h frame that best holds `box` (x, y, w, h): the tile
 * containing it whose centre is nearest, else 0 (the whole frame). */
int face_detector_window_at(const face_detector *d, int w, int h, const float box[4]);

/* Window `index` of a w x h frame (0 the whole frame, 1.. the tiles) as
 * (x, y, w, h) in frame pixels; -1 when there is no such window. */
int face_detector_window_rect(const face_detector *d, int w, int h, int index, float rect[4]);

/* How many windows (whole frame + tiles) a frame of w x h is cut into for
 * `tiles` (for benchmarks and logs). */
int face_detector_window_count(int tiles, int w, int h);

#endif
