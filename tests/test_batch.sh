#!/usr/bin/env bash
# ptim batch on clips generated from the samples: shards cover every input
# exactly once, a SIGKILLed batch resumes to complete outputs, pixel settings
# invalidate records and cosmetic ones do not, a corrupt input fails alone,
# two batches on one directory do not corrupt each other, --report merges.
source "$(dirname "$0")/pipeline_helpers.sh"

# Six short low-resolution clips (two with faces) in a tree, and a manifest.
mkdir -p "$T/in/street" "$T/in/talk"
mk() { ffmpeg -v error -y -ss "$2" -i "$S/$1" -t "$3" -vf scale=160:-2 -c:v libx264 -preset ultrafast -an "$4"; }
mk Megamind.avi 0 1 "$T/in/talk/m0.mp4"
mk Megamind.avi 2 1 "$T/in/talk/m2.mp4"
mk vtest.avi 0 1 "$T/in/street/v0.mp4"
mk vtest.avi 3 1 "$T/in/street/v3.mp4"
mk vtest.avi 6 1 "$T/in/street/v6.avi"
cp "$S/messi5.jpg" "$T/in/talk/messi5.jpg"
cd "$T"
cat > manifest.txt <<'M'
# every clip of the archive (a directory is walked)
in/talk
  in/street/v0.mp4
in/street/v3.mp4
in/street/v6.avi

in/street/v0.mp4
M
INPUTS="in/talk/m0.mp4 in/talk/m2.mp4 in/talk/messi5.jpg in/street/v0.mp4 in/street/v3.mp4 in/street/v6.avi"
N_INPUTS=6

batch() { "$PTIM_BIN" batch "$@" $FAST_ARGS; }
processed() { sed -n 's/^ptim batch: \[[0-9]*\/[0-9]*\] \(.*\) -> .*/\1/p' "$@"; }
# every output of the list is there, complete (frame count of its input), with a "done" record
check_outputs() { # DIR
  for i in $INPUTS; do
    o=$1/$i
    [ -s "$o" ] || { fail "$o missing"; continue; }
    [ "$(decoded_frames "$o")" = "$(decoded_frames "$i")" ] || fail "$o: $(decoded_frames "$o") frames, input has $(decoded_frames "$i")"
    [ "$(jq -r .status "$o.ptim.json" 2>/dev/null)" = done ] || fail "$o.ptim.json is not a done record"
  done
  left=$(find "$1" -name '*.partial' -o -name '*.ptim.lock')
  [ -z "$left" ] || fail "left behind: $left"
}

# --- usage and bad input: exit 2, one sentence
expect_status 2 batch --manifest manifest.txt || true
grep -q -- "--out-dir" "$T/err" || fail "no --out-dir: message was $(cat "$T/err")"
expect_status 2 batch --manifest nothing.txt --out-dir o || true
expect_status 2 batch --manifest manifest.txt --out-dir o --shard 3/3 || true
expect_status 2 batch --manifest manifest.txt --out-dir o --jobs 0 || true
expect_status 2 batch --report nowhere || true
cp in/talk/m0.mp4 self.mp4; sum0=$(md5sum < self.mp4)
expect_status 1 batch self.mp4 --out-dir . || true
[ "$(md5sum < self.mp4)" = "$sum0" ] || fail "--out-dir . wrote over its input"
grep -q "overwrite the input" "$T/err" || fail "no reason given for refusing --out-dir ."
pass "usage errors exit 2; an output that is its own input is refused"

# --- shards: three processes at once (GNU parallel, as the README shows),
# each input processed by exactly one
parallel --will-cite -j 3 "$PTIM_BIN" batch --manifest manifest.txt --out-dir shards --shard {}/3 \
  --stats-json s{}.json $FAST_ARGS '2>' shard{}.log ::: 0 1 2 || fail "a shard failed: $(cat shard*.log)"
