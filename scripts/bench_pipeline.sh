#!/usr/bin/env bash
# bench_pipeline.sh BUILD — ptim mask (blur, one face) against a plain ffmpeg
# transcode with the same encoder settings (libx264, output.crf/preset
# defaults, audio copied), on 720p and 1080p clips made from Megamind.avi.
# Prints wall times and CPU times (user+sys), each the median of RUNS runs,
# and the ratios ptim / ffmpeg. Goal: wall ratio <= 1.15. On a shared,
# loaded machine the CPU ratio is the steadier figure. PTIM_ARGS adds
# settings to the ptim runs (e.g. "--set detector.tiles=off").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
ptim=$build/ptim
RUNS=${RUNS:-3}
SECONDS_OF_VIDEO=${BENCH_SECONDS:-6}
work=$(mktemp -d "${TMPDIR:-/tmp}/ptim-bench.XXXX")
trap 'rm -rf "$work"' EXIT
crf=$("$ptim" config show 2>/dev/null | awk -F'= *' '/^output.crf/ {print $2}' | awk '{print $1}')
preset=$("$ptim" config show 2>/dev/null | awk -F'= *' '/^output.preset/ {print $2}' | awk '{print $1}')
crf=${crf:-23}
preset=${preset:-veryfast}

# timed OUT CMD...: "wall cpu" seconds of CMD appended to OUT
timed() { local out=$1; shift; /usr/bin/time -f "%e %U %S" -o "$work/t" "$@" >/dev/null 2>&1; awk '{ print $1, $2 + $3 }' "$work/t" >> "$out"; }
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

[ -n "${PTIM_ARGS:-}" ] && echo "ptim settings: $PTIM_ARGS"
echo "clip    ffmpeg wall/cpu s   ptim wall/cpu s   wall ratio  cpu ratio   (median of $RUNS; libx264 preset=$preset crf=$crf; audio copied)"
for res in 1280x720 1920x1080; do
  clip=$work/clip_$res.mp4
  ffmpeg -v fatal -y -stream_loop 1 -i "$root/samples/Megamind.avi" -t "$SECONDS_OF_VIDEO" \
    -vf "scale=${res/x/:},setsar=1" -c:v libx264 -preset veryfast -crf 18 -c:a aac -b:a 128k "$clip"
  : > "$work/ff.t"; : > "$work/pt.t"
  for r in $(seq "$RUNS"); do
    timed "$work/ff.t" ffmpeg -v error -y -i "$clip" -map 0:v -map 0:a -c:v libx264 -preset "$preset" -crf "$crf" -c:a copy "$work/ff.mp4"
    timed "$work/pt.t" "$ptim" mask -q -y "$clip" -o "$work/ptim.mp4" --set mask.mode=blur ${PTIM_ARGS:-} --stats-json "$work/stats.json"
  done
  fw=$(cut -d' ' -f1 "$work/ff.t" | median); fc=$(cut -d' ' -f2 "$work/ff.t" | median)
  pw=$(cut -d' ' -f1 "$work/pt.t" | median); pc=$(cut -d' ' -f2 "$work/pt.t" | median)
  frames=$(grep -o '"out":[0-9]*' "$work/stats.json" | head -1 | cut -d: -f2)
  masked=$(grep -o '"masked":[0-9]*' "$work/stats.json" | head -1 | cut -d: -f2)
  covered=$(grep -o '"covered":[0-9]*' "$work/stats.json" | head -1 | cut -d: -f2)
  printf '%-6s %9.2f / %-7.2f %9.2f / %-7.2f %8.2fx %9.2fx    %s frames: %s masked, %s covered by the guard\n' \
    "${res#*x}p" "$fw" "$fc" "$pw" "$pc" "$(echo "$pw / $fw" | bc -l)" "$(echo "$pc / $fc" | bc -l)" "$frames" "$masked" "$covered"
done
