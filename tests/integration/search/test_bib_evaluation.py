"""The bib evaluation's figures, on a smaller set than `make eval-search` (36 photos instead of
240, same generator, another seed), held above floors: a change to the OCR pipeline, the bib
rules or the store that loses precision or recall fails here.

Measured: the full evaluation (240 photos, 331 bibs of 10-160 px) precision 0.981, recall 0.940;
this set (36 photos, 50 bibs) precision 0.979, recall 0.920, every bib of 32 px and up found.
A set this small moves by several points from seed to seed, hence the floors: precision >= 0.95,
recall >= 0.80, bibs of 32 px and up found at >= 90%.
"""

from __future__ import annotations

import pytest
from bibocr.models import OcrModels

from infra.bib_images import generate
from infra.eval_search import DATA, HEIGHTS, evaluate, read_all

pytestmark = pytest.mark.integration

PRECISION_FLOOR = 0.95
RECALL_FLOOR = 0.80
LARGE_BIB_FLOOR = 0.90


def test_bib_search_precision_and_recall_hold_their_floors(ocr_models: OcrModels, database_url: str) -> None:
    report = evaluate(read_all(generate(DATA, 36, seed=1616, heights=HEIGHTS), ocr_models), database_url)
    assert report.bibs >= 40 and report.photos - report.with_bibs >= 4
    assert report.precision >= PRECISION_FLOOR, report
    assert report.recall >= RECALL_FLOOR, report
    large = [hit for floor, hits in report.by_height.items() if floor >= 32 for hit in hits]
    assert sum(large) / len(large) >= LARGE_BIB_FLOOR, report.by_height
