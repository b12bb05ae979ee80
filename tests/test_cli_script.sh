# tests/test_cli_script.sh — what a script sees (issue 16): exit status, the
# file names on disk after the run, and the first line ptim says, for
# interrupted jobs, unsafe frames, --mode none, settings and assets refused
# before work, globs, directories, overwrites and the terminal.
. "$(dirname "$0")/pipeline_helpers.sh"

section() { LAST_FAILS=$FAILS; }
# first_line_is WANT: the first line of the last command's stderr ($T/err)
first_line_is() {
  local got; got=$(head -1 "$T/err")
  [ "$got" = "$1" ] || fail "first line: '$got', wanted '$1'"
}
first_line_matches() {
  local got; got=$(head -1 "$T/err")
  [[ "$got" =~ $1 ]] || fail "first line: '$got', wanted /$1/"
}
files_are() { # DIR WANT...: the sorted names in DIR, nothing else
  local dir=$1; shift
  local got want
  got=$(cd "$dir" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort | tr '\n' ' ')
  want=$(printf '%s\n' "$@" | LC_ALL=C sort | tr '\n' ' ')
  [ "$got" = "$want" ] || fail "files in $dir: '$got', wanted '$want'"
}
wait_file() { local i; for i in $(seq 600); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }

# A 20 s clip, long enough to be stopped halfway; a short one with a face.
LONG=$CLIPS/script_long.mp4
[ -s "$LONG" ] || ffmpeg -v error -y -stream_loop 3 -i "$S/Megamind.avi" -t 20 -vf scale=320:-2 \
  -c:v libx264 -preset ultrafast -an "$LONG"
SHORT=$CLIPS/script_short.mp4
[ -s "$SHORT" ] || ffmpeg -v error -y -i "$S/Megamind.avi" -frames:v 40 -vf scale=320:-2 \
  -c:v libx264 -preset ultrafast -an "$SHORT"

# 1. SIGINT / SIGTERM on an offline job: exit 130 / 143, the output keeps
#    NAME.partial (finished, playable), NAME is not written, and it says so.
for sig in INT TERM; do
  section
  D=$T/sig$sig; mkdir -p "$D"
  # The slowest x264 preset keeps the job running ~7 s: with the default
  # one, an idle machine finished the clip in 2 s, before the signal came
  # (seen on a fresh clone).
  "$PTIM_BIN" mask "$LONG" -o "$D/out.mp4" $FAST_ARGS --set output.preset=veryslow 2>"$T/err" &
  RUN=$!
  wait_file "$D/out.mp4.partial" || fail "SIG$sig: no output started"
  sleep 1
  kill -$sig $RUN
  status=0; wait $RUN || status=$?
  want=$([ $sig = INT ] && echo 130 || echo 143)
  [ "$status" = "$want" ] || fail "SIG$sig: exit $status, wanted $want"
  files_are "$D" out.mp4.partial
  name=$([ $sig = INT ] && echo "SIGINT \(Ctrl-C\)" || echo SIGTERM)
  first_line_matches "^ptim mask: stopped by $name: $D/out.mp4.partial keeps the [0-9]+ frames masked so far \(it plays, but is not the whole video\); $D/out.mp4 was not written$"
  n=$(decoded_frames "$D/out.mp4.partial")
  [ "${n:-0}" -gt 0 ] && [ "${n:-0}" -lt 600 ] || fail "SIG$sig: the partial file has ${n:-0} frames"
  [ -z "$(play_errors "$D/out.mp4.partial")" ] || fail "SIG$sig: the partial file does not play"
  pass "SIG$sig: exit $want, out.mp4.partial kept ($n frames), out.mp4 not written"
done
# (ptim run recording to a file on Ctrl-C is the opposite case, a finished
# file under its final name and exit 0: test_run_live section 3.)

# 2. --unsafe-passthrough: frames written unmasked are counted, said, exit 1.
section
if expect_status 1 ptim mask "$SHORT" -o "$T/pt.mp4" --unsafe-passthrough \
     --set debug.faults=detect@10-20 --stats-json "$T/pt.json"; then
  n=$(jq '.frames.passthrough_unsafe' "$T/pt.json")
  [ "${n:-0}" -gt 0 ] || fail "passthrough: none counted"
  grep -qx "ptim mask: $T/pt.mp4: $n frames were written UNMASKED (--unsafe-passthrough); faces on them are visible" "$T/err" \
    || fail "passthrough: no count line: $(cat "$T/err")"
  [ -s "$T/pt.mp4" ] || fail "passthrough: no output"
  first_line_is "ptim: warning: fault injection armed: detect@10-20 (seed 1)"
  pass "--unsafe-passthrough: $n unmasked frames counted, exit 1"
