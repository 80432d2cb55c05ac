"""LocalStack's collector policy (gc_policy.py): a full collection freezes its survivors, so the next
one walks only what was allocated since. Run in a fresh interpreter each (gc state is per process)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parents[3] / "infra" / "localstack" / "executor"

SCRIPT = textwrap.dedent("""
    import gc, json, sys
    from photostack_localstack_executor import gc_policy

    callback = gc_policy.install({"PHOTOSTACK_LOCALSTACK_GC": sys.argv[1]})
    assert gc_policy.install({"PHOTOSTACK_LOCALSTACK_GC": sys.argv[1]}) is callback  # once
    kept = [[i] for i in range(50_000)]  # long-lived objects, as LocalStack's stores
    gc.collect()
    frozen_after_first = gc.get_freeze_count()
    garbage = []
    garbage.append(garbage)  # a cycle made after the freeze is still collected
    del garbage
    collected = gc.collect()
    print(json.dumps({"frozen": frozen_after_first, "collected": collected,
                      "pauses": callback.pauses.snapshot(),
                      "callbacks": sum(isinstance(c, gc_policy.FreezeSurvivors) for c in gc.callbacks)}))
""")


def run(mode: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(PACKAGE)})
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_a_full_collection_freezes_what_survived_it_and_later_cycles_are_still_collected() -> None:
    result = run("freeze")
    assert result["frozen"] >= 50_000
    assert result["collected"] >= 1
    assert result["pauses"]["count"][2] == 2 and result["pauses"]["freezes"] == 2
    assert result["pauses"]["max_ms"][2] > 0
    assert result["callbacks"] == 1


def test_default_leaves_the_collector_as_it_is_and_still_times_it() -> None:
    result = run("default")
    assert result["frozen"] == 0
    assert result["collected"] >= 1
    assert result["pauses"]["count"][2] == 2 and result["pauses"]["freezes"] == 0
