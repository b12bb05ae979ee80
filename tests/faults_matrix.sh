#!/usr/bin/env bash
# The fault matrix, end to end: `ptim mask` on sample media (the astronaut as
# a short video: a face on every frame) under each injected fault and under
# all of them at once. Run by two tests:
#
#   safety (tests/test_faults_e2e.sh): for every row
#   - a documented exit status (0 done, 1 failed while processing, 2 bad input);
#   - exit 0: a playable output with as many frames as the stats say were
#     written, and no .partial left; otherwise no output under the final name;
#   - the audit log: every written frame "masked" or "covered", never
#     "unsafe_passthrough", one line per written frame;
#   - `ptim verify ORIGINAL OUTPUT`: zero frames with a recognizable face.
#
#   recovery (tests/test_faults_recovery.sh): for every row
#   - the exit status the recovery implies (a one-off fault that the policy
#     retries must end in 0 with every frame; a permanent one in 1 or 2);
#   - the fault counted in --stats-json (a jq predicate per row);
#   - the recovery taken, from <userdata>/logs/errors.log: the actions
#     ptim_error_handle answered for the row (core/error.c's policy table).
#
# Prints the matrix (fault x outcome) and the totals at the end.
# usage: faults_matrix.sh safety|recovery
# PTIM_E2E_ROWS=name,name runs some rows only (for debugging; CI runs all).
set -u
MODE=${1:?usage: faults_matrix.sh safety|recovery}
case $MODE in safety | recovery) ;; *) echo "unknown mode $MODE"; exit 2 ;; esac
: "${PTIM_BIN:?}" "${PTIM_SAMPLES_DIR:?}" "${PTIM_TEST_TMP:?}"
for tool in ffmpeg ffprobe jq; do command -v $tool >/dev/null || { echo "$tool is needed"; exit 1; }; done
T="$PTIM_TEST_TMP/faults_$MODE.$$"
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
N=8 # frames of the test clip (10 fps)
# The build must have fault injection (CMake PTIM_FAULT_INJECTION=ON).
if "$PTIM_BIN" mask --set debug.faults=decode@1 "$T/none.avi" -o null 2>&1 | grep -q "no fault injection"; then
    echo "FAIL: $PTIM_BIN has no fault injection compiled in (configure with -DPTIM_FAULT_INJECTION=ON)"
    exit 1
fi
ffmpeg -nostdin -v error -y -loop 1 -i "$PTIM_SAMPLES_DIR/astronaut.png" \
    -vf "noise=alls=4:allf=t,format=yuv420p" -frames:v $N -r 10 -c:v mpeg4 -q:v 2 "$T/in.avi" || exit 1

# name | debug.faults | exit statuses allowed | output (yes/no) | stats predicate | errors.log actions (regex over "stage:action ...", empty: none required)
ROWS=$(cat <<'EOF'
none            |                                  |0  |yes|.frames.out == 8 and .frames.masked == 8                                  |
source_open     |source_open@1                     |0  |yes|.errors.io >= 1 and .frames.out == 8                                     |retry
source_open_all |source_open@1+                    |2  |no |.errors.io >= 1                                                          |abort
source_stall    |source_stall@3:300                |0  |yes|.frames.out == 8                                                         |
source_gone     |source_gone@5                     |0  |yes|.errors.io >= 1 and .source.reopens >= 1                                 |retry|restart
source_gone_all |source_gone@5+                    |1  |no |.errors.io >= 1                                                          |retryx[2-9]|abort
packet_drop     |packet_drop@4-5                   |0  |yes|.source.dropped_packets == 2 and .frames.out == 6                        |
packet_corrupt  |packet_corrupt@4-5                |0  |yes|(.source.corrupt_frames + .source.corrupt_packets) == 2                  |
decode          |decode@4-5                        |0  |yes|.errors.decode == 2                                                      |skip
detect          |detect@1-3                        |0  |yes|.errors.inference >= 3 and .frames.covered >= 1                         |skip|retry|fallback
landmarks       |landmarks@1+                      |0  |yes|.errors.inference >= 1                                                   |skip|retry|fallback
analyze_timeout |analyze_timeout@3-5               |0  |yes|(.frames.covered_by_reason.stale_result + .frames.covered_by_reason.not_analyzed) >= 3|
alloc           |alloc@4-5                         |0  |yes|.errors.memory == 2                                                      |retry|degrade|skip
render          |render@4-5                        |0  |yes|.frames.covered_by_reason.render_failed == 2 and .frames.covered == 2    |skip
encode          |encode@5                          |0  |yes|.errors.encode >= 1 and .frames.out == 8                                 |retry
encode_all      |encode@5+                         |1  |no |.errors.encode >= 1                                                      |restart|abort
all_once        |source_open@1,source_stall@2:200,source_gone@6,packet_drop@3,packet_corrupt@5,decode@6,detect@2,landmarks@3,analyze_timeout@4,alloc@5,render@3,encode@4|0|yes|.errors.io >= 1 and .source.dropped_packets == 1 and .errors.decode >= 1 and .errors.memory >= 1 and .errors.encode >= 1 and .frames.covered_by_reason.render_failed >= 1|
all_but_open    |source_stall@2:200,source_gone@6,packet_drop@3,packet_corrupt@5,decode@6,detect@2,landmarks@3,analyze_timeout@4,alloc@5,render@3,encode@4|0|yes|.errors.io >= 1 and .source.dropped_packets == 1 and .errors.decode >= 1 and .errors.memory >= 1 and .errors.encode >= 1 and .frames.covered_by_reason.render_failed >= 1|
all_random      |all=0.08                          |0,1|any|true                                                                     |
EOF
)

