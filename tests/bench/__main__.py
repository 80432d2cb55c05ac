"""`make bench`: run every benchmark module and print its rows side by side with references.

    python -m tests.bench [name ...]     (names: platform, users, photos, upload, transactions, ...)
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path


def main() -> int:
    wanted = set(sys.argv[1:])
    folder = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(folder)]) if m.name.startswith("bench_"))
    failed = 0
    for name in names:
        short = name.removeprefix("bench_")
        if wanted and short not in wanted:
            continue
        print(f"\n== {short} " + "=" * (76 - len(short)), flush=True)
        started = time.perf_counter()
        try:
            rows = importlib.import_module(f"tests.bench.{name}").run()
        except Exception:
            traceback.print_exc()
            failed += 1
            continue
        for metric, value in rows:
            print(f"  {metric:<68} {value}", flush=True)
        print(f"  ({time.perf_counter() - started:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
