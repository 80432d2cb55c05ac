"""`make eval-search`: how well `?bib=` finds the photos where a bib number appears.

    .venv/bin/python -m infra.eval_search [--count 240] [--seed 16] [--data ../shared/data/faces]

The set is generated (infra/bib_images.py): photos of the shared face set (read-only) with
bibs of known numbers pasted on, 10 to 160 pixels high in a 1600x1067 photo (the web
derivative's scale), rotated up to 25 degrees, blurred, lit darker or brighter; a fifth of
the photos carry no bib (some carry other text). Each photo goes through the indexing
pipeline's OCR (bibocr, the models of the faces layer), is stored through the sidecar's bib
service on the real PostgreSQL (one event, as IndexBibs stores it), and every number that is
either on a bib or was read anywhere is searched as `?bib=` searches it (SearchBibs).

Reported, over all those searches: precision (answered photos that show the number), recall
(photos showing the number that were answered), per bib height the share of bibs found, the
smallest height from which on at least 80% (and 50%) of bibs are found, and OCR time per photo.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "layers" / "core" / "python", ROOT / "layers" / "faces" / "python"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from bibocr.models import OcrModels, load_models  # noqa: E402
from bibocr.pipeline import Bib, bibs_in_image, load_image  # noqa: E402
from photostack.config import local_database_url  # noqa: E402

from infra.bib_images import Sample, generate  # noqa: E402
from infra.models import ensure_ocr_models  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "faces"
HEIGHTS = (10, 160)
HEIGHT_BUCKETS = (10, 14, 18, 24, 32, 48, 64, 96)
DEFAULT_DSN = local_database_url(5432)


@dataclass(frozen=True)
class Read:
    sample: Sample
    bibs: list[Bib]
    seconds: float


@dataclass
class Report:
    photos: int = 0
    with_bibs: int = 0
    bibs: int = 0
    queries: int = 0
    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0
    ocr_ms: list[float] = field(default_factory=list)
    by_height: dict[int, list[bool]] = field(default_factory=dict)  # bucket floor -> found per bib
    search_ms: list[float] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.true_pos / max(1, self.true_pos + self.false_pos)

    @property
    def recall(self) -> float:
        return self.true_pos / max(1, self.true_pos + self.false_neg)

    def smallest_height(self, share: float) -> int | None:
        """The lowest bucket floor from which every bucket up finds at least `share` of its bibs."""
        best = None
        for floor in sorted(self.by_height, reverse=True):
            found = self.by_height[floor]
            if sum(found) / len(found) < share:
                break
            best = floor
        return best


def read_all(samples: list[Sample], models: OcrModels) -> list[Read]:
    out = []
    for s in samples:
        started = time.perf_counter()
        bibs = bibs_in_image(load_image(s.jpeg), models)
        out.append(Read(s, bibs, time.perf_counter() - started))
    return out


def bucket(height: int) -> int:
    return max(f for f in HEIGHT_BUCKETS if f <= height) if height >= HEIGHT_BUCKETS[0] else 0


def evaluate(reads: list[Read], database_url: str) -> Report:
    """Store every reading through the sidecar's bib service and search every number."""
    import redis
    from photostack.config import get_settings
    from photostack.db import Database

    from infra.db.migrate import migrate
    from sidecar import bib_domain as b
    from sidecar import domain as d
    from sidecar.bib_service import BibService
    from sidecar.cache import PhotoCache
    from sidecar.repository import Repository
    from sidecar.service import PhotoService

    migrate(database_url, ["photos", "transactions"])
    db = Database(database_url, schema="photos", maxconn=2)
    photo_of: dict[str, str] = {}  # sample name -> photo id
    try:
        cache = PhotoCache(redis.Redis.from_url(get_settings().redis_url), ttl_s=60)
        photos = PhotoService(Repository(db), cache)
        service = BibService(Repository(db), photos)
        owner = d.Caller(f"photographer-eval-{uuid.uuid4().hex[:8]}", "photographer")
        pipeline = d.Caller("service:eval", "service")
        viewer = d.Caller(f"customer-eval-{uuid.uuid4().hex[:8]}", "customer")
        event = photos.create_event(owner, d.NewEvent("Bib evaluation", "2026-06-01", "", "public"))
        truth: dict[str, set[str]] = {}  # number -> photo ids showing it
        read_numbers: set[str] = set()
        report = Report(photos=len(reads))
        for r in reads:
            photo = photos.reserve_photo(owner, event.id, "image/jpeg", len(r.sample.jpeg))
            web = d.Derivative("web_jpg", f"derivatives/{event.id}/{photo.id}/web.jpg", 1600, 1067,
                               len(r.sample.jpeg), "image/jpeg")
            photos.register_derivatives(pipeline, photo.id, d.Processed(
                derivatives=(web,), width=1600, height=1067, original_bytes=len(r.sample.jpeg),
                sha256="ee" * 32))
            service.index_bibs(pipeline, photo.id,
                               [b.validate_bib(x.number, x.confidence, x.box) for x in r.bibs])
            photo_of[r.sample.name] = photo.id
            report.ocr_ms.append(r.seconds * 1000)
            report.with_bibs += bool(r.sample.bibs)
            for spec in r.sample.bibs:
                truth.setdefault(spec.number, set()).add(photo.id)
            read_numbers |= {x.number for x in r.bibs}
        answered: dict[str, set[str]] = {}
        for number in sorted(set(truth) | read_numbers):
            started = time.perf_counter()
            page = service.search_bibs(viewer, event.id, number, limit=100, cursor="")
            report.search_ms.append((time.perf_counter() - started) * 1000)
            answered[number] = {m.photo.id for m in page.items}
            want = truth.get(number, set())
            report.queries += 1
            report.true_pos += len(answered[number] & want)
            report.false_pos += len(answered[number] - want)
            report.false_neg += len(want - answered[number])
        for r in reads:
            for spec in r.sample.bibs:
                report.bibs += 1
                hit = photo_of[r.sample.name] in answered.get(spec.number, set())
                report.by_height.setdefault(bucket(spec.height), []).append(hit)
        return report
    finally:
        try:
            # Not kept: ready photos with no object in S3 are what `make up`'s storage check marks
            # lost (deleted through the sidecar's service, which forgets them in its cache too).
            if photo_of:
                for photo_id in photo_of.values():
                    photos.delete_photo(owner, photo_id)
                with db.cursor() as cur:
                    cur.execute("DELETE FROM events WHERE id = %s", (event.id,))
        finally:
            db.close()


