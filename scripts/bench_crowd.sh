#!/usr/bin/env bash
# bench_crowd.sh BUILD — ptim mask (defaults) on crowds, the inputs of
# tests/test_leak_crowd.sh: a 1920x1080 still of 144 faces (~55 px), a
# 3840x2160 still of 500 faces (~60 px), and a 10 s 1080p pan over the
# 144-face crowd at 4 fps (40 frames; in a crowd every frame gets the whole
# frame and every tile scanned). Prints wall and CPU (user+sys) time per
# frame, each the median of RUNS runs, and the faces masked per frame.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
ptim=$build/ptim
RUNS=${RUNS:-1}
work=$(mktemp -d "${TMPDIR:-/tmp}/ptim-bench-crowd.XXXX")
trap 'rm -rf "$work"' EXIT

timed() { local out=$1; shift; /usr/bin/time -f "%e %U %S" -o "$work/t" "$@" >/dev/null 2>&1; awk '{ print $1, $2 + $3 }' "$work/t" >> "$out"; }
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
crowd() { # COLS ROWS CELL_W CELL_H CROP OUT
  ffmpeg -v error -y -loop 1 -i "$root/samples/astronaut.png" \
    -vf "crop=$5,scale=$4:$4,pad=$3:$4:($3-$4)/2:0:gray,tile=$1x$2" -frames:v 1 "$6"
}

crowd 16 9 120 120 200:200:130:20 "$work/crowd144.png"
crowd 25 20 150 108 160:160:145:35 "$work/core500.png"
ffmpeg -v error -y -i "$work/core500.png" -vf "pad=3840:2160:45:0:gray" "$work/crowd500.png"
ffmpeg -v error -y -loop 1 -i "$work/crowd144.png" \
  -vf "pad=2400:1080:240:0:gray,crop=1920:1080:'48*t':0,format=yuv420p" -r 4 -t 10 \
  -c:v libx264 -preset veryfast -crf 18 "$work/pan.mp4"

echo "input                          frames  wall s/frame  cpu s/frame  faces masked per frame  (median of $RUNS)"
for case in "crowd144.png:144-face 1080p still" "crowd500.png:500-face 2160p still" "pan.mp4:1080p pan over 144 faces"; do
  in=${case%%:*} name=${case#*:} ext=${in##*.}
  : > "$work/t.all"
  for r in $(seq "$RUNS"); do
    timed "$work/t.all" "$ptim" mask -q -y "$work/$in" -o "$work/out.$ext" --audit "$work/audit.jsonl"
  done
  frames=$(wc -l < "$work/audit.jsonl")
  faces=$(jq -s 'map(.faces | length) | add / length' "$work/audit.jsonl")
  w=$(cut -d' ' -f1 "$work/t.all" | median); c=$(cut -d' ' -f2 "$work/t.all" | median)
  printf '%-30s %6d %13.3f %12.3f %12.1f\n' "$name" "$frames" "$(echo "$w / $frames" | bc -l)" \
    "$(echo "$c / $frames" | bc -l)" "$faces"
done
