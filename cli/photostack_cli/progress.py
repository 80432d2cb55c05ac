"""Rich progress bars for uploads: one per file being sent, and one for the whole batch."""

from __future__ import annotations

import threading
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from photostack_cli.uploader import FileResult


class RichUploadProgress:
    def __init__(self, console: Console, total_files: int, total_bytes: int) -> None:
        self.progress = Progress(
            TextColumn("{task.description}", justify="left"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._lock = threading.Lock()
        self._files = total_files
        self._finished = 0
        self._sent: dict[TaskID, int] = {}
        self.overall = self.progress.add_task(self._overall_text(), total=max(total_bytes, 1))

    def _overall_text(self) -> str:
        return f"[bold]all files[/] {self._finished}/{self._files}"

    def __enter__(self) -> RichUploadProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def start(self, name: str, total: int) -> Any:
        with self._lock:
            task = self.progress.add_task(name[:40], total=max(total, 1))
            self._sent[task] = 0
            return task

    def advance(self, handle: Any, nbytes: int) -> None:
        with self._lock:
            self._sent[handle] += nbytes
        self.progress.advance(handle, nbytes)
        self.progress.advance(self.overall, nbytes)

    def finish(self, handle: Any, result: FileResult) -> None:
        with self._lock:
            self._finished += 1
            sent = self._sent.pop(handle, 0) if handle is not None else 0
            if handle is not None:
                self.progress.update(handle, visible=False)
            remaining = result.size_bytes - sent
            if result.outcome == "skipped":
                self.progress.advance(self.overall, remaining)
            else:
                # Bytes that will never be sent leave the overall total.
                total = self.progress.tasks[self.overall].total or 0
                self.progress.update(self.overall, total=max(total - remaining, 1))
            self.progress.update(self.overall, description=self._overall_text())
