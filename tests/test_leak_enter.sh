#!/usr/bin/env bash
# Leak hunt, issue 17 item 1: a face that enters while another is followed
# is masked from the first frame it is on (offline: the look-back follows a
# new face back through the frames not yet written). 640x360, 45 frames:
# astronaut (face ~58 px) on the left the whole time; a head-and-shoulders
# copy with a face of 24, 40, 58 or 120 px enters on the right at frame 22,
# appearing in place or sliding in from the right edge. On every frame the
# detector's faces on the source are not found on the output and their
# boxes are covered, and (for the issue's 58 px face) `ptim verify ORIGINAL
# MASKED` is clean. The grey field is still, so the rolling scan passes its
# unchanged tiles by (issue 12, face/tile_still): the entering face changes
# its tile, which is scanned on its turn.
source "$(dirname "$0")/pipeline_helpers.sh"
source "$(dirname "$0")/leak_helpers.sh"

whole_png 58 "$T/left.png"
SIZES="24 40 58 120"
[ "$LEAK_QUICK" = 1 ] && SIZES=58
for F in $SIZES; do
  head_png "$F" "$T/head$F.png"
  s=$(head_size "$F")
  y=$(( (360 - s) / 2 ))
  x=$(( 630 - s )); [ "$x" -lt 330 ] && x=330
  for how in place side; do
    if [ "$how" = place ]; then
      px="$x"
    else # enters from the right edge at 12 px per frame, stops at x
      px="max($x\,W-(n-22)*12)"
    fi
    clip=$T/enter_${F}_$how.mp4
    grey_clip "$clip" 640x360 45 \
      "[0][1]overlay=20:20[a];[a][2]overlay=x='$px':y=$y:enable='gte(n,22)'[v]" "$T/left.png" "$T/head$F.png"
    out=$T/enter_${F}_${how}_masked.mp4
    if "$PTIM_BIN" mask -q "$clip" -o "$out" --audit "$T/a.jsonl" --stats-json "$T/s.json" 2>"$T/err"; then
      why=$(leak_check "$clip" "$out" --cover) || fail "face $F px, $how: $(echo "$why" | head -5)"
      # the grey field is still: the rolling scan passes its unchanged tiles
      # by (face/tile_still), and the entering face must be found all the same
      [ "$(jq '.tiles.passed_unchanged' "$T/s.json")" -gt 0 ] || fail "face $F px, $how: no tile was passed by: $(jq -c .tiles "$T/s.json")"
      [ "$F" != 58 ] || "$PTIM_BIN" verify -q "$clip" "$out" >"$T/v.txt" 2>&1 || fail "face $F px, $how: ptim verify: $(tail -2 "$T/v.txt")"
    else
      fail "ptim mask $clip failed: $(cat "$T/err")"
    fi
    pass "second face $F px entering ($how)"
  done
done
finish
