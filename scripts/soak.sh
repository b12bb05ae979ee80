#!/usr/bin/env bash
# Soak: `ptim run` in live mode on a looping file source (as fast as it can
# read), for a fixed number of frames, with settings edited through hot
# reload every EDIT_EVERY frames. Checks, and prints as figures:
#   - no frame ever unmasked: the audit log has only masked / covered /
#     dropped frames, and `ptim verify` finds no recognizable face in the
#     output;
#   - every edit applied (stats "reconfigures");
#   - memory flat: RSS sampled twice a second (after warm-up it may not grow
#     by more than RSS_GROWTH_MB); the core/mem pool (stats): no failed
#     request, >= 90 % of requests served by reuse, frames in flight bounded;
#   - latency: the run's p50/p95/p99 (stats), and the output rate per window
#     of EDIT_EVERY frames (frames written per second of wall time).
# REALTIME=true (default) plays the file at its frame rate, as a camera would;
# REALTIME=false reads it as fast as possible (live mode then drops most
# frames, and the result a frame is masked with may be many source frames old).
# MAX_SECONDS (0: none) stops the run early on a slow machine; it then needs
# at least 2 windows of frames. WORKERS sets performance.max_processing_workers.
# usage: scripts/soak.sh [BUILD_DIR]   (env: FRAMES, EDIT_EVERY, REALTIME, INPUT,
#        OUT_DIR, RSS_GROWTH_MB, MAX_SECONDS, WORKERS, PTIM_BIN, PTIM_SAMPLES_DIR)
set -u
BUILD=${1:-build}
PTIM_BIN=${PTIM_BIN:-$BUILD/ptim}
SAMPLES=${PTIM_SAMPLES_DIR:-samples}
FRAMES=${FRAMES:-20000}
EDIT_EVERY=${EDIT_EVERY:-500}
RSS_GROWTH_MB=${RSS_GROWTH_MB:-8}
REALTIME=${REALTIME:-true}
MAX_SECONDS=${MAX_SECONDS:-0}
WORKERS=${WORKERS:-4}
OUT_DIR=${OUT_DIR:-$(mktemp -d /tmp/ptim-soak.XXXXXX)}
mkdir -p "$OUT_DIR"
for tool in ffmpeg jq; do command -v $tool >/dev/null || { echo "soak: $tool is needed"; exit 1; }; done
[ -x "$PTIM_BIN" ] || { echo "soak: no ptim binary at $PTIM_BIN"; exit 1; }

INPUT=${INPUT:-}
if [ -z "$INPUT" ]; then
    # 3 s of the astronaut drifting around: a face on every frame. The crop
    # keeps her suit's lower half out: verify without an original judges face
    # shapes, and the unmasked suit there (not a face: ptim's detector finds
    # none in the source) was once scored 0.51 with FaceMesh presence 0.84 in
    # an ASan run (issue 11: verify must judge identity).
    INPUT="$OUT_DIR/input.mkv"
    ffmpeg -nostdin -v error -y -loop 1 -i "$SAMPLES/astronaut.png" \
        -vf "crop=352:352:'80+24*sin(n/9)':'24+16*cos(n/7)',noise=alls=3:allf=t,format=yuv420p" \
        -frames:v 90 -r 30 -c:v libx264 -preset veryfast -crf 18 "$INPUT" || exit 1
fi

CONF="$OUT_DIR/soak.ini"
AUDIT="$OUT_DIR/audit.jsonl"
STATS="$OUT_DIR/stats.json"
OUT="$OUT_DIR/out.mkv"
RSS="$OUT_DIR/rss.tsv"
# The settings cycled through hot reload (all live-changeable).
MODES=(blur pixelate solid blur)
THRESH=(0.5 0.6 0.45 0.55)
INTERVAL=(10 5 20 3)
SCALE=(1.3 1.5 1.4 1.6)
write_conf() { # write_conf STEP: the whole file, replaced atomically
    local i=$(($1 % 4))
    cat >"$CONF.tmp" <<EOF
[system]
enable_hot_reload = true
log_level = info
[performance]
max_processing_workers = $WORKERS
[source]
loop = true
realtime = $REALTIME
[detector]
threshold = ${THRESH[$i]}
[track]
detect_interval = ${INTERVAL[$i]}
[mask]
mode = ${MODES[$i]}
scale = ${SCALE[$i]}
EOF
    mv "$CONF.tmp" "$CONF"
}
write_conf 0

"$PTIM_BIN" run --config "$CONF" --userdata-dir "$OUT_DIR/user" -i "$INPUT" -o "$OUT" \
    --audit "$AUDIT" --stats-json "$STATS" -q >"$OUT_DIR/stdout" 2>"$OUT_DIR/stderr" &
