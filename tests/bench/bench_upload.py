"""Upload benchmark: the full derivative set per image, ours vs pyvips vs a naive Pillow resizer.

    .venv/bin/python -m tests.bench.bench_upload      (or `make bench`, which runs every bench)

Corpus: 20 photo-like JPEGs from 2 to 45 megapixels (smooth gradients, shapes and sensor-like
noise), generated once and cached under .state/bench-corpus/. For every image each
implementation produces the same set: web 2048, watermarked preview 1280 and thumbnail 320,
as progressive JPEG q82 and WebP q80 (effort 4), with no metadata.

- ours:  upload.derivatives.render (DCT-domain draft, reduce, cascade web -> preview -> thumb)
- vips:  pyvips thumbnail_buffer (shrink-on-load) to 2048, then thumbnail_image for the smaller
         sizes, the same watermark overlay composited, jpegsave/webpsave with the same settings
- naive: Pillow full decode, then copy().thumbnail() per size from the full image

Each implementation runs in its own child process over the whole corpus, so its peak RSS
(VmHWM) is its own; per-image wall time is the median of a few runs after one warm-up.

Then the whole path under LocalStack, when the stack is deployed (`make up`): for each image
of the corpus, POST /uploads -> PUT to the presigned URL -> poll GET /photos/{id} until it
is ready; p50/p95 over the corpus, one upload at a time. Then how long the face-index queue
takes to empty (each ready photo's faces and bibs read), so that the bench leaves no indexing
work behind, and the bench's photos are deleted.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT, ROOT / "layers" / "core" / "python", ROOT / "functions" / "upload"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

CORPUS_DIR = ROOT / ".state" / "bench-corpus"
# Megapixels of the corpus: 20 images between 2 and 45 MP, weighted like a real event shoot
# (many 20-24 MP bodies, a few high-resolution ones).
MEGAPIXELS = (2, 2.5, 3, 4, 5, 6, 8, 10, 12, 12, 16, 16, 20, 20, 24, 24, 24, 30, 36, 45)
ASPECTS = (3 / 2, 4 / 3, 2 / 3, 16 / 9, 1.0)
JPEG_QUALITY, WEBP_QUALITY, WEBP_EFFORT = 82, 80, 4
SIZES = (("web", 2048), ("preview", 1280), ("thumb", 320))
WATERMARK = "Jane Doe Photography"
REPEATS = int(os.environ.get("BENCH_UPLOAD_REPEATS", "1"))


# --- corpus ---------------------------------------------------------------------------

def corpus() -> list[Path]:
    CORPUS_DIR.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, mp in enumerate(MEGAPIXELS):
        aspect = ASPECTS[index % len(ASPECTS)]
        width = round((mp * 1e6 * aspect) ** 0.5)
        height = round(mp * 1e6 / width)
        path = CORPUS_DIR / f"{index:02d}-{width}x{height}.jpg"
        if not path.exists():
            path.write_bytes(photo_like(width, height, seed=index))
        paths.append(path)
    return paths


def photo_like(width: int, height: int, seed: int) -> bytes:
    """Smooth colour fields and soft shapes at low resolution, upsampled, plus per-pixel noise."""
    import random

    import numpy as np
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    rng = random.Random(seed)
    small_w, small_h = max(8, width // 16), max(8, height // 16)
    base = Image.merge("RGB", [
        Image.linear_gradient("L").rotate(rng.choice((0, 90, 180, 270))).resize((small_w, small_h))
        for _ in range(3)
    ])
    draw = ImageDraw.Draw(base)
    for _ in range(24):
        x, y = rng.randrange(small_w), rng.randrange(small_h)
        r = rng.randrange(2, max(3, small_w // 5))
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            draw.rectangle((x - r, y - r // 2, x + r, y + r // 2), fill=colour)
    base = base.filter(ImageFilter.GaussianBlur(1)).resize((width, height), Image.Resampling.BICUBIC)
    # Sharp detail the way a real photo has it: thin lines at full resolution, then sensor noise.
    detail = ImageDraw.Draw(base)
    for _ in range(300):
        x, y = rng.randrange(width), rng.randrange(height)
        detail.line((x, y, x + rng.randrange(-400, 400), y + rng.randrange(-400, 400)),
                    fill=tuple(rng.randrange(256) for _ in range(3)), width=rng.randrange(1, 4))
    # Uniform +-10 per channel (sd ~6), like a mid-ISO sensor; numpy is 7x faster than effect_noise.
    noise = np.random.default_rng(seed).integers(118, 139, (height, width, 3), dtype=np.uint8)
    image = ImageChops.add(base, Image.fromarray(noise), scale=1.0, offset=-128)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


# --- the three implementations (each returns the six encoded outputs) ------------------

def run_ours(data: bytes) -> list[bytes]:
    from upload.derivatives import EncodeSettings, render

    settings = EncodeSettings(jpeg_quality=JPEG_QUALITY, webp_quality=WEBP_QUALITY, webp_method=WEBP_EFFORT)
    return [r.body for r in render(data, WATERMARK, settings=settings).renditions]


def _pillow_pair(im: Any) -> list[bytes]:
    jpeg, webp = io.BytesIO(), io.BytesIO()
    im.save(jpeg, "JPEG", quality=JPEG_QUALITY, progressive=True, optimize=True, subsampling="4:2:0")
    im.save(webp, "WEBP", quality=WEBP_QUALITY, method=WEBP_EFFORT)
    return [jpeg.getvalue(), webp.getvalue()]


def run_naive(data: bytes) -> list[bytes]:
    from PIL import Image, ImageOps
    from upload import watermark

    opened = Image.open(io.BytesIO(data))
    opened.load()  # decoded at full size: thumbnail() can no longer use draft mode
    full = ImageOps.exif_transpose(opened).convert("RGB")
    outputs: list[bytes] = []
    for name, edge in SIZES:
        im = full.copy()
        im.thumbnail((edge, edge), Image.Resampling.LANCZOS)
        if name == "preview":
            im = watermark.apply(im, WATERMARK)
        outputs += _pillow_pair(im)
    return outputs


_vips_overlays: dict[tuple[int, int], Any] = {}


def _vips_overlay(width: int, height: int) -> Any:
    """Our watermark overlay as a vips RGBA image, built once per size like ours is."""
    import pyvips
    from upload import watermark

    if (width, height) not in _vips_overlays:
        fill, mask = watermark.overlay(WATERMARK, width, height)
        rgba = fill.convert("RGBA")
        rgba.putalpha(mask)
        _vips_overlays[(width, height)] = pyvips.Image.new_from_memory(
            rgba.tobytes(), width, height, 4, "uchar").copy(interpretation="srgb")
    return _vips_overlays[(width, height)]


def run_vips(data: bytes) -> list[bytes]:
    import pyvips

    def pair(im: Any) -> list[bytes]:
        return [
            im.jpegsave_buffer(Q=JPEG_QUALITY, interlace=True, optimize_coding=True, subsample_mode="on",
                               keep="none"),
            im.webpsave_buffer(Q=WEBP_QUALITY, effort=WEBP_EFFORT, keep="none"),
        ]

    web = pyvips.Image.thumbnail_buffer(data, 2048, height=2048, size="down").copy_memory()
    preview = web.thumbnail_image(1280, height=1280, size="down").copy_memory()
    thumb = preview.thumbnail_image(320, height=320, size="down")
    marked = preview.composite2(_vips_overlay(preview.width, preview.height), "over").flatten()
    return pair(web) + pair(marked) + pair(thumb)


def run_ours_pixels(data: bytes) -> list[bytes]:
    """Ours without the encoders: decode, orient, resize the cascade, watermark."""
    from upload import watermark
    from upload.decode import decode
    from upload.derivatives import SIZES as SPECS
    from upload.derivatives import _resize, fit

    decoded = decode(data, 2048)
    current, out = decoded.image, []
    for spec in SPECS:
        current = _resize(current, fit(decoded.source.width, decoded.source.height, spec.long_edge), spec)
        out.append(watermark.apply(current, WATERMARK) if spec.watermarked else current)
    return [b""] * 2 * len(out)


def run_naive_pixels(data: bytes) -> list[bytes]:
    from PIL import Image, ImageOps
    from upload import watermark

    opened = Image.open(io.BytesIO(data))
    opened.load()
    full = ImageOps.exif_transpose(opened).convert("RGB")
    for name, edge in SIZES:
        im = full.copy()
        im.thumbnail((edge, edge), Image.Resampling.LANCZOS)
        if name == "preview":
            watermark.apply(im, WATERMARK)
    return [b""] * 2 * len(SIZES)


IMPLEMENTATIONS = {"ours": run_ours, "vips": run_vips, "naive": run_naive}
PIXELS_ONLY = {"ours-pixels": run_ours_pixels, "naive-pixels": run_naive_pixels}


# --- measurement ----------------------------------------------------------------------

def _peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def child(name: str, paths: list[str]) -> dict[str, Any]:
    function = {**IMPLEMENTATIONS, **PIXELS_ONLY}[name]
    function(Path(paths[0]).read_bytes())  # warm-up: imports, font, thread pools
    images = []
    for path in paths:
        data = Path(path).read_bytes()
        times, cpu = [], []
        for _ in range(REPEATS):
            started, started_cpu = time.perf_counter(), time.process_time()
            outputs = function(data)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        images.append({"path": Path(path).name, "seconds": statistics.median(times),
                       "cpu_seconds": statistics.median(cpu),
                       "bytes": sum(len(o) for o in outputs), "outputs": len(outputs)})
    return {"name": name, "images": images, "peak_rss_mb": _peak_rss_mb()}


def measure(name: str, paths: list[Path]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", name, *map(str, paths)],
        capture_output=True, text=True, check=True, cwd=ROOT, timeout=600,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def run() -> list[tuple[str, str]]:
    paths = corpus()
    results = {name: measure(name, paths) for name in [*IMPLEMENTATIONS, *PIXELS_ONLY]}
    for result in results.values():
        assert all(image["outputs"] == 6 for image in result["images"]), result["name"]
    rows: list[tuple[str, str]] = []
    mp = [_megapixels(p.name) for p in paths]
    rows.append(("corpus", f"{len(paths)} JPEGs, {min(mp):.1f}-{max(mp):.1f} MP, "
                           f"{sum(p.stat().st_size for p in paths) / 2**20:.0f} MiB"))
    import pyvips

    libvips = ".".join(str(pyvips.version(i)) for i in range(3))
    rows.append(("pyvips / libvips", f"{pyvips.__version__} / {libvips}, "
                                     f"vips threads {pyvips.vips_lib.vips_concurrency_get()}"))
    rows.append(("per image, ms: megapixels | ours | vips | naive | ours/vips | naive/ours", ""))
    for index, path in enumerate(paths):
        o, v, n = (results[k]["images"][index]["seconds"] * 1000 for k in ("ours", "vips", "naive"))
        rows.append((f"  {path.name}", f"{mp[index]:5.1f} MP | {o:6.0f} | {v:6.0f} | {n:6.0f} | "
                                       f"{o / v:4.2f} | {n / o:4.2f}"))
    totals = {k: sum(i["seconds"] for i in r["images"]) for k, r in results.items()}
    cpu = {k: sum(i["cpu_seconds"] for i in r["images"]) for k, r in results.items()}
    sizes = {k: sum(i["bytes"] for i in r["images"]) for k, r in results.items()}
    big = [i for i, m in enumerate(mp) if m >= 20]
    big_totals = {k: sum(r["images"][i]["seconds"] for i in big) for k, r in results.items()}
    for k in IMPLEMENTATIONS:
        per_mp = totals[k] / sum(mp) * 1000
        rows.append((f"{k}: total wall time, per MP; CPU time (all threads)",
                     f"{totals[k]:.2f} s, {per_mp:.1f} ms/MP; CPU {cpu[k]:.2f} s"))
    rows.append(("wall ratio ours / vips (target <= 1.0)", f"{totals['ours'] / totals['vips']:.2f}"))
    rows.append(("speed-up of ours over naive, wall (target >= 2.0)",
                 f"{totals['naive'] / totals['ours']:.2f}x"))
    rows.append(("speed-up of ours over naive, wall, images >= 20 MP",
                 f"{big_totals['naive'] / big_totals['ours']:.2f}x ({len(big)} images)"))
    pixels = {k: sum(i["seconds"] for i in results[k]["images"]) for k in PIXELS_ONLY}
    rows.append(("decode+resize+watermark only (no encoding): ours, naive, speed-up",
                 f"{pixels['ours-pixels']:.2f} s, {pixels['naive-pixels']:.2f} s, "
                 f"{pixels['naive-pixels'] / pixels['ours-pixels']:.2f}x"))
    rows.append(("CPU ratio ours / vips; naive / ours", f"{cpu['ours'] / cpu['vips']:.2f}; "
                                                       f"{cpu['naive'] / cpu['ours']:.2f}x"))
    for k in IMPLEMENTATIONS:
        rows.append((f"{k}: output bytes (6 derivatives x {len(paths)} images)",
                     f"{sizes[k] / 2**20:.2f} MiB ({sizes[k] / sizes['ours']:.2f} of ours)"))
    for k in IMPLEMENTATIONS:
        rows.append((f"{k}: peak RSS over the corpus (incl. 45 MP)", f"{results[k]['peak_rss_mb']:.0f} MB"))
    try:
        rows += localstack_rows(paths)
    except Exception as exc:  # a platform problem must not hide the figures above
        rows.append(("LocalStack: S3 PUT -> photo ready", f"not measured: {type(exc).__name__}: {exc}"[:160]))
    return rows


# --- the whole path under LocalStack ---------------------------------------------------

STACK_OUTPUTS = ROOT / ".state" / "stack-outputs.json"
PASSWORD = "correct horse battery staple"


def localstack_rows(paths: list[Path]) -> list[tuple[str, str]]:
    import uuid

    import requests

    from tests.bench.stats import percentile

    label = "LocalStack: S3 PUT -> photo ready"
    if not STACK_OUTPUTS.exists():
        return [(label, "not measured: the stack is not deployed (make up)")]
    stack = json.loads(STACK_OUTPUTS.read_text())
    users, photos = stack["UsersApiUrl"].rstrip("/"), stack["PhotosApiUrl"].rstrip("/")
    email = f"bench-upload-{uuid.uuid4().hex[:10]}@example.com"
    requests.post(f"{users}/auth/register", json={"email": email, "password": PASSWORD,
                                                   "display_name": "Bench Studio", "role": "photographer"},
                  timeout=30)
    login = requests.post(f"{users}/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
    if login.status_code != 200:
        return [(label, f"not measured: login answered {login.status_code}")]
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    event = requests.post(f"{photos}/events", json={"name": "Bench", "date": "2026-05-01", "place": "Lyon"},
                          headers={**auth, "Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    if event.status_code != 201:
        return [(label, f"not measured: POST /events answered {event.status_code} {event.text[:120]}")]
    latencies: list[float] = []
    failed: list[str] = []
    photo_ids: list[str] = []
    try:
        rows = _upload_each(paths, photos, auth, event.json()["id"], latencies, failed, photo_ids)
        if rows:
            return rows
        if not latencies:
            return [(label, f"not measured: no photo became ready ({'; '.join(failed[:3])})")]
        ms = [x * 1000 for x in latencies]
        return [(label, f"p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms, "
                        f"max {max(ms):.0f} ms (n={len(ms)}, not ready: {len(failed)})"),
                index_drained_row(stack, len(photo_ids))]
    finally:
        # The bench's photos are not kept: the next bench or test run starts without them.
        for photo_id in photo_ids:
            requests.delete(f"{photos}/photos/{photo_id}", headers=auth, timeout=30)


def _upload_each(paths: list[Path], photos: str, auth: dict[str, str], event_id: str,
                 latencies: list[float], failed: list[str], photo_ids: list[str]) -> list[tuple[str, str]]:
    """One upload at a time, each timed from the PUT until the photo is ready; rows when it cannot go on."""
    import requests

    label = "LocalStack: S3 PUT -> photo ready"
    for path in paths:
        data = path.read_bytes()
        reserved = requests.post(f"{photos}/uploads", headers=auth, timeout=30, json={
            "event_id": event_id, "content_type": "image/jpeg", "size_bytes": len(data)})
        if reserved.status_code != 201:
            return [(label, f"not measured: POST /uploads answered {reserved.status_code}")]
        photo_id, upload = reserved.json()["photo_id"], reserved.json()["upload"]
        photo_ids.append(photo_id)
        started = time.perf_counter()
        requests.put(upload["url"], data=data, headers=upload["headers"], timeout=60).raise_for_status()
        status = "pending"
        while status == "pending" and time.perf_counter() - started < 120:
            time.sleep(0.05)
            got = requests.get(f"{photos}/photos/{photo_id}", headers=auth, timeout=30)
            status = got.json().get("status")
        if status == "ready":
            latencies.append(time.perf_counter() - started)
        else:
            failed.append(f"{path.name}: {status}")
    return []


DRAIN_TIMEOUT_S = 600


def index_drained_row(stack: dict[str, str], photos: int) -> tuple[str, str]:
    """How long after the last photo was ready the face-index queue was empty (faces and bibs read).

    Each ready photo queues a notice for the index function; the bench waits for them rather than
    leave them to whatever runs next (a `make test` right after a bench found its own photos
    queued behind these). A queue still not empty after DRAIN_TIMEOUT_S is a stalled indexer: the
    row is then not measured, and the bench fails.
    """
    import boto3

    from tests.index_queue import INDEX_QUEUE, queue_depth

    label = f"LocalStack: last photo ready -> face-index queue empty ({photos} photos: faces + bibs)"
    sqs = boto3.client("sqs", endpoint_url=stack.get("Endpoint", "http://127.0.0.1:4566"),
                       region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    started, empty_reads, left = time.perf_counter(), 0, -1
    while time.perf_counter() - started < DRAIN_TIMEOUT_S:
        left = queue_depth(sqs, INDEX_QUEUE).total
        empty_reads = empty_reads + 1 if left == 0 else 0
        if empty_reads == 2:  # the counts are approximate: empty twice in a row
            return (label, f"{time.perf_counter() - started:.0f} s")
        time.sleep(1)
    return (label, f"not measured: {left} notices still queued or in flight after {DRAIN_TIMEOUT_S} s")


def _megapixels(name: str) -> float:
    width, height = name.split("-", 1)[1].removesuffix(".jpg").split("x")
    return int(width) * int(height) / 1e6


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], sys.argv[3:])))
    else:
        for metric, value in run():
            print(f"{metric:72s} {value}")
