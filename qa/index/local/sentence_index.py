"""Sentence vectors: how close each sentence of the corpus is to a question, for choosing the quote.

Written at index time beside the passage vectors, so that at query time
judging a candidate sentence costs one dot product. Lexical overlap cannot
see an English question's Chinese answer, or a paraphrase's; the embedding
model can. Spans are stored with the vectors, so a later change to the
sentence splitter cannot misalign them. ``.npy`` and JSON, like the rest.
Which sentences there are is the recipe's (qa/index/recipe.py), shared with Milvus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.index.files import read_json, write_json
from qa.index.local import store
from qa.index.recipe import Span

VECTORS = "sentences.npy"
SPANS = "sentence_spans.json"
KEYS = "sentence_keys.npy"


@dataclass(frozen=True)
class SentenceIndex:
    spans: list[list[Span]]
    first: list[int]
    vectors: np.ndarray

    @classmethod
    def load(cls, build_dir: Path) -> SentenceIndex | None:
        """None for an index built without sentence vectors (e.g. the benchmark's synthetic ones)."""
        if not (build_dir / VECTORS).is_file():
            return None
        spans = [[(int(s), int(e)) for s, e in row] for row in read_json(build_dir / SPANS)]
        return cls(spans, _offsets(spans), np.load(build_dir / VECTORS, allow_pickle=False))

    def similarities(
        self, chunk_ids: Sequence[int], query: np.ndarray
    ) -> dict[int, tuple[list[Span], list[float]]]:
        """Each chunk's sentence spans with their cosine similarity to the (unit) query vector."""
        out = {}
        for cid in chunk_ids:
            rows = self.vectors[self.first[cid] : self.first[cid] + len(self.spans[cid])]
            out[cid] = (self.spans[cid], [float(x) for x in rows @ query])
        return out


def _offsets(spans: list[list[Span]]) -> list[int]:
    first, at = [], 0
    for row in spans:
        first.append(at)
        at += len(row)
    return first


def write(build_dir: Path, spans: list[list[Span]], vectors: np.ndarray, keys: list[bytes]) -> None:
    """Vectors, their spans and their content keys (for reuse by the next build)."""
    np.save(build_dir / VECTORS, np.asarray(vectors, dtype=np.float32), allow_pickle=False)
    write_json(build_dir / SPANS, [[list(span) for span in row] for row in spans])
    store.save_keys(build_dir / KEYS, keys)
