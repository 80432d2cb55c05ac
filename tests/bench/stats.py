"""Small statistics for the benchmarks: percentiles, formatting, and the row every module returns."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(samples_s: list[float]) -> str:
    ms = [s * 1000 for s in samples_s]
    return (f"p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms "
            f"(n={len(ms)}, mean {statistics.fmean(ms):.1f})")


@dataclass(frozen=True)
class Row:
    """One line of `make bench`: what was measured, the figure, and what to read it against.

    A benchmark module's ``run()`` returns a list of rows: ``Row``s or plain tuples
    ``(metric, value)`` / ``(metric, value, reference)``. The reference (a figure measured
    in the same run, or a published one with its source) is printed beside the value.
    """

    metric: str
    value: str
    reference: str = ""


class NotMeasured(RuntimeError):
    """A row that could not be measured: raise it and `make bench` fails instead of printing a gap."""


# What older rows say instead of a figure; the harness counts such a row as a failure too.
UNMEASURED_PREFIXES = ("not measured", "stack not deployed")


def as_row(raw: Row | tuple[str, ...]) -> Row:
    if isinstance(raw, Row):
        return raw
    if len(raw) not in (2, 3):
        raise TypeError(f"a bench row is (metric, value[, reference]), not {raw!r}")
    return Row(*raw)


def is_measured(row: Row) -> bool:
    return not row.value.strip().lower().startswith(UNMEASURED_PREFIXES)
