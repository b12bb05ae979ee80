#!/usr/bin/env bash
# Hot reload through the command: `ptim config watch` applies edits of the
# settings file the way `run` does between frames — a valid edit is applied,
# a key that is not live is reported as needing a restart, an invalid edit is
# rejected with its message and the previous settings stay.
set -uo pipefail
: "${PTIM_BIN:?}" "${PTIM_TEST_TMP:?}"
T=$(mktemp -d "$PTIM_TEST_TMP/cli_hot_reload.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$T"' EXIT
fails=0
wait_for() { # PATTERN: wait up to 20 s for a line in the output
  for _ in $(seq 200); do grep -qE -- "$1" "$T/out" && return 0; sleep 0.1; done
  echo "FAIL: no /$1/ in output:"; cat "$T/out"; fails=$((fails+1)); return 1
}
mkdir "$T/ud"
printf '[mask]\nmode = blur\n' >"$T/ud/config.ini"
"$PTIM_BIN" config watch --userdata-dir "$T/ud" --events 3 >"$T/out" 2>&1 &
pid=$!
wait_for "^watching $T/ud/config.ini$"
printf '[mask]\nmode = solid\n[performance]\nmax_processing_workers = 2\n' >"$T/ud/config.ini"
wait_for '^applied: mask\.mode = solid$'
wait_for '^needs restart: performance\.max_processing_workers$'
printf '[mask]\nmode = solid\n[detector]\nthreshold = 1.7\n' >"$T/ud/config.ini"
wait_for "^rejected: $T/ud/config.ini:4: detector\.threshold = 1\.7 is out of range \[0\.01, 1\] \(previous settings stay\)$"
# saved the way editors do: a new file renamed over the old one
printf '[mask]\nmode = pixelate\n[detector]\nthreshold = 0.3\n' >"$T/ud/.config.ini.tmp"
mv "$T/ud/.config.ini.tmp" "$T/ud/config.ini"
wait_for '^applied: detector\.threshold = 0\.3$'
wait_for '^applied: mask\.mode = pixelate$'
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && { echo "FAIL: watch did not stop after 3 events"; kill "$pid"; fails=$((fails+1)); }
wait "$pid"; rc=$?; pid=
[ $rc -eq 0 ] || { echo "FAIL: watch exited $rc"; fails=$((fails+1)); }
# interrupted: exits 0
printf '[mask]\nmode = blur\n' >"$T/ud/config.ini"
"$PTIM_BIN" config watch --userdata-dir "$T/ud" >"$T/out" 2>&1 &
pid=$!
wait_for '^watching '
kill -INT "$pid"; wait "$pid"; rc=$?; pid=
[ $rc -eq 0 ] || { echo "FAIL: interrupted watch exited $rc"; fails=$((fails+1)); }
# nothing to watch, or hot reload switched off: exit 2 with a sentence
"$PTIM_BIN" config watch >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'no settings file' "$T/err" || { echo "FAIL: watch without a file: $rc $(cat "$T/err")"; fails=$((fails+1)); }
"$PTIM_BIN" config watch --userdata-dir "$T/ud" --set system.enable_hot_reload=false >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'hot reload is off' "$T/err" || { echo "FAIL: watch with hot reload off: $rc $(cat "$T/err")"; fails=$((fails+1)); }
[ $fails -eq 0 ] && echo "all hot reload checks passed"
exit $((fails > 0))
