"""The one interface every embedding backend offers.

Queries and passages are encoded separately because instruction-tuned models
(e5, bge) expect different prefixes for each; vectors come back L2-normalised
float32 so inner product is cosine similarity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

Progress = Callable[[int], None]


@runtime_checkable
class Embedder(Protocol):
    @property
    def model_id(self) -> str:
        """Stable identity recorded in the index manifest; a change forces a rebuild."""

    @property
    def dimension(self) -> int: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray: ...


class Delegating:
    """Another embedder with one thing changed (timing, synthetic passages in benchmarks); the rest is forwarded."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self.inner.encode_passages(texts, progress)


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Unit-length rows, so FAISS inner product ranks by cosine."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms
