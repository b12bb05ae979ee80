#!/usr/bin/env python3
"""bench_recall.py [BUILD_DIR (default: build)] - recall of `ptim detect` against OpenCV's Haar
frontal-face cascade on small faces (issue 15, "measure first").

Faces come from the sample pictures (astronaut.png, messi5.jpg, camera.png)
and a few frames of samples/Megamind.avi; each face's box and FaceMesh
landmarks are found by ptim itself on the full-resolution source.  Each face
is pasted, one per 640x480 canvas, at face widths 24/32/48/72 px, in two crops:
  whole  the head with hair and some neck/background (ptim's box grown 1.8x);
         the face box is ptim's box, scaled
  tight  brows to chin, cheek to cheek (landmarks), nothing around it; the
         face box is the whole crop
on two backgrounds (plain mid-grey; busy: crops of opencv-doc's building.jpg
and fruits.jpg, which hold no face) at three positions.  A detection is a hit
when its centre lies inside the pasted face box and its width is 0.5-2x the
face width.  A source face is not scaled up more than 2x (messi5's ~30 px face
is left out at 72 px), so the cells' counts differ a little.

Then both detectors run on pictures that hold no human face (false boxes per
picture) and on frames of samples/vtest.avi (pedestrians: their heads are
real, if small, so boxes there are reported per frame, not judged).

Needs python3-opencv (cv2 and numpy); standard library otherwise.  The images
are written to a temporary directory, deleted at the end.
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import cv2
    import numpy as np
except ImportError:
    # Debian's python3-opencv lives in the system interpreter's dist-packages;
    # a python3 from pyenv/venv earlier on PATH does not see it: try that one.
    sysp = "/usr/bin/python3"
    if (os.path.exists(sysp) and os.path.realpath(sys.executable) != os.path.realpath(sysp)
            and not os.environ.get("PTIM_BENCH_RECALL_REEXEC")):
        os.environ["PTIM_BENCH_RECALL_REEXEC"] = "1"
        os.execv(sysp, [sysp] + sys.argv)
    print("bench_recall: needs OpenCV for Python (Debian/Ubuntu: apt-get install python3-opencv).",
          file=sys.stderr)
    sys.exit(2)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "samples")  # see main(): PTIM_SAMPLES, BUILD/../samples
CVDATA = "/usr/share/doc/opencv-doc/examples/data"
CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
CANVAS_W, CANVAS_H = 640, 480
SIZES = (24, 32, 48, 72)
CROPS = ("whole", "tight")
BACKS = ("plain", "busy")
POSITIONS = ((0.15, 0.25), (0.5, 0.5), (0.85, 0.75))  # fractions of the free room
HEAD_GROW = 1.8
MAX_UPSCALE = 2.0
MEGAMIND_FRAMES = (20, 90, 170, 220)
VTEST_FRAMES = (0, 100, 200, 300, 400, 500, 600, 700)
# opencv-doc pictures checked by eye to hold no human (or cartoon) face.
NOFACE = ("home.jpg", "stuff.jpg", "fruits.jpg", "building.jpg", "baboon.jpg",
          "aero1.jpg", "leuvenA.jpg", "box_in_scene.png", "board.jpg",
          "squirrel_cls.jpg", "ela_original.jpg", "starry_night.jpg",
          "butterfly.jpg", "orange.jpg")
BUSY = ("building.jpg", "fruits.jpg")
# FaceMesh indices for the tight crop.
CHEEKS = (234, 454)
BROWS = (70, 63, 105, 66, 107, 336, 296, 334, 293, 300)
CHIN = 152


def die(msg, code=1):
    print("bench_recall: " + msg, file=sys.stderr)
    sys.exit(code)


def ptim_detect(ptim, paths, landmarks=False):
    """{path: [faces]} from one `ptim detect --json` run over every path."""
    cmd = [ptim, "detect", "--json", "-q"] + (["--landmarks"] if landmarks else []) + list(paths)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        die("ptim detect failed (exit %d): %s" % (r.returncode, r.stderr.strip()[-500:]))
    out = {}
    for line in r.stdout.splitlines():
        d = json.loads(line)
        key = d.get("input", paths[0])
        out.setdefault(key, []).extend(d["faces"])
    missing = [p for p in paths if p not in out]
    if missing:
        die("ptim detect printed nothing for %s" % missing[0])
    return out


def haar_detect(cascade, img):
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    boxes = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=3, minSize=(24, 24))
    return [tuple(int(v) for v in b) for b in boxes]


def read_frames(path, wanted):
    cap = cv2.VideoCapture(path)
    frames, n = {}, 0
    while len(frames) < len(wanted):
        ok, img = cap.read()
        if not ok:
            break
        if n in wanted:
            frames[n] = img
        n += 1
    cap.release()
    if len(frames) < len(wanted):
        die("could not read frames %s of %s" % (sorted(set(wanted) - set(frames)), path))
    return [frames[n] for n in wanted]


def crop_clamped(img, x0, y0, x1, y1):
    """Crop [x0,x1)x[y0,y1) clipped to the picture; returns (crop, x0, y0)."""
    h, w = img.shape[:2]
    x0, y0 = max(0, int(round(x0))), max(0, int(round(y0)))
    x1, y1 = min(w, int(round(x1))), min(h, int(round(y1)))
    return img[y0:y1, x0:x1], x0, y0


def make_crops(img, face):
    """[(crop name, crop image, face box in the crop (x,y,w,h))] for one face."""
    bx, by, bw, bh = face["box"]
    lm = face["landmarks"]
    out = []
    side = HEAD_GROW * max(bw, bh)
    cx, cy = bx + bw / 2, by + bh / 2 - 0.1 * bh  # a little up: hair
    c, x0, y0 = crop_clamped(img, cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    out.append(("whole", c, (bx - x0, by - y0, bw, bh)))
    xs = [lm[i][0] for i in CHEEKS]
    ytop = min(lm[i][1] for i in BROWS)
    c, x0, y0 = crop_clamped(img, min(xs), ytop, max(xs), lm[CHIN][1])
    out.append(("tight", c, (0, 0, c.shape[1], c.shape[0])))
    return out


def busy_background(rng, pics):
    src = pics[rng.randrange(len(pics))]
    h, w = src.shape[:2]
    cw = min(w, h * 4 // 3)
    ch = cw * 3 // 4
    x, y = rng.randrange(w - cw + 1), rng.randrange(h - ch + 1)
    return cv2.resize(src[y:y + ch, x:x + cw], (CANVAS_W, CANVAS_H), interpolation=cv2.INTER_AREA)


def is_hit(det, gt):
    dx, dy, dw, dh = det
    gx, gy, gw, gh = gt
    cx, cy = dx + dw / 2, dy + dh / 2
    return gx <= cx <= gx + gw and gy <= cy <= gy + gh and 0.5 * gw <= dw <= 2 * gw


def main():
    t0 = time.time()
    global SAMPLES
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
    ptim = os.path.join(build, "ptim")
    if not os.access(ptim, os.X_OK):
        die("no ptim binary at %s" % ptim, 2)
    # samples/ is fetched by scripts/bootstrap.sh; a git worktree may lack it,
    # so also look next to the build dir.
    for d in (os.environ.get("PTIM_SAMPLES"), SAMPLES, os.path.join(build, "..", "samples")):
        if d and os.path.exists(os.path.join(d, "Megamind.avi")):
            SAMPLES = os.path.abspath(d)
            break
    need = [os.path.join(SAMPLES, n) for n in ("astronaut.png", "messi5.jpg", "camera.png",
                                               "Megamind.avi", "vtest.avi")]
    for f in need + [CASCADE] + [os.path.join(CVDATA, n) for n in NOFACE]:
        if not os.path.exists(f):
            die("missing %s (samples: scripts/bootstrap.sh or PTIM_SAMPLES=DIR; cascade and pictures: Debian opencv-data, opencv-doc)" % f, 2)
    cascade = cv2.CascadeClassifier(CASCADE)
    if cascade.empty():
        die("could not load %s" % CASCADE, 2)
    rng = random.Random(15)
    tmp = tempfile.mkdtemp(prefix="ptim-bench-recall.")
    try:
        run(ptim, cascade, rng, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("(%.0f s)" % (time.time() - t0))


def run(ptim, cascade, rng, tmp):
    # 1. source pictures and ptim's faces in them, at full resolution.
    srcs = []
    for n in ("astronaut.png", "messi5.jpg", "camera.png"):
        srcs.append((n, cv2.imread(os.path.join(SAMPLES, n), cv2.IMREAD_COLOR)))
    mm = read_frames(os.path.join(SAMPLES, "Megamind.avi"), MEGAMIND_FRAMES)
    srcs += [("Megamind.avi#%d" % n, im) for n, im in zip(MEGAMIND_FRAMES, mm)]
    paths = []
    for i, (n, im) in enumerate(srcs):
        if im is None:
            die("could not read %s" % n)
        p = os.path.join(tmp, "src%d.png" % i)
        cv2.imwrite(p, im)
        paths.append(p)
    found = ptim_detect(ptim, paths, landmarks=True)
    faces = []  # (label, crop name, crop image, face box in crop)
    print("source faces (ptim at full resolution, box x,y,w,h):")
    for (n, im), p in zip(srcs, paths):
        fs = [f for f in found[p] if f.get("landmarks")]
        print("  %-18s %s" % (n, " ".join("[%d,%d,%d,%d]" % tuple(round(v) for v in f["box"])
                                          for f in fs) or "none"))
        for k, f in enumerate(fs):
            for crop in make_crops(im, f):
                faces.append(("%s/%d" % (n, k),) + crop)
    nsrc = len(faces) // 2

    # 2. test images: one pasted face per 640x480 canvas.
    busy_pics = [cv2.imread(os.path.join(CVDATA, n), cv2.IMREAD_COLOR) for n in BUSY]
    cases = []  # (path, size, crop, back, gt box)
    for label, crop, cimg, fbox in faces:
        fw = fbox[2]
        for size in SIZES:
            s = size / fw
            if s > MAX_UPSCALE:
                continue
            w, h = max(1, round(cimg.shape[1] * s)), max(1, round(cimg.shape[0] * s))
            if w > CANVAS_W or h > CANVAS_H:
                continue
            small = cv2.resize(cimg, (w, h), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
            for back in BACKS:
                for fx, fy in POSITIONS:
                    if back == "plain":
                        canvas = np.full((CANVAS_H, CANVAS_W, 3), 128, np.uint8)
                    else:
                        canvas = busy_background(rng, busy_pics)
                    x = int(fx * (CANVAS_W - w)) + rng.randrange(-8, 9)
                    y = int(fy * (CANVAS_H - h)) + rng.randrange(-8, 9)
                    x, y = min(max(0, x), CANVAS_W - w), min(max(0, y), CANVAS_H - h)
                    canvas[y:y + h, x:x + w] = small
                    gt = (x + fbox[0] * s, y + fbox[1] * s, fbox[2] * s, fbox[3] * s)
                    p = os.path.join(tmp, "case%04d.png" % len(cases))
                    cv2.imwrite(p, canvas)
                    cases.append((p, size, crop, back, gt, label))

    # 3. both detectors on every test image.
    t = time.time()
    pt = ptim_detect(ptim, [c[0] for c in cases])  # pictures: each one on its own
    t_ptim = time.time() - t
    t = time.time()
    hr = {c[0]: haar_detect(cascade, cv2.imread(c[0])) for c in cases}
    t_haar = time.time() - t
    stats = {}  # (size, crop, back) -> [n, ptim hits, haar hits]
    bysrc = {}  # (source face, crop) -> [n, ptim hits, haar hits]
    for p, size, crop, back, gt, label in cases:
        hp = any(is_hit(f["box"], gt) for f in pt[p])
        hh = any(is_hit(b, gt) for b in hr[p])
        for st in (stats.setdefault((size, crop, back), [0, 0, 0]),
                   bysrc.setdefault((label, crop), [0, 0, 0])):
            st[0] += 1
            st[1] += hp
            st[2] += hh

    print("\nrecall: %d source faces x %s px x whole/tight x plain/busy x %d positions = %d"
          " images (640x480, one face each)" % (nsrc, "/".join(map(str, SIZES)), len(POSITIONS), len(cases)))
    print("hit: box centre inside the pasted face box, width 0.5-2x the face width;"
          " cell = hits/faces")
    cols = [(c, b) for c in CROPS for b in BACKS]
    tot = {"ptim": [0, 0], "haar": [0, 0]}
    for di, det in ((1, "ptim"), (2, "haar")):
        print("\n%-6s %s %12s" % (det, "".join("%14s" % ("%s/%s" % cb) for cb in cols), "all"))
        colsum = {cb: [0, 0] for cb in cols}
        for size in SIZES:
            cells, rn, rh = [], 0, 0
            for cb in cols:
                n, h = stats.get((size,) + cb, [0, 0, 0])[0], stats.get((size,) + cb, [0, 0, 0])[di]
                cells.append("%8d/%-3d%s" % (h, n, "  " if n else "  "))
                colsum[cb][0] += n
                colsum[cb][1] += h
                rn += n
                rh += h
            print("%4dpx %s %7d/%-3d %3.0f%%" % (size, "".join("%14s" % c for c in cells), rh, rn,
                                                 100.0 * rh / max(rn, 1)))
        an = sum(v[0] for v in colsum.values())
        ah = sum(v[1] for v in colsum.values())
        tot[det] = [ah, an]
        print("%-6s %s %7d/%-3d %3.0f%%" % ("all", "".join(
            "%14s" % ("%d/%d %3.0f%%" % (v[1], v[0], 100.0 * v[1] / max(v[0], 1)))
            for v in colsum.values()), ah, an, 100.0 * ah / max(an, 1)))

    print("\nrecall difference ptim - haar, percentage points:")
    print("%-6s %s" % ("", "".join("%14s" % ("%s/%s" % cb) for cb in cols)))
    for size in SIZES:
        row = []
        for cb in cols:
            n, hp, hh = stats.get((size,) + cb, [0, 0, 0])
            row.append("%+13.0f " % (100.0 * (hp - hh) / n) if n else "%14s" % "-")
        print("%4dpx %s" % (size, "".join(row)))
    print("\nrecall by source face (all sizes, backgrounds, positions), ptim / haar:")
    print("%-20s %16s %16s" % ("face", "whole", "tight"))
    for label in sorted({k[0] for k in bysrc}, key=[f[0] for f in faces].index):
        print("%-20s %s" % (label, "".join(
            " %16s" % ("%d / %d of %d" % (v[1], v[2], v[0])) for v in
            (bysrc.get((label, c), [0, 0, 0]) for c in CROPS))))
    print("time: ptim %.1f s (one run, %d images), haar %.1f s" % (t_ptim, len(cases), t_haar))

    # 4. false boxes: pictures with no human face, then pedestrian frames.
    neg = []
    for n in NOFACE:
        p = os.path.join(tmp, "neg_" + os.path.splitext(n)[0] + ".png")
        shutil.copy(os.path.join(CVDATA, n), p) if n.endswith(".png") else \
            cv2.imwrite(p, cv2.imread(os.path.join(CVDATA, n), cv2.IMREAD_COLOR))
        neg.append((n, p))
    vt = read_frames(os.path.join(SAMPLES, "vtest.avi"), VTEST_FRAMES)
    ped = []
    for n, im in zip(VTEST_FRAMES, vt):
        p = os.path.join(tmp, "vtest%03d.png" % n)
        cv2.imwrite(p, im)
        ped.append(("vtest.avi#%d" % n, p))
    pt = ptim_detect(ptim, [p for _, p in neg + ped])
    print("\nfalse boxes on pictures with no human face (opencv-doc examples/data):")
    print("%-18s %9s %5s %5s" % ("picture", "size", "ptim", "haar"))
    sp = sh = 0
    for n, p in neg:
        im = cv2.imread(p)
        a, b = len(pt[p]), len(haar_detect(cascade, im))
        sp += a
        sh += b
        print("%-18s %9s %5d %5d" % (n, "%dx%d" % (im.shape[1], im.shape[0]), a, b))
    print("%-18s %9s %5d %5d   (%.2f / %.2f per picture)" % ("all %d" % len(neg), "", sp, sh,
                                                            sp / len(neg), sh / len(neg)))
    print("\nboxes per frame on samples/vtest.avi (768x576 pedestrians, heads ~15-30 px;"
          " boxes are not judged - a box may be a real head)")
    print("%-18s %5s %5s" % ("frame", "ptim", "haar"))
    sp = sh = 0
    for n, p in ped:
        a, b = len(pt[p]), len(haar_detect(cascade, cv2.imread(p)))
        sp += a
        sh += b
        print("%-18s %5d %5d" % (n, a, b))
    print("%-18s %5.2f %5.2f" % ("mean per frame", sp / len(ped), sh / len(ped)))


if __name__ == "__main__":
    main()
