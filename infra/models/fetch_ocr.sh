#!/usr/bin/env bash
# Fetch the bib-reading OCR models (PP-OCRv4 text detection and recognition, ONNX, Apache-2.0)
# from the PyPI wheel that ships them, rapidocr_onnxruntime 1.4.4, and cache them outside the
# repo as det.onnx and rec.onnx. Only the two model files are used: the package's own code needs
# OpenCV, which the faces layer has no room for (layers/faces/python/bibocr does the rest).
# The wheel declares Python < 3.13, so it is downloaded as a file, never installed.
# Idempotent: a second run only checks the cache. Prints the model folder on stdout.
#
#   PHOTOSTACK_CACHE   cache root (default ~/.cache/photostack); models go to $PHOTOSTACK_CACHE/ocr-models
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WHEEL="rapidocr_onnxruntime-1.4.4-py3-none-any.whl"
# sha256 of the wheel as the registry serves it: a changed file under the same version is refused.
WHEEL_SHA256="971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf"
DET="rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx"
REC="rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx"

cache_root="${PHOTOSTACK_CACHE:-$HOME/.cache/photostack}"
dest="$cache_root/ocr-models"
mkdir -p "$dest"

have_all() { [[ -s "$dest/det.onnx" && -s "$dest/rec.onnx" ]]; }

if have_all; then echo "$dest"; exit 0; fi

exec 9>"$dest/.lock"
flock 9
if have_all; then echo "$dest"; exit 0; fi

py="$ROOT/.venv/bin/python"
[[ -x "$py" ]] || py="$(command -v python3)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "[photostack] fetching $WHEEL with pip download" >&2
"$py" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
  --python-version 3.12 -d "$work" "rapidocr_onnxruntime==1.4.4" >&2
actual="$(sha256sum "$work/$WHEEL" | cut -d' ' -f1)"
if [[ "$actual" != "$WHEEL_SHA256" ]]; then
  echo "[photostack] $WHEEL: sha256 $actual, expected $WHEEL_SHA256" >&2
  exit 1
fi
"$py" - "$work/$WHEEL" "$dest" "$DET" "$REC" <<'PY'
import sys, zipfile
from pathlib import Path
wheel, dest, det, rec = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
with zipfile.ZipFile(wheel) as z:
    for member, name in ((det, "det.onnx"), (rec, "rec.onnx")):
        tmp = dest / f".{name}.tmp"
        tmp.write_bytes(z.read(member))
        tmp.rename(dest / name)  # a reader never sees a half-written model
PY
echo "$dest"
