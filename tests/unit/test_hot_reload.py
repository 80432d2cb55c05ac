"""The hot-reload watcher of the process executor (hot_reload.py: stdlib only, run by runtime.py)."""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.unit

MODULE = (Path(__file__).resolve().parents[2] / "infra" / "localstack" / "executor"
          / "photostack_localstack_executor" / "hot_reload.py")
DEADLINE_S = 10.0  # correctness only: the change must be reported, well within this


def hot_reload() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hot_reload_under_test", MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Calls:
    def __init__(self) -> None:
        self.count = 0
        self.event = threading.Event()

    def __call__(self) -> None:
        self.count += 1
        self.event.set()

    def wait(self) -> float:
        started = time.monotonic()
        assert self.event.wait(DEADLINE_S), "no change reported"
        self.event.clear()
        return time.monotonic() - started


@pytest.fixture(params=["inotify", "polling"])
def module(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    loaded = hot_reload()
    if request.param == "polling":
        monkeypatch.setattr(loaded, "_inotify", lambda: None)
    return loaded


def test_a_saved_file_is_reported_once_after_the_quiet_wait(module: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("A = 1\n")
    calls = Calls()
    watcher = module.Watcher([str(tmp_path)], calls, quiet_s=0.2).start()
    try:
        for version in range(3):  # an editor's burst of writes: one reload
            (tmp_path / "app.py").write_text(f"A = {version}\n")
        calls.wait()
        assert calls.count == 1
    finally:
        watcher.close()


def test_folders_behind_symlinks_and_new_folders_are_watched(module: ModuleType, tmp_path: Path) -> None:
    source = tmp_path / "source" / "pkg"
    source.mkdir(parents=True)
    (source / "mod.py").write_text("X = 1\n")
    layer = tmp_path / "layer" / "python"
    layer.mkdir(parents=True)
    (layer / "pkg").symlink_to(source)  # how make dev links a layer's sources
    calls = Calls()
    watcher = module.Watcher([str(tmp_path / "layer")], calls, quiet_s=0.1).start()
    try:
        (source / "mod.py").write_text("X = 22\n")
        calls.wait()
        (source / "sub").mkdir()
        calls.wait()
        (source / "sub" / "new.py").write_text("Y = 1\n")
        calls.wait()
    finally:
        watcher.close()


def test_bytecode_and_editor_scratch_files_are_not_changes() -> None:
    module = hot_reload()
    for name in ("__pycache__", "app.cpython-313.pyc", ".app.py.swp", "app.py~", ".#app.py", "4913"):
        assert module.ignored(name), name
    assert not module.ignored("app.py")
    header = module.EVENT_HEADER

    def event(mask: int, name: bytes) -> bytes:
        padded = name + b"\0" * (16 - len(name) % 16)
        return header.pack(1, mask, 0, len(padded)) + padded

    watcher = module.Watcher([], lambda: None)
    assert not watcher._changed(event(module.IN_CREATE | module.IN_ISDIR, b"__pycache__"))
    assert not watcher._changed(event(module.IN_MODIFY, b"x.pyc") + event(module.IN_IGNORED, b""))
    assert watcher._changed(event(module.IN_MODIFY, b"x.pyc") + event(module.IN_CLOSE_WRITE, b"app.py"))


def test_the_environment_variable_names_the_folders_and_is_not_passed_on(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    module = hot_reload()
    monkeypatch.setenv(module.ENV_VAR, os.pathsep.join([str(tmp_path), str(tmp_path / "missing")]))
    watcher = module.watch_from_env(lambda: None)
    try:
        assert watcher is not None and watcher.roots == [str(tmp_path)]  # a folder that is gone is skipped
        assert module.ENV_VAR not in os.environ  # the function does not see it
    finally:
        watcher.close()
    assert module.watch_from_env(lambda: None) is None
