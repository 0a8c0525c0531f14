"""One writer per index folder: an exclusive ``flock`` on ``<index_dir>/.lock``.

Two ``qa index`` runs on one folder used to delete each other's build folders
and leave a manifest pointing at nothing. The lock is taken before any work
(model loading, embedding), held for the whole build, and released by the
kernel when the process exits or is killed, so a crash never leaves the folder
locked. The lock file itself is never deleted: deleting a flock file lets two
processes lock two different inodes. A server waiting for a first build only
probes it (``held_by``), so "no index yet" can say "it is coming".
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from qa.errors import WenyuanError

LOCK = ".lock"
_POLL_SECONDS = 0.1


class IndexBusyError(WenyuanError):
    code = "index_busy"


@dataclass(frozen=True)
class WriterLock:
    """Proof that the caller holds the folder: removing stale build folders takes one."""

    index_dir: Path
    pid: int


def _open_lock_file(index_dir: Path) -> int:
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
        return os.open(index_dir / LOCK, flags, 0o666)
    except FileExistsError:
        raise WenyuanError(
            f"index folder {index_dir} exists but is not a folder; pass another --index-dir"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise WenyuanError(f"{index_dir / LOCK} is a symbolic link; remove it and run again") from None
        raise WenyuanError(f"cannot lock index folder {index_dir}: {exc.strerror}") from None


def _holder(fd: int) -> str:
    """`` (pid N)`` of the writer holding the lock; it writes its pid just after locking, so wait a moment for it."""
    for _ in range(20):
        try:
            text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        except OSError:
            return ""
        if text.isdigit():
            return f" (pid {text})"
        time.sleep(0.01)
    return ""


@contextmanager
def hold(index_dir: Path, wait_seconds: float) -> Iterator[WriterLock]:
    """Hold the folder's writer lock, waiting up to ``wait_seconds`` for another writer to finish."""
    fd = _open_lock_file(index_dir)
    try:
        deadline = time.monotonic() + max(0.0, wait_seconds)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusyError(
                        f"another `qa index`{_holder(fd)} is writing {index_dir}; "
                        f"nothing was done: run again when it has finished"
                    ) from None
                time.sleep(_POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield WriterLock(index_dir, os.getpid())
        os.ftruncate(fd, 0)
    finally:
        os.close(fd)


def held_by(index_dir: Path) -> str | None:
    """``" (pid N)"`` (or ``""`` when the pid is not written yet) while a writer holds the folder; None when none does.

    Read-only: a shared, non-blocking ``flock`` probe released at once; the file is never created or written
    here. A writer that tries the lock during the probe's microseconds simply polls again.
    """
    try:
        fd = os.open(Path(index_dir) / LOCK, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            return f" (pid {pid})" if pid.isdigit() else ""
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
