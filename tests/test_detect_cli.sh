#!/usr/bin/env bash
# `ptim detect` end to end: JSON per frame exactly as documented, for a picture
# and a video; the human summary; clear errors and exit status 2 on bad input.
# JSON is checked with node (bootstrap installs it for the model fetch).
set -euo pipefail
: "${PTIM_BIN:?}" "${PTIM_SAMPLES_DIR:?}" "${PTIM_TEST_TMP:?}"
T="$PTIM_TEST_TMP/detect_cli"
rm -rf "$T" && mkdir -p "$T"
ONE="--set performance.max_processing_workers=1"
fail() { echo "FAIL: $*" >&2; exit 1; }

# Picture, JSON without landmarks.
"$PTIM_BIN" detect "$PTIM_SAMPLES_DIR/astronaut.png" --json $ONE > "$T/a.json"
[ "$(wc -l < "$T/a.json")" -eq 1 ] || fail "one JSON line expected for a picture"
node -e '
const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const keys = Object.keys(o).join(",");
if (keys !== "frame,pts_ms,width,height,faces") throw "keys " + keys;
if (o.frame !== 0 || o.pts_ms !== 0 || o.width !== 512 || o.height !== 512) throw "header";
if (o.faces.length !== 1) throw "faces " + o.faces.length;
const f = o.faces[0];
if (Object.keys(f).join(",") !== "id,score,box,keypoints") throw "face keys " + Object.keys(f);
if (!(f.id >= 1) || !(f.score > 0.8 && f.score <= 1)) throw "id/score";
if (f.box.length !== 4 || f.keypoints.length !== 6 || f.keypoints.some(k => k.length !== 2)) throw "shapes";
const [x, y, w, h] = f.box;
for (const [kx, ky] of f.keypoints.slice(0, 4))
  if (kx < x || kx > x + w || ky < y || ky > y + h) throw "keypoint outside the box";
if (Math.abs(f.keypoints[0][0] - 204) > 8 || Math.abs(f.keypoints[1][0] - 247) > 8) throw "eyes";
' "$T/a.json" || fail "astronaut JSON"

# With landmarks: 468 points of 3 coordinates, inside the frame.
"$PTIM_BIN" detect "$PTIM_SAMPLES_DIR/astronaut.png" --json --landmarks $ONE > "$T/l.json"
node -e '
const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const l = o.faces[0].landmarks;
if (!l || l.length !== 468 || l.some(p => p.length !== 3)) throw "landmarks shape";
if (l.some(p => p[0] < 0 || p[0] > o.width || p[1] < 0 || p[1] > o.height)) throw "landmark outside";
' "$T/l.json" || fail "landmarks JSON"

# Human summary.
"$PTIM_BIN" detect "$PTIM_SAMPLES_DIR/astronaut.png" $ONE > "$T/a.txt"
grep -q "astronaut.png: 512x512, 1 face$" "$T/a.txt" || fail "summary: $(cat "$T/a.txt")"

# A video: one line per frame, frames and times in order, one id throughout.
ffmpeg -nostdin -loglevel error -y -loop 1 -framerate 25 -i "$PTIM_SAMPLES_DIR/astronaut.png" \
  -vf "zoompan=z='1+0.01*on':x='226-iw/zoom/2':y='130-ih/zoom/2':d=1:s=320x320:fps=25,format=yuv420p" \
  -frames:v 20 -c:v mpeg4 -q:v 3 "$T/clip.mp4"
