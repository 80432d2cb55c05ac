"""`make eval-faces`: how well face search separates people on the labelled evaluation set.

    .venv/bin/python -m infra.eval_faces [--threshold 0.35] [--data /work/shared/data/faces]

The set (../shared/data/faces, see its README): five tight crops of each of eight people
and five unlabelled group photos. For each round k = 1..5, crop k of every person is the
selfie and everything else (the other 32 crops and the group photos) is the event; each
photo goes through the same pipeline as an indexed photo, each selfie through the selfie
path (exactly one face). Reported: rank-1 accuracy (the best-scoring labelled photo shows
the selfie's person), the lowest same-person and highest different-person similarity,
how the threshold splits them, and indexing speed (decode + detection + embedding).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "layers" / "core" / "python", ROOT / "layers" / "faces" / "python"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import numpy as np  # noqa: E402
from facerec.models import FaceModels, get_models  # noqa: E402
from facerec.pipeline import Face, faces_in_image, load_image  # noqa: E402

from infra.models import ensure_models  # noqa: E402
from sidecar.vector_index import DEFAULT_THRESHOLD, InMemoryVectorIndex  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "faces"
ROUNDS = 5


@dataclass(frozen=True)
class Photo:
    photo_id: str  # the file, relative to the set's folder
    person: str | None  # None for group photos
    data: bytes


@dataclass
class Indexed:
    photo: Photo
    faces: list[Face]
    seconds: float


@dataclass
class Report:
    threshold: float
    queries: int = 0
    rank1_hits: int = 0
    same: list[float] = field(default_factory=list)  # selfie vs each same-person crop in the event
    different: list[float] = field(default_factory=list)  # selfie vs each other-person crop
    groups_matched: int = 0  # (selfie, group photo) pairs above the threshold
    group_faces: dict[str, int] = field(default_factory=dict)
    faces: int = 0
    index_seconds: float = 0.0
    photos: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def rank1(self) -> float:
        return self.rank1_hits / self.queries if self.queries else 0.0

    @property
    def separated(self) -> bool:
        return min(self.same) >= self.threshold > max(self.different)


def load_set(root: Path = DATA) -> list[Photo]:
    with (root / "labels.csv").open() as labels:
        crops = [Photo(row["file"], row["person"], (root / row["file"]).read_bytes())
                 for row in csv.DictReader(labels)]
    groups = [Photo(f"groups/{path.name}", None, path.read_bytes())
              for path in sorted((root / "groups").glob("*.jpg"))]
    return crops + groups


def index_all(photos: list[Photo], models: FaceModels | None = None) -> list[Indexed]:
    models = models or get_models()  # loading the sessions is a cold start, not indexing time
    indexed = []
    for photo in photos:
        started = time.perf_counter()
        faces = faces_in_image(load_image(photo.data), models)
        indexed.append(Indexed(photo, faces, time.perf_counter() - started))
    return indexed


def _round(photo: Photo) -> int:
    return int(Path(photo.photo_id).stem[-1])


def evaluate(indexed: list[Indexed], threshold: float = DEFAULT_THRESHOLD) -> Report:
    report = Report(threshold=threshold)
    report.photos = len(indexed)
    report.faces = sum(len(i.faces) for i in indexed)
    report.index_seconds = sum(i.seconds for i in indexed)
    report.group_faces = {i.photo.photo_id: len(i.faces) for i in indexed if i.photo.person is None}
    person_of = {i.photo.photo_id: i.photo.person for i in indexed}
    for k in range(1, ROUNDS + 1):
        selfies = [i for i in indexed if i.photo.person is not None and _round(i.photo) == k]
        event = [i for i in indexed if i not in selfies]
        index = InMemoryVectorIndex()
        for item in event:
            if item.faces:
                index.add(f"round{k}", [f"{item.photo.photo_id}#{n}" for n in range(len(item.faces))],
                          [item.photo.photo_id] * len(item.faces), _stack(item.faces))
        for selfie in selfies:
            # The selfie path (single_face) on the same bytes gives exactly these faces: reuse them.
            if len(selfie.faces) != 1:
                raise AssertionError(f"{selfie.photo.photo_id}: {len(selfie.faces)} faces in a selfie")
            face = selfie.faces[0]
            ranked = index.search(f"round{k}", face.embedding, threshold=-1.0, limit=len(event))
            labelled = [m for m in ranked if person_of[m.photo_id] is not None]
            report.queries += 1
            if labelled and person_of[labelled[0].photo_id] == selfie.photo.person:
                report.rank1_hits += 1
            else:
                best = labelled[0].photo_id if labelled else "nothing"
                report.failures.append(f"{selfie.photo.photo_id}: best labelled match {best}")
            for m in labelled:
                same = person_of[m.photo_id] == selfie.photo.person
                (report.same if same else report.different).append(m.score)
            report.groups_matched += sum(1 for m in ranked
                                         if person_of[m.photo_id] is None and m.score >= threshold)
    return report


def _stack(faces: list[Face]) -> np.ndarray:
    return np.stack([f.embedding for f in faces])


def print_report(report: Report) -> None:
    same_lo, diff_hi = min(report.same), max(report.different)
    below = sum(1 for s in report.same if s < report.threshold)
    above = sum(1 for s in report.different if s >= report.threshold)
    print(f"queries: {report.queries} selfies ({ROUNDS} rounds x 8 people), "
          "event = the other crops + the group photos")
    print(f"rank-1 accuracy: {report.rank1:.1%} ({report.rank1_hits}/{report.queries})")
    for failure in report.failures:
        print(f"  miss: {failure}")
    print(f"same-person similarity: lowest {same_lo:.3f} (n={len(report.same)})")
    print(f"different-person similarity: highest {diff_hi:.3f} (n={len(report.different)})")
    print(f"threshold {report.threshold:.2f}: {below} same-person pairs below it, {above} different-person "
          f"pairs at or above it; margins {same_lo - report.threshold:+.3f} / "
          f"{report.threshold - diff_hi:+.3f}"
          f" -> {'separates them' if report.separated else 'does NOT separate them'}")
    print(f"group photos: faces found {report.group_faces}; "
          f"{report.groups_matched / report.queries:.1f} group photos matched per selfie on average")
    per_photo = report.index_seconds / report.photos * 1000
    print(f"indexing: {report.faces} faces in {report.photos} photos, {per_photo:.0f} ms per photo "
          f"(decode + detection + embedding), {report.faces / report.index_seconds:.1f} faces/s "
          "on one process")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    ensure_models()
    report = evaluate(index_all(load_set(args.data)), args.threshold)
    print_report(report)
    return 0 if report.rank1 == 1.0 and report.separated else 1


if __name__ == "__main__":
    sys.exit(main())
