"""One document write as the server tracks it: queued, running (with progress), then done, failed or cancelled.

A job outlives the request that made it: a client that was answered
``202 Accepted`` follows it at ``GET /api/jobs/{id}``, and the queue estimates
``Retry-After`` from the running job's progress. Progress is the build's own
report (stage, texts embedded of how many), turned into one fraction by fixed
shares of the work per stage: an estimate, said to be one.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from qa.errors import ApiError

State = Literal["queued", "running", "done", "failed", "cancelled"]
FINISHED = ("done", "failed", "cancelled")
# Share of a build's time before each stage starts and the stage's own share: embedding dominates.
STAGES = {
    "queued": (0.0, 0.0),
    "reading": (0.0, 0.1),
    "passages": (0.1, 0.4),
    "sentences": (0.5, 0.45),
    "committing": (0.95, 0.05),
}
STAGE_NAMES = {
    "queued": "waiting for the writes before it",
    "reading": "reading the corpus folder",
    "passages": "embedding passages",
    "sentences": "embedding sentences",
    "committing": "writing the new build",
}


def _no_retries() -> int:
    return 0


@dataclass
class Outcome:
    """What a finished job answers: the HTTP status and body a waiting client would have got."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_error(cls, exc: ApiError) -> Outcome:
        return cls(
            exc.status, {"status": exc.status, "code": exc.code, "message": exc.message}, exc.headers or {}
        )


@dataclass
class Job:
    kind: Literal["put", "delete", "sync"]
    doc: str
    size: int
    action: Callable[[Job], Outcome]
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    state: State = "queued"
    stage: str = "queued"
    done: int = 0
    total: int = 0
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    outcome: Outcome | None = None
    retries: Callable[[], int] = field(default_factory=lambda: _no_retries, repr=False)
    _stage_at: tuple[float, int, int] = field(default=(0.0, 0, 0), repr=False)
    _finished: threading.Event = field(default_factory=threading.Event, repr=False)

    def progress(self, stage: str, done: int, total: int) -> None:
        """The build's report (qa.index.vectors.Progress), called from the writer thread."""
        if stage != self.stage:
            self._stage_at = (time.perf_counter(), done, self.retries())
        self.stage, self.done, self.total = stage, done, total

    def rate(self) -> dict[str, float | int | None]:
        """The running stage's texts per second, its ETA and the embedder's retries: what `qa index` shows on stderr."""
        since, done_at_start, retries_at_start = self._stage_at
        elapsed = time.perf_counter() - since if since else 0.0
        done = self.done - done_at_start
        per_s = done / elapsed if elapsed > 0 and done > 0 else 0.0
        return {
            "texts_per_s": round(per_s, 1),
            "eta_s": round((self.total - self.done) / per_s, 1) if per_s and self.total else None,
            "retries": self.retries() - retries_at_start if since else 0,
        }

    @property
    def fraction(self) -> float:
        if self.state == "done":
            return 1.0
        start, share = STAGES.get(self.stage, (0.0, 0.0))
        return round(start + share * (self.done / self.total if self.total else 0.0), 3)

    def elapsed(self) -> float:
        return (self.finished or time.time()) - (self.started or time.time())

    def finish(self, state: State, outcome: Outcome | None) -> None:
        self.state, self.outcome, self.finished = state, outcome, time.time()
        self._finished.set()

    def is_finished(self) -> bool:
        return self._finished.is_set()

    def to_json(self, position: int = 0) -> dict[str, Any]:
        outcome = self.outcome
        ok = outcome is not None and outcome.status < 400
        return {
            "id": self.id,
            "kind": self.kind,
            "doc": self.doc,
            "state": self.state,
            "position": position,
            "progress": {
                "stage": self.stage if self.state == "running" else self.state,
                "message": STAGE_NAMES.get(self.stage, self.stage) if self.state == "running" else self.state,
                "done": self.done,
                "total": self.total,
                "fraction": self.fraction,
                **(
                    self.rate()
                    if self.state == "running"
                    else {"texts_per_s": 0.0, "eta_s": None, "retries": 0}
                ),
            },
            "elapsed_s": round(self.elapsed(), 1) if self.started else 0.0,
            "status": outcome.status if outcome else None,
            "result": outcome.body if ok and outcome else None,
            "error": outcome.body if outcome and not ok else None,
        }