def print_report(report: Report) -> None:
    ocr = sorted(report.ocr_ms)
    print(f"bib search evaluation: {report.photos} photos ({report.with_bibs} with bibs, "
          f"{report.photos - report.with_bibs} without), {report.bibs} bibs, {report.queries} searches")
    print(f"  precision {report.precision:.3f}   recall {report.recall:.3f}   "
          f"(tp {report.true_pos}, fp {report.false_pos}, fn {report.false_neg})")
    print("  bibs found by height (pixels in a 1600x1067 photo):")
    floors = sorted(report.by_height)
    for i, floor in enumerate(floors):
        found = report.by_height[floor]
        top = floors[i + 1] - 1 if i + 1 < len(floors) else 160
        print(f"    {floor:>3}-{top:<3} px  {sum(found):>3}/{len(found):<3}  {sum(found) / len(found):.2f}")
    print(f"  smallest bib height read: {report.smallest_height(0.8)} px (>= 80% found from there up), "
          f"{report.smallest_height(0.5)} px (>= 50%)")
    print(f"  OCR per photo: median {ocr[len(ocr) // 2]:.0f} ms, p90 {ocr[int(len(ocr) * 0.9)]:.0f} ms "
          "(one thread, this machine)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=240)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    models = load_models(ensure_ocr_models())
    samples = generate(args.data, args.count, seed=args.seed, heights=HEIGHTS)
    report = evaluate(read_all(samples, models), os.environ.get("PHOTOSTACK_DATABASE_URL", DEFAULT_DSN))
    print_report(report)


if __name__ == "__main__":
    main()
