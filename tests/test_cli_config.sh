#!/usr/bin/env bash
# The ptim command: --help, --version, config show/keys/check/init, shared
# flags, exit statuses and the exact one-sentence messages for bad input.
set -uo pipefail
: "${PTIM_BIN:?}" "${PTIM_TEST_TMP:?}"
T=$(mktemp -d "$PTIM_TEST_TMP/cli_config.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
# expect STATUS STDOUT_PATTERN|'' STDERR_EXACT|'' -- command...
expect() {
  local want=$1 out_pat=$2 err_exact=$3; shift 4
  local out err rc
  out=$("$@" 2>"$T/err"); rc=$?
  err=$(cat "$T/err")
  if [ "$rc" != "$want" ]; then echo "FAIL: $* -> status $rc, want $want (stderr: $err)"; fails=$((fails+1)); return; fi
  if [ -n "$out_pat" ] && ! grep -qE -- "$out_pat" <<<"$out"; then echo "FAIL: $* stdout lacks /$out_pat/"; fails=$((fails+1)); fi
  if [ -n "$err_exact" ] && [ "$err" != "$err_exact" ]; then echo "FAIL: $* stderr:"; echo "  got:  $err"; echo "  want: $err_exact"; fails=$((fails+1)); fi
}
unset PTIM_TARGET_FPS PTIM_MAX_WORKERS PTIM_MODEL_QUALITY PTIM_GPU_MEMORY_POOL_SIZE

expect 0 '^ptim [0-9]+\.[0-9]+\.[0-9]+$' '' -- "$PTIM_BIN" --version # no build internals
expect 0 'usage: ptim COMMAND' '' -- "$PTIM_BIN" --help
expect 0 'doctor' '' -- "$PTIM_BIN" help
expect 2 '' '' -- "$PTIM_BIN"
expect 2 '' "ptim: unknown command 'frobnicate' (see ptim --help)" -- "$PTIM_BIN" frobnicate
expect 2 '' "ptim: unknown command 'Bad/Name' (see ptim --help)" -- "$PTIM_BIN" Bad/Name
expect 0 'usage: ptim nn' '' -- "$PTIM_BIN" nn --help
expect 0 'ptim config show' '' -- "$PTIM_BIN" config --help
expect 2 '' '' -- "$PTIM_BIN" config
expect 0 '^performance\.target_fps += 30$' '' -- "$PTIM_BIN" config show
expect 0 'detector\.threshold.*range \[0\.01, 1\].*default .0\.5., live, environment PTIM_DETECTOR_THRESHOLD' '' -- \
  bash -c "'$PTIM_BIN' config keys | tr '\n' ' '"

# every source shows where it came from
cat >"$T/my.ini" <<'INI'
[detector]
threshold = 0.7
[mask]
mode = pixelate
INI
expect 0 "^detector\.threshold += 0\.7 +# $T/my\.ini:2$" '' -- "$PTIM_BIN" config show --sources --config "$T/my.ini"
expect 0 '^performance\.target_fps += 24 +# environment PTIM_TARGET_FPS$' '' -- env PTIM_TARGET_FPS=24 "$PTIM_BIN" config show --sources
expect 0 '^mask\.mode += solid +# --set$' '' -- "$PTIM_BIN" config show --sources --config "$T/my.ini" --set mask.mode=solid
expect 0 '^mask\.mode += solid$' '' -- "$PTIM_BIN" --set=mask.mode=solid config show
expect 0 '^track\.hold_ms += 5$' '' -- "$PTIM_BIN" --set track.hold_ms=5 config show
expect 0 "^# model directory: /opt/m$" '' -- env PTIM_SYSTEM_MODEL_DIR=/opt/m "$PTIM_BIN" config show --sources
# <userdata-dir>/config.ini is read when present; the directory is created with logs/ and reports/
mkdir -p "$T/ud"
printf '[track]\nhold_ms = 777\n' >"$T/ud/config.ini"
expect 0 "^track\.hold_ms += 777 +# $T/ud/config\.ini:2$" '' -- "$PTIM_BIN" config show --sources --userdata-dir "$T/ud"
expect 0 '' '' -- "$PTIM_BIN" config show --userdata-dir "$T/new/deeper"
for d in "$T/new/deeper" "$T/new/deeper/logs" "$T/new/deeper/reports"; do
  [ -d "$d" ] || { echo "FAIL: $d not created"; fails=$((fails+1)); }
done
grep -q 'started (ptim' "$T/new/deeper/logs/ptim.log" || { echo "FAIL: ptim.log not written"; fails=$((fails+1)); }
# Without --config or --userdata-dir (issue 16): $XDG_CONFIG_HOME/ptim/config.ini,
# else the first ptim/config.ini of $XDG_CONFIG_DIRS; logs in $XDG_STATE_HOME/ptim;
# config show --sources names the file and each value's file and line.
X="$T/xdg"; mkdir -p "$X/home/ptim" "$X/sys2/ptim" "$X/state"
printf '[track]\nhold_ms = 321\n' >"$X/home/ptim/config.ini"
printf '[track]\nhold_ms = 654\n[mask]\nmode = pixelate\n' >"$X/sys2/ptim/config.ini"
xdg() { env XDG_CONFIG_HOME="$X/home" XDG_CONFIG_DIRS="$X/sys1:$X/sys2" XDG_STATE_HOME="$X/state" "$@"; }
expect 0 "^track\.hold_ms += 321 +# $X/home/ptim/config\.ini:2$" '' -- xdg "$PTIM_BIN" config show --sources
expect 0 "^# settings file: $X/home/ptim/config\.ini$" '' -- xdg "$PTIM_BIN" config show --sources
expect 0 '^mask\.mode += blur +# default$' '' -- xdg "$PTIM_BIN" config show --sources # one file, not a merge
grep -q 'started (ptim .*config '"$X"'/home/ptim/config.ini' "$X/state/ptim/logs/ptim.log" ||
  { echo "FAIL: no ptim.log in \$XDG_STATE_HOME/ptim/logs"; fails=$((fails+1)); }
rm "$X/home/ptim/config.ini" # then the system place
expect 0 "^mask\.mode += pixelate +# $X/sys2/ptim/config\.ini:4$" '' -- xdg "$PTIM_BIN" config show --sources
expect 0 "^# settings file: $X/sys2/ptim/config\.ini$" '' -- xdg "$PTIM_BIN" config show --sources
expect 0 '^track\.hold_ms += 654 +#' '' -- env XDG_CONFIG_HOME= HOME="$X/nohome" XDG_CONFIG_DIRS="$X/sys2" XDG_STATE_HOME="$X/state" "$PTIM_BIN" config show --sources
# --config wins over the XDG places; a bad value there is in the XDG ptim.log too
printf '[mask]\ncolor = red\n' >"$X/bad.ini"
xdg "$PTIM_BIN" mask /nonexistent.png --config "$X/bad.ini" 2>/dev/null
grep -q "mask.color = red is not a colour" "$X/state/ptim/logs/ptim.log" ||
  { echo "FAIL: the settings error is not in \$XDG_STATE_HOME/ptim/logs/ptim.log"; fails=$((fails+1)); }
rm "$X/sys2/ptim/config.ini"
expect 0 "^# settings file: none" '' -- xdg "$PTIM_BIN" config show --sources

# --verbose prints startup stages
expect 0 '' '' -- "$PTIM_BIN" config show --verbose
verbose=$("$PTIM_BIN" config show --verbose 2>&1 >/dev/null)
grep -q '^ptim \[startup\] config [0-9.]* ms$' <<<"$verbose" || { echo "FAIL: --verbose lacks startup stages"; fails=$((fails+1)); }

# bad input: one sentence, exit 2, from each source
printf '[detector]\nthreshold = 1.7\n' >"$T/bad.ini"
expect 2 '' "ptim config: $T/bad.ini:2: detector.threshold = 1.7 is out of range [0.01, 1]" -- "$PTIM_BIN" config check "$T/bad.ini"
expect 2 '' "ptim config: $T/bad.ini:2: detector.threshold = 1.7 is out of range [0.01, 1]" -- "$PTIM_BIN" config show --config "$T/bad.ini"
printf '[detector]\nthreshold = 0.5\nmodel = short\n\n[mask]\nmdoe = blur\n' >"$T/typo.ini"
expect 2 '' "ptim config: $T/typo.ini:6: unknown key mask.mdoe (did you mean mask.mode?)" -- "$PTIM_BIN" config check "$T/typo.ini"
printf '[mask]\nmode blur\n' >"$T/malformed.ini"
expect 2 '' "ptim config: $T/malformed.ini:2: malformed line (expected name = value or [section])" -- "$PTIM_BIN" config check "$T/malformed.ini"
expect 2 '' "ptim config: cannot read config file $T/none.ini: No such file or directory" -- "$PTIM_BIN" config show --config "$T/none.ini"
expect 2 '' "ptim config: environment PTIM_TARGET_FPS='fast' is not a number" -- env PTIM_TARGET_FPS=fast "$PTIM_BIN" config show
expect 2 '' "ptim config: environment PTIM_MODEL_QUALITY='ultra' is not one of low|balanced|high" -- env PTIM_MODEL_QUALITY=ultra "$PTIM_BIN" config show
expect 2 '' "ptim config: environment PTIM_MASK_MOED is not a setting (did you mean PTIM_MASK_MODE?)" -- env PTIM_MASK_MOED=blur "$PTIM_BIN" config show
expect 2 '' "ptim config: --set performance.target_fps='0' is out of range [1, 120]" -- "$PTIM_BIN" config show --set performance.target_fps=0
expect 2 '' "ptim config: --set detector.treshold: unknown key detector.treshold (did you mean detector.threshold?)" -- "$PTIM_BIN" config show --set detector.treshold=0.3
expect 2 '' "ptim config: --set needs a value" -- "$PTIM_BIN" config show --set
expect 2 '' "ptim config: --config needs a file name" -- "$PTIM_BIN" config show --config=
expect 2 '' '' -- "$PTIM_BIN" config show --bogus
expect 2 '' '' -- "$PTIM_BIN" config check
printf 'x' >"$T/file"
expect 2 '' "ptim config: userdata: $T/file is not a directory" -- "$PTIM_BIN" config show --userdata-dir "$T/file"

# init writes a commented file that checks clean and never overwrites
expect 0 '' '' -- "$PTIM_BIN" config init "$T/init.ini"
expect 0 'ok$' '' -- "$PTIM_BIN" config check "$T/init.ini"
grep -q '^;threshold = 0.5$' "$T/init.ini" || { echo "FAIL: init lacks threshold"; fails=$((fails+1)); }
expect 2 '' "ptim config: cannot create $T/init.ini: File exists (give --force to replace it)" -- "$PTIM_BIN" config init "$T/init.ini"

[ $fails -eq 0 ] && echo "all cli config checks passed"
exit $((fails > 0))
