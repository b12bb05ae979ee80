#!/usr/bin/env bash
# The control panel's HTTP API against a running `ptim run --http` on a
# looped sample clip (astronaut.png as a 2 s clip, source.loop): every
# endpoint, bad JSON, unknown keys, out-of-range and non-live values,
# oversized bodies, wrong content types, cross-origin and rebinding
# requests, uploads (an identity applied live and a faceless one refused
# by the masker, the fixture .dfm as swap model and bad models refused),
# recording, /metrics through promtool (latency histograms checked bucket
# by bucket), the memory pool in /api/stats, 50 concurrent
# clients, a client that never reads, a connection flood, the token on a
# non-loopback bind (0.0.0.0, reached only through 127.0.0.1), bad --http
# values, and `ptim mask --http` read-only. Traffic goes to 127.0.0.1 only.
source "$(dirname "$0")/pipeline_helpers.sh"

for tool in curl promtool python3 jq; do
  command -v $tool >/dev/null || { echo "FAIL: $tool missing (scripts/bootstrap.sh installs it)" >&2; exit 1; }
done

CLIP=$CLIPS/astronaut_2s.mp4
[ -s "$CLIP" ] || ffmpeg -v error -y -loop 1 -i "$S/astronaut.png" -t 2 -r 15 -vf scale=512:512 \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p "$CLIP.tmp.mp4" && mv -f "$CLIP.tmp.mp4" "$CLIP" 2>/dev/null || true
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
# wait_up URL: until it answers (60 s at most)
wait_up() { local i; for i in $(seq 600); do curl -s -o /dev/null --max-time 2 "$1" && return 0; sleep 0.1; done; return 1; }
# status METHOD URL [curl args...]: the HTTP status; the body in $T/body
status() { local m=$1 u=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 60 -X "$m" "$@" "$u" || true; }
# jq (fast to start on a loaded machine) over the last body / the current stats
json() { jq -r "$1" "$T/body" 2>/dev/null || echo "(not JSON: $(head -c 200 "$T/body"))"; }
stat_of() { curl -s --max-time 60 "$B/api/stats" | jq -r "$1" || true; }
J=(-H 'Content-Type: application/json')
section() { LAST_FAILS=$FAILS; }

P=$(port); B=http://127.0.0.1:$P
UD=$T/userdata
"$PTIM_BIN" run -i "$CLIP" -o null --http "127.0.0.1:$P" --userdata-dir "$UD" --set source.loop=true \
  --set source.realtime=true --set server.max_body_mb=2 --set server.max_clients=24 $FAST_ARGS 2>"$T/run.err" &
RUN=$!; PIDS+=($RUN)
wait_up "$B/healthz" || { cat "$T/run.err" >&2; fail "ptim run --http did not come up"; finish; }
grep -q "control panel at $B/" "$T/run.err" || fail "the URL was not printed: $(cat "$T/run.err")"
grep -qi token "$T/run.err" && fail "a loopback server printed a token"

# 1. Static assets: exactly the embedded set.
section
[ "$(status GET "$B/")" = 200 ] && grep -q '<title>ptim' "$T/body" || fail "GET / is not the page"
[ "$(status GET "$B/panel.js")" = 200 ] && grep -q '/api/config' "$T/body" || fail "GET /panel.js"
[ "$(status GET "$B/panel.css")" = 200 ] || fail "GET /panel.css"
for bad in /../../etc/passwd /%2e%2e/%2e%2e/etc/passwd /src/server/server.c /panel.js/ /index.html //etc/passwd; do
  c=$(status GET "$B$bad" --path-as-is)
  [ "$c" = 404 ] || fail "GET $bad answered $c, wanted 404"
  grep -q root: "$T/body" && fail "GET $bad leaked a file"
done
[ "$(status GET "$B/healthz")" = 200 ] && [ "$(cat "$T/body")" = ok ] || fail "/healthz"
[ "$(status DELETE "$B/healthz" "${J[@]}")" = 405 ] || fail "DELETE /healthz is not 405"
pass "page, script and style served; other paths 404, nothing escapes the embedded set"