processed shard0.log shard1.log shard2.log | sort > done.txt
[ "$(wc -l < done.txt)" = $N_INPUTS ] || fail "shards processed $(wc -l < done.txt) inputs, not $N_INPUTS: $(cat done.txt)"
[ -z "$(uniq -d done.txt)" ] || fail "processed twice: $(uniq -d done.txt)"
[ "$(echo $INPUTS | tr ' ' '\n' | sort)" = "$(cat done.txt)" ] || fail "shards did not cover the manifest: $(cat done.txt)"
check_outputs shards
sum=$(jq -s 'map(.done) | add' s0.json s1.json s2.json)
[ "$sum" = $N_INPUTS ] || fail "stats-json says $sum done"
expect_status 0 "$PTIM_BIN" batch --report shards --stats-json report.json || true
[ "$(jq .done report.json)" = $N_INPUTS ] || fail "--report: $(cat report.json)"
[ "$(jq .frames report.json)" = "$(jq -s 'map(.frames) | add' s0.json s1.json s2.json)" ] || fail "--report frames differ from the shards' sum"
pass "3 shards as separate processes cover every input exactly once; --report merges them"

# --- resume: skipped when the record matches; a cosmetic setting keeps it, a pixel one does not
md5_before=$(md5sum shards/in/talk/m0.mp4)
expect_status 0 batch --manifest manifest.txt --out-dir shards --resume --stats-json r.json || true
[ "$(jq .skipped r.json) $(jq .done r.json)" = "$N_INPUTS 0" ] || fail "--resume redid work: $(cat r.json)"
expect_status 0 batch --manifest manifest.txt --out-dir shards --resume --set system.log_level=debug \
  --set performance.max_processing_workers=1 --stats-json r.json || true
[ "$(jq .skipped r.json) $(jq .done r.json)" = "$N_INPUTS 0" ] || fail "a cosmetic setting invalidated records: $(cat r.json)"
expect_status 0 batch --manifest manifest.txt --out-dir shards --resume --mode pixelate --stats-json r.json || true
[ "$(jq .done r.json)" = $N_INPUTS ] || fail "mask.mode=pixelate did not reprocess: $(cat r.json)"
[ "$(md5sum shards/in/talk/m0.mp4)" != "$md5_before" ] || fail "pixelate wrote the same m0.mp4 as blur"
[ "$(jq -r '.settings["mask.mode"]' shards/in/talk/m0.mp4.ptim.json)" = pixelate ] || fail "record does not say pixelate"
touch in/street/v3.mp4 # a changed input (mtime) is redone, the others not
expect_status 0 batch --manifest manifest.txt --out-dir shards --resume --mode pixelate --stats-json r.json || true
[ "$(jq .done r.json) $(jq .skipped r.json)" = "1 5" ] || fail "touching one input: $(cat r.json)"
check_outputs shards
pass "--resume skips matching records; log level/threads do not invalidate, mask.mode and a changed input do"

# --- on a terminal: a progress line with an ETA (script(1) gives it a pty)
script -qec "'$PTIM_BIN' batch in/street/v0.mp4 --out-dir tty $FAST_ARGS" /dev/null > tty.log 2>&1 ||
  fail "batch on a terminal failed: $(cat tty.log)"
grep -q "running, .* frames, ETA" tty.log || fail "no progress line on a terminal: $(cat tty.log)"
expect_status 0 batch in/street/v0.mp4 --out-dir notty || true
! grep -q "ETA" "$T/err" || fail "progress line written to a pipe"
pass "progress line with ETA on a terminal only"

# --- a corrupt input fails alone, recorded with its reason
head -c 20000 in/talk/m2.mp4 > in/broken.mp4
printf 'in/talk/m0.mp4\nin/broken.mp4\nin/street/v0.mp4\nin/missing.mp4\n' > bad.txt
expect_status 1 batch --manifest bad.txt --out-dir bad --stats-json b.json || true
[ "$(jq .done b.json) $(jq .failed b.json)" = "2 2" ] || fail "corrupt input: $(cat b.json)"
for o in bad/in/talk/m0.mp4 bad/in/street/v0.mp4; do
  [ "$(decoded_frames "$o")" -gt 0 ] 2>/dev/null || fail "$o not written"
