"""`make bench` harness: a gap fails the run, references print beside values, a summary is written."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from tests.bench import __main__ as harness
from tests.bench.stats import NotMeasured, Row, as_row, is_measured


def _install(monkeypatch: pytest.MonkeyPatch, name: str, run: object) -> None:
    module = types.ModuleType(f"tests.bench.bench_{name}")
    module.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, f"tests.bench.bench_{name}", module)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(harness, "modules", lambda: ["good", "gap", "raises", "legacy"])
    monkeypatch.setattr(harness, "SUMMARY", tmp_path / "bench.md")
    monkeypatch.setattr(harness, "ROOT", tmp_path)
    _install(monkeypatch, "good", lambda: [("a: orders/s", "1200/s", "pgledger: 7,559/s"), Row("b", "3 ms")])

    def gap() -> list[Row]:
        raise NotMeasured("the stack is not deployed")

    def raises() -> list[Row]:
        raise RuntimeError("boom")

    _install(monkeypatch, "gap", gap)
    _install(monkeypatch, "raises", raises)
    _install(monkeypatch, "legacy", lambda: [("c: via API Gateway", "stack not deployed")])
    return tmp_path / "bench.md"


def test_rows_accept_tuples_and_flag_legacy_gaps() -> None:
    assert as_row(("m", "1 ms")) == Row("m", "1 ms", "")
    assert as_row(("m", "1 ms", "ref")).reference == "ref"
    with pytest.raises(TypeError):
        as_row(("only a metric",))
    assert is_measured(Row("m", "12.0 ms"))
    assert not is_measured(Row("m", "not measured: login answered 500"))
    assert not is_measured(Row("m", "stack not deployed"))


def test_a_measured_module_passes_and_prints_its_reference(fake: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert harness.main(["good"]) == 0
    out = capsys.readouterr().out
    assert "1200/s" in out and "reference: pgledger: 7,559/s" in out
    text = fake.with_name("bench.good.md").read_text()
    assert "| a: orders/s | 1200/s | pgledger: 7,559/s |" in text and "every row measured" in text


@pytest.mark.parametrize("name", ["gap", "raises", "legacy"])
def test_an_unmeasurable_row_fails_the_run(fake: Path, name: str) -> None:
    assert harness.main([name]) == 1
    assert "**not measured**" in fake.with_name(f"bench.{name}.md").read_text()


def test_the_previous_summary_is_kept_for_comparison(fake: Path) -> None:
    assert harness.main([]) == 1
    assert harness.main(["good", "gap", "raises", "legacy"]) == 1  # every module: the full run
    assert "## good" in fake.with_name("bench.prev.md").read_text()
    assert harness.main(["good"]) == 0
    assert harness.main(["legacy", "good"]) == 1
    assert harness.main(["good", "legacy"]) == 1
    assert "every row measured" in fake.with_name("bench.good.md").read_text()
    assert "FAILED" in fake.with_name("bench.good+legacy.prev.md").read_text()


def test_a_run_of_some_modules_leaves_the_full_runs_summary_alone(fake: Path) -> None:
    assert harness.main([]) == 1
    full = fake.read_text()
    assert all(f"## {name}" in full for name in ("good", "gap", "raises", "legacy"))
    assert harness.main(["good"]) == 0
    assert harness.main(["good"]) == 0
    assert fake.read_text() == full  # every module's rows still there
    assert not fake.with_name("bench.prev.md").exists()
    assert fake.with_name("bench.good.prev.md").exists()
    assert "## gap" not in fake.with_name("bench.good.md").read_text()


def test_an_unknown_name_is_refused(fake: Path) -> None:
    assert harness.main(["nope"]) == 2
    assert not list(fake.parent.glob("bench*.md"))