# 2. Options and config: generated from the option table.
section
[ "$(status GET "$B/api/options")" = 200 ] || fail "GET /api/options"
n_table=$("$PTIM_BIN" config keys --all | grep -c '^[a-z_]*\.[a-z_0-9]*$')
[ "$(json '.options | length')" = "$n_table" ] || fail "/api/options has $(json '.options | length') options, the table $n_table"
[ "$(json '.options[] | select(.key=="mask.mode") | .choices | join("|")')" = "blur|pixelate|solid|image|swap|none" ] || fail "mask.mode choices"
[ "$(json '.options[] | select(.key=="output.crf") | .live')" = false ] || fail "output.crf should not be live"
[ "$(json '.options[] | select(.key=="detector.threshold") | .max == 1 and .min == 0.01')" = true ] || fail "detector.threshold range"
[ "$(status GET "$B/api/config")" = 200 ] || fail "GET /api/config"
[ "$(json '."mask.mode"')" = blur ] || fail "mask.mode is not blur at start"
[ "$(json '."source.loop"')" = true ] || fail "source.loop is not true (typed)"
[ "$(json '."mask.pixelate_cells" | numbers')" = 10 ] || fail "mask.pixelate_cells is not the number 10"
pass "GET /api/options ($n_table options, as the table) and /api/config (typed values)"

# 3. PATCH: valid, applied between frames; invalid ones rejected with the table's sentence.
section
r0=$(stat_of '.reconfigures')
c=$(status PATCH "$B/api/config" "${J[@]}" -d '{"mask.mode":"pixelate","mask.pixelate_cells":6}')
[ "$c" = 200 ] || fail "valid PATCH answered $c: $(cat "$T/body")"
[ "$(json '.changed | sort | join(",")')" = "mask.mode,mask.pixelate_cells" ] || fail "changed list: $(cat "$T/body")"
status GET "$B/api/config" >/dev/null
[ "$(json '."mask.mode"')" = pixelate ] && [ "$(json '."mask.pixelate_cells"')" = 6 ] || fail "PATCH not visible in /api/config"
applied=0
for i in $(seq 100); do [ "$(stat_of '.reconfigures')" -gt "$r0" ] && { applied=1; break; }; sleep 0.1; done
[ $applied = 1 ] || fail "the pipeline did not apply the change (reconfigures stayed $r0)"
check_400() { # BODY PATTERN
  local c; c=$(status PATCH "$B/api/config" "${J[@]}" --data-binary "$1")
  [ "$c" = 400 ] || { fail "PATCH $1 answered $c, wanted 400"; return; }
  json .error | grep -q -- "$2" || fail "PATCH $1: message '$(json .error)' lacks '$2'"
}
check_400 '{"mask.mode": "pixelate"' 'not valid JSON'
check_400 'mask.mode=blur' 'not valid JSON'
check_400 '[1,2]' 'JSON object'
check_400 '{}' 'names no setting'
check_400 '{"mask.mdoe":"blur"}' 'unknown key mask.mdoe (did you mean mask.mode?)'
check_400 '{"detector.threshold":1.7}' 'detector.threshold = 1.7 is out of range \[0.01, 1\]'
check_400 '{"mask.mode":"fuzzy"}' 'is not one of blur|pixelate'
check_400 '{"mask.scale":"big"}' 'mask.scale = big'
check_400 '{"mask.scale":null}' 'string, number or boolean'
check_400 '{"output.crf":20}' 'needs a restart'
check_400 '{"mask.mode":"blur","detector.threshold":7}' 'out of range'
status GET "$B/api/config" >/dev/null
[ "$(json '."mask.mode"')" = pixelate ] || fail "a rejected PATCH changed mask.mode (all or nothing)"
[ "$(json '."detector.threshold"')" = 0.5 ] || fail "a rejected value reached the config"
pass "PATCH /api/config: applied live (reconfigures > $r0); bad JSON, unknown keys, out-of-range, wrong types, non-live keys: 400 with the sentence, nothing changed"

