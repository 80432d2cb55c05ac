"""Photo-like test images made with Pillow: smooth gradients with sensor-like noise, so the
encoders work about as hard as on real photos and each file has different bytes.

- :func:`jpeg` / :func:`png`: ordinary photos of a chosen size.
- :func:`large_png`: over the photos API's 16 MiB multipart threshold, under the 64 MiB cap.
- :func:`exif_gps_jpeg`: stored landscape with EXIF orientation 6 (shown portrait), GPS,
  camera and capture time — what a phone writes.
- :func:`corrupt_jpeg`: starts like a JPEG, is not one.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

MULTIPART_THRESHOLD = 16 * 1024 * 1024  # photos.domain.MULTIPART_THRESHOLD, as the API documents it
UPLOAD_CAP = 64 * 1024 * 1024

ORIENTATION = 0x0112
MAKE, MODEL, DATETIME = 0x010F, 0x0110, 0x0132
GPS_IFD = 0x8825
# Somewhere in Lyon: 45°45'N 4°50'E.
GPS = {1: "N", 2: (45.0, 45.0, 0.0), 3: "E", 4: (4.0, 50.0, 0.0)}


def pixels(width: int, height: int, seed: int) -> np.ndarray:
    """A sky-to-ground gradient with a tint per seed, a few soft blobs and fine grain.

    The scene is drawn at a quarter of the size and scaled up (it is smooth anyway); only
    the grain is full size, which keeps fifty 1600 px photos to a few seconds."""
    rng = np.random.default_rng(seed)
    w, h = max(1, width // 4), max(1, height // 4)
    y = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :]
    tint = rng.uniform(0.3, 1.0, 3).astype(np.float32)
    scene = np.empty((h, w, 3), dtype=np.float32)
    for c in range(3):
        scene[:, :, c] = 255 * tint[c] * (0.35 + 0.45 * (1 - y) + 0.2 * x)
    for _ in range(4):
        cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.25)
        blob = np.exp(-(((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r)))
        scene += blob[:, :, None] * rng.uniform(-90, 90, 3).astype(np.float32)
    small = Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8))
    full = np.asarray(small.resize((width, height), Image.Resampling.BILINEAR)).astype(np.int16)
    full += rng.integers(-10, 11, full.shape, dtype=np.int16)
    return np.clip(full, 0, 255).astype(np.uint8)


def jpeg(width: int = 1200, height: int = 800, *, seed: int = 0, quality: int = 88,
         exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    kwargs = {"exif": exif.tobytes()} if exif is not None else {}
    Image.fromarray(pixels(width, height, seed)).save(out, "JPEG", quality=quality, **kwargs)
    return out.getvalue()


def png(width: int = 1000, height: int = 700, *, seed: int = 0) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels(width, height, seed)).save(out, "PNG", compress_level=1)
    return out.getvalue()


def large_png(seed: int = 99) -> bytes:
    """About 18 MiB: stored uncompressed, so the size is width x height x 3 whatever the pixels."""
    out = io.BytesIO()
    Image.fromarray(pixels(2600, 2400, seed)).save(out, "PNG", compress_level=0)
    data = out.getvalue()
    assert MULTIPART_THRESHOLD < len(data) < UPLOAD_CAP, len(data)
    return data


def exif_gps_jpeg(width: int = 1200, height: int = 800, *, seed: int = 7) -> bytes:
    """Stored ``width`` x ``height`` (landscape); orientation 6 means shown rotated 90° clockwise."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[MAKE] = "Photostack"
    exif[MODEL] = "Journey Cam"
    exif[DATETIME] = "2025:06:01 10:30:00"
    exif[GPS_IFD] = GPS
    data = jpeg(width, height, seed=seed, exif=exif)
    written = Image.open(io.BytesIO(data)).getexif()
    assert written[ORIENTATION] == 6 and written.get_ifd(GPS_IFD).get(1) == "N"
    return data


def corrupt_jpeg(seed: int = 13) -> bytes:
    """A JPEG start-of-image marker followed by noise: sniffs as JPEG, never decodes."""
    return b"\xff\xd8\xff\xe0" + np.random.default_rng(seed).bytes(40_000)


def has_gps(data: bytes) -> bool:
    """Whether an image file carries GPS EXIF data (or any EXIF block at all)."""
    exif = Image.open(io.BytesIO(data)).getexif()
    return bool(exif.get_ifd(GPS_IFD)) or GPS_IFD in exif or b"Exif\x00\x00" in data
