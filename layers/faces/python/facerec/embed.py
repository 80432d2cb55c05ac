"""Face embedding (fr_feature.onnx): an aligned 112x112 RGB face to a unit 512-D vector.

Unit length makes cosine similarity a plain dot product, which is what the index computes.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
from PIL import Image

DIMENSIONS = 512


def embed(session: ort.InferenceSession, aligned: Image.Image) -> np.ndarray:
    pixels = (np.asarray(aligned.convert("RGB"), dtype=np.float32) - 127.0) / 128.0
    (out,) = session.run(["output"], {"input": pixels.transpose(2, 0, 1)[np.newaxis]})
    vector = out.reshape(DIMENSIONS).astype(np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector
