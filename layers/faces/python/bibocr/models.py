"""The two PP-OCR ONNX sessions (text detection, text recognition), loaded once per process.

Settings (environment):
  PHOTOSTACK_OCR_MODELS_DIR  folder holding det.onnx and rec.onnx (default: the models bundled in
                             the faces Lambda layer, i.e. the folder of the importable
                             `bibocr_models` package when they are there; else
                             $PHOTOSTACK_CACHE/ocr-models, where infra/models/fetch_ocr.sh puts them)
  PHOTOSTACK_ONNX_THREADS    intra-op threads per session (default 1, as for the face models)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import onnxmodels
import onnxruntime as ort
from photostack.warm import WarmSlot

DET = "det.onnx"
REC = "rec.onnx"


class OcrModelsUnavailable(RuntimeError):
    """The model files are not where they should be: a deployment fault, not bad input."""


def models_dir() -> Path:
    return onnxmodels.models_dir("PHOTOSTACK_OCR_MODELS_DIR", "bibocr_models", "ocr-models", marker=DET)


@dataclass(frozen=True)
class OcrModels:
    det: ort.InferenceSession
    rec: ort.InferenceSession
    charset: tuple[str, ...]  # CTC classes: index 0 is the blank


def load_models(folder: Path | None = None, threads: int | None = None) -> OcrModels:
    folder = folder or models_dir()
    missing = [name for name in (DET, REC) if not (folder / name).is_file()]
    if missing:
        raise OcrModelsUnavailable(f"OCR models missing in {folder}: {', '.join(missing)} "
                                   "(run infra/models/fetch_ocr.sh)")
    session = onnxmodels.cpu_sessions(folder, threads)

    rec = session(REC)
    # PaddleOCR's exported recognisers carry their dictionary in the model's metadata; the
    # classes are blank, the dictionary, then a space.
    dictionary = rec.get_modelmeta().custom_metadata_map.get("character", "").splitlines()
    charset = ("", *dictionary, " ")
    classes = rec.get_outputs()[0].shape[-1]
    if isinstance(classes, int) and classes != len(charset):
        raise OcrModelsUnavailable(f"rec.onnx has {classes} classes but {len(charset)} characters")
    return OcrModels(det=session(DET), rec=rec, charset=charset)


_models: WarmSlot[OcrModels] = WarmSlot("OCR models", lambda: load_models())


def get_models() -> OcrModels:
    return _models.get()
