"""Vectors for a build's rows: taken over from the previous build by content key, the rest embedded.

Shared by both stores' writers, and so that
progress (which a server shows to a client waiting for its upload, and
``qa index`` prints on stderr) and resuming a killed run (vectors kept as each
batch finishes, qa/index/resume_cache.py) live in the one place that knows
how many texts go to the model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from embeddings.base import Embedder
from qa.index.progress_meter import Meter
from qa.index.resume_cache import ResumeCache

# (stage, done, total): "reading" the folder, embedding "passages" then "sentences", "committing" the build.
Progress = Callable[[str, int, int], None]
# Texts per call for an embedder that cannot hand back each batch as it finishes (the local models):
# what a kill can cost it, and small enough that kept vectors follow the work closely.
CHECKPOINT = 32


def no_progress(stage: str, done: int, total: int) -> None:
    """The default: nobody is watching."""


class VectorSource(Protocol):
    def found(self, keys: list[bytes], dimension: int) -> dict[bytes, np.ndarray]:
        """The vectors already made for any of ``keys`` (content keys), by key."""


@dataclass
class EmbeddingStats:
    """What ``qa index --json`` reports about embedding: the time it took and the work it was spared."""

    seconds: float = 0.0
    embedded: int = 0  # distinct texts sent to the model
    reused: int = 0  # rows whose vectors came from the previous build
    resumed: int = 0  # distinct texts whose vectors a killed run had kept
    retries: int = 0  # requests an embedding server made us repeat
    # stage ("passages", "sentences") -> [seconds, texts]: sentence vectors are about half of the work
    stages: dict[str, list[float]] = field(default_factory=dict)

    def add(self, stage: str, seconds: float, texts: int) -> None:
        self.seconds += seconds
        self.embedded += texts
        split = self.stages.setdefault(stage, [0.0, 0])
        split[0] += seconds
        split[1] += texts

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "texts_per_s": _rate(self.embedded, self.seconds),
            "embedded": self.embedded,
            "reused": self.reused,
            "resumed": self.resumed,
            "retries": self.retries,
            **{
                stage: {
                    "seconds": round(seconds, 3),
                    "texts": int(texts),
                    "texts_per_s": _rate(texts, seconds),
                }
                for stage, (seconds, texts) in self.stages.items()
            },
        }


def _rate(texts: float, seconds: float) -> float:
    return round(texts / seconds, 1) if seconds > 0 else 0.0


@dataclass
class Embedding:
    """One build's embedding: vectors reused, resumed or made, with progress and figures.

    ``keep_in``: the index folder whose resume cache keeps each finished batch (None: nothing is kept).
    """

    embedder: Embedder
    progress: bool = True
    on_progress: Progress = no_progress
    keep_in: Path | None = None
    stats: EmbeddingStats = field(default_factory=EmbeddingStats)
    _cache: ResumeCache | None = field(default=None, init=False, repr=False)

    def fill(
        self, keys: list[bytes], texts: list[str], source: VectorSource, stage: str
    ) -> tuple[np.ndarray, set[int], int]:
        """Vectors for every row: from ``source`` by content key, from a killed run's batches, else embedded
        (each distinct text once). Returns the vectors, the rows not taken from ``source``, and how many texts
        went to the model."""
        dimension = self.embedder.dimension
        vectors = np.empty((len(keys), dimension), dtype=np.float32)
        have = source.found(keys, dimension)
        missing: dict[bytes, list[int]] = {}
        for row, key in enumerate(keys):
            found = have.get(key)
            if found is None:
                missing.setdefault(key, []).append(row)
            else:
                vectors[row] = found
        new_rows = {r for rows in missing.values() for r in rows}
        self.stats.reused += len(keys) - len(new_rows)
        cache = self._open_cache() if missing else None
        if cache is not None:
            kept = cache.found(list(missing), dimension)
            for key, vector in kept.items():
                vectors[missing.pop(key)] = vector
            self.stats.resumed += len(kept)
        if missing:
            self._embed(missing, texts, vectors, stage, cache)
        return vectors, new_rows, len(missing)

    def _open_cache(self) -> ResumeCache | None:
        if self._cache is None and self.keep_in is not None:
            self._cache = ResumeCache.open(self.keep_in, self.embedder)
        return self._cache

    def _embed(
        self,
        missing: dict[bytes, list[int]],
        texts: list[str],
        vectors: np.ndarray,
        stage: str,
        cache: ResumeCache | None,
    ) -> None:
        order = list(missing)
        todo = [texts[missing[key][0]] for key in order]
        retries = lambda: int(getattr(self.embedder, "retries", 0))  # noqa: E731 (only an embedding server retries)
        meter = Meter(f"embedding {stage}", len(todo), retries, self.progress)
        before, started = retries(), time.perf_counter()
        self.on_progress(stage, 0, len(todo))
        for first, batch in self._batches(todo):
            batch_keys = order[first : first + len(batch)]
            for key, vector in zip(batch_keys, batch):
                vectors[missing[key]] = vector
            if cache is not None:
                cache.keep(batch_keys, batch)
            meter.advance(len(batch))
            self.on_progress(stage, meter.done, len(todo))
        meter.close()
        self.stats.add(stage, time.perf_counter() - started, len(todo))
        self.stats.retries += retries() - before

    def _batches(self, texts: list[str]) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, vectors) per finished batch: as an embedding server finishes them, else ``CHECKPOINT`` at a time."""
        stream = getattr(self.embedder, "stream_passages", None)
        if stream is not None:
            yield from stream(texts)
            return
        for first in range(0, len(texts), CHECKPOINT):
            yield first, self.embedder.encode_passages(texts[first : first + CHECKPOINT])
