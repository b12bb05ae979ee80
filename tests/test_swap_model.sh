#!/usr/bin/env bash
# swap.model end to end on the sample clip with the fixture networks (random
# weights, DFM layout with and without morph_value:0, inswapper + ArcFace):
# the run succeeds, the output plays with every frame, the face region
# changed while the frame far from the face did not, and no face is found
# where the source had one (a random network draws noise: swap.underlay
# blurs the face under it, so the person never shows through a thin mask).
# Mismatched or broken models fail the run before the first frame with one
# sentence and no output file.
source "$(dirname "$0")/pipeline_helpers.sh"

FX=$(cd "$(dirname "$0")/fixtures/onnx" && pwd)
CLIP=$CLIPS/swap_clip.mp4 # 1 s, 640x360, the Megamind close-up (one face)
if [ ! -s "$CLIP" ]; then
  ffmpeg -v error -y -i "$S/Megamind.avi" -ss 1 -t 1 -vf scale=640:360,setsar=1 -an \
    -c:v libx264 -preset veryfast -crf 20 "$CLIP.tmp.mp4" && mv "$CLIP.tmp.mp4" "$CLIP"
fi
NIN=$(decoded_frames "$CLIP")
SWAP=(--set mask.mode=swap --set performance.max_processing_workers=1)

gray() { ffmpeg -v error -y -ss "$2" -i "$1" -frames:v 1 -f rawvideo -pix_fmt gray "$3"; }
faces_json() { "$PTIM_BIN" detect --json "$1" 2>/dev/null | head -1; }

# region_change IN.png OUT.png IN.gray OUT.gray: mean |out - in| inside the
# input's largest face box (the close-up; the diner behind her, 53 px, is
# found too since the detector's tiles upsample small faces) and in the
# frame's corners (beyond 1.5 face widths from it); fails unless the face
# changed (> 12 levels) and the far area did not (< 2).
region_change() {
  python3 - "$(faces_json "$1")" "$3" "$4" <<'PY'
import json, sys
faces = json.loads(sys.argv[1])["faces"]
if not faces: print("input has no face"); sys.exit(1)
x, y, w, h = max((f["box"] for f in faces), key=lambda b: b[2] * b[3])
a, b = open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read()
W, H = 640, 360
assert len(a) == len(b) == W * H
inside = far = 0.0; ni = nf = 0
for j in range(H):
    for i in range(W):
        d = abs(a[j * W + i] - b[j * W + i])
        if x <= i < x + w and y <= j < y + h: inside += d; ni += 1
        elif i < x - 1.5 * w or i > x + 2.5 * w or j > y + 2.5 * h: far += d; nf += 1
inside /= max(ni, 1); far /= max(nf, 1)
print("face %.1f far %.2f" % (inside, far))
sys.exit(0 if inside > 12 and far < 2 else 1)
PY
}
face_left() { # IN.png OUT.png: a face found in OUT overlapping one in IN (IoU > 0.3)
  python3 - "$(faces_json "$1")" "$(faces_json "$2")" <<'PY'
import json, sys
def boxes(t):
    try: return [f["box"] for f in json.loads(t).get("faces", [])]
    except Exception: return []
def iou(a, b):
    w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])); h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    u = a[2] * a[3] + b[2] * b[3] - w * h
    return w * h / u if u > 0 else 0
ins, outs = boxes(sys.argv[1]), boxes(sys.argv[2])
left = [o for o in outs if any(iou(o, i) > 0.3 for i in ins)]
print(left if left else "")
sys.exit(1 if left else 0)
PY
}

run_swap() { # NAME ARGS...: masks CLIP into $T/NAME.mp4 and checks it
  local name=$1; shift
  local out=$T/$name.mp4
  expect_status 0 "$PTIM_BIN" mask -q "$CLIP" -o "$out" "${SWAP[@]}" "$@" || return 0
  [ "$(decoded_frames "$out")" = "$NIN" ] || fail "$name: $(decoded_frames "$out") frames decoded, the input has $NIN"
  for t in 0.2 0.7; do
    ffmpeg -v error -y -ss $t -i "$CLIP" -frames:v 1 "$T/in.png"
    ffmpeg -v error -y -ss $t -i "$out" -frames:v 1 "$T/out.png"
    gray "$CLIP" $t "$T/in.gray"
    gray "$out" $t "$T/out.gray"
    local why
    why=$(region_change "$T/in.png" "$T/out.png" "$T/in.gray" "$T/out.gray") ||
      fail "$name at $t s: the swap did not change the face alone ($why)"
    echo "$name at $t s: mean change $why"
    why=$(face_left "$T/in.png" "$T/out.png") || fail "$name at $t s: the source's face is still found at $why"
  done
}

# 1. DFM, without and with morph_value:0 (no identity photo needed).
run_swap dfm --set swap.model="$FX/dfm_224.onnx"
run_swap dfm_morph --set swap.model="$FX/dfm_224_morph.onnx" --set swap.morph_factor=0.5 \
  --set swap.presharpen=1 --set swap.pre_gamma=1.2 --set swap.post_gamma=0.9
pass "fixture .dfm (224, with and without morph_value:0): every frame written, the face changed, none left"

# 2. inswapper + ArcFace encoder, identity from a photo.
run_swap inswapper --set swap.model="$FX/inswapper_128_emap.onnx" --set swap.encoder="$FX/arcface_112.onnx" \
  --set swap.identity="$S/messi5.jpg"
pass "fixture inswapper_128 + arcface_112 with swap.identity: every frame written, the face changed, none left"

# 3. Refused before the first frame: one sentence, exit 2, no output.
refuse() { # NAME EXPECTED_TEXT ARGS...
  local name=$1 want=$2; shift 2
  rm -f "$T/$name.mp4"
  expect_status 2 "$PTIM_BIN" mask -q "$CLIP" -o "$T/$name.mp4" "${SWAP[@]}" "$@" || return 0
  grep -q -- "$want" "$T/err" || fail "$name: stderr does not say '$want': $(cat "$T/err")"
  # (FFmpeg's own "[swscaler ...]" notes about a JPEG's pixel format are not ptim's)
  [ "$(grep -v '^\[' "$T/err" | grep -c .)" = 1 ] || fail "$name: stderr is not one sentence: $(cat "$T/err")"
  [ ! -e "$T/$name.mp4" ] || fail "$name: an output was written"
}
refuse wrong_kind "arcface_112.onnx is not a DeepFaceLive .dfm" --set swap.model="$FX/arcface_112.onnx"
head -c 5000 "$FX/dfm_224.onnx" >"$T/truncated.dfm"
refuse truncated "truncated.dfm cannot be loaded" --set swap.model="$T/truncated.dfm"
refuse missing "missing.dfm cannot be loaded" --set swap.model="$T/missing.dfm"
refuse no_emap "no 512x512 embedding map" --set swap.model="$FX/inswapper_128.onnx" \
  --set swap.encoder="$FX/arcface_112.onnx" --set swap.identity="$S/messi5.jpg"
refuse no_encoder "set swap.encoder" --set swap.model="$FX/inswapper_128_emap.onnx" --set swap.identity="$S/messi5.jpg"
refuse no_identity "set swap.identity" --set swap.model="$FX/inswapper_128_emap.onnx" --set swap.encoder="$FX/arcface_112.onnx"
refuse bad_encoder "not an ArcFace encoder" --set swap.model="$FX/inswapper_128_emap.onnx" \
  --set swap.encoder="$FX/dfm_224.onnx" --set swap.identity="$S/messi5.jpg"
pass "mismatched, truncated and missing models: one sentence, exit 2, nothing written"

finish