fi

# 3. --mode none: warned at start, the summary says nothing was masked.
section
if expect_status 0 "$PTIM_BIN" mask "$S/messi5.jpg" -o "$T/none.jpg" --mode none; then
  first_line_is "ptim mask: WARNING: --mode none: no face is masked; every face is written as it is"
  grep -q "^ptim mask: $S/messi5.jpg -> $T/none.jpg: 1 frames, NO MASKING DONE (mask.mode=none): 1 frames with faces written unmasked; 0 masked" "$T/err" \
    || fail "mode none: summary: $(cat "$T/err")"
  pass "--mode none says no masking was done"
fi

# 4. Settings refused when read: config check, --set and the environment.
section
printf '[mask]\ncolor = red\n' > "$T/color.ini"
expect_status 2 "$PTIM_BIN" config check "$T/color.ini" &&
  first_line_is "ptim config: $T/color.ini:2: mask.color = red is not a colour of the form #RRGGBB (e.g. #202020)"
expect_status 2 "$PTIM_BIN" mask "$S/messi5.jpg" -o "$T/c.jpg" --set detector.tiles=99 &&
  first_line_is "ptim mask: --set detector.tiles='99' is not auto, off or a number of tiles across from 1 to 8"
expect_status 2 env PTIM_MASK_COLOR=red "$PTIM_BIN" mask "$S/messi5.jpg" -o "$T/c.jpg" &&
  first_line_is "ptim mask: environment PTIM_MASK_COLOR='red' is not a colour of the form #RRGGBB (e.g. #202020)"
zeros=$(printf '0%.0s' $(seq 150))
printf '[track]\nhold_ms = %s5\n' "$zeros" > "$T/long.ini"
expect_status 2 "$PTIM_BIN" config check "$T/long.ini" &&
  first_line_matches "^ptim config: $T/long.ini:2: track.hold_ms = 0+\.\.\. is too long \(151 characters\) for a setting of type int$"
env PTIM_TARGET_FPS= "$PTIM_BIN" config show --sources > "$T/show.txt" || fail "empty PTIM_TARGET_FPS: config show failed"
grep -q "^performance.target_fps *= 30 .*default" "$T/show.txt" || fail "an empty PTIM_TARGET_FPS is not 'not set': $(grep target_fps "$T/show.txt")"
"$PTIM_BIN" config keys --all | grep -c "range \[0, 2147483647\]" >/dev/null || fail "integer ranges print as floats"
[ ! -e "$T/c.jpg" ] || fail "a refused run wrote c.jpg"
pass "bad colour, tiles, too-long values refused with exit 2 before work"

# 5. Assets checked before the first frame: exit 2, naming the file.
section
ffmpeg -v error -y -f lavfi -i color=gray:s=320x240 -frames:v 1 "$T/noface.png"
expect_status 2 "$PTIM_BIN" mask "$SHORT" -o "$T/a1.mp4" --identity "$T/noface.png" &&
  first_line_is "ptim mask: identity photo $T/noface.png: no face found (swap.identity needs a photo of exactly one face)"
expect_status 2 "$PTIM_BIN" mask "$SHORT" -o "$T/a2.mp4" --identity "$SHORT" &&
  first_line_is "ptim mask: identity photo $SHORT is not a picture; give a JPEG or PNG photo of exactly one face"
expect_status 2 "$PTIM_BIN" mask "$SHORT" -o "$T/a3.mp4" --mode image --set mask.image="$SHORT" &&
  first_line_is "ptim mask: mask.image $SHORT is not a picture; give a PNG (with alpha) or JPEG"
expect_status 2 "$PTIM_BIN" mask "$SHORT" -o "$T/a4.mp4" --set system.model_dir="$T" &&
  first_line_is "ptim mask: model face_detection_short_range.tflite: cannot open $T/face_detection_short_range.tflite"
# With several inputs the asset is checked once, before the first: one sentence, not one per input.
expect_status 2 "$PTIM_BIN" mask "$SHORT" "$S/messi5.jpg" -o "$T/assets/" --mode image --set mask.image="$SHORT" &&
  [ "$(wc -l < "$T/err")" = 1 ] || fail "a bad asset with two inputs: $(wc -l < "$T/err") lines: $(cat "$T/err")"
[ ! -e "$T/assets" ] || [ -z "$(ls -A "$T/assets")" ] || fail "a bad asset with two inputs: outputs written"
for f in a1 a2 a3 a4; do [ ! -e "$T/$f.mp4" ] && [ ! -e "$T/$f.mp4.partial" ] || fail "$f.mp4 written"; done
pass "identity photo, mask image and models checked before work"

