/* core/options — THE option table: every setting ptim has, one row each.
 * Adding a setting means adding a row here, nothing else. Keep rows grouped by
 * section; the order here is the order of `config keys` and `config init`. */
#include <stddef.h>

#include "core/config.h"

#define U 1.0, 0.0 /* unbounded */

const ptim_option ptim_options[] = {
    /* system */
    {"system.log_level", PTIM_OPT_ENUM, "info", U, "error|warn|info|debug", true, "Least severe message written to the log"},
    {"system.model_dir", PTIM_OPT_PATH, "", U, NULL, false, "Directory holding the .tflite models (empty: the models/ directory beside ptim's share dir or the source tree)"},
    {"system.enable_hot_reload", PTIM_OPT_BOOL, "true", U, NULL, false, "Watch the config file and apply valid edits while running"},

    /* performance (seed names) */
    {"performance.gpu_memory_pool_size_mb", PTIM_OPT_INT, "2048", 256, 16384, NULL, false, "Memory pool budget in MiB (used for the CPU frame and tensor pool)"},
    {"performance.max_processing_workers", PTIM_OPT_INT, "4", 1, 16, NULL, false, "Worker threads for inference and image kernels"},
    {"performance.target_fps", PTIM_OPT_INT, "30", 1, 120, NULL, false, "Frame-rate cap in live mode"},
    {"performance.frame_buffer_size", PTIM_OPT_INT, "5", 1, 64, NULL, false, "Frames queued between pipeline stages"},

    /* quality (seed names) */
    {"quality.model_quality", PTIM_OPT_ENUM, "balanced", U, "low|balanced|high", true, "Speed/quality trade-off of detection and rendering"},

    /* detector */
    {"detector.model", PTIM_OPT_ENUM, "auto", U, "short|full|auto", false, "BlazeFace model: short range (close faces), full range, or chosen per source"},
    {"detector.threshold", PTIM_OPT_FLOAT, "0.5", 0.01, 1.0, NULL, true, "Minimum detection score"},
    {"detector.max_faces", PTIM_OPT_INT, "0", 0, 64, NULL, true, "Most faces swapped per frame (0 = all); every face is masked"},
    {"detector.min_face_px", PTIM_OPT_INT, "0", 0, 4096, NULL, true, "Ignore detections narrower than this many pixels"},
    {"detector.tiles", PTIM_OPT_TILES, "auto", U, NULL, true, "Tiled detection for small faces: auto, off, or a number of tiles across (1-8)"},
    /* rotate: turned views (face/tracker.c) */
    {"detector.turned_views", PTIM_OPT_BOOL, "false", U, NULL, true, "Also look at 90/180/270 degree views (rolling scan) for faces lying sideways or upside down (off by default: on small faces it can shift a mask, see README)"},

    /* track */
    {"track.detect_interval", PTIM_OPT_INT, "10", 1, 1000, NULL, true, "Run the detector at least every N frames while tracking"},
    {"track.hold_ms", PTIM_OPT_INT, "1000", 0, 60000, NULL, true, "Keep masking a lost face at its last place for this long (ms)"},
    {"track.smoothing", PTIM_OPT_BOOL, "true", U, NULL, true, "Smooth boxes and landmarks with a One Euro filter"},
    {"track.smoothing_min_cutoff", PTIM_OPT_FLOAT, "1.0", 0.01, 100.0, NULL, true, "One Euro filter minimum cutoff frequency (Hz): lower = less jitter"},
    {"track.smoothing_beta", PTIM_OPT_FLOAT, "0.5", 0.0, 10.0, NULL, true, "One Euro filter speed coefficient (per px/s of a 100 px face): higher = less lag"},
    {"track.scene_cut_threshold", PTIM_OPT_FLOAT, "0.06", 0.0, 1.0, NULL, true, "Luma signature change (0-1) that counts as a scene cut: every face is detected again on that frame (0 = off)"},

    /* landmarks */
    {"landmarks.enabled", PTIM_OPT_BOOL, "true", U, NULL, true, "Run FaceMesh (468 landmarks) on every tracked face"},
    {"landmarks.min_presence", PTIM_OPT_FLOAT, "0.5", 0.0, 1.0, NULL, true, "Below this FaceMesh presence the face goes back to detection"},

    /* mask */
    {"mask.mode", PTIM_OPT_ENUM, "blur", U, "blur|pixelate|solid|image|swap|none", true, "How faces are hidden"},
    {"mask.shape", PTIM_OPT_ENUM, "contour", U, "contour|ellipse|box", true, "Masked region: landmark contour, ellipse or box around the detection"},
    {"mask.scale", PTIM_OPT_FLOAT, "1.3", 1.0, 4.0, NULL, true, "Grow the masked region: each side grows by (scale-1) x size"},
    {"mask.feather", PTIM_OPT_FLOAT, "0.05", 0.0, 200.0, NULL, true, "Soft edge width: pixels when >= 1, fraction of face width when < 1; at most the margin mask.scale adds"},
    {"mask.blur_strength", PTIM_OPT_FLOAT, "0.2", 0.02, 1.0, NULL, true, "Blur: Gaussian sigma as a fraction of the face width (0.2 leaves no face BlazeFace finds, nothing to sharpen back)"},
    {"mask.pixelate_cells", PTIM_OPT_INT, "10", 2, 64, NULL, true, "Pixelate: cells across the face width"},
    {"mask.pixelate_smooth", PTIM_OPT_BOOL, "true", U, NULL, true, "Pixelate: take cell colours from the lightly blurred face, so the mosaic keeps no facial pattern a detector could find"},
    {"mask.color", PTIM_OPT_COLOR, "#000000", U, NULL, true, "Solid: fill colour as #RRGGBB"},
    {"mask.image", PTIM_OPT_PATH, "", U, NULL, true, "Image: picture (PNG with alpha) drawn over each face"},

    /* swap and merge */
    {"swap.identity", PTIM_OPT_PATH, "", U, NULL, true, "Swap: photo of exactly one face whose identity replaces every face"},
    {"swap.model", PTIM_OPT_PATH, "", U, NULL, true, "Swap: a trained model, a DeepFaceLive .dfm or InsightFace inswapper_128.onnx (empty: warp the swap.identity photo)"},
    {"swap.encoder", PTIM_OPT_PATH, "", U, NULL, true, "Swap with inswapper: its ArcFace encoder (w600k_r50.onnx), which reads the face of swap.identity"},
    {"swap.morph_factor", PTIM_OPT_FLOAT, "0.75", 0.0, 1.0, NULL, true, "Swap with a .dfm that has morph_value:0: how far towards the celebrity (0 none, 1 all)"},
    {"swap.face_coverage", PTIM_OPT_FLOAT, "2.2", 1.0, 4.0, NULL, true, "Swap with a .dfm: side of the aligned square the model sees, in face sizes (DeepFaceLive's face coverage)"},
    {"swap.face_x_offset", PTIM_OPT_FLOAT, "0", -1.0, 1.0, NULL, true, "Swap with a .dfm: move the aligned square right (+) or left (-), in face sizes along the face (DeepFaceLive's x offset)"},
    {"swap.face_y_offset", PTIM_OPT_FLOAT, "0", -1.0, 1.0, NULL, true, "Swap with a .dfm: move the aligned square down (+) or up (-), in face sizes along the face (DeepFaceLive's y offset)"},
    {"swap.presharpen", PTIM_OPT_FLOAT, "0", 0.0, 10.0, NULL, true, "Swap with a model: unsharp-mask amount applied to the aligned face before the model (0 = off)"},
    {"swap.pre_gamma", PTIM_OPT_FLOAT, "1.0", 0.1, 4.0, NULL, true, "Swap with a model: gamma applied to the aligned face before the model"},
    {"swap.post_gamma", PTIM_OPT_FLOAT, "1.0", 0.1, 4.0, NULL, true, "Swap with a model: gamma applied to the model's face after it"},
    {"swap.threads", PTIM_OPT_INT, "1", 1, 16, NULL, true, "Swap with a model: threads its network runs on (more help only on an idle many-core machine, see README)"},
    {"swap.underlay", PTIM_OPT_BOOL, "true", U, NULL, true, "Swap: blur the face (and this frame's detection) under the swapped one, so the person never shows where the swap's mask is thin or short"},
    {"swap.keep_mouth", PTIM_OPT_BOOL, "false", U, NULL, true, "Swap: keep the person's own open mouth"},
    {"merge.erode", PTIM_OPT_INT, "5", 0, 100, NULL, true, "Swap: shrink the blend mask by this many pixels of a 256-pixel-wide face (scaled with the face)"},
    {"merge.blur", PTIM_OPT_INT, "25", 0, 200, NULL, true, "Swap: soften the blend mask edge over this many pixels of a 256-pixel-wide face (scaled with the face)"},
    {"merge.opacity", PTIM_OPT_FLOAT, "1.0", 0.0, 1.0, NULL, true, "Swap: opacity of the swapped face"},
    {"merge.color_transfer", PTIM_OPT_ENUM, "rct", U, "rct|none", true, "Swap: colour transfer to the target's skin"},

    /* debug */
    {"debug.draw", PTIM_OPT_ENUM, "none", U, "none|boxes|landmarks|ids", true, "Draw detection boxes, landmarks or track ids on the output"},
    {"debug.faults", PTIM_OPT_STRING, "", U, NULL, false, "Fault injection (test builds): POINT[@N|@N-M|@N+][=RATE][:PARAM],... e.g. decode=0.05,detect@10-20 (points: see core/fault.h)"},
    {"debug.fault_seed", PTIM_OPT_INT, "1", 0, 2147483647, NULL, false, "Seed of rate-based fault injection (same seed and events: same faults)"},

    /* source */
    {"source.input", PTIM_OPT_STRING, "", U, NULL, false, "Default input of `ptim run` (file, camera, URL, -)"},
    {"source.realtime", PTIM_OPT_BOOL, "true", U, NULL, false, "ptim run: read a file at its own frame rate, like ffmpeg -re (false: as fast as possible); ptim mask reads at full speed"},
    {"source.loop", PTIM_OPT_BOOL, "false", U, NULL, false, "Rewind a file source at its end"},
    {"source.reconnect_attempts", PTIM_OPT_INT, "5", 0, 1000, NULL, false, "Live mode: reopen a camera or stream that failed this many times before giving up"},
    {"source.reconnect_backoff_ms", PTIM_OPT_INT, "250", 10, 60000, NULL, false, "Live mode: wait before the first reopen (doubles each time, up to 5 s)"},
    {"source.read_timeout_ms", PTIM_OPT_INT, "5000", 0, 600000, NULL, false, "Network sources: a read that brings no data for this long counts as a failure (0 = FFmpeg's default)"},

    /* output */
    {"output.target", PTIM_OPT_STRING, "", U, NULL, false, "Default output of `ptim run` (file, v4l2:/dev/videoN, udp://, rtmp://, -, null)"},
    {"output.crf", PTIM_OPT_INT, "23", 0, 63, NULL, false, "Encoder constant rate factor"},
    {"output.preset", PTIM_OPT_ENUM, "veryfast", U, "ultrafast|superfast|veryfast|faster|fast|medium|slow|slower|veryslow", false, "libx264 preset"},
    {"output.target_delay_ms", PTIM_OPT_INT, "0", 0, 5000, NULL, false, "Live mode: delay output evenly by this much (audio sync)"},
    {"output.overwrite", PTIM_OPT_BOOL, "false", U, NULL, false, "Replace an output file that already exists (as -y); false: refuse, exit 2"},
    {"output.write_retries", PTIM_OPT_INT, "3", 0, 100, NULL, false, "Retry a failed encoder or muxer write this often before failing"},

    /* audio */
    {"audio.enabled", PTIM_OPT_BOOL, "true", U, NULL, false, "Copy the audio track to the output"},
    {"audio.voice", PTIM_OPT_ENUM, "none", U, "none|pitch", false, "Voice masking"},
    {"audio.pitch_semitones", PTIM_OPT_FLOAT, "-4", -12.0, 12.0, NULL, false, "Voice masking: pitch shift in semitones"},

    /* privacy */
    {"privacy.max_result_age_ms", PTIM_OPT_INT, "250", 0, 10000, NULL, true, "A frame is covered when the faces it is masked by were measured longer ago than this (live mode; a held face is masked at its last place, grown, and does not count)"},
    {"privacy.keep", PTIM_OPT_STRING, "", U, NULL, true, "Photos (comma-separated) of people left visible: their faces, once recognized over privacy.match_frames, are not masked; every other face is"},
    {"privacy.only", PTIM_OPT_STRING, "", U, NULL, true, "Photos (comma-separated) of the only people masked: everyone recognized as someone else over privacy.match_frames stays visible"},
    {"privacy.match_threshold", PTIM_OPT_FLOAT, "0.9", 0.5, 1.0, NULL, true, "privacy.keep/only: face similarity that counts as the same person"},
    {"privacy.match_frames", PTIM_OPT_INT, "3", 1, 100, NULL, true, "privacy.keep/only: recognitions of a track before its face may be left visible"},
    {"privacy.recognize_min_px", PTIM_OPT_INT, "40", 16, 4096, NULL, true, "privacy.keep/only: faces narrower than this are never recognized, so always masked"},
    {"privacy.on_failure", PTIM_OPT_ENUM, "blur_frame", U, "blur_frame|black_frame|drop", true, "How a frame is covered when masking could not run on it"},
    {"privacy.blur_cells", PTIM_OPT_INT, "16", 4, 256, NULL, false, "blur_frame: the frame is averaged into this many cells across (fewer = stronger blur)"},

    /* server: the HTTP control panel (src/server; `--http [ADDR:]PORT`) */
    {"server.listen", PTIM_OPT_STRING, "127.0.0.1:8642", U, NULL, false, "Control panel address [ADDR:]PORT; served only when given (--http) or configured; a non-loopback address needs server.token"},
    {"server.token", PTIM_OPT_STRING, "", U, NULL, false, "Bearer token the control panel requires on a non-loopback address (empty: one is generated and printed at start)"},
    {"server.max_body_mb", PTIM_OPT_INT, "16", 1, 1024, NULL, false, "Largest request body the control panel accepts, in MiB (uploads included)"},
    {"server.max_clients", PTIM_OPT_INT, "64", 4, 1024, NULL, false, "Most simultaneous control panel connections; more are refused"},
    {"server.preview_fps", PTIM_OPT_INT, "10", 1, 60, NULL, true, "Control panel preview: JPEG frames per second at most"},
    {"server.preview_width", PTIM_OPT_INT, "640", 64, 3840, NULL, true, "Control panel preview: width in pixels of each view"},
};

const int ptim_option_count = (int)(sizeof ptim_options / sizeof ptim_options[0]);
