# tests/pipeline_helpers.sh — shared by the pipeline's shell tests (sourced).
# Needs PTIM_BIN, PTIM_SAMPLES_DIR, PTIM_TEST_TMP (ctest sets them) and ffmpeg.
set -euo pipefail

: "${PTIM_BIN:?PTIM_BIN not set}" "${PTIM_SAMPLES_DIR:?}" "${PTIM_TEST_TMP:?}"
S=$PTIM_SAMPLES_DIR
CLIPS=$PTIM_TEST_TMP/pipeline-clips # generated once, shared by the tests
mkdir -p "$CLIPS"
T=$(mktemp -d "$PTIM_TEST_TMP/$(basename "$0" .sh).XXXX")
trap 'rm -rf "$T"' EXIT
FAILS=0

# Most checks here are about video in and out, not about finding faces: they
# run the real detector without tiling and landmarks, which costs a tenth.
# (The masking checks of test_mask_cli run with the defaults.)
FAST_ARGS="--set detector.tiles=off --set landmarks.enabled=false"
ptim() { "$PTIM_BIN" "$@" $FAST_ARGS; }

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
# pass: "ok" only when nothing failed since the previous pass (a section).
pass() {
  if [ "$FAILS" = "${LAST_FAILS:-0}" ]; then echo "ok: $*"; else echo "not ok: $* (failures above)"; fi
  LAST_FAILS=$FAILS
}
finish() {
  if [ "$FAILS" -gt 0 ]; then echo "$FAILS check(s) failed" >&2; exit 1; fi
  echo "all checks passed"
}

# expect_status WANT CMD... : run, check the exit status, keep stderr in $T/err
expect_status() {
  local want=$1; shift
  local got=0
  "$@" 2>"$T/err" || got=$?
  if [ "$got" != "$want" ]; then
    fail "$* exited $got, wanted $want; stderr:"; sed 's/^/    /' "$T/err" >&2; return 1
  fi
  return 0
}

# A 3 s 1280x720 H.264 + AAC clip made from Megamind.avi (it has a face).
clip720() {
  local f=$CLIPS/clip720.mp4
  if [ ! -s "$f" ]; then
    ffmpeg -v error -y -i "$S/Megamind.avi" -ss 1 -t 3 -vf scale=1280:720,setsar=1 \
      -c:v libx264 -preset veryfast -crf 23 -c:a aac -b:a 96k "$f.tmp.mp4" && mv "$f.tmp.mp4" "$f"
  fi
  echo "$f"
}
# Same clip as MPEG-TS (streamable, for pipes and UDP).
clip720_ts() {
  local f=$CLIPS/clip720.ts
  [ -s "$f" ] || ffmpeg -v error -y -i "$(clip720)" -c copy "$f"
  echo "$f"
}

frame_count() { ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$1" | head -1; }
decoded_frames() { { ffprobe -v error -select_streams v:0 -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$1" || true; } | head -1; }
# Presentation times of the video packets, sorted, in seconds (6 decimals).
video_times() { ffprobe -v error -select_streams v:0 -show_entries packet=pts_time -of csv=p=0 "$1" | sort -g; }
audio_hash() { ffmpeg -v error -i "$1" -map 0:a:0 -c copy -f streamhash -hash sha256 - | cut -d= -f2; }
# Decodes the whole file; prints FFmpeg's errors (none for a file that plays).
play_errors() { ffmpeg -v error -i "$1" -map 0:v -f framecrc - 2>&1 >/dev/null | head -5; }

# times_match A B TOL: same count, each time within TOL seconds.
times_match() {
  paste <(video_times "$1") <(video_times "$2") | awk -v tol="$3" '
    NF != 2 { bad = 1; exit } { d = $1 - $2; if (d < 0) d = -d; if (d > tol) { bad = 1; exit } }
    END { exit bad }'
}
# AVI stores no timestamps: frame i is shown at i / rate. Same rate and same
# frame count is the same timeline.
rate() { ffprobe -v error -select_streams v:0 -show_entries stream=avg_frame_rate,time_base -of csv=p=0 "$1" | head -1; }
times_match_avi() { [ "$(rate "$1")" = "$(rate "$2")" ] && [ "$(decoded_frames "$1")" = "$(decoded_frames "$2")" ]; }

# Per-frame detail: PSNR (dB) of luma against its own Gaussian blur (sigma
# 12), one line per frame. Natural frames score low (17-33 dB, by size and
# content); a frame covered by blur_frame scores ~10 dB higher, a flat or
# black frame 99.
smoothness() {
  local log; log=$(mktemp "$T/psnr.XXXX")
  ffmpeg -v error -i "$1" -lavfi "format=gray,split[a][b];[b]gblur=sigma=12[c];[a][c]psnr=stats_file=$log" -f null - &&
    awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^psnr_y:/) { split($i, a, ":"); v = a[2]; if (v == "inf") v = 99; print v } }' "$log"
}
# all_frames_covered INPUT OUTPUT: frame by frame, every input frame with
# detail (< 40 dB) came out at least 6 dB smoother: no frame left as it was.
all_frames_covered() {
  paste <(smoothness "$1") <(smoothness "$2") | awk '
    NF != 2 { print "frame counts differ"; bad = 1; exit }
    $1 < 40 && $2 < $1 + 6 { printf "frame %d: %.1f dB in, %.1f dB out\n", NR - 1, $1, $2; bad = 1; exit }
    END { exit bad }'
}

# Is the real face masker in this build? (placeholders fail every frame)
masker_available() {
  "$PTIM_BIN" mask -q -y "$S/messi5.jpg" -o "$T/probe.png" --stats-json "$T/probe.json" 2>/dev/null || return 1
  grep -q '"masked":1' "$T/probe.json"
}
