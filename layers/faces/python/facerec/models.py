"""The three ONNX sessions (detector, landmarks, embedding), loaded once per process.

Settings (environment):
  PHOTOSTACK_MODELS_DIR     folder holding fr_detect.onnx, fr_landmark.onnx, fr_feature.onnx
                            (default: the models bundled in the faces Lambda layer, i.e. the folder of
                            the importable `faces_models` package; else $PHOTOSTACK_CACHE/models,
                            where infra/models/fetch.sh puts them)
  PHOTOSTACK_ONNX_THREADS   intra-op threads per session (default 1; 0 lets onnxruntime use every core)

One thread by default: a Lambda function below 1,769 MB has one vCPU, throughput comes from
concurrent invocations, and on a busy shared host two threads measured 2x slower per photo.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort
from photostack.warm import WarmSlot

from facerec.errors import ModelsUnavailable

DETECT = "fr_detect.onnx"
LANDMARK = "fr_landmark.onnx"
FEATURE = "fr_feature.onnx"


def models_dir() -> Path:
    explicit = os.environ.get("PHOTOSTACK_MODELS_DIR")
    if explicit:
        return Path(explicit)
    # Found through the import system: the layer sits at /opt/python on AWS and at its unzipped
    # path under the local process executor.
    bundled = importlib.util.find_spec("faces_models")
    if bundled is not None and bundled.origin:
        return Path(bundled.origin).parent
    cache = os.environ.get("PHOTOSTACK_CACHE") or str(Path.home() / ".cache" / "photostack")
    return Path(cache) / "models"


@dataclass(frozen=True)
class FaceModels:
    detector: ort.InferenceSession
    landmarks: ort.InferenceSession
    feature: ort.InferenceSession


def load_models(folder: Path | None = None, threads: int | None = None) -> FaceModels:
    folder = folder or models_dir()
    missing = [name for name in (DETECT, LANDMARK, FEATURE) if not (folder / name).is_file()]
    if missing:
        raise ModelsUnavailable(f"face models missing in {folder}: {', '.join(missing)} "
                                "(run infra/models/fetch.sh)")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads if threads is not None else int(
        os.environ.get("PHOTOSTACK_ONNX_THREADS", "1"))
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # the models carry unused initialisers that onnxruntime warns about

    def session(name: str) -> ort.InferenceSession:
        return ort.InferenceSession(str(folder / name), sess_options=options,
                                    providers=["CPUExecutionProvider"])

    return FaceModels(detector=session(DETECT), landmarks=session(LANDMARK), feature=session(FEATURE))


_models: WarmSlot[FaceModels] = WarmSlot("face models", lambda: load_models())


def get_models() -> FaceModels:
    """The process-wide sessions; a warm Lambda container or the sidecar loads them once (~100 ms)."""
    return _models.get()