# Under AddressSanitizer (a Debug build, ~10x slower) a representative subset
# runs: one fault per layer, a permanent failure, and all at once. The full
# matrix runs in the normal build.
if [ -z "${PTIM_E2E_ROWS:-}" ] && grep -q libasan <<<"$(ldd "$PTIM_BIN" 2>/dev/null)"; then
    PTIM_E2E_ROWS=none,packet_corrupt,decode,detect,alloc,render,encode_all,all_but_open,all_random
    echo "ASan build: rows $PTIM_E2E_ROWS"
fi

fails=0
total_in=0
total_leaked=0
matrix=""
fail() { echo "FAIL [$row] $*"; fails=$((fails + 1)); row_ok=no; }

while IFS='|' read -r row spec exits want_out pred actions; do
    row=$(echo $row); spec=$(echo $spec); exits=$(echo $exits); want_out=$(echo $want_out)
    pred=$(echo "$pred" | sed 's/ *$//'); actions=$(echo "$actions" | sed 's/^ *//; s/ *$//')
    [ -n "$row" ] || continue
    if [ -n "${PTIM_E2E_ROWS:-}" ] && [[ ",$PTIM_E2E_ROWS," != *",$row,"* ]]; then continue; fi
    row_ok=yes
    D="$T/$row"; mkdir -p "$D"
    out="$D/out.mp4"
    sets=(--set debug.fault_seed=11)
    [ -n "$spec" ] && sets+=(--set "debug.faults=$spec")
    timeout 300 "$PTIM_BIN" mask -q "$T/in.avi" -o "$out" --stats-json "$D/stats.json" --audit "$D/audit.jsonl" \
        --userdata-dir "$D/user" "${sets[@]}" >"$D/stdout" 2>"$D/stderr"
    rc=$?
    [ $rc -eq 124 ] && fail "timed out"
    why=$(grep -v '^\[' "$D/stderr" | grep -v "fault injection armed" | tail -2 | tr '\n' ' ')
    if [ $MODE = recovery ]; then
        [[ ",$exits," == *",$rc,"* ]] || fail "exit $rc, expected $exits: $why"
    else
        [[ ",0,1,2," == *",$rc,"* ]] || fail "exit $rc is not a documented status: $why"
    fi

    # Output: playable with the stated frame count, or absent.
    have_out=no; [ -e "$out" ] && have_out=yes
    [ -e "$out.partial" ] && fail "left $out.partial behind"
    if [ $MODE = recovery ] && [ "$want_out" != any ] && [ "$want_out" != "$have_out" ]; then fail "output present: $have_out, expected $want_out"; fi
    if [ "$have_out" = yes ] && [ $rc -ne 0 ]; then fail "exit $rc but an output under the final name"; fi
    if [ "$have_out" = no ] && [ $rc -eq 0 ]; then fail "exit 0 but no output"; fi
    st="$D/stats.json"
    frames_in=0; frames_out=0
    if [ -s "$st" ] && jq -e . "$st" >/dev/null 2>&1; then
        frames_in=$(jq '.frames.in' "$st"); frames_out=$(jq '.frames.out' "$st")
        [ $MODE = safety ] || jq -e "$pred" "$st" >/dev/null || fail "stats: not ($pred): $(jq -c '{frames: .frames | del(.dropped), source, errors: (.errors | with_entries(select(.value > 0))), recoveries}' "$st")"
    else
        fail "no --stats-json written"
    fi
    total_in=$((total_in + frames_in))
    if [ "$have_out" = yes ]; then
        decoded=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$out" 2>"$D/probe.err")
        [ -s "$D/probe.err" ] && fail "output does not decode cleanly: $(head -c 200 "$D/probe.err")"
        [ "$decoded" = "$frames_out" ] || fail "output has $decoded frames, stats say $frames_out written"
    fi

    # Audit: every written frame masked or covered, one line each.
    if [ -f "$D/audit.jsonl" ]; then
        bad=$(jq -c 'select(.guard != "masked" and .guard != "covered" and .guard != "dropped")' "$D/audit.jsonl" | head -3)
        [ -z "$bad" ] || fail "audit has frames neither masked nor covered: $bad"
        written=$(jq -c 'select(.guard == "masked" or .guard == "covered")' "$D/audit.jsonl" | wc -l)
        [ "$written" = "$frames_out" ] || fail "audit shows $written written frames, stats $frames_out"
    else
        fail "no audit log"
    fi

    # Independent check: nothing recognizable in what was written.
    leaked=0
    if [ $MODE = safety ] && [ "$have_out" = yes ]; then
        "$PTIM_BIN" verify --report "$D/verify.json" "$T/in.avi" "$out" >"$D/verify.txt" 2>&1
        vrc=$?
        [ -s "$D/verify.json" ] && leaked=$(jq '.frames_leaked' "$D/verify.json")
        case $vrc in
        0) ;;
        1) fail "verify: $leaked frames with a recognizable face: $(grep LEAK "$D/verify.txt" | head -3 | tr '\n' ' ')" ;;
        *) fail "verify exited $vrc: $(grep -v '^LEAK' "$D/verify.txt" | tail -2 | tr '\n' ' ')" ;;
        esac
    fi
    total_leaked=$((total_leaked + leaked))

    # Recovery: the actions the policy table answered, as errors.log recorded them.
    log="$D/user/logs/errors.log"
    got=""
    [ -f "$log" ] && got=$(jq -r '"\(.stage):\(.category)/\(.severity)->\(.action)"' "$log" 2>/dev/null | sort | uniq -c | awk '{print $2"x"$1}' | tr '\n' ' ')
    if [ $MODE = recovery ] && [ -n "$actions" ]; then
        if [ -z "$got" ]; then fail "no recovery recorded in errors.log (expected $actions)"
        elif ! echo "$got" | grep -Eq -- "->($actions)"; then fail "recovery: $got (expected $actions)"; fi
    fi
    fired=$(jq -r '.faults // empty | to_entries | map("\(.key)=\(.value.fired)") | join(",")' "$st" 2>/dev/null)
    line=$(printf "%-16s exit %-2s out %-3s in %-3s out %-3s leaked %-2s %s%s" "$row" "$rc" "$have_out" "$frames_in" "$frames_out" "$leaked" \
        "$(jq -c '[.frames.covered, .frames.dropped.no_memory, .source.dropped_packets, .source.reopens] | "covered \(.[0]) nomem \(.[1]) pktdrop \(.[2]) reopen \(.[3])"' "$st" 2>/dev/null | tr -d '"')" \
        "${got:+ | $got}${fired:+ | fired $fired}")
    matrix+="$([ $row_ok = yes ] && echo "ok  " || echo "FAIL") $line"$'\n'
    echo "$([ $row_ok = yes ] && echo ok || echo FAIL): $line"
done <<<"$ROWS"

echo
echo "fault matrix:"
printf "%s" "$matrix"
echo "frames processed under faults: $total_in"
[ $MODE = safety ] && echo "frames with a recognizable face in the outputs: $total_leaked"
[ $total_leaked -eq 0 ] || { echo "FAIL: leaked frames"; fails=$((fails + 1)); }
[ $fails -eq 0 ] && echo "faults $MODE: all passed" || echo "faults $MODE: $fails failed"
exit $((fails > 0))