# 4. Request rules: content type, body size, origin, host.
section
c=$(status PATCH "$B/api/config" -H 'Content-Type: text/plain' -d '{"mask.mode":"blur"}'); [ "$c" = 415 ] || fail "text/plain PATCH answered $c"
c=$(status PATCH "$B/api/config" -d '{"mask.mode":"blur"}'); [ "$c" = 415 ] || fail "form-encoded PATCH answered $c"
head -c $((3 * 1024 * 1024)) /dev/zero | tr '\0' ' ' > "$T/big.json"
c=$(status PATCH "$B/api/config" "${J[@]}" --data-binary @"$T/big.json"); [ "$c" = 413 ] || fail "3 MiB body answered $c, wanted 413"
c=$(status PATCH "$B/api/config" "${J[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$T/big.json"); [ "$c" = 413 ] || fail "3 MiB chunked body answered $c, wanted 413"
c=$(status PATCH "$B/api/config" "${J[@]}" -H 'Origin: http://evil.example' -d '{"mask.mode":"blur"}'); [ "$c" = 403 ] || fail "cross-origin PATCH answered $c"
c=$(status PATCH "$B/api/config" "${J[@]}" -H 'Origin: null' -d '{"mask.mode":"blur"}'); [ "$c" = 403 ] || fail "Origin: null PATCH answered $c"
c=$(status POST "$B/api/recording" "${J[@]}" -H 'Sec-Fetch-Site: cross-site' -d '{"recording":true}'); [ "$c" = 403 ] || fail "Sec-Fetch-Site cross-site answered $c"
c=$(status GET "$B/api/config" -H 'Host: evil.example'); [ "$c" = 403 ] || fail "a foreign Host header (DNS rebinding) answered $c"
c=$(status PATCH "$B/api/config" "${J[@]}" -H "Origin: $B" -d '{"mask.mode":"pixelate"}'); [ "$c" = 200 ] || fail "same-origin PATCH answered $c"
c=$(status GET "$B/api/stats?$(head -c 3000 /dev/zero | tr '\0' a)"); [ "$c" = 414 ] || fail "a 3000-byte query answered $c"
c=$(status GET "$B/preview.jpg?view=%zz"); [ "$c" = 400 ] || fail "a bad %-escape answered $c"
c=$(status GET "$B/preview.jpg?view=../../etc"); [ "$c" = 400 ] || fail "an unknown view answered $c"
pass "415 without JSON type, 413 over server.max_body_mb (with and without length), 403 cross-origin and foreign Host, 414/400 bad queries"

# 5. Stats, metrics (promtool), preview.
section
[ "$(stat_of .running)" = true ] || fail "/api/stats: not running"
# the first masked frame may come late where ptim runs slowly (ThreadSanitizer:
# minutes of model set-up): wait up to 60 s for it rather than racing it
for _ in $(seq 120); do [ "$(stat_of '.frames.out > 0 and .faces > 0')" = true ] && break; sleep 0.5; done
[ "$(stat_of '.frames.out > 0 and .faces > 0')" = true ] || fail "/api/stats: no frames or faces: $(stat_of -c '{frames, faces}')"
for i in $(seq 50); do [ "$(stat_of '.fps_out > 0')" = true ] && break; sleep 0.1; done
[ "$(stat_of '.fps_out > 0 and (.history_latency_ms | length) > 0 and .latency_ms.render.count > 0')" = true ] || fail "/api/stats: no rate, history or latency"
curl -s --max-time 10 "$B/metrics" > "$T/metrics"
promtool check metrics < "$T/metrics" > "$T/promtool.out" 2>&1 || fail "promtool check metrics: $(cat "$T/promtool.out")"
grep -q '^ptim_frames_out_total [1-9]' "$T/metrics" || fail "/metrics: ptim_frames_out_total not counting"
grep -q '^# TYPE ptim_stage_latency_seconds histogram' "$T/metrics" || fail "/metrics: latency is not a histogram"
# every stage's buckets: le ascending, counts never falling, +Inf = _count;
# render has counted frames, nearly all in a finite bucket
python3 - "$T/metrics" > "$T/hist.out" 2>&1 <<'EOF' || fail "/metrics histograms: $(cat "$T/hist.out")"
import re, sys
b, cnt = {}, {}
for line in open(sys.argv[1]):
    m = re.match(r'ptim_stage_latency_seconds_bucket\{stage="(\w+)",le="([^"]+)"\} (\d+)$', line)
    if m: b.setdefault(m[1], []).append((float(m[2]), int(m[3])))
    m = re.match(r'ptim_stage_latency_seconds_count\{stage="(\w+)"\} (\d+)$', line)
    if m: cnt[m[1]] = int(m[2])
assert set(b) == {"source", "analyze", "render", "sink", "latency"}, f"stages {sorted(b)}"
for st, rows in b.items():
    les = [le for le, _ in rows]; cs = [c for _, c in rows]
    assert les == sorted(les) and les[-1] == float("inf") and len(les) >= 10, f"{st}: le {les}"
    assert all(x <= y for x, y in zip(cs, cs[1:])), f"{st}: buckets fall {cs}"
    assert cs[-1] == cnt[st], f"{st}: +Inf {cs[-1]} != _count {cnt[st]}"
