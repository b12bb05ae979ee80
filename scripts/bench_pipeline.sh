#!/usr/bin/env bash
# bench_pipeline.sh BUILD — ptim mask (blur, default settings) against a
# plain ffmpeg transcode with the same encoder settings (libx264,
# output.crf/preset defaults, audio copied), on 720p and 1080p clips made from
# Megamind.avi, a zoom-and-pan over astronaut.png and vtest.avi's fixed
# camera (BENCH_CLIPS picks).
# Prints wall times and CPU times (user+sys), each the median of RUNS runs,
# and the ratios ptim / ffmpeg. Goal: wall ratio <= 1.15. On a shared,
# loaded machine the CPU ratio is the steadier figure. PTIM_ARGS adds
# settings to the ptim runs (e.g. "--set detector.tiles=off"). Also printed:
# ptim's median time per frame in each stage (analyze, render, sink), and
# where the analysis time goes (whole-frame detector, tiles, FaceMesh, turned
# views, the tracker's own work, the offline look-back).
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

# make_clip NAME OUT: the clips of the performance issue (12), 6 s each
# (BENCH_SECONDS): Megamind.avi upscaled (1-3 faces, cuts), a zoom-and-pan
# over astronaut.png padded to 16:9 (one real face moving and growing), and
# vtest.avi upscaled (a fixed camera: pedestrians with small faces).
make_clip() {
  local res=${1#*_} out=$2
  case $1 in
    megamind_*)
      ffmpeg -v fatal -y -stream_loop 1 -i "$root/samples/Megamind.avi" -t "$SECONDS_OF_VIDEO" \
        -vf "scale=${res/x/:},setsar=1" -c:v libx264 -preset veryfast -crf 18 -c:a aac -b:a 128k "$out" ;;
    kenburns_*)
      ffmpeg -v fatal -y -loop 1 -i "$root/samples/astronaut.png" -f lavfi -i "sine=f=440:d=$SECONDS_OF_VIDEO" \
        -vf "pad=912:512:200:0:gray,zoompan=z='1+0.002*on':x='iw/2-(iw/zoom/2)':y='ih/4-(ih/zoom/4)':d=1:s=$res:fps=30,format=yuv420p" \
        -t "$SECONDS_OF_VIDEO" -c:v libx264 -preset veryfast -crf 18 -c:a aac -b:a 128k -shortest "$out" ;;
    static_*) # a fixed camera: vtest.avi's pedestrians (10 fps, played at 30)
      ffmpeg -v fatal -y -r 30 -i "$root/samples/vtest.avi" -f lavfi -i "sine=f=440:d=$SECONDS_OF_VIDEO" \
        -vf "scale=${res/x/:},setsar=1,format=yuv420p" -t "$SECONDS_OF_VIDEO" \
        -c:v libx264 -preset veryfast -crf 18 -c:a aac -b:a 128k -shortest "$out" ;;
  esac
}

[ -n "${PTIM_ARGS:-}" ] && echo "ptim settings: $PTIM_ARGS"
echo "clip            ffmpeg wall/cpu s   ptim wall/cpu s   wall ratio  cpu ratio  goal   ptim per frame p50 ms: analyze render sink"
echo "                (median of $RUNS; libx264 preset=$preset crf=$crf; audio copied; ptim with default settings and mask.mode=blur)"
for name in ${BENCH_CLIPS:-megamind_1280x720 megamind_1920x1080 kenburns_1280x720 kenburns_1920x1080 static_1280x720}; do
  clip=$work/$name.mp4
  make_clip "$name" "$clip"
  : > "$work/ff.t"; : > "$work/pt.t"
  for r in $(seq "$RUNS"); do
    timed "$work/ff.t" ffmpeg -v error -y -i "$clip" -map 0:v -map 0:a -c:v libx264 -preset "$preset" -crf "$crf" -c:a copy "$work/ff.mp4"
    timed "$work/pt.t" "$ptim" mask -q -y "$clip" -o "$work/ptim.mp4" --set mask.mode=blur ${PTIM_ARGS:-} --stats-json "$work/stats.json"
  done
  fw=$(cut -d' ' -f1 "$work/ff.t" | median); fc=$(cut -d' ' -f2 "$work/ff.t" | median)
  pw=$(cut -d' ' -f1 "$work/pt.t" | median); pc=$(cut -d' ' -f2 "$work/pt.t" | median)
  # where ptim's time goes (the last run): each stage's median per frame
  stages=$(jq -r '[.stages_ms.analyze.p50, .stages_ms.render.p50, .stages_ms.sink.p50] | map(. * 10 | round / 10) | join("  ")' "$work/stats.json")
  summary=$(jq -r '"\(.frames.out) frames: \(.frames.masked) masked, \(.frames.covered) covered by the guard; tiles: \(.tiles.scanned) scanned, \(.tiles.passed_unchanged) passed unchanged"' "$work/stats.json")
  printf '%-15s %9.2f / %-7.2f %9.2f / %-7.2f %8.2fx %9.2fx  1.15x  %s   (%s)\n' \
    "$name" "$fw" "$fc" "$pw" "$pc" "$(echo "$pw / $fw" | bc -l)" "$(echo "$pc / $fc" | bc -l)" "$stages" "$summary"
  # where the analysis time goes (the last run), mean ms per analysed frame
  jq -r '.analysis_ms_per_frame | "                analysis ms per frame: whole frame \(.whole_frame), tiles \(.tiles), FaceMesh \(.facemesh), turned views \(.turned_views), tracker \(.tracker_other), look-back \(.look_back)" | gsub("(?<n>[0-9]+\\.[0-9])[0-9]+"; "\(.n)")' "$work/stats.json"
done