# 6. Quoted globs expand like the shell's, one output per file, sorted.
section
G=$T/mixed; mkdir -p "$G/sub"
cp "$S/astronaut.png" "$S/camera.png" "$S/messi5.jpg" "$G/"
cp "$S/camera.png" "$G/sub/c2.png"
echo notes > "$G/notes.txt"; : > "$G/empty.jpg"
if expect_status 0 ptim mask "$G/*.png" -q; then
  files_are "$G" astronaut.png astronaut_masked.png camera.png camera_masked.png messi5.jpg notes.txt empty.jpg sub sub/c2.png
fi
rm -f "$G"/*_masked.png
if expect_status 0 ptim mask "$G/[ac]*.{png,jpg}" -o "$T/gout/"; then
  files_are "$T/gout" astronaut.png camera.png
  grep -q "^ptim mask: $G/astronaut.png -> $T/gout/astronaut.png: " "$T/err" || fail "glob: first pair: $(cat "$T/err")"
  grep -q '//' "$T/err" && fail "a printed path has //: $(cat "$T/err")"
  tail -1 "$T/err" | grep -qx "ptim mask: 2 done, 0 failed, 0 skipped" || fail "glob summary: $(tail -1 "$T/err")"
fi
expect_status 2 ptim mask "$G/*.webm" && first_line_is "ptim mask: no file matches $G/*.webm; check the pattern and the directory"
pass "globs: *, [..], {a,b}; -o DIR/ created; no match is exit 2"

# 7. Directories: skipped entries counted (listed with -v), summary, -r, exit 1 partial.
section
cp "$S/messi5.jpg" "$G/broken.jpg"; truncate -s 100 "$G/broken.jpg" # a picture that cannot be read
if expect_status 1 ptim mask "$G" -o "$T/dout"; then
  files_are "$T/dout" astronaut.png camera.png messi5.jpg
  tail -1 "$T/err" | grep -qx "ptim mask: 3 done, 1 failed, 3 skipped (1 empty file, 1 not media, 1 subdirectory, see -r)" \
    || fail "directory summary: $(tail -1 "$T/err")"
fi
rm "$G/broken.jpg"
if expect_status 0 ptim mask "$G" -o "$T/dout" -n -r -v; then
  files_are "$T/dout" astronaut.png camera.png messi5.jpg sub sub/c2.png
  grep -qx "ptim mask: skipped $G/notes.txt (not media)" "$T/err" || fail "-v does not list notes.txt"
  grep -qx "ptim mask: skipped $G/astronaut.png: $T/dout/astronaut.png exists (-n)" "$T/err" || fail "-n: $(cat "$T/err")"
  tail -1 "$T/err" | grep -qx "ptim mask: 1 done, 0 failed, 5 skipped (1 empty file, 1 not media, 3 output exists)" \
    || fail "-n -r summary: $(tail -1 "$T/err")"
fi
mkdir -p "$T/emptydir"; echo x > "$T/emptydir/a.txt"
expect_status 2 ptim mask "$T/emptydir" && first_line_is "ptim mask: the directory $T/emptydir holds no pictures or videos (1 other entries; -r goes into subdirectories)"
pass "directory: skipped entries counted, 3 done/1 failed exit 1, -r, -n, nothing to do exit 2"

# 8. Existing outputs: refused (exit 2, untouched) unless -y / output.overwrite.
section
echo precious > "$T/exists.jpg"; echo precious > "$T/precious"
expect_status 2 ptim mask "$S/messi5.jpg" -o "$T/exists.jpg" &&
  first_line_is "ptim mask: $T/exists.jpg already exists; give -y to overwrite it or -n to skip inputs whose output exists"
cmp -s "$T/exists.jpg" "$T/precious" || fail "the existing output was changed"
expect_status 0 ptim mask "$S/messi5.jpg" -o "$T/exists.jpg" -n -q
cmp -s "$T/exists.jpg" "$T/precious" || fail "-n changed the existing output"
expect_status 0 ptim mask "$S/messi5.jpg" -o "$T/exists.jpg" -y -q
! cmp -s "$T/exists.jpg" "$T/precious" || fail "-y did not overwrite"
echo precious > "$T/exists.jpg"
expect_status 0 ptim mask "$S/messi5.jpg" -o "$T/exists.jpg" --set output.overwrite=true -q
! cmp -s "$T/exists.jpg" "$T/precious" || fail "output.overwrite=true did not overwrite"
pass "existing outputs refused unless -y or output.overwrite; -n skips"

# 9. Video to a terminal is refused (script(1) gives ptim a terminal).
section
if command -v script >/dev/null; then
  status=0
  script -qec "$PTIM_BIN mask $S/messi5.jpg -o - $FAST_ARGS" /dev/null > "$T/tty.out" 2>&1 || status=$?
  [ "$status" = 2 ] || fail "terminal stdout: exit $status"
  head -1 "$T/tty.out" | tr -d '\r' | grep -qx "ptim mask: refusing to write video to the terminal; redirect the output (> out.nut, | ffplay -) or give -o FILE" \
    || fail "terminal stdout: $(head -c 300 "$T/tty.out")"
  [ "$(wc -c < "$T/tty.out")" -lt 1000 ] || fail "video bytes reached the terminal"
  pass "no video to a terminal"
else
  fail "script(1) missing (bsdutils)"
fi

# 11. Words: help per command, names the user typed, the log keeps settings errors.
section
"$PTIM_BIN" help mask > "$T/help.txt" || fail "ptim help mask: exit $?"
head -1 "$T/help.txt" | grep -q "^usage: ptim mask INPUT" || fail "ptim help mask: $(head -1 "$T/help.txt")"
for c in mask run detect config doctor; do
  "$PTIM_BIN" $c --help | grep -c "^exit status" >/dev/null || fail "ptim $c --help lists no exit status"
  "$PTIM_BIN" $c --help | grep -c "^common options:" >/dev/null || fail "ptim $c --help lists no common options"
done
"$PTIM_BIN" --help | grep -c "fill" >/dev/null && fail "top-level help says fill (the mode is solid)"
expect_status 2 "$PTIM_BIN" mask "$S/messi5.jpg" --mode sparkle &&
  first_line_is "ptim mask: --mode 'sparkle' is not one of blur|pixelate|solid|image|swap|none"
[ "$("$PTIM_BIN" --version)" = "ptim $("$PTIM_BIN" --version | cut -d' ' -f2)" ] &&
  ! "$PTIM_BIN" --version | grep -c "RelWithDebInfo\|faults\|asan" >/dev/null || fail "version shows build internals: $("$PTIM_BIN" --version)"
U=$T/userdata
expect_status 2 "$PTIM_BIN" mask "$S/messi5.jpg" --userdata-dir "$U" --set mask.color=red &&
  first_line_is "ptim mask: --set mask.color='red' is not a colour of the form #RRGGBB (e.g. #202020)"
grep -q "mask.color='red' is not a colour" "$U/logs/ptim.log" 2>/dev/null || fail "the settings error is not in ptim.log"
head -c 100000 "$LONG" > "$T/trunc.mp4" # no moov atom: FFmpeg complains, ptim says one sentence
expect_status 2 "$PTIM_BIN" mask "$T/trunc.mp4" --userdata-dir "$U" &&
  first_line_is "ptim mask: $T/trunc.mp4 is not a video or picture ptim can read"
grep -q "moov" "$T/err" && fail "FFmpeg's own log reached the terminal: $(cat "$T/err")"
grep -q "\[ffmpeg\].*moov atom not found" "$U/logs/ptim.log" || fail "FFmpeg's log is not in ptim.log"
"$PTIM_BIN" config init - > "$T/init.ini" || fail "config init - failed"
[ ! -e ./- ] && [ ! -e "$T/-" ] || fail "config init - wrote a file named -"
grep -q "^\[mask\]" "$T/init.ini" || fail "config init - printed no settings"
grep -q "^\[debug\]" "$T/init.ini" && fail "config init shows debug.* without --all"
"$PTIM_BIN" config init - --all | grep -c "^\[debug\]" >/dev/null || fail "config init --all has no debug.*"
"$PTIM_BIN" config keys | grep -c "^debug\." >/dev/null && fail "config keys shows debug.* without --all"
"$PTIM_BIN" config keys --all | grep -c "^debug\.faults" >/dev/null || fail "config keys --all has no debug.faults"
echo mine > "$T/mine.ini"
expect_status 2 "$PTIM_BIN" config init "$T/mine.ini" &&
  first_line_is "ptim config: cannot create $T/mine.ini: File exists (give --force to replace it)"
[ "$(cat "$T/mine.ini")" = mine ] || fail "config init replaced a file without --force"
expect_status 0 "$PTIM_BIN" config init "$T/mine.ini" --force
"$PTIM_BIN" config check "$T/mine.ini" >/dev/null || fail "config init --force wrote a bad file"
ls "$T" | grep -q "mine.ini\." && fail "config init left a temporary file: $(ls "$T")"
pass "help per command with exit codes, --mode named as typed, version, settings errors logged, config init -/--force/--all"

# 12. A reader that closes the output pipe early (`| head -c 1000`): ptim ends
# quietly (nothing on stderr) with 141, the status of a writer killed by
# SIGPIPE, as `cat big | head -c 1000` would; not a retried "encode error".
section
set +e
"$PTIM_BIN" mask "$LONG" -o - $FAST_ARGS 2>"$T/err" | head -c 1000 >"$T/head.out"
status=${PIPESTATUS[0]}
set -e
[ "$status" = 141 ] || fail "closed pipe: exit $status, wanted 141"
[ ! -s "$T/err" ] || fail "closed pipe: stderr not empty: $(head -3 "$T/err")"
[ "$(wc -c < "$T/head.out")" = 1000 ] || fail "closed pipe: the reader did not get its 1000 bytes"
pass "a closed output pipe ends quietly with 141"

# 13. An output with a %d pattern but a video extension: refused before work
# (exit 2, nothing written) instead of one video named literally "out_%03d.mp4".
section
mkdir -p "$T/pat"
expect_status 2 "$PTIM_BIN" mask "$SHORT" -o "$T/pat/out_%03d.mp4" $FAST_ARGS &&
  first_line_is "ptim mask: the output $T/pat/out_%03d.mp4 has a frame number pattern (%d) but .mp4 is a video format; give a picture name such as out_%04d.png for one picture per frame, or a name without %d for one video"
[ -z "$(ls -A "$T/pat")" ] || fail "out_%03d.mp4: files written: $(ls "$T/pat")"
expect_status 0 "$PTIM_BIN" mask "$SHORT" -o "$T/pat/f_%03d.png" -q $FAST_ARGS
[ -s "$T/pat/f_001.png" ] && [ ! -e "$T/pat/f_%03d.png" ] || fail "a %03d.png output is not a picture sequence"
pass "a %d pattern with a video extension is refused; with a picture extension it is a sequence"


# 10. Several inputs: each starts from the newest settings (issue 17 item 6).
#     mask.mode=none edited to blur while the first file runs: the second
#     file must be masked, not start again from the settings at start-up.
section
H=$T/hot; mkdir -p "$H/in"
ln -s "$LONG" "$H/in/a.mp4"; ln -s "$SHORT" "$H/in/b.mp4"
printf '[mask]\nmode = none\n' > "$H/cfg.ini"
"$PTIM_BIN" mask "$H/in" -o "$H/out" --config "$H/cfg.ini" --stats-json "$H/s.json" \
  --audit "$H/audit.jsonl" $FAST_ARGS 2>"$T/err" &
RUN=$!
for i in $(seq 600); do [ -f "$H/audit.jsonl" ] && [ "$(wc -l < "$H/audit.jsonl")" -ge 20 ] && break; sleep 0.1; done
printf '[mask]\nmode = blur\n' > "$H/cfg.ini.new" && mv "$H/cfg.ini.new" "$H/cfg.ini"
status=0; wait $RUN || status=$?
[ "$status" = 0 ] || fail "hot reload job: exit $status: $(cat "$T/err")"
first=$(sed -n 1p "$H/s.json" | jq -c '[.frames.mode_none, .frames.masked]')
second=$(sed -n 2p "$H/s.json" | jq -c '[.frames.mode_none, .frames.masked]')
[ "$(sed -n 1p "$H/s.json" | jq '.frames.mode_none > 0 and .frames.masked > 0')" = true ] ||
  fail "first file: [mode_none, masked] = $first (the edit did not apply while it ran)"
[ "$(sed -n 2p "$H/s.json" | jq '.frames.mode_none == 0 and .frames.masked == .frames.out')" = true ] ||
  fail "second file: [mode_none, masked] = $second (it started from the old settings)"
pass "the second file starts from the hot-reloaded settings (first $first, second $second)"

# FFmpeg's own words stay in ptim.log: decoding a JPEG identity photo made
# swscale print "[swscaler @ 0x…] deprecated pixel format used" before the
# log was routed (asset loading came first).
section
"$PTIM_BIN" mask -y "$SHORT" -o "$T/swap_quiet.mp4" --mode swap --identity "$S/messi5.jpg" \
  2>"$T/err" >/dev/null || fail "swap with a JPEG identity: exit $?"
grep -q '^\[' "$T/err" && fail "raw FFmpeg line on the terminal: $(grep '^\[' "$T/err" | head -1)"
first_line_matches "^ptim mask: .*swap_quiet.mp4: 40 frames"
pass "a JPEG identity photo leaves no FFmpeg line on the terminal"

finish
