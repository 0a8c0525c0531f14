"""Any sentence-transformers model, by hub name or local directory.

For users who have a model hub or their own weights (bge-m3, e5-large, …);
prefixes are configurable because each model family wants its own.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from embeddings.base import Progress, normalise

# Texts per model call, under the one lock: a question waits for the call in progress. With
# all-MiniLM-L6-v2 on 2 cores, 276 long passages took 18.6-22.9 s at 8 against 27.6-29.1 s at 32
# (less padding), and a question beside them p50 0.6-1.3 s against 2.7-4.6 s.
BATCH = 8


class SentenceTransformerEmbedder:
    def __init__(self, name_or_path: str, query_prefix: str = "", passage_prefix: str = "") -> None:
        from sentence_transformers import SentenceTransformer

        self._name = name_or_path
        self._model = SentenceTransformer(name_or_path, device="cpu")
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return f"st:{self._name}|q={self._query_prefix}|p={self._passage_prefix}"

    @property
    def dimension(self) -> int:
        getter = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        return int(getter())

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            vectors = self._model.encode(
                list(texts), batch_size=BATCH, convert_to_numpy=True, show_progress_bar=False
            )
        return normalise(vectors)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._query_prefix + t for t in texts])

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        parts = []
        for i in range(0, len(texts), BATCH):
            batch = [self._passage_prefix + t for t in texts[i : i + BATCH]]
            parts.append(self._encode(batch))
            if progress:
                progress(len(batch))
        return np.vstack(parts) if parts else np.empty((0, self.dimension), dtype=np.float32)
