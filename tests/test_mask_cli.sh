#!/usr/bin/env bash
# ptim mask end to end on the sample media: frame count, timestamps, audio
# copied bit for bit, the output plays, and no frame leaves unmasked.
source "$(dirname "$0")/pipeline_helpers.sh"

CLIP=$(clip720)
REAL_MASKER=0
masker_available && REAL_MASKER=1

# No frame may leave with a face. With the real masker: where ptim's detector
# finds a face in the input, it finds none at that place in the output (a
# detection overlapping an input face by IoU > 0.3 is a face left visible;
# an ear beside a blurred face is not). Until the masker lands the guard
# must have covered every frame.
# The check uses the detector settings the masking ran with (DETECT_ARGS).
faces_json() { "$PTIM_BIN" detect --json "$1" $DETECT_ARGS 2>/dev/null | head -1; }
face_left() { # INPUT_PICTURE OUTPUT_PICTURE: prints what leaked, fails if anything did
  python3 - "$(faces_json "$1")" "$(faces_json "$2")" <<'PY'
import json, sys
def boxes(t):
    try: return [f["box"] for f in json.loads(t).get("faces", [])]
    except Exception: return []
def iou(a, b):
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    w = max(0, min(ax2, bx2) - max(a[0], b[0])); h = max(0, min(ay2, by2) - max(a[1], b[1]))
    u = a[2] * a[3] + b[2] * b[3] - w * h
    return w * h / u if u > 0 else 0
ins, outs = boxes(sys.argv[1]), boxes(sys.argv[2])
left = [o for o in outs if any(iou(o, i) > 0.3 for i in ins)]
print(left if left else "")
sys.exit(1 if left else 0)
PY
}
check_no_face_left() { # OUTPUT STATS_JSON INPUT
  if [ "$REAL_MASKER" = 1 ]; then
    if [ "$(decoded_frames "$3")" = 1 ]; then # a picture: masked with the defaults
      why=$(DETECT_ARGS= face_left "$3" "$1") || fail "$1: face still found at $why"
      return 0
    fi
    DETECT_ARGS="--set detector.tiles=off"
    for t in 0.5 1.5 2.5; do
      rm -f "$T/probe_in.png" "$T/probe_out.png"
      ffmpeg -v error -y -ss $t -i "$3" -frames:v 1 "$T/probe_in.png"
      ffmpeg -v error -y -ss $t -i "$1" -frames:v 1 "$T/probe_out.png"
      [ -s "$T/probe_in.png" ] && [ -s "$T/probe_out.png" ] || continue
      why=$(face_left "$T/probe_in.png" "$T/probe_out.png") || fail "$1: face still found at $t s: $why"
    done
  else
    grep -q '"covered":'"$(grep -o '"in":[0-9]*' "$2" | head -1 | cut -d: -f2)"',' "$2" ||
      fail "$1: the guard did not cover every frame: $(grep -o '"frames":{[^}]*' "$2")"
    local why
    why=$(all_frames_covered "$3" "$1") || fail "$1: a frame left uncovered: $why"
  fi
}

# 1. Megamind.avi with the default output name (AVI, audio AC-3 copied)
cp "$S/Megamind.avi" "$T/Megamind.avi"
if expect_status 0 ptim mask -q "$T/Megamind.avi" --stats-json "$T/mm.json" --audit "$T/mm.audit"; then
  OUT=$T/Megamind_masked.avi
  [ -s "$OUT" ] || fail "default output $OUT missing"
  [ ! -e "$OUT.partial" ] || fail "$OUT.partial left behind"
  [ "$(decoded_frames "$OUT")" = "$(decoded_frames "$S/Megamind.avi")" ] || fail "Megamind: frame count $(decoded_frames "$OUT") != $(decoded_frames "$S/Megamind.avi")"
  times_match_avi "$S/Megamind.avi" "$OUT" || fail "Megamind: timeline differs: $(rate "$OUT") fps vs $(rate "$S/Megamind.avi")"
  [ "$(audio_hash "$OUT")" = "$(audio_hash "$S/Megamind.avi")" ] || fail "Megamind: audio not bit-identical"
  [ -z "$(play_errors "$OUT")" ] || fail "Megamind: output does not decode cleanly: $(play_errors "$OUT")"
  [ "$(wc -l < "$T/mm.audit")" = 270 ] || fail "Megamind: audit has $(wc -l < "$T/mm.audit") lines, not 270"
  grep -q '"guard":"covered"\|"guard":"masked"' "$T/mm.audit" || fail "audit lines lack guard actions"
  ! grep -q '"guard":"unsafe_passthrough"' "$T/mm.audit" || fail "audit shows unmasked frames"
  check_no_face_left "$OUT" "$T/mm.json" "$S/Megamind.avi"
  pass "Megamind.avi -> Megamind_masked.avi"