r = dict(b["render"])
assert cnt["render"] > 0 and r[2.5] >= 0.9 * cnt["render"], f"render: {b['render']}"
print("ok", cnt["render"])
EOF
grep -q '^ptim_pool_peak_bytes [1-9][0-9]*$' "$T/metrics" || fail "/metrics: no pool peak in bytes"
# the byte pool, live: in use <= peak <= budget, reuse counted
[ "$(stat_of '.memory.pool | .budget_bytes > 0 and .peak_bytes > 0 and .in_use_bytes <= .peak_bytes
  and .peak_bytes <= .budget_bytes and .requests > 0 and .reused <= .requests and .failures == 0')" = true ] ||
  fail "/api/stats: pool statistics not sane: $(stat_of -c .memory.pool)"
for v in output source side face; do
  c=$(status GET "$B/preview.jpg?view=$v")
  [ "$c" = 200 ] && [ "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$T/body")" = mjpeg ] || fail "preview.jpg?view=$v is not a JPEG ($c)"
  w=$(ffprobe -v error -show_entries stream=width -of csv=p=0 "$T/body")
  case $v in side) [ "$w" = 1280 ] || fail "side view is $w wide, wanted 1280";; face) [ "$w" = 320 ] || fail "face view is $w wide";; *) [ "$w" = 640 ] || fail "$v view is $w wide";; esac
done
curl -s -N --max-time 3 "$B/preview.mjpeg?view=side" -o "$T/stream.bin" || true
parts=$(grep -ac -- '--ptimframe' "$T/stream.bin" || true)
[ "${parts:-0}" -ge 3 ] || fail "preview.mjpeg: $parts parts in 3 s"
pass "/api/stats (fps, latency, history), /metrics valid for promtool, preview.jpg in 4 views, preview.mjpeg streams ($parts parts in 3 s)"

# 6. Identity upload: names chosen by ptim, checked by decoding.
section
python3 - "$S/astronaut.png" "$T" <<'EOF'
import base64, json, sys
png = open(sys.argv[1], 'rb').read()
json.dump({"filename": "../../evil.png", "data": base64.b64encode(png).decode()}, open(sys.argv[2] + '/id.json', 'w'))
json.dump({"filename": "x.png", "data": base64.b64encode(b"hello, not a picture").decode()}, open(sys.argv[2] + '/notpic.json', 'w'))
json.dump({"filename": "x.png", "data": base64.b64encode(png[:8] + b"\0" * 200).decode()}, open(sys.argv[2] + '/broken.json', 'w'))
EOF
c=$(status POST "$B/api/identity" "${J[@]}" --data-binary @"$T/id.json")
[ "$c" = 200 ] || fail "identity upload answered $c: $(cat "$T/body")"
up=$(json .path)
case "$up" in "$UD/uploads/identity-"*.png) ;; *) fail "upload landed at $up";; esac
[ -f "$up" ] && cmp -s "$up" "$S/astronaut.png" || fail "the uploaded file is not the picture"
[ "$(stat -c %a "$up")" = 600 ] || fail "upload mode $(stat -c %a "$up")"
[ -e "$T/evil.png" ] || [ -e "$UD/evil.png" ] && fail "the client's file name was used"
status GET "$B/api/config" >/dev/null; [ "$(json '."swap.identity"')" = "$up" ] || fail "swap.identity not set to the upload"
c=$(status POST "$B/api/identity" "${J[@]}" --data-binary @"$T/notpic.json"); [ "$c" = 400 ] && json .error | grep -q 'PNG or JPEG' || fail "a non-picture answered $c"
c=$(status POST "$B/api/identity" "${J[@]}" --data-binary @"$T/broken.json"); [ "$c" = 400 ] && json .error | grep -q 'cannot be read' || fail "a broken PNG answered $c: $(cat "$T/body")"
c=$(status POST "$B/api/identity" "${J[@]}" -d '{"data":"***"}'); [ "$c" = 400 ] || fail "bad base64 answered $c"
[ "$(ls "$UD/uploads" | wc -l)" = 1 ] || fail "rejected uploads left files: $(ls "$UD/uploads")"
pass "POST /api/identity: stored as $(basename "$up") (0600), bad pictures rejected with the reason and removed"

# 6b. The identity takes effect in the running masker, without a restart; a
# photo without a face is refused by the masker, which keeps the previous
# identity and goes on masking every frame.
section
ffmpeg -v error -y -i "$S/astronaut.png" -vf hflip "$T/mirror.png"
ffmpeg -v error -y -f lavfi -i color=c=gray:s=256x256 -frames:v 1 "$T/gray.png"
python3 - "$T" "$(cd "$(dirname "$0")/fixtures/onnx" && pwd)" <<'EOF'
import base64, json, sys
def up(src, dst, cut=None):
    d = open(src, 'rb').read()
    json.dump({"filename": "x", "data": base64.b64encode(d[:cut] if cut else d).decode()}, open(sys.argv[1] + '/' + dst, 'w'))
