"""Peak memory of the whole derivative set, measured in a fresh process.

tracemalloc cannot see Pillow's pixel buffers (they are not Python objects), so the peak
resident set (VmHWM) of a child process that only imports the code and renders is the honest
figure. ru_maxrss would not do: Linux carries it over from the forking parent across exec.
The function's MemorySize is 512 MB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.upload.corpus import encode, photo

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
MEMORY_SIZE_MB = 512

CHILD = """
import json, sys
sys.path[:0] = [sys.argv[2], sys.argv[3]]
from upload.derivatives import render

def peak_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

data = open(sys.argv[1], "rb").read()
before = peak_kb()
rendered = render(data, "Jane Doe Photography")
after = peak_kb()
print(json.dumps({"before_mb": before / 1024, "peak_mb": after / 1024,
                  "sizes": [[r.size, r.width, r.height] for r in rendered.renditions]}))
"""


def peak_rss_mb(path: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(ROOT / "functions" / "upload"),
         str(ROOT / "layers" / "core" / "python")],
        capture_output=True, text=True, timeout=120, check=True,
    )
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"{path.name}: interpreter+imports {figures['before_mb']:.0f} MB, peak {figures['peak_mb']:.0f} MB")
    return figures


def test_24_megapixel_jpeg_stays_well_inside_512_mb(tmp_path: Path) -> None:
    path = tmp_path / "24mp.jpg"
    path.write_bytes(encode(photo(6000, 4000), "JPEG", quality=92))
    figures = peak_rss_mb(path)
    assert figures["peak_mb"] < 160, figures  # under a third of MemorySize


def test_45_megapixel_png_stays_inside_512_mb(tmp_path: Path) -> None:
    # PNG has no DCT scaling: the full frame is decoded, then reduced.
    path = tmp_path / "45mp.png"
    path.write_bytes(encode(photo(8256, 5504), "PNG", compress_level=1))
    figures = peak_rss_mb(path)
    assert figures["peak_mb"] < 400, figures
