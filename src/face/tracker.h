/* face/tracker — everything analysis does to one frame: detect (BlazeFace),
 * follow (ids, One Euro smoothing, hold), measure (FaceMesh landmarks) and
 * align. The output face_list is what masking and the fail-closed guard read.
 *
 * The tracker reads its settings (detector.*, track.*, landmarks.*,
 * system.model_dir, performance.max_processing_workers) from a config
 * snapshot at create and reconfigure time; it keeps no pointer to it. */
#ifndef PTIM_FACE_TRACKER_H
#define PTIM_FACE_TRACKER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "face/face.h"
#include "img/image.h"

typedef struct face_tracker face_tracker;

int face_tracker_create(const ptim_config *cfg, face_tracker **out, ptim_error *err);
void face_tracker_destroy(face_tracker *tracker);
/* Apply live-changeable settings from a newer snapshot between frames. */
int face_tracker_reconfigure(face_tracker *tracker, const ptim_config *cfg, ptim_error *err);
/* Analyse one frame taken at t_ms (milliseconds, monotonic per source) and
 * write every face to mask, held ones included, to *out. Returns -1 when
 * analysis failed: the caller must then treat the frame as unanalysed. */
int face_tracker_process(face_tracker *tracker, const img_view *frame, int64_t t_ms,
                         face_list *out, ptim_error *err);
/* Quarter turns clockwise that show the frames upright (a video's display
 * matrix, io_source_info.display_turns): the detector sees every frame so,
 * while faces keep the frame's own (stored) pixel coordinates. Default 0. */
void face_tracker_set_orientation(face_tracker *tracker, int turns);
/* Forget every track (a new scene, image or file). */
void face_tracker_reset(face_tracker *tracker);
/* The last frame's scene signature distance to the frame before (0..1, see
 * face/scene.h) and, in *cut when not NULL, whether it counted as a scene
 * cut (track.scene_cut_threshold): diagnostics and tests. */
float face_tracker_scene_distance(const face_tracker *tracker, bool *cut);

/* ---- leak closing (issue 17) ---- */

/* Most frames a face can need following back: track.detect_interval is
 * capped to it, so every face gets a full scan within this many frames. */
#define FACE_TRACKER_LOOKBACK_MAX 30
/* Live mode: the whole-frame detector runs on every frame, since a live
 * frame cannot wait for a later one (offline frames can: see trace_back). */
void face_tracker_set_live(face_tracker *tracker, bool live);
/* Where analysis time goes, summed since creation: the whole-frame
 * detector, the tiled scan, the turned views, FaceMesh on followed faces,
 * the tracker's own work (the rest of face_tracker_process: matching,
 * smoothing, FaceMesh on new detections, scene signatures), the offline
 * look-back (face_tracker_trace_back, not part of "all"), and "all":
 * face_tracker_process as a whole. */
typedef enum face_tracker_part {
    FACE_PART_WHOLE_FRAME,
    FACE_PART_TILES,
    FACE_PART_TURNED,
    FACE_PART_FACEMESH,
    FACE_PART_TRACKER, /* derived: "all" less the four above */
    FACE_PART_LOOK_BACK,
    FACE_PART_ALL,
    FACE_PART__COUNT
} face_tracker_part;
const char *face_tracker_part_name(face_tracker_part part);
typedef struct face_tracker_counters {
    long long frames;        /* face_tracker_process calls */
    double ms[FACE_PART__COUNT]; /* milliseconds per part, summed */
    /* tiles of the rolling scan run through the detector, and passed by as
     * unchanged since they were scanned (face/tile_still) */
    long long tiles_scanned, tiles_passed;
} face_tracker_counters;
void face_tracker_counters_get(const face_tracker *tracker, face_tracker_counters *out);
/* How many analysed frames an offline caller should keep unwritten so that a
 * face found by the scheduled scan can be followed back to where it
 * appeared: the effective track.detect_interval (1..FACE_TRACKER_LOOKBACK_MAX). */
int face_tracker_lookback(const face_tracker *tracker);
/* Look for `later`, a face reported on a later frame, on an earlier frame
 * (not yet written): FaceMesh in the region `later` gives, else a detection
 * overlapping it. Returns 1 with *out set (id and score of `later`, flags
 * FACE_TRACKED | FACE_TRACED, extra = its box), 0 when the face is not there,
 * -1 when inference failed. Tracks are not changed. Call it newest frame
 * first, passing each result on as the next `later`. */
int face_tracker_trace_back(face_tracker *tracker, const img_view *frame, const face *later,
                            face *out, ptim_error *err);
/* Every window of the detector (whole frame and every tile) on `frame`, no
 * tracking: the faces found, flags FACE_DETECTED (offline end of stream:
 * the last frames get no later frame to be traced back from). Tracks are not
 * changed. Returns 0, or -1 when inference failed. */
int face_tracker_scan(face_tracker *tracker, const img_view *frame, face_list *out, ptim_error *err);

#endif
