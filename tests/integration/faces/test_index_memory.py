"""A warm face-index function stays inside its memory, however many photos it indexes.

The index function runs faces then bibs (PP-OCR) on each photo's web derivative. The OCR
sessions' CPU memory arena once kept every block it grew for an input shape (text detection at
each photo's aspect, text lines of every width: a new shape with nearly every photo); after
~10 web derivatives of the bench's upload corpus the warm function passed its 1024 MB
and was killed mid-batch (Runtime.OutOfMemory), so the whole SQS batch came back only after
the queue's 360 s visibility timeout, and so did the next batches of big photos: any notice in
such a batch (the bib e2e test's, behind the photos a `make bench` left) waited 6 minutes.

Here, with the real models through the getters the function uses, in a fresh process that has
imported the function's handler module: photo-like pictures at the web sizes of that corpus,
indexed one after another, must keep the process's peak well under the function's MemorySize
(template.yaml), and its resident memory must not grow with the photos. With the arena keeping
its blocks: RSS 422 MB after the first photo, 1093 MB after the 11th, peak 1103 MB; with
onnxmodels.RELEASING_RUN: RSS ~200 MB throughout, peak 695 MB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.deploy import load_template
from infra.models import ensure_models, ensure_ocr_models
from tests.bench.bench_upload import ASPECTS, MEGAPIXELS

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
WEB_EDGE = 2048  # the web derivative's long edge (upload.derivatives)
PHOTOS = 12  # the first ~10 of the corpus already took the arena past 1 GB
SHARE = 0.85  # the rest of MemorySize is headroom for what a batch's other work allocates
GROWTH_MB = 128  # what the resident memory may gain after the first photo

CHILD = """
import json, sys
sys.path[:0] = sys.argv[2:]
import app  # noqa: F401  the face-index function's handler module and all it imports
from bibocr.models import get_models as get_ocr_models
from bibocr.pipeline import bibs_in_image, load_image as ocr_image
from facerec.models import get_models
from facerec.pipeline import faces_in_image, load_image
from tests.bench.bench_upload import photo_like

def status(field):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) for line in lines if line.startswith(field)) // 1024

faces, ocr = get_models(), get_ocr_models()
rss = []
for seed, (width, height) in enumerate(json.loads(sys.argv[1])):
    data = photo_like(width, height, seed)
    faces_in_image(load_image(data), faces)
    bibs_in_image(ocr_image(data), ocr)
    rss.append(status("VmRSS"))
print(json.dumps({"rss_mb": rss, "peak_mb": status("VmHWM")}))
"""


def web_sizes(count: int) -> list[tuple[int, int]]:
    """The web derivative's size for each of the bench corpus's first ``count`` photos."""
    sizes = []
    for index, mp in enumerate(MEGAPIXELS[:count]):
        aspect = ASPECTS[index % len(ASPECTS)]
        width = (mp * 1e6 * aspect) ** 0.5
        height = mp * 1e6 / width
        scale = min(1.0, WEB_EDGE / max(width, height))
        sizes.append((round(width * scale), round(height * scale)))
    return sizes


def test_indexing_many_web_derivatives_stays_inside_the_functions_memory() -> None:
    function = load_template()["Resources"]["FacesFunction"]["Properties"]
    limit_mb = int(function["MemorySize"])
    env = {**os.environ, "PHOTOSTACK_MODELS_DIR": str(ensure_models()),
           "PHOTOSTACK_OCR_MODELS_DIR": str(ensure_ocr_models()), "PHOTOSTACK_ONNX_THREADS": "1"}
    paths = [str(ROOT), str(ROOT / "layers" / "core" / "python"), str(ROOT / "layers" / "faces" / "python"),
             str(ROOT / "functions" / "faces")]
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(web_sizes(PHOTOS)), *paths],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    seen = f"RSS after each photo: {figures['rss_mb']} MB, peak {figures['peak_mb']} MB"
    assert figures["peak_mb"] < SHARE * limit_mb, f"{seen}; the function has {limit_mb} MB"
    assert max(figures["rss_mb"]) <= figures["rss_mb"][0] + GROWTH_MB, f"memory grows with the photos: {seen}"
