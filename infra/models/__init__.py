"""The face models for tests, the evaluation and the benchmark: fetched once (fetch.sh), then cached."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

FETCH = Path(__file__).resolve().parent / "fetch.sh"


def ensure_models() -> Path:
    """The model folder, fetching the models first if they are not cached yet; also exported as
    PHOTOSTACK_MODELS_DIR so that `facerec.models.get_models()` finds it."""
    done = subprocess.run(["bash", str(FETCH)], capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"infra/models/fetch.sh failed ({done.returncode}): {done.stderr.strip()}")
    folder = Path(done.stdout.strip().splitlines()[-1])
    os.environ["PHOTOSTACK_MODELS_DIR"] = str(folder)
    return folder


FETCH_OCR = Path(__file__).resolve().parent / "fetch_ocr.sh"


def ensure_ocr_models() -> Path:
    """The bib OCR models (det.onnx, rec.onnx), fetched first if not cached; also exported as
    PHOTOSTACK_OCR_MODELS_DIR so that `bibocr.models.get_models()` finds them."""
    done = subprocess.run(["bash", str(FETCH_OCR)], capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"infra/models/fetch_ocr.sh failed ({done.returncode}): {done.stderr.strip()}")
    folder = Path(done.stdout.strip().splitlines()[-1])
    os.environ["PHOTOSTACK_OCR_MODELS_DIR"] = str(folder)
    return folder