done
[ ! -e bad/in/broken.mp4 ] || fail "a failed input left an output"
[ "$(jq -r .status bad/in/broken.mp4.ptim.json)" = failed ] || fail "no failed record for broken.mp4"
[ -n "$(jq -r .reason bad/in/missing.mp4.ptim.json)" ] || fail "no reason recorded for missing.mp4"
grep -q "missing.mp4" "$T/err" || fail "summary does not name missing.mp4"
[ -z "$(find bad -name '*.partial')" ] || fail ".partial left after failures"
pass "corrupt and missing inputs fail alone, with their reasons recorded"

# --- a batch output is what ptim mask writes; --verify fails an output that shows faces
"$PTIM_BIN" mask -q in/talk/m0.mp4 -o m0_mask.mp4 $FAST_ARGS
cmp -s m0_mask.mp4 bad/in/talk/m0.mp4 || fail "ptim batch and ptim mask wrote different m0.mp4"
printf 'in/talk/m0.mp4\n' > v.txt
expect_status 1 batch --manifest v.txt --out-dir ver --mode none --verify --stats-json v.json || true
[ -e ver/in/talk/m0.mp4.leaked ] && [ ! -e ver/in/talk/m0.mp4 ] || fail "a leaking output stayed under its name"
[ "$(jq -r .verify.result ver/in/talk/m0.mp4.ptim.json)" = leaked ] || fail "record does not say leaked"
jq -r .reason ver/in/talk/m0.mp4.ptim.json | grep -q "recognizable faces" || fail "no leak reason recorded"
[ "$(jq .frames_leaked v.json)" -gt 0 ] || fail "summary shows no leaked frames"
pass "batch output equals ptim mask's; --verify fails an unmasked output and moves it to NAME.leaked"

# --- SIGKILL in the middle of a file, then --resume
mk vtest.avi 0 3 in/long1.mp4
mk vtest.avi 6 3 in/long2.mp4
printf 'in/long1.mp4\nin/long2.mp4\nin/talk/m0.mp4\n' > long.txt
batch --manifest long.txt --out-dir killed --jobs 2 2>kill.log &
bp=$!
for _ in $(seq 600); do [ -n "$(find killed -name '*.partial' 2>/dev/null)" ] && break; sleep 0.1; done
kill -9 $bp; wait $bp 2>/dev/null || true
[ -n "$(find killed -name '*.partial')" ] || fail "no .partial seen before the kill (the test did not kill mid-file)"
sleep 0.5 # the workers die with the batch (PR_SET_PDEATHSIG)
expect_status 0 batch --manifest long.txt --out-dir killed --resume --stats-json k.json || true
for i in in/long1.mp4 in/long2.mp4 in/talk/m0.mp4; do
  [ "$(decoded_frames killed/$i)" = "$(decoded_frames $i)" ] || fail "killed/$i incomplete after --resume"
  [ -z "$(play_errors killed/$i)" ] || fail "killed/$i does not play: $(play_errors killed/$i)"
done
left=$(find killed -name '*.partial' -o -name '*.ptim.lock')
[ -z "$left" ] || fail "left after --resume: $left"
pass "SIGKILL mid-file then --resume: every output complete, nothing partial left"

# --- two batches on one directory at once: outputs intact (a lock per output)
batch --manifest manifest.txt --out-dir both --stats-json c1.json 2>c1.log & p1=$!
batch --manifest manifest.txt --out-dir both --stats-json c2.json 2>c2.log & p2=$!
wait $p1 || fail "first concurrent batch exited $?: $(cat c1.log)"
wait $p2 || fail "second concurrent batch exited $?: $(cat c2.log)"
check_outputs both
for i in $INPUTS; do [ -z "$(play_errors both/$i)" ] || fail "both/$i is damaged"; done
t=$(( $(jq '.done + .skipped' c1.json) + $(jq '.done + .skipped' c2.json) ))
[ "$t" = $((2 * N_INPUTS)) ] || fail "concurrent batches accounted for $t inputs"
pass "two batches on one directory: every output complete and playable"

finish
