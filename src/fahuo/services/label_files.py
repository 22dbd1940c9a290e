"""Label files on disk: named by their content, for fahuo's own user only, and — since a
self-drawn label carries the receiver's whole address in plain text — deleted once handed out
or when their keep time is over (``PLAIN_PREFIX`` files; other documents stay)."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Protocol

import structlog

log = structlog.get_logger(__name__)


class HandedOut(Protocol):
    @property
    def path(self) -> Path: ...

    @property
    def plain(self) -> bool: ...


PLAIN_PREFIX = "labels-plain"
PLAIN_KEEP_S = 3600.0


def _store_file(out_dir: Path, prefix: str, fmt: str, data: bytes) -> tuple[str, str]:
    """Files are named by their content, so the same batch is the same file. They carry
    receivers (masked or plain): this user's only."""
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fingerprint = hashlib.sha256(data).hexdigest()
    file_name = f"{prefix}-{fingerprint[:16]}.{fmt}"
    fd = os.open(out_dir / file_name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o600)  # a file left from before with looser permissions
        f.write(data)
    return fingerprint, file_name


def hand_out(result: HandedOut) -> bytes:
    """The file's bytes for a download; a plain-receiver file is deleted once read (a copy
    wanted again is a reprint, with a reason). Masked files stay."""
    data = result.path.read_bytes()
    if result.plain:
        result.path.unlink(missing_ok=True)
    return data


def forget_plain_labels(out_dir: Path, keep_s: float, *, now: float | None = None) -> int:
    """Delete plain-receiver label files older than keep_s (by their write time)."""
    now = time.time() if now is None else now
    gone = 0
    try:
        files = list(Path(out_dir).glob(PLAIN_PREFIX + "-*"))
    except OSError:
        return 0
    for f in files:
        try:
            if f.stat().st_mtime + keep_s < now:
                f.unlink()
                gone += 1
        except FileNotFoundError:
            pass  # handed out meanwhile
    return gone


class _PlainLabelReaper:
    """Deletes plain-receiver files when their keep time is over, in the process that wrote
    them (the files are on its machine's disk, where a cluster-wide task may not run). A
    process that ended earlier (a CLI print) leaves them to the sweep every start does."""

    def __init__(self) -> None:
        self._dirs: dict[Path, float] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, out_dir: Path, keep_s: float) -> None:
        with self._lock:
            self._dirs[Path(out_dir)] = min(keep_s, self._dirs.get(Path(out_dir), keep_s))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="fahuo-plain-labels",
                                                daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.clear()  # before reading: a watch() from now on wakes the next wait
            with self._lock:
                dirs = dict(self._dirs)
            for d, keep in dirs.items():
                try:
                    forget_plain_labels(d, keep)
                except Exception as exc:  # noqa: BLE001 - keep sweeping the others
                    log.warning("plain_labels_sweep_failed", error=str(exc))
            self._wake.wait(max(0.05, min(60.0, min(dirs.values(), default=60.0) / 4)))


_reaper = _PlainLabelReaper()
