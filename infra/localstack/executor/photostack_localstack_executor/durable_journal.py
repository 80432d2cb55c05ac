"""An append-only journal of pickled records: written through before LocalStack answers, replayed at start.

Each record is ``<length:4><crc32:4><payload>``. A record is appended with one ``write`` on an
``O_APPEND`` descriptor (and ``fdatasync`` unless fsync is off), under a lock, before the request
that made it is answered. A process killed mid-append leaves at most one torn record at the end;
replay stops there, and that request was never acknowledged.

Compaction (at start, after replay): the caller writes every live record into a new file, which
replaces the journal atomically (``os.replace`` after ``fsync``), so the journal stays about the
size of the state instead of growing with every request ever made.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

LOG = logging.getLogger(__name__)
HEADER = struct.Struct(">II")  # payload length, crc32 of the payload


def encode(payload: bytes) -> bytes:
    return HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def read_records(path: Path) -> Iterator[bytes]:
    """The payloads of ``path`` in order, up to the first torn or corrupt record."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    offset = 0
    while offset + HEADER.size <= len(data):
        length, crc = HEADER.unpack_from(data, offset)
        start, end = offset + HEADER.size, offset + HEADER.size + length
        if end > len(data) or zlib.crc32(data[start:end]) != crc:
            LOG.warning("journal %s: torn record at byte %d of %d, ignored (it was never acknowledged)",
                        path, offset, len(data))
            return
        yield data[start:end]
        offset = end


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    def __init__(self, path: Path, *, fsync: bool) -> None:
        self.path = path
        self.fsync = fsync
        self.lock = threading.Lock()
        self._fd: int | None = None

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def append(self, payload: bytes) -> None:
        """Call with ``self.lock`` held: the caller reads the state it records under the same lock."""
        if self._fd is None:
            raise RuntimeError("journal is not open")
        record = memoryview(encode(payload))
        while record:
            record = record[os.write(self._fd, record):]
        if self.fsync:
            os.fdatasync(self._fd)

    def rewrite(self, payloads: Iterable[bytes]) -> int:
        """Replace the journal with ``payloads`` (atomically); returns the bytes written."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".compact")
        written = 0
        with open(tmp, "wb") as f:
            for payload in payloads:
                record = encode(payload)
                f.write(record)
                written += len(record)
            f.flush()
            os.fsync(f.fileno())
        with self.lock:
            os.replace(tmp, self.path)
            fsync_dir(self.path.parent)
            if self._fd is not None:
                os.close(self._fd)
            self.open()
        return written
