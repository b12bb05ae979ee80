#!/usr/bin/env bash
# The control panel in a real browser: Debian's chromium, driven by
# puppeteer-core (tests/browser, pinned in package-lock.json, installed with
# `npm ci` into the build tree; no browser download) against `ptim run
# --http` on a looped clip. See tests/browser/panel_test.mjs for the checks.
source "$(dirname "$0")/pipeline_helpers.sh"
here=$(cd "$(dirname "$0")" && pwd)
for tool in node npm /usr/bin/chromium; do
  command -v $tool >/dev/null || { echo "FAIL: $tool missing (scripts/bootstrap.sh installs it)" >&2; exit 1; }
done
# npm ci once per lock file, into the build tree (never downloads a browser).
NODE_DIR=$PTIM_TEST_TMP/browser-node
if ! cmp -s "$here/browser/package-lock.json" "$NODE_DIR/package-lock.json" || [ ! -d "$NODE_DIR/node_modules/puppeteer-core" ]; then
  rm -rf "$NODE_DIR"; mkdir -p "$NODE_DIR"
  cp "$here/browser/package.json" "$here/browser/package-lock.json" "$NODE_DIR/"
  (cd "$NODE_DIR" && PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROME_DOWNLOAD=1 PUPPETEER_SKIP_CHROME_HEADLESS_SHELL_DOWNLOAD=1 \
     npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) || { echo "FAIL: npm ci in $NODE_DIR" >&2; exit 1; }
fi
cp "$here/browser/panel_test.mjs" "$NODE_DIR/"

CLIP=$CLIPS/astronaut_2s.mp4
[ -s "$CLIP" ] || { ffmpeg -v error -y -loop 1 -i "$S/astronaut.png" -t 2 -r 15 -vf scale=512:512 \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p "$CLIP.tmp.mp4" && mv -f "$CLIP.tmp.mp4" "$CLIP"; }
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$PTIM_BIN" run -i "$CLIP" -o null --http "127.0.0.1:$P" --userdata-dir "$T/ud" --set source.loop=true \
  --set source.realtime=true $FAST_ARGS 2>"$T/run.err" &
RUN=$!
trap 'kill -KILL $RUN 2>/dev/null || true; rm -rf "$T"' EXIT
for i in $(seq 600); do curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$P/healthz" && break; sleep 0.1; done
SHOT=${PTIM_PANEL_SCREENSHOT:-$PTIM_TEST_TMP/panel.png}
rc=0
echo "this is not a picture" > "$T/not-a-picture.png"
(cd "$NODE_DIR" && HOME=$T timeout 300 node panel_test.mjs "http://127.0.0.1:$P/" "$SHOT" "$T/not-a-picture.png" "$here/fixtures/onnx/dfm_224.onnx") || rc=$?
kill -INT $RUN; wait $RUN || { echo "FAIL: ptim run did not stop cleanly: $(tail -3 "$T/run.err")" >&2; rc=1; }
[ $rc = 0 ] && [ -s "$SHOT" ] && echo "all checks passed; screenshot $SHOT" || { echo "browser test failed ($rc)" >&2; exit 1; }