"$PTIM_BIN" detect "$T/clip.mp4" --json $ONE > "$T/v.json"
[ "$(wc -l < "$T/v.json")" -eq 20 ] || fail "20 JSON lines expected, got $(wc -l < "$T/v.json")"
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
lines.forEach((o, i) => {
  if (o.frame !== i) throw "frame " + o.frame + " at line " + i;
  if (i && !(o.pts_ms > lines[i - 1].pts_ms)) throw "pts not increasing at " + i;
  if (o.width !== 320 || o.height !== 320) throw "size";
  if (o.faces.length !== 1 || o.faces[0].id !== lines[0].faces[0].id) throw "face/id at frame " + i;
});
if (Math.abs(lines[1].pts_ms - 40) > 1) throw "pts_ms " + lines[1].pts_ms;
' "$T/v.json" || fail "video JSON"
"$PTIM_BIN" detect "$T/clip.mp4" $ONE | grep -q "20 frames, faces on 20, at most 1 at once, 1 track$" \
  || fail "video summary"

# Bad input: exit 2 with one sentence naming the problem.
expect2() {
  local what="$1" pattern="$2"; shift 2
  set +e; "$PTIM_BIN" detect "$@" > "$T/out" 2> "$T/err"; local rc=$?; set -e
  [ "$rc" -eq 2 ] || fail "$what: exit $rc, expected 2"
  grep -q -- "$pattern" "$T/err" || fail "$what: message '$(cat "$T/err")'"
}
expect2 "missing file" "/nonexistent/x.png" /nonexistent/x.png
expect2 "no input" "usage"
expect2 "unknown option" "unknown option '--bogus'" "$PTIM_SAMPLES_DIR/astronaut.png" --bogus
expect2 "unknown key" "detector.nope" "$PTIM_SAMPLES_DIR/astronaut.png" --set detector.nope=1
expect2 "bad tiles" "detector.tiles" "$PTIM_SAMPLES_DIR/astronaut.png" --set detector.tiles=banana
printf 'not a picture' > "$T/junk.png"
expect2 "junk file" "junk.png" "$T/junk.png"
"$PTIM_BIN" detect --help | grep -q "usage: ptim detect" || fail "--help"

# Several inputs (issue 16): each analysed from its own first frame, in the
# order given; JSON lines name their input; frames numbered from 0 in each.
"$PTIM_BIN" detect "$T/clip.mp4" "$PTIM_SAMPLES_DIR/astronaut.png" $ONE > "$T/multi.txt"
[ "$(sed -n 1p "$T/multi.txt")" = "$T/clip.mp4: 20 frames, faces on 20, at most 1 at once, 1 track" ] \
  || fail "several inputs, first summary: $(cat "$T/multi.txt")"
[ "$(sed -n 2p "$T/multi.txt")" = "$PTIM_SAMPLES_DIR/astronaut.png: 512x512, 1 face" ] \
  || fail "several inputs, second: $(cat "$T/multi.txt")"
"$PTIM_BIN" detect "$PTIM_SAMPLES_DIR/astronaut.png" "$T/clip.mp4" --json $ONE > "$T/multi.json"
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
if (lines.length !== 21) throw "21 lines expected, got " + lines.length;
if (lines[0].input !== process.argv[2] || lines[0].frame !== 0) throw "picture line " + JSON.stringify(lines[0]).slice(0, 80);
lines.slice(1).forEach((o, i) => { if (o.input !== process.argv[3] || o.frame !== i) throw "video line " + i; });
' "$T/multi.json" "$PTIM_SAMPLES_DIR/astronaut.png" "$T/clip.mp4" || fail "several inputs, JSON"
# One unreadable input among good ones: the rest analysed, exit 1 and a count.
set +e; "$PTIM_BIN" detect "$T/junk.png" "$PTIM_SAMPLES_DIR/astronaut.png" $ONE > "$T/out" 2> "$T/err"; rc=$?; set -e
[ "$rc" -eq 1 ] || fail "one bad input of two: exit $rc, expected 1"
grep -q "^$PTIM_SAMPLES_DIR/astronaut.png: 512x512, 1 face$" "$T/out" || fail "the good input was not analysed: $(cat "$T/out")"
[ "$(tail -1 "$T/err")" = "ptim detect: 1 done, 1 failed" ] || fail "count: $(cat "$T/err")"
expect2 "every input unreadable" "junk.png" "$T/junk.png" /nonexistent/y.png
echo "detect CLI: ok"