fi

# 2. Generated 720p H.264 + AAC clip to MP4: same frames, same times, same audio
if expect_status 0 ptim mask -q "$CLIP" -o "$T/c720.mp4" --stats-json "$T/c.json"; then
  [ "$(frame_count "$T/c720.mp4")" = "$(frame_count "$CLIP")" ] || fail "720p: frame count differs"
  times_match "$CLIP" "$T/c720.mp4" 0.001 || fail "720p: timestamps differ"
  [ "$(audio_hash "$T/c720.mp4")" = "$(audio_hash "$CLIP")" ] || fail "720p: audio not bit-identical"
  [ -z "$(play_errors "$T/c720.mp4")" ] || fail "720p: output does not decode cleanly"
  ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height -of csv=p=0 "$T/c720.mp4" | grep -q '^h264,1280,720' ||
    fail "720p: not H.264 1280x720"
  grep -q '"stages_ms"' "$T/c.json" && grep -q '"p99"' "$T/c.json" || fail "stats lack stage percentiles"
  check_no_face_left "$T/c720.mp4" "$T/c.json" "$CLIP"
  pass "720p H.264+AAC -> mp4"
fi

# 3. Other containers (on a 1 s cut): MKV keeps times exactly; WebM gets VP9
SHORT=$T/short.mp4
ffmpeg -v error -y -i "$CLIP" -t 1 -c copy "$SHORT"
if expect_status 0 ptim mask -q "$SHORT" -o "$T/c720.mkv"; then
  times_match "$SHORT" "$T/c720.mkv" 0.001 || fail "mkv: timestamps differ: $(paste <(video_times "$SHORT") <(video_times "$T/c720.mkv") | head -3 | tr '\n' ' ')"
  [ "$(audio_hash "$T/c720.mkv")" = "$(audio_hash "$SHORT")" ] || fail "mkv: audio not bit-identical"
  pass "720p -> mkv"
fi
if expect_status 0 ptim mask -q "$SHORT" -o "$T/c720.webm"; then
  ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 "$T/c720.webm" | grep -q vp9 || fail "webm: not VP9"
  [ "$(decoded_frames "$T/c720.webm")" = "$(decoded_frames "$SHORT")" ] || fail "webm: frame count differs"
  pass "720p -> webm (VP9)"
fi

# 3b. Rotation and colour properties survive
ffmpeg -v error -y -i "$CLIP" -t 0.5 -c copy -metadata:s:v rotate=90 "$T/rot.mp4"
if expect_status 0 ptim mask -q "$T/rot.mp4" -o "$T/rot_out.mp4"; then
  [ "$(ffprobe -v error -select_streams v:0 -show_entries stream_side_data=rotation -of csv=p=0 "$T/rot_out.mp4" | head -1)" = 90 ] ||
    fail "rotation lost"
fi
ffmpeg -v error -y -i "$CLIP" -t 0.5 -vf scale=out_range=full -color_range pc -colorspace bt709 -color_primaries bt709 -color_trc bt709 \
  -c:v libx264 -preset ultrafast -an "$T/col.mp4"
if expect_status 0 ptim mask -q "$T/col.mp4" -o "$T/col_out.mp4"; then
  props() { ffprobe -v error -select_streams v:0 -show_entries stream=color_range,color_space,color_primaries,color_transfer -of csv=p=0 "$1"; }
  [ "$(props "$T/col_out.mp4")" = "$(props "$T/col.mp4")" ] || fail "colour properties: $(props "$T/col_out.mp4") vs $(props "$T/col.mp4")"
  pass "rotation and colour properties kept"
fi

# 4. Voice masking: audio re-encoded through rubberband, same length
if expect_status 0 ptim mask -q "$SHORT" -o "$T/voice.mp4" --set audio.voice=pitch --set audio.pitch_semitones=-5; then
  [ "$(audio_hash "$T/voice.mp4")" != "$(audio_hash "$SHORT")" ] || fail "voice: audio unchanged"
  d_in=$(ffprobe -v error -select_streams a:0 -show_entries stream=duration -of csv=p=0 "$SHORT")
  d_out=$(ffprobe -v error -select_streams a:0 -show_entries stream=duration -of csv=p=0 "$T/voice.mp4")
  awk -v a="$d_in" -v b="$d_out" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 0.1) }' || fail "voice: audio length $d_out vs $d_in"
  pass "voice masking"
