"""The face models for tests, the evaluation and the benchmark: fetched once (fetch.sh), then cached."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

FETCH = Path(__file__).resolve().parent / "fetch.sh"


def _fetched(script: Path, setting: str) -> Path:
    """Run a fetch script (it prints the model folder last) and export the folder as ``setting``."""
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"infra/models/{script.name} failed ({done.returncode}): {done.stderr.strip()}")
    folder = Path(done.stdout.strip().splitlines()[-1])
    os.environ[setting] = str(folder)
    return folder


def ensure_models() -> Path:
    """The model folder, fetching the models first if they are not cached yet; also exported as
    PHOTOSTACK_MODELS_DIR so that `facerec.models.get_models()` finds it."""
    return _fetched(FETCH, "PHOTOSTACK_MODELS_DIR")


FETCH_OCR = Path(__file__).resolve().parent / "fetch_ocr.sh"


def ensure_ocr_models() -> Path:
    """The bib OCR models (det.onnx, rec.onnx), fetched first if not cached; also exported as
    PHOTOSTACK_OCR_MODELS_DIR so that `bibocr.models.get_models()` finds them."""
    return _fetched(FETCH_OCR, "PHOTOSTACK_OCR_MODELS_DIR")
