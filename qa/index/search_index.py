"""What search reads from an index, wherever the index lives (local files, or Milvus).

Retrieval, chat, evaluation and the API talk to this protocol only. Chunks are
addressed by their stable ids (``Chunk.id``), which mean the same in every
backend and every build. Scores are the backend's own (cosine for dense, BM25
for lexical); fusion, place scoping, highlights and abstention stay in our
code on top of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from qa.index.manifest import Manifest
from qa.models import Chunk

Span = tuple[int, int]


class SearchIndex(Protocol):
    @property
    def manifest(self) -> Manifest: ...

    @property
    def documents(self) -> dict[str, dict[str, Any]]:
        """Per document: encoding, metadata, chars, sha256, titles (headlines in order), chunks (count)."""

    def pinyin_words(self, keys: list[str]) -> dict[str, list[str]]:
        """The corpus words each toneless pinyin key spells (keys with none are left out)."""

    def latest_build(self) -> str | None:
        """The build committed now, which may be newer than this index's (a server polls it)."""

    def dense(self, vector: np.ndarray, k: int) -> dict[str, float]:
        """The ``k`` chunks nearest a unit query vector: {chunk id: cosine}."""

    def lexical(self, tokens: list[str], k: int) -> dict[str, float]:
        """The ``k`` best BM25 chunks for the question's tokens, positive scores only."""

    def chunks(self, ids: Iterable[str]) -> dict[str, Chunk]: ...

    def document_chunks(self, doc: str) -> list[Chunk]:
        """One document's chunks in reading order."""

    def iter_chunks(self) -> Iterator[Chunk]:
        """Every chunk (evaluation counts relevant passages with it)."""

    def frequencies(self, tokens: list[str]) -> dict[str, int]:
        """How many chunks hold each token; tokens the corpus never uses are left out. One call per question
        serves both the answer-span weights and the "is this place in the corpus" check."""

    def mentioning(self, docs: set[str], names: Sequence[str]) -> set[str]:
        """Those of ``docs`` whose headline, text or edition name holds any of ``names``."""

    def sentence_similarities(
        self, ids: Sequence[str], vector: np.ndarray
    ) -> dict[str, tuple[list[Span], list[float]]]:
        """Each chunk's sentence spans with their cosine to the query ({} when the index has no sentence vectors)."""
