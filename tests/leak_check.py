#!/usr/bin/env python3
"""leak_check.py SRC OUT SRC.jsonl OUT.jsonl [--cover]

The leak hunt's judge (tests/leak_helpers.sh). SRC.jsonl and OUT.jsonl are
`ptim detect --json` per-frame detections of the source and of the masked
output. A frame leaks when
  - the output has a detection overlapping (IoU > MATCH_IOU) a source face, or
  - with --cover: a source face box is not covered in the output. The box is
    cut into its four edge strips (each 15 % of the side) and its middle; a
    part with more than COVER_MAX of its pixels as they were in the source
    (luma within 2) is uncovered. A masked face changes nearly every pixel
    (blur of face texture); the grey canvas around it is cropped out by
    clipping the box to the frame.
Prints one line per leaking frame and exits 1 when any frame leaks."""
import json
import os
import subprocess
import sys

COVER_MAX = 0.5
# An output detection is the source face found again when it overlaps its box
# by more than this. A blurred head can still be detected as a box about twice
# the face (its outline, hair and neck: IoU ~0.3 with the face box); that is
# not the face left visible (verify, confirming with FaceMesh, calls it clean).
MATCH_IOU = 0.5
# Source faces narrower than this (px) are left out (LEAK_MIN_FACE): a test
# about one face ignores other things the detector finds at the threshold.
MIN_FACE = float(os.environ.get("LEAK_MIN_FACE", "0"))


def frames_of(jsonl):
    out = {}
    with open(jsonl) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            o = json.loads(line)
            out[o["frame"]] = [(d["box"], d.get("score", 0)) for d in o.get("faces", [])
                               if d["box"][2] >= MIN_FACE]
            out.setdefault("size", (o["width"], o["height"]))
    return out


def iou(a, b):
    w = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    u = a[2] * a[3] + b[2] * b[3] - w * h
    return w * h / u if u > 0 else 0.0


def gray_frames(path, w, h):
    p = subprocess.Popen(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         stdout=subprocess.PIPE)
    n = w * h
    while True:
        b = p.stdout.read(n)
        if len(b) < n:
            break
        yield b
    p.wait()


def unchanged(a, b, w, x0, y0, x1, y1):
    tot = same = 0
    for y in range(y0, y1):
        ra, rb = a[y * w + x0:y * w + x1], b[y * w + x0:y * w + x1]
        tot += len(ra)
        same += sum(1 for p, q in zip(ra, rb) if abs(p - q) <= 2)
    return same / tot if tot else 0.0


def main():
    src, out, sj, oj = sys.argv[1:5]
    cover = "--cover" in sys.argv[5:]
    s, o = frames_of(sj), frames_of(oj)
    w, h = s.get("size", (0, 0))
    bad = 0
    nframes = len([k for k in s if k != "size"])
    if nframes == 0:
        print("no frames read from the source detections")
        return 1
    for i in range(nframes):
        for ob, osc in o.get(i, []):
            for sb, _ in s.get(i, []):
                if iou(ob, sb) > MATCH_IOU:
                    print(f"frame {i}: face found on the output at {[round(v) for v in ob]} score {osc:.2f}")
                    bad += 1
    if cover:
        for i, (a, b) in enumerate(zip(gray_frames(src, w, h), gray_frames(out, w, h))):
            for box, _ in s.get(i, []):
                x0, y0 = max(0, int(box[0])), max(0, int(box[1]))
                x1, y1 = min(w, int(box[0] + box[2] + 0.999)), min(h, int(box[1] + box[3] + 0.999))
                if x1 - x0 < 4 or y1 - y0 < 4:
                    continue
                sx, sy = max(1, int(0.15 * (x1 - x0))), max(1, int(0.15 * (y1 - y0)))
                parts = {"left": (x0, y0, x0 + sx, y1), "right": (x1 - sx, y0, x1, y1),
                         "top": (x0, y0, x1, y0 + sy), "bottom": (x0, y1 - sy, x1, y1),
                         "middle": (x0 + sx, y0 + sy, x1 - sx, y1 - sy)}
                for name, (a0, b0, a1, b1) in parts.items():
                    u = unchanged(a, b, w, a0, b0, a1, b1)
                    if u > COVER_MAX:
                        print(f"frame {i}: face box {[round(v) for v in box]}: {name} strip {u:.0%} unmasked")
                        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
