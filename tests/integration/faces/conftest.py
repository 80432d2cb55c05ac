"""Real face models for the integration tests, fetched by infra/models/fetch.sh (then cached)."""

from __future__ import annotations

import pytest
from facerec.models import FaceModels, load_models

from infra.eval_faces import Indexed, index_all, load_set
from infra.models import ensure_models


@pytest.fixture(scope="session")
def face_models() -> FaceModels:
    return load_models(ensure_models())


@pytest.fixture(scope="session")
def indexed(face_models: FaceModels) -> list[Indexed]:
    """Every photo of the evaluation set through the indexing pipeline, once per session."""
    return index_all(load_set(), face_models)
