#!/usr/bin/env bash
# The control panel's aligned face view (/preview.jpg?view=face): the first
# face, turned so that its eyes are level, as DeepFaceLive shows its aligned
# face. A looped clip of astronaut.png turned by +30 and by -30 degrees:
# ptim's own detector, run on the face view's JPEG, finds the face with an
# eye line within 8 degrees of level, where the source frame's is ~30 off.
source "$(dirname "$0")/pipeline_helpers.sh"

for tool in curl python3 jq; do
  command -v $tool >/dev/null || { echo "FAIL: $tool missing (scripts/bootstrap.sh installs it)" >&2; exit 1; }
done
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RUN=
trap '[ -n "$RUN" ] && kill -KILL $RUN 2>/dev/null; rm -rf "$T"' EXIT
wait_up() { local i; for i in $(seq 600); do curl -s -o /dev/null --max-time 2 "$1" && return 0; sleep 0.1; done; return 1; }
# eye_angle PICTURE: degrees of the first face's eye line from level (empty when no face)
eye_angle() {
  "$PTIM_BIN" detect --json "$1" 2>/dev/null | head -1 | jq -r '.faces[0].keypoints // empty
    | (.[1][1] - .[0][1]) as $dy | (.[1][0] - .[0][0]) as $dx | atan2($dy; $dx) * 180 / 3.14159265 | floor'
}

for deg in 30 -30; do
  clip=$T/turned_$deg.mp4
  ffmpeg -v error -y -loop 1 -i "$S/astronaut.png" -t 2 -r 15 \
    -vf "scale=512:512,rotate=$deg*PI/180:fillcolor=gray,format=yuv420p" -c:v libx264 -preset veryfast "$clip" ||
    { fail "cannot make the $deg degree clip"; continue; }
  ffmpeg -v error -y -i "$clip" -frames:v 1 "$T/src.png"
  src=$(eye_angle "$T/src.png")
  P=$(port); B=http://127.0.0.1:$P
  "$PTIM_BIN" run -i "$clip" -o null --http "127.0.0.1:$P" --userdata-dir "$T/ud" --set source.loop=true \
    --set source.realtime=true 2>"$T/run.err" &
  RUN=$!
  wait_up "$B/healthz" || { fail "ptim run --http did not come up: $(tail -2 "$T/run.err")"; kill -KILL $RUN; RUN=; continue; }
  got=
  for _ in $(seq 40); do # until a frame with the face is in the preview
    curl -s --max-time 20 -o "$T/face.jpg" "$B/preview.jpg?view=face" && got=$(eye_angle "$T/face.jpg")
    [ -n "$got" ] && break
    sleep 0.5
  done
  kill -INT $RUN; wait $RUN 2>/dev/null; RUN=
  cp "$T/face.jpg" "$PTIM_TEST_TMP/face_view_$deg.jpg" 2>/dev/null
  echo "turned $deg degrees: source eye line ${src:-?} degrees, face view ${got:-no face} degrees" \
    "(picture: $PTIM_TEST_TMP/face_view_$deg.jpg)"
  [ -n "$src" ] && [ "${src#-}" -ge 20 ] || fail "$deg: the source's eye line is ${src:-not found}, the clip is not turned"
  [ -n "$got" ] || { fail "$deg: no face found in the face view"; continue; }
  [ "$got" -ge -8 ] && [ "$got" -le 8 ] || fail "$deg: the face view's eye line is $got degrees off level"
done
pass "the face view turns the face upright (eyes level within 8 degrees) at +30 and -30 degrees"
finish
