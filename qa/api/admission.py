"""Load shedding in front of the model: a bounded number of requests in it, the rest told "busy" at once.

One model thread serves every question, so a request admitted behind ``depth``
others waits about ``depth`` times the per-request time. Beyond that depth an
answer would only come late; a quick 503 with ``Retry-After`` lets the client
back off or go elsewhere instead, and keeps the admitted requests' latency flat.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from qa.errors import WenyuanError


class BusyError(WenyuanError):
    """The model's queue is full; the server answers 503 with ``Retry-After``."""

    code = "busy"

    def __init__(self, depth: int, retry_after_s: int) -> None:
        super().__init__(
            f"the server is busy ({depth} questions are already waiting for the model); "
            f"try again in {retry_after_s} s"
        )
        self.retry_after_s = retry_after_s


class Admission:
    """Counts requests waiting for or using the model; never blocks a caller."""

    def __init__(self, depth: int, retry_after_s: int) -> None:
        if depth < 1 or retry_after_s < 1:
            raise ValueError(f"depth and retry_after_s must be at least 1, got {depth} and {retry_after_s}")
        self.depth = depth
        self.retry_after_s = retry_after_s
        self._slots = threading.BoundedSemaphore(depth)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Holds one place in the queue for the block, or raises ``BusyError`` without waiting."""
        if not self._slots.acquire(blocking=False):
            raise BusyError(self.depth, self.retry_after_s)
        try:
            yield
        finally:
            self._slots.release()