up(sys.argv[1] + '/mirror.png', 'mirror.json'); up(sys.argv[1] + '/gray.png', 'gray.json')
up(sys.argv[2] + '/dfm_224.onnx', 'dfm.json'); up(sys.argv[2] + '/arcface_112.onnx', 'arc.json')
up(sys.argv[2] + '/dfm_224.onnx', 'truncated.json', 5000)
EOF
c=$(status PATCH "$B/api/config" "${J[@]}" -d '{"mask.mode":"swap"}'); [ "$c" = 200 ] || fail "mask.mode=swap answered $c: $(cat "$T/body")"
sleep 1.2 # a sample after the change
a0=$(stat_of .assets.reloads)
c=$(status POST "$B/api/identity" "${J[@]}" --data-binary @"$T/mirror.json")
[ "$c" = 200 ] && [ "$(json .applied)" = true ] || fail "mirrored identity: $c $(cat "$T/body")"
mirror=$(json .path)
for i in $(seq 30); do [ "$(stat_of ".assets.reloads > $a0")" = true ] && break; sleep 0.2; done
[ "$(stat_of ".assets.reloads > $a0")" = true ] || fail "the masker did not report the new identity: $(stat_of -c .assets)"
# Safe frames are masked or, when the analysis lags (a sanitizer build), covered whole.
m0=$(stat_of '.frames.masked + .frames.covered'); r0=$(stat_of .assets.refused)
c=$(status POST "$B/api/identity" "${J[@]}" --data-binary @"$T/gray.json")
[ "$c" = 400 ] && json .error | grep -q 'keeps the previous one: identity photo .*no face found' || fail "a faceless photo answered $c: $(cat "$T/body")"
status GET "$B/api/config" >/dev/null; [ "$(json '."swap.identity"')" = "$mirror" ] || fail "swap.identity was not put back: $(json '."swap.identity"')"
for i in $(seq 50); do [ "$(stat_of ".assets.refused > $r0 and .frames.masked + .frames.covered > $m0 + 10")" = true ] && break; sleep 0.2; done
[ "$(stat_of ".assets.refused > $r0 and .frames.masked + .frames.covered > $m0 + 10 and .frames.passthrough == 0")" = true ] ||
  fail "after a refused identity: $(stat_of -c '{assets, frames}')"
pass "an uploaded identity is in use without a restart (assets.reloads > $a0); a faceless photo is refused (400), the previous identity stays, frames stay masked or covered"

# 6c. Swap model upload: checked with the ONNX reader before swap.model is set.
section
c=$(status POST "$B/api/swap-model" "${J[@]}" --data-binary @"$T/dfm.json")
[ "$c" = 200 ] && [ "$(json '.kind + " " + (.resolution|tostring) + " " + (.applied|tostring)')" = "dfm 224 true" ] ||
  fail "fixture .dfm answered $c: $(cat "$T/body")"
