"""Whether a ``qa index`` is building the folder a server waits on, so "no index yet" can say "it is coming".

Read-only: a shared, non-blocking ``flock`` probe of the writer lock file
(qa.index.writer_lock holds it exclusively for a whole build), released at
once; the file is never created or written here. A writer that tries the lock
during the probe's microseconds simply polls again.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from qa.index.writer_lock import LOCK


def build_running(index_dir: Path) -> str | None:
    """``" (pid N)"`` (or ``""`` when the pid is not written yet) while a writer holds the folder; None when none does."""
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