fi
if expect_status 0 ptim mask -q "$SHORT" -o "$T/noaudio.mp4" --no-audio; then
  [ -z "$(ffprobe -v error -select_streams a -show_entries stream=index -of csv=p=0 "$T/noaudio.mp4")" ] || fail "--no-audio kept audio"
fi

# 5. Pictures in, pictures out (RGB and JPEG), same size
for pic in astronaut.png messi5.jpg; do
  ext=${pic##*.}
  # default settings (tiled detection, landmarks): the masking users get
  if expect_status 0 "$PTIM_BIN" mask -q "$S/$pic" -o "$T/pic_out.$ext" --stats-json "$T/pic.json"; then
    [ "$(ffprobe -v error -show_entries stream=width,height -of csv=p=0 "$S/$pic")" = \
      "$(ffprobe -v error -show_entries stream=width,height -of csv=p=0 "$T/pic_out.$ext")" ] || fail "$pic: size changed"
    check_no_face_left "$T/pic_out.$ext" "$T/pic.json" "$S/$pic"
    pass "picture $pic"
  fi
done

# 6. A directory in, a directory out (default DIR_masked), pictures and a video
mkdir -p "$T/album"
cp "$S/astronaut.png" "$S/messi5.jpg" "$T/album/"
cp "$SHORT" "$T/album/short.mp4"
echo "not media" > "$T/album/notes.txt"
if expect_status 0 ptim mask -q "$T/album"; then
  for f in astronaut.png messi5.jpg short.mp4; do
    [ -s "$T/album_masked/$f" ] || fail "directory: $f missing from album_masked/"
  done
  [ ! -e "$T/album_masked/notes.txt" ] || fail "directory: non-media file processed"
  [ -z "$(ls "$T/album_masked" | grep partial || true)" ] || fail "directory: .partial left behind"
  all_frames_covered "$S/astronaut.png" "$T/album_masked/astronaut.png" >/dev/null || [ "$REAL_MASKER" = 1 ] || fail "directory: astronaut not covered"
  pass "directory in, directory out"
fi

# 7. Image sequence out
if expect_status 0 ptim mask -q "$T/album/short.mp4" -o "$T/seq_%04d.png"; then
  n=$(ls "$T"/seq_*.png | wc -l)
  [ "$n" = "$(frame_count "$T/album/short.mp4")" ] || fail "sequence: $n pictures for $(frame_count "$T/album/short.mp4") frames"
  [ -z "$(ls "$T" | grep 'seq_.*partial' || true)" ] || fail "sequence: .partial left behind"
  pass "image sequence"
fi

# 8. stdin to stdout (MPEG-TS in, NUT out), audio copied
if expect_status 0 bash -c "\"$PTIM_BIN\" mask -q - $FAST_ARGS < \"$(clip720_ts)\" > \"$T/piped.nut\""; then
  [ "$(decoded_frames "$T/piped.nut")" = "$(decoded_frames "$(clip720_ts)")" ] || fail "pipe: frame count differs"
  [ "$(audio_hash "$T/piped.nut")" = "$(audio_hash "$(clip720_ts)")" ] || fail "pipe: audio not bit-identical"
  pass "stdin -> stdout"
fi

# 9. Guard policies: black_frame writes black, drop writes nothing
if expect_status 0 ptim mask -q "$T/album/short.mp4" -o "$T/black.mp4" --set privacy.on_failure=black_frame --stats-json "$T/b.json"; then
  if [ "$REAL_MASKER" = 0 ]; then
    ymax=$(ffprobe -v error -f lavfi -i "movie=$T/black.mp4,signalstats" -show_entries frame_tags=lavfi.signalstats.YMAX -of csv=p=0 | sort -n | tail -1)
    [ "$ymax" -le 20 ] || fail "black_frame: brightest luma $ymax"
  fi
  pass "on_failure=black_frame"
fi
if [ "$REAL_MASKER" = 0 ]; then
  expect_status 1 ptim mask -q "$T/album/short.mp4" -o "$T/drop.mp4" --set privacy.on_failure=drop &&
    { [ ! -e "$T/drop.mp4" ] && [ ! -e "$T/drop.mp4.partial" ] || fail "drop: a file was written"; } &&
    grep -q "no frame was left" "$T/err" && pass "on_failure=drop with every frame failing writes nothing"
fi

# 10. --unsafe-passthrough is explicit and loud
if expect_status 0 ptim mask -q "$T/album/short.mp4" -o "$T/unsafe.mp4" --unsafe-passthrough; then
  grep -q "WARNING" "$T/err" || fail "unsafe passthrough did not warn"
  pass "--unsafe-passthrough warns"
fi

finish
