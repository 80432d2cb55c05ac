"""The upload journal: one small JSON file per event that makes uploads resumable.

Keyed by each file's content SHA-256, it records the photo reserved for the file,
the multipart upload (id, presigned part URLs and their expiry) and every part S3
has acknowledged, with its ETag. It is rewritten atomically after every change,
so an upload killed at any point resumes from the last acknowledged part, and a
file whose bytes are already in S3 is skipped whatever its name.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from photostack_cli import config

UPLOADED = "uploaded"  # the bytes are in S3 (single PUT done, or multipart completed)
RESERVED = "reserved"  # a photo is reserved; bytes missing or partly sent


def journal_path(event_id: str) -> Path:
    safe = "".join(c for c in event_id if c.isalnum() or c in "-_")[:80] or "event"
    return config.state_dir() / "uploads" / f"{safe}.json"


class Journal:
    def __init__(self, event_id: str, path: Path | None = None) -> None:
        self.event_id = event_id
        self.path = path or journal_path(event_id)
        self._lock = threading.Lock()
        self._files: dict[str, dict[str, Any]] = {}
        try:
            data = json.loads(self.path.read_text())
            if isinstance(data, dict) and data.get("event_id") == event_id:
                self._files = dict(data.get("files") or {})
        except FileNotFoundError:
            pass
        except (OSError, ValueError):
            # A damaged journal costs a re-upload, never a wrong skip.
            self._files = {}

    def get(self, sha256: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._files.get(sha256)
            return json.loads(json.dumps(entry)) if entry is not None else None

    def put(self, sha256: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self._files[sha256] = dict(entry, updated_at=time.time())
            self._save()

    def part_done(self, sha256: str, part_number: int, etag: str) -> None:
        with self._lock:
            self._files[sha256].setdefault("done", {})[str(part_number)] = etag
            self._save()

    def entries(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return json.loads(json.dumps(self._files))

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"event_id": self.event_id, "files": self._files}, out)
        os.replace(tmp, self.path)