model=$(json .path)
case "$model" in "$UD/uploads/swap-model-"*.dfm) ;; *) fail "the model landed at $model";; esac
cmp -s "$model" "$(dirname "$0")/fixtures/onnx/dfm_224.onnx" && [ "$(stat -c %a "$model")" = 600 ] || fail "the stored model is not the upload (0600)"
status GET "$B/api/config" >/dev/null; [ "$(json '."swap.model"')" = "$model" ] || fail "swap.model not set to the upload"
c=$(status POST "$B/api/swap-model" "${J[@]}" --data-binary @"$T/arc.json")
[ "$c" = 400 ] && json .error | grep -q 'is not a DeepFaceLive .dfm .* or an inswapper' || fail "an ArcFace encoder as swap model answered $c: $(cat "$T/body")"
c=$(status POST "$B/api/swap-model" "${J[@]}" --data-binary @"$T/truncated.json")
[ "$c" = 400 ] && json .error | grep -q 'cannot be loaded' || fail "a truncated .dfm answered $c: $(cat "$T/body")"
c=$(status POST "$B/api/swap-model" "${J[@]}" --data-binary @"$T/big.json"); [ "$c" = 413 ] || fail "a 3 MiB model body answered $c"
c=$(status POST "$B/api/swap-model" "${J[@]}" -d '{"data":"***"}'); [ "$c" = 400 ] || fail "bad base64 model answered $c"
status GET "$B/api/config" >/dev/null; [ "$(json '."swap.model"')" = "$model" ] || fail "a refused model changed swap.model"
c=$(status POST "$B/api/swap-encoder" "${J[@]}" --data-binary @"$T/arc.json")
[ "$c" = 200 ] && [ "$(json '.key + " " + .kind')" = "swap.encoder arcface" ] || fail "fixture ArcFace encoder answered $c: $(cat "$T/body")"
enc=$(json .path); case "$enc" in "$UD/uploads/swap-encoder-"*.onnx) ;; *) fail "the encoder landed at $enc";; esac
status GET "$B/api/config" >/dev/null; [ "$(json '."swap.encoder"')" = "$enc" ] || fail "swap.encoder not set to the upload"
c=$(status POST "$B/api/swap-encoder" "${J[@]}" --data-binary @"$T/dfm.json")
[ "$c" = 400 ] && json .error | grep -q 'is not an ArcFace encoder' || fail "a .dfm as encoder answered $c: $(cat "$T/body")"
status GET "$B/api/config" >/dev/null; [ "$(json '."swap.encoder"')" = "$enc" ] || fail "a refused encoder changed swap.encoder"
[ "$(ls "$UD/uploads" | wc -l)" = 4 ] || fail "uploads: $(ls "$UD/uploads" | tr '\n' ' ') (wanted 2 identities, 1 model, 1 encoder; refused ones removed)"
c=$(status POST "$B/api/mask-image" "${J[@]}" --data-binary @"$T/mirror.json")
[ "$c" = 200 ] && [ "$(json '.key + " " + (.applied|tostring)')" = "mask.image true" ] || fail "mask image upload answered $c: $(cat "$T/body")"
mi=$(json .path); case "$mi" in "$UD/uploads/mask-image-"*.png) ;; *) fail "the mask image landed at $mi";; esac
status GET "$B/api/config" >/dev/null; [ "$(json '."mask.image"')" = "$mi" ] || fail "mask.image not set to the upload"
c=$(status POST "$B/api/mask-image" "${J[@]}" --data-binary @"$T/notpic.json")
[ "$c" = 400 ] && json .error | grep -q 'mask.image must be a PNG or JPEG' || fail "a non-picture mask image answered $c: $(cat "$T/body")"
c=$(status PATCH "$B/api/config" "${J[@]}" -d '{"mask.mode":"pixelate","swap.model":""}'); [ "$c" = 200 ] || fail "back to pixelate answered $c"
pass "POST /api/swap-model: the fixture .dfm stored as $(basename "$model") (0600) and in use; a wrong network, a truncated file, 413 and bad base64 refused with the reason and removed; POST /api/swap-encoder takes the ArcFace fixture and refuses a .dfm; POST /api/mask-image sets mask.image"

# 7. Recording start/stop: the output, full size, H.264 in MP4, written by
# the sink thread; the file is NAME.partial until stopped, then whole.
section
c=$(status POST "$B/api/recording" "${J[@]}" -d '{"recording":true}'); [ "$c" = 200 ] || fail "recording start answered $c: $(cat "$T/body")"
rec=$(json .file)
[ "$(json .recording)" = true ] && [[ "$rec" == "$UD"/recordings/recording-*.mp4 ]] || fail "recording start: $(cat "$T/body")"
sleep 2
[ -s "$rec.partial" ] && [ ! -e "$rec" ] || fail "while recording, $rec.partial is not there alone: $(ls "$UD/recordings")"
[ "$(stat_of '.recording.on and .recording.writing and .recording.frames > 5')" = true ] ||
  fail "/api/stats does not show the recording: $(stat_of -c .recording)"
c=$(status POST "$B/api/recording" "${J[@]}" -d '{"recording":false}'); [ "$c" = 200 ] || fail "recording stop answered $c"
[ "$(json .recording)" = false ] && [ "$(json .file)" = "$rec" ] || fail "recording stop: $(cat "$T/body")"
[ -s "$rec" ] && [ ! -e "$rec.partial" ] || fail "after the stop, $rec is not whole under its name: $(ls "$UD/recordings")"
probe=$(ffprobe -v error -count_frames -show_entries stream=codec_name,width,height,nb_read_frames -of csv=p=0 "$rec" 2>/dev/null)
IFS=, read -r rcodec rw rh nrec <<<"$probe"
[ "$rcodec" = h264 ] && [ "$rw" = 512 ] && [ "$rh" = 512 ] || fail "the recording is '$probe', not 512x512 H.264"
[ "${nrec:-0}" -ge 15 ] || fail "the recording $rec holds ${nrec:-0} frames in 2 s"
"$PTIM_BIN" verify -q "$rec" >/dev/null 2>&1 || fail "ptim verify finds a face in the recording (it must be the masked output)"
c=$(status POST "$B/api/recording" "${J[@]}" -d '{"recording":"yes"}'); [ "$c" = 400 ] || fail "bad recording body answered $c"
pass "recording: $nrec frames of 512x512 H.264 in $(basename "$rec"), masked (verify clean), .partial until stopped"