PID=$!
start=$(date +%s.%N)
edits=0
next_edit=$EDIT_EVERY
fails=0
printf "t_s\tframes\trss_kb\n" >"$RSS"
while kill -0 $PID 2>/dev/null; do
    n=$( [ -f "$AUDIT" ] && wc -l <"$AUDIT" || echo 0)
    rss=$(awk '/^VmRSS:/ {print $2}' /proc/$PID/status 2>/dev/null)
    t=$(awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { printf "%.2f", n - s }')
    [ -n "$rss" ] && printf "%.2f\t%d\t%d\n" "$t" "$n" "$rss" >>"$RSS"
    if [ "$n" -ge "$FRAMES" ] || { [ "$MAX_SECONDS" -gt 0 ] && [ "${t%.*}" -ge "$MAX_SECONDS" ]; }; then
        kill -INT $PID
        break
    fi
    if [ "$n" -ge "$next_edit" ]; then
        edits=$((edits + 1))
        write_conf $edits
        next_edit=$((next_edit + EDIT_EVERY))
    fi
    sleep 0.5
done
wait $PID
rc=$?
elapsed=$(awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { printf "%.2f", n - s }')
fail() { echo "soak FAIL: $*"; fails=$((fails + 1)); }

[ $rc -eq 0 ] || fail "ptim run exited $rc: $(grep -v '^\[' "$OUT_DIR/stderr" | tail -2 | tr '\n' ' ')"
[ -s "$STATS" ] || { fail "no stats written"; exit 1; }
frames=$(wc -l <"$AUDIT")
if [ "$MAX_SECONDS" -gt 0 ] && [ "$frames" -lt "$FRAMES" ]; then
    echo "soak: stopped after $MAX_SECONDS s at $frames of $FRAMES frames (slow machine)"
    [ "$frames" -ge $((2 * EDIT_EVERY)) ] || fail "only $frames frames in $MAX_SECONDS s"
else
    [ "$frames" -ge "$FRAMES" ] || fail "only $frames frames before ptim run stopped"
fi

# No frame unmasked.
unsafe=$(jq -c 'select(.guard != "masked" and .guard != "covered" and .guard != "dropped")' "$AUDIT" | wc -l)
[ "$unsafe" -eq 0 ] || fail "$unsafe frames neither masked, covered nor dropped in the audit log"
"$PTIM_BIN" verify --report "$OUT_DIR/verify.json" "$OUT" >"$OUT_DIR/verify.txt" 2>&1
vrc=$?
leaked=$(jq '.frames_leaked' "$OUT_DIR/verify.json" 2>/dev/null || echo "?")
checked=$(jq '.frames_checked' "$OUT_DIR/verify.json" 2>/dev/null || echo "?")
[ $vrc -eq 0 ] || fail "ptim verify on the output: exit $vrc, $leaked frames with a recognizable face: $(grep LEAK "$OUT_DIR/verify.txt" | head -3 | tr '\n' ' ')"

# Every edit applied.
reconf=$(jq '.reconfigures' "$STATS")
[ "$reconf" -ge "$edits" ] || fail "$edits edits but $reconf reconfigures"

# Memory flat after warm-up (the first quarter of the frames).
read -r rss_warm rss_end rss_max < <(awk -v warm=$((frames / 4)) 'NR > 1 && $2 >= warm {
        if (!first) first = $3; last = $3; if ($3 > max) max = $3 } END { print first + 0, last + 0, max + 0 }' "$RSS")
growth_kb=$((rss_max - rss_warm))
[ "$rss_warm" -gt 0 ] || fail "no RSS samples after warm-up"
if ldd "$PTIM_BIN" 2>/dev/null | grep -q libasan; then
    # ASan keeps freed memory in quarantine (up to 256 MB): RSS climbs by
    # design. LeakSanitizer judges leaks at exit instead (ptim run's status).
    echo "soak: ASan build: RSS growth not judged (quarantine); leaks are judged by LeakSanitizer at exit"
else
    [ $growth_kb -le $((RSS_GROWTH_MB * 1024)) ] || fail "RSS grew by $((growth_kb / 1024)) MB after warm-up ($((rss_warm / 1024)) -> $((rss_max / 1024)) MB)"
fi
# The pool: buffers reused, not allocated per frame; a bounded number in flight.
read -r pool_peak pool_requests pool_reuse pool_failures in_flight < <(jq -r '.memory |
    "\(.pool_peak_bytes) \(.pool_requests) \(.pool_reuse_rate) \(.pool_failures) \(.frames_in_flight_peak)"' "$STATS")
[ "$pool_failures" = 0 ] || fail "$pool_failures pool requests failed"
awk -v r="$pool_reuse" -v n="$pool_requests" 'BEGIN { exit !(n < 100 || r >= 0.9) }' ||
    fail "pool reuse rate $pool_reuse over $pool_requests requests: buffers are not being reused"
[ "$in_flight" -le 64 ] || fail "$in_flight frames in flight at the peak"

# Output rate per window of EDIT_EVERY frames (written frames per wall second).
rates=$(awk -v w=$EDIT_EVERY 'NR > 1 { b = int($2 / w); if (!(b in t0)) { t0[b] = $1; n0[b] = $2 } t1[b] = $1; n1[b] = $2 }
    END { for (b = 0; b in t0; b++) if (t1[b] > t0[b]) printf "%.1f ", (n1[b] - n0[b]) / (t1[b] - t0[b]) }' "$RSS")

lat=$(jq -r '.stages_ms.latency | "p50 \(.p50 | floor) ms, p95 \(.p95 | floor) ms, p99 \(.p99 | floor) ms, max \(.max | floor) ms"' "$STATS")
echo "soak: $frames frames in $(printf %.0f "$elapsed") s ($(jq -c '.frames | {in, out, masked, covered, dropped: (.dropped.stale_live + .dropped.rate_cap + .dropped.guard + .dropped.no_memory)}' "$STATS"))"
echo "soak: hot reloads: $edits edits, $reconf reconfigures applied"
echo "soak: RSS after warm-up $((rss_warm / 1024)) MB, max $((rss_max / 1024)) MB, at the end $((rss_end / 1024)) MB (growth $((growth_kb / 1024)) MB)"
echo "soak: pool peak $((pool_peak / 1024)) KiB, $pool_requests requests, reuse rate $pool_reuse, $pool_failures failures, at most $in_flight frames in flight"
echo "soak: latency $lat; frames seen per second by window of $EDIT_EVERY: $rates"
echo "soak: verify: $leaked of $checked output frames with a recognizable face"
echo "soak: files in $OUT_DIR"
[ $fails -eq 0 ] && echo "soak: passed" || echo "soak: $fails checks failed"
exit $((fails > 0))
