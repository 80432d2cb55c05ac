"""The write-through journal of LocalStack's durable S3/SQS state: records in order, torn tails dropped.

``durable_journal`` is plain Python (LocalStack's own modules are only in its virtualenv), so it
is loaded from its file here; the providers that use it are tested end to end
(tests/e2e/test_durable_state_e2e.py).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.unit

SOURCE = (Path(__file__).resolve().parents[2] / "infra" / "localstack" / "executor"
          / "photostack_localstack_executor" / "durable_journal.py")


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("durable_journal", SOURCE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dj() -> ModuleType:
    return load()


def test_records_come_back_in_order(dj: ModuleType, tmp_path: Path) -> None:
    journal = dj.Journal(tmp_path / "j", fsync=True)
    journal.open()
    with journal.lock:
        for payload in (b"one", b"", b"three" * 1000):
            journal.append(payload)
    assert list(dj.read_records(tmp_path / "j")) == [b"one", b"", b"three" * 1000]


def test_a_torn_last_record_is_dropped_and_the_rest_kept(dj: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "j"
    whole = dj.encode(b"acknowledged") + dj.encode(b"cut off by kill -9")
    for cut in range(len(dj.encode(b"acknowledged")), len(whole)):
        path.write_bytes(whole[:cut])
        assert list(dj.read_records(path)) == [b"acknowledged"], cut


def test_a_corrupt_record_stops_the_replay_there(dj: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "j"
    data = bytearray(dj.encode(b"first") + dj.encode(b"second") + dj.encode(b"third"))
    data[len(dj.encode(b"first")) + dj.HEADER.size] ^= 0xFF  # flip a byte of "second"
    path.write_bytes(bytes(data))
    assert list(dj.read_records(path)) == [b"first"]


def test_rewrite_replaces_the_journal_and_appends_go_on_after_it(dj: ModuleType, tmp_path: Path) -> None:
    journal = dj.Journal(tmp_path / "state" / "j", fsync=False)
    journal.open()
    with journal.lock:
        for n in range(5):
            journal.append(b"old %d" % n)
    journal.rewrite([b"compacted"])
    with journal.lock:
        journal.append(b"new")
    assert list(dj.read_records(tmp_path / "state" / "j")) == [b"compacted", b"new"]
    assert not (tmp_path / "state" / "j.compact").exists()


def test_a_missing_journal_is_an_empty_state(dj: ModuleType, tmp_path: Path) -> None:
    assert list(dj.read_records(tmp_path / "never-written")) == []
    journal = dj.Journal(tmp_path / "fresh" / "j", fsync=True)
    assert journal.rewrite([]) == 0  # the first start: creates the folder and an empty journal
    assert (tmp_path / "fresh" / "j").read_bytes() == b""
