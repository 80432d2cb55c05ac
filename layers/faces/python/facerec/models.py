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

from dataclasses import dataclass
from pathlib import Path

import onnxmodels
import onnxruntime as ort
from photostack.warm import WarmSlot

from facerec.errors import ModelsUnavailable

DETECT = "fr_detect.onnx"
LANDMARK = "fr_landmark.onnx"
FEATURE = "fr_feature.onnx"


def models_dir() -> Path:
    return onnxmodels.models_dir("PHOTOSTACK_MODELS_DIR", "faces_models", "models", marker=DETECT)


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
    session = onnxmodels.cpu_sessions(folder, threads)
    return FaceModels(detector=session(DETECT), landmarks=session(LANDMARK), feature=session(FEATURE))


_models: WarmSlot[FaceModels] = WarmSlot("face models", lambda: load_models())


def get_models() -> FaceModels:
    """The process-wide sessions; a warm Lambda container or the sidecar loads them once (~100 ms)."""
    return _models.get()

