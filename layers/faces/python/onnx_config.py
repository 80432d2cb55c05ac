"""The faces layer's settings, read once from environment variables (12-factor).

    PHOTOSTACK_MODELS_DIR       the face models' folder (facerec); unset: bundled, then the cache
    PHOTOSTACK_OCR_MODELS_DIR   the bib-reading models' folder (bibocr); likewise
    PHOTOSTACK_CACHE            where infra/models/ fetches models (default ~/.cache/photostack)
    PHOTOSTACK_ONNX_THREADS     intra-op threads per ONNX Runtime session (default 1)

The layer is used by the faces and photos functions, which also have photostack.config; it
keeps its own so that it needs nothing but itself.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

MODEL_DIR_SETTINGS = ("PHOTOSTACK_MODELS_DIR", "PHOTOSTACK_OCR_MODELS_DIR")


@dataclass(frozen=True)
class OnnxSettings:
    model_dirs: dict[str, str]  # setting name -> folder, only the settings that are set
    cache: Path
    threads: int


@functools.cache
def get_onnx_settings() -> OnnxSettings:
    """The settings of this process, read once per warm container."""
    raw_threads = os.environ.get("PHOTOSTACK_ONNX_THREADS") or "1"
    try:
        threads = int(raw_threads)
    except ValueError as exc:
        raise ValueError(f"PHOTOSTACK_ONNX_THREADS must be an integer, got {raw_threads!r}") from exc
    return OnnxSettings(
        model_dirs={name: value for name in MODEL_DIR_SETTINGS if (value := os.environ.get(name))},
        cache=Path(os.environ.get("PHOTOSTACK_CACHE") or Path.home() / ".cache" / "photostack"),
        threads=threads,
    )
