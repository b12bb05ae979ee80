#!/usr/bin/env bash
# demo_sheet.sh BUILD OUTDIR — side-by-side demos of the masking modes:
#   OUTDIR/sheet_astronaut.png  original | blur | pixelate | swap (identity: messi5.jpg)
#   OUTDIR/sheet_megamind.mp4   the same on samples/Megamind.avi (identity: astronaut.png)
# Every masked version is made by `ptim mask`; ffmpeg only lays them side by side.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
out=${2:-demo}
ptim="$build/ptim"
samples="$root/samples"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! "$ptim" mask --help >/dev/null 2>&1; then
  echo "demo_sheet: this ptim has no working 'ptim mask' (the pipeline is not built in)" >&2
  exit 1
fi

label() { # label IN OUT TEXT — a caption bar under each panel
  ffmpeg -loglevel error -y -i "$1" -vf "pad=iw:ih+28:0:0:black,drawtext=text='$3':x=(w-tw)/2:y=h-22:fontsize=18:fontcolor=white" "$2" 2>/dev/null \
    || cp "$1" "$2" # no drawtext (no fontconfig): panels without captions
}

# The picture.
"$ptim" mask -q "$samples/astronaut.png" -o "$tmp/blur.png" --mode blur
"$ptim" mask -q "$samples/astronaut.png" -o "$tmp/pixelate.png" --mode pixelate
"$ptim" mask -q "$samples/astronaut.png" -o "$tmp/swap.png" --mode swap --identity "$samples/messi5.jpg"
cp "$samples/astronaut.png" "$tmp/original.png"
for k in original blur pixelate swap; do label "$tmp/$k.png" "$tmp/l_$k.png" "$k"; done
ffmpeg -loglevel error -y -i "$tmp/l_original.png" -i "$tmp/l_blur.png" -i "$tmp/l_pixelate.png" -i "$tmp/l_swap.png" \
  -filter_complex "[0][1][2][3]hstack=inputs=4" "$out/sheet_astronaut.png"

# The clip (each panel half size so the sheet stays 1440 wide). DEMO_SECONDS
# shortens it (the first N seconds) on a slow or busy machine.
clip="$samples/Megamind.avi"
if [ -n "${DEMO_SECONDS:-}" ]; then
  ffmpeg -loglevel error -y -i "$clip" -t "$DEMO_SECONDS" -an -c:v libx264 -preset ultrafast -crf 12 "$tmp/clip.mkv"
  clip="$tmp/clip.mkv"
fi
"$ptim" mask -q "$clip" -o "$tmp/blur.mp4" --mode blur --no-audio
"$ptim" mask -q "$clip" -o "$tmp/pixelate.mp4" --mode pixelate --no-audio
"$ptim" mask -q "$clip" -o "$tmp/swap.mp4" --mode swap --identity "$samples/astronaut.png" --no-audio
# Every panel resampled to the source's frame rate: the outputs' containers
# may report another rate, and the mp4 muxer would otherwise duplicate frames.
rate=$(ffprobe -v error -select_streams v:0 -show_entries stream=r_frame_rate -of csv=p=0 "$samples/Megamind.avi")
panel() { echo "[$1:v]fps=$rate,scale=360:-2,setsar=1[$2]"; }
ffmpeg -loglevel error -y -i "$clip" -i "$tmp/blur.mp4" -i "$tmp/pixelate.mp4" -i "$tmp/swap.mp4" \
  -filter_complex "$(panel 0 a);$(panel 1 b);$(panel 2 c);$(panel 3 d);[a][b][c][d]hstack=inputs=4:shortest=1,format=yuv420p[v]" \
  -map "[v]" -an -r "$rate" -c:v libx264 -preset veryfast -crf 23 "$out/sheet_megamind.mp4"

echo "demo_sheet: wrote $out/sheet_astronaut.png and $out/sheet_megamind.mp4"
