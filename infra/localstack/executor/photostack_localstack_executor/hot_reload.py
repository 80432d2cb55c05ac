"""Hot reload: watch a function environment's source folders and say when they changed.

What LocalStack's ``hot-reload`` bucket does, without Docker and for layers too. There, a
function (or, in the paid edition, a layer) whose code is ``S3Bucket=hot-reload`` and
``S3Key=<host folder>`` runs that folder in place; the runtime init inside the container
watches it (fsnotify on ``/var/task`` and ``/opt``), waits until nothing has changed for
500 ms, and restarts the runtime process, not the container: the next invocation runs the
function's init code again with the saved files, and up to ~700 ms pass from a save to the
code being in effect.

Here the supervisor of each environment (runtime.py) starts a :class:`Watcher` on the folders
the executor passes in ``PHOTOSTACK_HOT_RELOAD_PATHS`` (the function's code folder and each
layer folder that is hot-reloading; the layer folders of ``make dev`` are symlinks to the
sources, which are followed). After :data:`QUIET_S` without a change it calls back; the
supervisor then replaces its worker before the next invocation. Environments of other
functions, and other warm state (the supervisor, LocalStack), are untouched.

Linux inotify through ctypes (stdlib only: runtime.py runs under the Lambda runtime's Python),
one descriptor per environment, one watch per directory; elsewhere, a poll of modification
times every :data:`POLL_S`. Bytecode caches and editors' scratch files do not count as
changes (the worker writes ``__pycache__`` into the very folders being watched).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

QUIET_S = 0.5  # LocalStack's: reload after 500 ms without a change
POLL_S = 0.25  # only where inotify is missing
ENV_VAR = "PHOTOSTACK_HOT_RELOAD_PATHS"
IGNORED_DIRS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".git"})
IGNORED_SUFFIXES = (".pyc", ".pyo", ".swp", ".swx", ".swpx", "~")

# <sys/inotify.h>
IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_DELETE_SELF, IN_MOVE_SELF, IN_Q_OVERFLOW, IN_IGNORED, IN_ISDIR = 0x400, 0x800, 0x4000, 0x8000, 0x40000000
IN_NONBLOCK, IN_CLOEXEC = 0o4000, 0o2000000
WATCH_MASK = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
              | IN_DELETE_SELF | IN_MOVE_SELF)
EVENT_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len


def ignored(name: str) -> bool:
    """A name whose change is not a code change (bytecode, caches, editor scratch files)."""
    return (name in IGNORED_DIRS or name.endswith(IGNORED_SUFFIXES) or name.startswith(".#")
            or name == "4913")  # vim's probe file


def paths_from_env(environ: dict[str, str] | os._Environ[str] = os.environ) -> list[str]:
    return [p for p in environ.get(ENV_VAR, "").split(os.pathsep) if p]


def watched_directories(roots: list[str]) -> Iterator[str]:
    """Every directory under the roots, symlinks followed, each real directory once."""
    seen: set[str] = set()
    for root in roots:
        for folder, dirs, _files in os.walk(root, followlinks=True):
            real = os.path.realpath(folder)
            if real in seen:
                dirs[:] = []
                continue
            seen.add(real)
            dirs[:] = [d for d in dirs if not ignored(d)]
            yield real


def linked_files(roots: list[str]) -> Iterator[str]:
    """Files reached through a file symlink (a layer's bundled files): their folder may not be watched."""
    for root in roots:
        for folder, dirs, files in os.walk(root, followlinks=True):
            dirs[:] = [d for d in dirs if not ignored(d)]
            for name in files:
                path = os.path.join(folder, name)
                if os.path.islink(path) and not ignored(name):
                    yield os.path.realpath(path)


def _inotify() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.inotify_init1  # noqa: B018 (present on Linux only)
    except (OSError, AttributeError):
        return None
    return libc


class Watcher:
    """Calls ``on_change()`` once the folders under ``roots`` are quiet for ``quiet_s`` after a change."""

    def __init__(self, roots: list[str], on_change: Callable[[], None], quiet_s: float = QUIET_S) -> None:
        self.roots = [r for r in roots if os.path.isdir(r)]
        self.on_change = on_change
        self.quiet_s = quiet_s
        self._closed = threading.Event()
        self._libc = _inotify()
        self._fd = -1
        self._watches: set[int] = set()
        if self._libc is not None:
            self._fd = self._libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        self._snapshot: dict[str, tuple[int, int]] = {}

    def start(self) -> Watcher:
        if self._fd >= 0:
            self._add_all()
            target = self._run_inotify
        else:
            self._snapshot = self._stat_all()
            target = self._run_polling
        threading.Thread(target=target, name="hot-reload", daemon=True).start()
        return self

    def close(self) -> None:
        self._closed.set()

    # -- inotify ----------------------------------------------------------------
    def _add(self, path: str) -> None:
        assert self._libc is not None
        wd = self._libc.inotify_add_watch(self._fd, os.fsencode(path), WATCH_MASK)
        if wd >= 0:
            self._watches.add(wd)

    def _add_all(self) -> None:
        for path in watched_directories(self.roots):
            self._add(path)
        for path in linked_files(self.roots):
            self._add(path)

    def _changed(self, data: bytes) -> bool:
        """Whether a batch of inotify events holds a change that counts."""
        changed, offset = False, 0
        while offset + EVENT_HEADER.size <= len(data):
            _wd, mask, _cookie, length = EVENT_HEADER.unpack_from(data, offset)
            name = data[offset + EVENT_HEADER.size: offset + EVENT_HEADER.size + length].rstrip(b"\0")
            offset += EVENT_HEADER.size + length
            if mask & IN_Q_OVERFLOW:
                changed = True
            elif mask & IN_IGNORED or ignored(os.fsdecode(name)):
                continue
            else:
                changed = True
        return changed

    def _run_inotify(self) -> None:
        last_change: float | None = None
        try:
            while not self._closed.is_set():
                wait = 1.0 if last_change is None else max(0.0, last_change + self.quiet_s - time.monotonic())
                ready, _, _ = select.select([self._fd], [], [], wait)
                if ready:
                    try:
                        data = os.read(self._fd, 64 * 1024)
                    except BlockingIOError:
                        data = b""
                    if self._changed(data):
                        last_change = time.monotonic()
                        self._add_all()  # new folders (and replaced linked files) are watched at once
                # Checked after every wake-up: ignored events (bytecode writes) must not hold it back.
                if last_change is not None and time.monotonic() - last_change >= self.quiet_s:
                    last_change = None
                    self._notify()
        finally:
            os.close(self._fd)

    # -- polling (no inotify) ------------------------------------------------------
    def _stat_all(self) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        for folder in watched_directories(self.roots):
            with os.scandir(folder) as entries:
                for entry in entries:
                    if ignored(entry.name):
                        continue
                    try:
                        stat = entry.stat()
                    except OSError:
                        continue
                    found[entry.path] = (stat.st_mtime_ns, stat.st_size)
        return found

    def _run_polling(self) -> None:
        last_change: float | None = None
        while not self._closed.wait(POLL_S):
            snapshot = self._stat_all()
            if snapshot != self._snapshot:
                self._snapshot, last_change = snapshot, time.monotonic()
            elif last_change is not None and time.monotonic() - last_change >= self.quiet_s:
                last_change = None
                self._notify()

    def _notify(self) -> None:
        try:
            self.on_change()
        except Exception as exc:  # a failed reload must not end the watching
            print(f"hot reload failed: {exc!r}", file=sys.stderr, flush=True)


def folders(function_version: Any) -> list[str]:
    """A LocalStack function version's hot-reloading folders (``hot-reload`` bucket): code and layers."""
    config = function_version.config
    codes = ([config.code] if config.code else []) + [layer.code for layer in config.layers]
    return [str(code.get_unzipped_code_location()) for code in codes if code.is_hot_reloading()]


def watch_from_env(on_change: Callable[[], None]) -> Watcher | None:
    """The environment's watcher, when the executor named hot-reloading folders; else None.

    The variable is taken out of the environment: the function (the worker) does not see it.
    """
    roots = paths_from_env()
    os.environ.pop(ENV_VAR, None)
    return Watcher(roots, on_change).start() if roots else None
