# tests/leak_helpers.sh — clips and checks of the leak hunt (issue 17),
# sourced by tests/test_leak_*.sh after pipeline_helpers.sh.
#
# Every clip is made here from samples/astronaut.png with ffmpeg (grey
# canvas, 30 fps, lossless-enough H.264). Every check is ptim's own: the
# detector run on each SOURCE frame on its own (no FaceMesh, no hold, no
# smoothing: per-frame detection) says where the faces are, and
#   leak_check SRC OUT          fails when the same detector finds a face on
#                               an output frame where the source frame had one;
#   leak_check SRC OUT --cover  also fails when a source face box is not
#                               covered in the output (pixels left as they were).

LEAK_PY=$(dirname "${BASH_SOURCE[0]}")/leak_check.py
# Under ASan (make test SANITIZE=1) everything runs ~10x slower: each test
# then runs only the issue's own clip (LEAK_QUICK=1), not every variant.
if [ -z "${LEAK_QUICK:-}" ]; then
  LEAK_QUICK=0
  grep -q libasan <<<"$(ldd "$PTIM_BIN" 2>/dev/null)" && LEAK_QUICK=1
fi

# Per-frame detection, JSON lines (ptim detect --json); extra args are --set.
per_frame_faces() { # VIDEO OUT.jsonl [--set k=v]...
  local v=$1 o=$2; shift 2
  "$PTIM_BIN" detect --json "$v" --set landmarks.enabled=false --set track.hold_ms=0 \
    --set track.smoothing=false --set track.scene_cut_threshold=0 "$@" >"$o" 2>"$o.err"
}

# leak_check SRC OUT [--cover] [--set k=v]...: see above; prints the frames.
leak_check() {
  local src=$1 out=$2 cover=""; shift 2
  if [ "${1:-}" = --cover ]; then cover=--cover; shift; fi
  per_frame_faces "$src" "$T/lc_src.jsonl" "$@" || { echo "ptim detect failed on $src: $(cat "$T/lc_src.jsonl.err")"; return 1; }
  per_frame_faces "$out" "$T/lc_out.jsonl" "$@" || { echo "ptim detect failed on $out: $(cat "$T/lc_out.jsonl.err")"; return 1; }
  python3 "$LEAK_PY" "$src" "$out" "$T/lc_src.jsonl" "$T/lc_out.jsonl" $cover
}

# ptim's detector finds astronaut.png's face at (178, 70) 95 x 107 px.
# head_size F / whole_size F: the side of a head-and-shoulders crop (230 px
# around the face) / of the whole picture whose face is about F px wide.
head_size() { echo $(( $1 * 242 / 100 )); }
whole_size() { echo $(( $1 * 539 / 100 )); }
head_png() { # F OUT.png
  local s; s=$(head_size "$1")
  ffmpeg -v error -y -i "$S/astronaut.png" -vf "crop=230:230:111:30,scale=$s:$s" "$2"
}
whole_png() { # F OUT.png
  local s; s=$(whole_size "$1")
  ffmpeg -v error -y -i "$S/astronaut.png" -vf "scale=$s:$s" "$2"
}
# grey_clip OUT WxH FRAMES FILTER PICTURES...: the pictures overlaid on a grey
# canvas by FILTER (inputs [0] canvas, [1].. pictures; output [v]), 30 fps.
grey_clip() {
  local out=$1 size=$2 n=$3 filter=$4; shift 4
  local ins=()
  for p in "$@"; do ins+=(-i "$p"); done
  ffmpeg -v error -y -f lavfi -i "color=c=0x808080:s=$size:r=30" "${ins[@]}" \
    -filter_complex "$filter" -map "[v]" -frames:v "$n" -c:v libx264 -preset veryfast -crf 12 \
    -pix_fmt yuv420p "$out"
}