# 8. 50 concurrent clients, all answered.
section
CPIDS=()
for i in $(seq 50); do
  case $((i % 3)) in
    0) curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 "$B/api/stats" ;;
    1) curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 "$B/preview.jpg" ;;
    2) curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 "$B/metrics" ;;
  esac > "$T/c$i" &
  CPIDS+=($!)
done
wait "${CPIDS[@]}" || true
ok=$(cat "$T"/c* | grep -c '^200$' || true)
[ "$ok" = 50 ] || fail "50 concurrent clients: $ok answered 200 ($(cat "$T"/c* | sort | uniq -c | tr '\n' ' '))"
pass "50 concurrent clients answered"

# 9. A client that never reads a preview stream; then a connection flood.
section
f0=$(stat_of .frames.out)
python3 - "$P" > "$T/slow.out" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /preview.mjpeg?view=side HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
time.sleep(6)   # never reads
EOF
SLOW=$!
sleep 4
f1=$(stat_of .frames.out)
[ "$(curl -s --max-time 5 "$B/healthz")" = ok ] || fail "healthz failed while a client did not read"
[ "$((f1 - f0))" -ge 10 ] || fail "the pipeline slowed with a client that does not read: $((f1 - f0)) frames in 4 s"
wait $SLOW || true
python3 - "$P" > "$T/flood.out" 2>&1 <<'EOF'
import socket, sys, time
socks = []
for i in range(100):          # far more than server.max_clients (24)
    s = socket.socket(); s.settimeout(1)
    try:
        s.connect(("127.0.0.1", int(sys.argv[1]))); socks.append(s)
    except OSError:
        pass
time.sleep(1)
closed = 0
for s in socks:               # over the limit, the server closes at once
    s.settimeout(0.5)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        if s.recv(64) == b"": closed += 1
    except OSError:
        closed += 1
print(len(socks), closed)
for s in socks: s.close()
EOF
read opened closed < "$T/flood.out"
[ "${closed:-0}" -ge $((opened - 24)) ] && [ "${closed:-0}" -gt 0 ] || fail "flood: $opened connections, $closed refused (limit 24): $(cat "$T/flood.out")"
back=0
for i in $(seq 50); do [ "$(curl -s --max-time 5 "$B/healthz")" = ok ] && { back=1; break; }; sleep 0.1; done
[ $back = 1 ] || fail "the server did not recover from the flood"
f2=$(stat_of .frames.out)
[ "$f2" -gt "$f1" ] || fail "the pipeline stopped during the flood"
pass "a client that never reads costs the pipeline nothing ($((f1 - f0)) frames in 4 s); a flood of $opened connections: $closed refused, served again after"

kill -INT $RUN; rc=0; wait $RUN || rc=$?
[ $rc = 0 ] || fail "ptim run exited $rc after Ctrl-C: $(tail -3 "$T/run.err")"

