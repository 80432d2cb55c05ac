"""Real OCR models for the bib tests (infra/models/fetch_ocr.sh fetches them once, then cached)."""

from __future__ import annotations

import pytest
from bibocr.models import OcrModels, load_models
from facerec.models import FaceModels
from facerec.models import load_models as load_face_models

from infra.models import ensure_models, ensure_ocr_models


@pytest.fixture(scope="session")
def ocr_models() -> OcrModels:
    return load_models(ensure_ocr_models())


@pytest.fixture(scope="session")
def face_models() -> FaceModels:
    return load_face_models(ensure_models())
