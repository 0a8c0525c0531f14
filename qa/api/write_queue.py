"""Document writes, one at a time, on their own thread, behind a bounded queue.

Indexing holds the folder's writer lock and the model for seconds to minutes.
Before, each waiting upload held a thread of the pool the read routes run on,
so about 40 waiting uploads stopped ``/api/health``, search and chat. Now one
dedicated thread runs the writes; a request waits for its job asynchronously
(no thread), and gives up its place when its client disconnects. At most
``depth`` writes wait; the next gets an immediate 503 ``index_busy`` with a
``Retry-After`` estimated from the running write's progress.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable

from qa.api.write_jobs import Job, Outcome
from qa.errors import ApiError

log = logging.getLogger("wenyuan.writes")

KEEP_FINISHED = 200  # finished jobs answerable at /api/jobs/{id}
POLL_S = 0.1
DISCONNECT_POLL_S = 0.5


class WriteQueue:
    """A FIFO of write jobs run by one thread; never blocks the caller."""

    def __init__(self, depth: int) -> None:
        if depth < 0:
            raise ValueError(f"depth must be at least 0, got {depth}")
        self.depth = depth
        self._cond = threading.Condition()
        self._waiting: deque[Job] = deque()
        self._running: Job | None = None
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._speed = 1.0  # observed ÷ assumed build time, learned from finished jobs
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="wenyuan-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def submit(self, job: Job, always: bool = False) -> Job:
        """Queue ``job``, or 503 ``index_busy`` when ``depth`` writes already wait (``always``: the server's own sync)."""
        with self._cond:
            idle = (
                self._running is None
            )  # the writer is about to take the first waiting job: it does not wait
            if not always and len(self._waiting) >= self.depth + idle:
                retry = self.retry_after()
                raise ApiError(
                    503,
                    "index_busy",
                    f"{len(self._waiting)} writes are already waiting for the index (the limit, "
                    f"WENYUAN_DOCUMENT_WRITE_QUEUE); try again in about {retry} s",
                    {"Retry-After": str(retry)},
                )
            self._waiting.append(job)
            self._remember(job)
            self._cond.notify_all()
        return job

    def cancel(self, job: Job) -> bool:
        """Drop a job that has not started (its client went away); True when it was dropped."""
        with self._cond:
            if job not in self._waiting:
                return False
            self._waiting.remove(job)
        job.finish("cancelled", None)
        log.info("write of %s cancelled: the client disconnected while it waited", ascii(job.doc))
        return True

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def position(self, job: Job) -> int:
        """1 for the next write to run, 0 when it runs or has finished."""
        with self._cond:
            return self._waiting.index(job) + 1 if job in self._waiting else 0

    def counts(self) -> tuple[int, int]:
        """(running, waiting)."""
        with self._cond:
            return int(self._running is not None), len(self._waiting)

    def estimate(self, job: Job) -> float:
        """Seconds a job of this size takes here: two seconds plus 8 KB a second, scaled by what was observed."""
        return (2.0 + job.size / 8000) * self._speed

    def retry_after(self) -> int:
        """Seconds until the running write finishes (frees a place in the queue), from its progress."""
        job = self._running
        if job is None:
            return 1
        elapsed, fraction = job.elapsed(), job.fraction
        left = elapsed * (1 - fraction) / fraction if fraction >= 0.1 else self.estimate(job) - elapsed
        return max(1, min(3600, math.ceil(left)))

    def _remember(self, job: Job) -> None:
        self._jobs[job.id] = job
        while len(self._jobs) > KEEP_FINISHED:
            oldest = next((k for k, j in self._jobs.items() if j.is_finished()), None)
            if oldest is None:
                break
            del self._jobs[oldest]

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                job = self._running = self._waiting.popleft()
                job.progress("reading", 0, 0)  # until the build reports (the Milvus writer reports no stages)
                job.state, job.started = "running", time.time()
            try:
                outcome = job.action(job)
                job.finish("done" if outcome.status < 400 else "failed", outcome)
            except ApiError as exc:
                job.finish("failed", Outcome.of_error(exc))
            except Exception:  # a bug: logged, reported as 500, and the queue goes on
                log.exception("write of %s failed", ascii(job.doc))
                job.finish(
                    "failed",
                    Outcome(
                        500,
                        {
                            "status": 500,
                            "code": "internal_error",
                            "message": "the write failed; see the server log",
                        },
                    ),
                )
            self._learn(job)
            with self._cond:
                self._running = None

    def _learn(self, job: Job) -> None:
        if job.state == "done" and job.kind != "sync":
            ratio = job.elapsed() / max(0.1, self.estimate(job) / self._speed)
            self._speed = 0.7 * self._speed + 0.3 * ratio


async def wait_for(job: Job, seconds: float, disconnected: Callable[[], Awaitable[bool]]) -> bool:
    """Wait up to ``seconds`` for ``job`` without holding a thread; False when time ran out or the client left."""
    deadline = time.monotonic() + seconds
    next_check = time.monotonic() + DISCONNECT_POLL_S
    while not job.is_finished():
        now = time.monotonic()
        if now >= deadline:
            return False
        if now >= next_check:
            if await disconnected():
                return False
            next_check = now + DISCONNECT_POLL_S
        await asyncio.sleep(min(POLL_S, max(0.0, deadline - now)))
    return True
