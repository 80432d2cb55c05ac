"""`make bench`: run every benchmark module and print its rows side by side with references.

    python -m tests.bench [name ...]     (names: platform, users, photos, upload, transactions, ...)

A module is any ``bench_<name>.py`` here with a ``run()`` that returns rows (see
:class:`tests.bench.stats.Row`: metric, value, and the reference printed beside it).
The run fails (exit 1) when a module raises or a row could not be measured
(:class:`tests.bench.stats.NotMeasured`, or an older row's "not measured" text): a
gap in the table is an error, not a figure. A Markdown summary of the run goes to
``.state/bench.md`` (the one before it is kept as ``.state/bench.prev.md``), so that
two runs can be compared. A run of some modules only (``python -m tests.bench photos``)
writes its own file, ``.state/bench.<name>[+<name>...].md`` (and ``.prev.md``), and leaves
the full run's ``bench.md`` with every module's rows as it was.
"""

from __future__ import annotations

import datetime
import importlib
import os
import pkgutil
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from tests.bench.stats import NotMeasured, Row, as_row, is_measured

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = ROOT / ".state" / "bench.md"


@dataclass
class Section:
    name: str
    rows: list[Row] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def modules() -> list[str]:
    folder = Path(__file__).parent
    return sorted(m.name.removeprefix("bench_") for m in pkgutil.iter_modules([str(folder)])
                  if m.name.startswith("bench_"))


def run_module(name: str) -> Section:
    section = Section(name)
    started = time.perf_counter()
    try:
        raw = importlib.import_module(f"tests.bench.bench_{name}").run()
        section.rows = [as_row(r) for r in raw]
        if not section.rows:
            section.failures.append("the module returned no rows")
    except NotMeasured as exc:
        section.failures.append(f"not measured: {exc}")
    except Exception as exc:
        traceback.print_exc()
        section.failures.append(f"{type(exc).__name__}: {exc}"[:300])
    section.failures += [f"not measured: {r.metric}: {r.value}" for r in section.rows if not is_measured(r)]
    section.seconds = time.perf_counter() - started
    return section


def print_section(section: Section) -> None:
    for row in section.rows:
        print(f"  {row.metric:<68} {row.value}", flush=True)
        if row.reference:
            print(f"  {'':<68}   reference: {row.reference}", flush=True)
    for failure in section.failures:
        print(f"  FAILED: {failure}", flush=True)
    print(f"  ({section.seconds:.0f} s)")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _commit() -> str:
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + (" (with uncommitted changes)" if dirty else "")


def summary_path(selected: list[str], known: list[str]) -> Path:
    """Where a run's summary goes: ``bench.md`` for every module, its own file for some."""
    if not selected or set(selected) == set(known):
        return SUMMARY
    return SUMMARY.with_name(f"bench.{'+'.join(sorted(set(selected)))}.md")


def summary(sections: list[Section], started: datetime.datetime, load: tuple[float, float, float]) -> str:
    failed = sum(len(s.failures) for s in sections)
    lines = [
        f"# make bench, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"commit {_commit()}; {os.cpu_count()} CPUs, load average {load[0]:.2f} at the start; "
        f"result: {'FAILED (' + str(failed) + ' unmeasured)' if failed else 'every row measured'}",
        "",
        "Compare rows of one run with each other (the machine is shared); across runs, "
        "compare this file with bench.prev.md.",
    ]
    for s in sections:
        lines += ["", f"## {s.name} ({s.seconds:.0f} s)", "", "| row | value | reference |", "|---|---|---|"]
        lines += [f"| {_cell(r.metric)} | {_cell(r.value)} | {_cell(r.reference)} |" for r in s.rows]
        lines += [f"| **not measured** | {_cell(f)} | |" for f in s.failures]
    return "\n".join(lines) + "\n"


def write_summary(text: str, path: Path | None = None) -> None:
    path = path or SUMMARY
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.replace(path.with_name(path.name.removesuffix(".md") + ".prev.md"))
    path.write_text(text)


def main(argv: list[str]) -> int:
    known = modules()
    unknown = sorted(set(argv) - set(known))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    started, load = datetime.datetime.now(datetime.UTC), os.getloadavg()
    sections: list[Section] = []
    for name in known:
        if argv and name not in argv:
            continue
        print(f"\n== {name} " + "=" * (76 - len(name)), flush=True)
        section = run_module(name)
        print_section(section)
        sections.append(section)
    path = summary_path(argv, known)
    write_summary(summary(sections, started, load), path)
    failed = [s.name for s in sections if s.failures]
    print(f"\nsummary: {path.relative_to(ROOT)}" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
