"""Vectors for a build's rows: taken over from the previous build by content key, the rest embedded.

Apart from qa.index.build so that the Milvus writer shares it, and so that
progress (which a server shows to a client waiting for its upload) is reported
from the one place that knows how many texts go to the model.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Protocol

import numpy as np

from embeddings.base import Embedder

# (stage, done, total): "reading" the folder, embedding "passages" then "sentences", "committing" the build.
Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    """The default: nobody is watching."""


class VectorSource(Protocol):
    def found(self, keys: list[bytes], dimension: int) -> dict[bytes, np.ndarray]:
        """The vectors already made for any of ``keys`` (content keys), by key."""


def stage_progress(on_progress: Progress, stage: str) -> Callable[[int, int], None]:
    return lambda done, total: on_progress(stage, done, total)


def fill_vectors(
    embedder: Embedder,
    keys: list[bytes],
    texts: list[str],
    source: VectorSource,
    progress: bool,
    what: str,
    on_batch: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, set[int], int]:
    """Vectors for every row: from ``source`` by content key, else embedded (each distinct text once).

    Returns the vectors, the rows that were embedded, and how many texts went to the model.
    """
    vectors = np.empty((len(keys), embedder.dimension), dtype=np.float32)
    have = source.found(keys, embedder.dimension)
    missing: dict[bytes, list[int]] = {}
    for row, key in enumerate(keys):
        found = have.get(key)
        if found is None:
            missing.setdefault(key, []).append(row)
        else:
            vectors[row] = found
    if missing:
        fresh = _embed(embedder, [texts[rows[0]] for rows in missing.values()], progress, what, on_batch)
        for rows, vector in zip(missing.values(), fresh):
            vectors[rows] = vector
    return vectors, {r for rows in missing.values() for r in rows}, len(missing)


def _embed(embedder: Embedder, texts: list[str], progress: bool, what: str = "embedding", on_batch=None):
    from tqdm import tqdm

    with tqdm(total=len(texts), desc=what, unit="chunk", file=sys.stderr, disable=not progress) as bar:
        if on_batch is None:
            return embedder.encode_passages(texts, progress=bar.update)
        done = [0]

        def tick(n: int) -> None:
            bar.update(n)
            done[0] += n
            on_batch(done[0], len(texts))

        on_batch(0, len(texts))
        return embedder.encode_passages(texts, progress=tick)
