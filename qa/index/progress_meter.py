"""Embedding progress on stderr: texts done of total, texts per second, ETA and retries.

A 16-hour run that shows nothing looks hung. Whatever the output mode
(``--json`` keeps stdout for its JSON), stderr gets a line a terminal
rewrites in place, or, when stderr is a file or a pipe (a log), a new line
every few seconds and one at the end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

TTY_EVERY_S = 0.25
LOG_EVERY_S = 10.0


def duration(seconds: float) -> str:
    """``1h02m``, ``3m05s``, ``12s``: an ETA to read at a glance."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Meter:
    """Counts one stage's texts; ``retries`` reads the embedder's retry count (0 for a local model)."""

    def __init__(
        self,
        what: str,
        total: int,
        retries: Callable[[], int],
        enabled: bool = True,
        stream: TextIO | None = None,
    ) -> None:
        self.what, self.total, self.retries, self.enabled = what, total, retries, enabled
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.done = 0
        self.started = time.perf_counter()
        self._shown = 0.0
        self._shown_done = -1
        self._retries_at_start = retries()

    def advance(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if self.enabled and now - self._shown >= (TTY_EVERY_S if self.tty else LOG_EVERY_S):
            self._shown = now
            self._show()

    def close(self) -> None:
        if self.enabled and self.total and self._shown_done != self.done:
            self._show()
            if self.tty:
                self.stream.write("\n")
                self.stream.flush()

    def line(self) -> str:
        elapsed = time.perf_counter() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = duration((self.total - self.done) / rate) if rate > 0 else "?"
        percent = 100.0 * self.done / self.total if self.total else 100.0
        return (
            f"{self.what}: {self.done}/{self.total} texts ({percent:.0f}%), {rate:.1f} texts/s, "
            f"ETA {eta}, {self.retries() - self._retries_at_start} retries"
        )

    def _show(self) -> None:
        self._shown_done = self.done
        self.stream.write(("\r" + self.line() + "\x1b[K") if self.tty else self.line() + "\n")
        self.stream.flush()