# 10. A non-loopback bind needs the token (bound to 0.0.0.0, reached through 127.0.0.1 only).
section
P2=$(port); B2=http://127.0.0.1:$P2
"$PTIM_BIN" run -i "$CLIP" -o null --http "0.0.0.0:$P2" --set source.loop=true --set source.realtime=true $FAST_ARGS 2>"$T/run2.err" &
RUN2=$!; PIDS+=($RUN2)
for i in $(seq 600); do grep -q 'token' "$T/run2.err" && break; sleep 0.1; done
[ "$(grep -c token "$T/run2.err")" = 1 ] || fail "the token was not printed exactly once"
TOKEN=$(sed -n 's/.*control panel token.*: \([0-9a-f]*\)$/\1/p' "$T/run2.err")
[ ${#TOKEN} = 48 ] || fail "no generated token printed: $(cat "$T/run2.err")"
wait_up "$B2/healthz"
c=$(status GET "$B2/api/config"); [ "$c" = 401 ] || fail "no token answered $c"
c=$(status GET "$B2/healthz"); [ "$c" = 401 ] || fail "no token on /healthz answered $c"
c=$(status GET "$B2/api/config" -H "Authorization: Bearer wrong$TOKEN"); [ "$c" = 401 ] || fail "a wrong token answered $c"
c=$(status GET "$B2/api/config" -H "Authorization: Bearer ${TOKEN:0:47}"); [ "$c" = 401 ] || fail "a token prefix answered $c"
c=$(status GET "$B2/api/config" -H "Authorization: Bearer $TOKEN"); [ "$c" = 200 ] || fail "the right token answered $c"
[ "$(json '."server.token"')" = "(set)" ] || fail "/api/config shows the token"
c=$(status GET "$B2/api/stats?token=$TOKEN"); [ "$c" = 200 ] || fail "?token= answered $c"
c=$(status PATCH "$B2/api/config" "${J[@]}" -d '{"mask.mode":"solid"}'); [ "$c" = 401 ] || fail "PATCH without token answered $c"
c=$(status PATCH "$B2/api/config" "${J[@]}" -H "Authorization: Bearer $TOKEN" -H 'Origin: http://evil.example' -d '{"mask.mode":"solid"}')
[ "$c" = 403 ] || fail "cross-origin PATCH with token answered $c"
c=$(status PATCH "$B2/api/config" "${J[@]}" -H "Authorization: Bearer $TOKEN" -d '{"mask.mode":"solid"}'); [ "$c" = 200 ] || fail "PATCH with token answered $c"
kill -INT $RUN2; wait $RUN2 || fail "ptim run (0.0.0.0) did not exit 0: $(tail -30 "$T/run2.err")"
pass "0.0.0.0: token generated and printed once; missing/wrong token 401 on every endpoint; Bearer and ?token= accepted"

# 11. Bad --http values, a port in use, ptim mask --http read-only.
section
for bad in 99999 example.com:80 '[::1' 0 abc; do
  rc=0; "$PTIM_BIN" run -i "$CLIP" -o null --http "$bad" 2>"$T/bad.err" || rc=$?
  [ $rc = 2 ] || fail "--http $bad exited $rc, wanted 2"
  [ "$(wc -l < "$T/bad.err")" = 1 ] && grep -q 'server.listen' "$T/bad.err" || fail "--http $bad: $(cat "$T/bad.err")"
done
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(20)' > "$T/busy" &
BUSY=$!; PIDS+=($BUSY)
for i in $(seq 50); do [ -s "$T/busy" ] && break; sleep 0.1; done
rc=0; "$PTIM_BIN" run -i "$CLIP" -o null --http "127.0.0.1:$(cat "$T/busy")" 2>"$T/busy.err" || rc=$?
[ $rc = 2 ] && grep -q 'cannot listen' "$T/busy.err" || fail "port in use: exit $rc, $(cat "$T/busy.err")"
kill $BUSY 2>/dev/null || true
LONG=$CLIPS/astronaut_6s.mp4
[ -s "$LONG" ] || ffmpeg -v error -y -stream_loop 2 -i "$CLIP" -c copy "$LONG"
P3=$(port); B3=http://127.0.0.1:$P3
"$PTIM_BIN" mask "$LONG" -o "$T/masked.mp4" --http "$P3" --set debug.faults=source_stall@1+:30 $FAST_ARGS 2>"$T/mask.err" &
MASK=$!; PIDS+=($MASK)
wait_up "$B3/healthz" || fail "ptim mask --http did not come up"
grep -q 'read-only' "$T/mask.err" || fail "ptim mask did not say read-only"
c=$(status PATCH "$B3/api/config" "${J[@]}" -d '{"mask.mode":"solid"}'); [ "$c" = 403 ] || fail "PATCH on ptim mask answered $c"
c=$(status GET "$B3/api/options"); [ "$(json .read_only)" = true ] || fail "options do not say read-only"
B_SAVE=$B; B=$B3
for i in $(seq 300); do [ "$(stat_of '.frames.out > 0' 2>/dev/null)" = true ] && break; sleep 0.1; done
exp=$(stat_of .frames.expected 2>/dev/null || echo none)
[ "$exp" = 90 ] || fail "ptim mask progress: expected frames $exp, wanted 90"
B=$B_SAVE
wait $MASK || fail "ptim mask --http exited non-zero: $(cat "$T/mask.err")"
[ "$(frame_count "$T/masked.mp4")" = 90 ] || fail "ptim mask --http output has $(frame_count "$T/masked.mp4") frames"
pass "bad --http values exit 2 with one sentence; a taken port exits 2; ptim mask --http is read-only with progress"

finish
