"""The default index: the files of one committed build (FAISS, bm25s arrays, JSON), read into memory."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.index.files import read_json
from qa.index.local import faiss_index, store
from qa.index.local.lexical import LexicalIndex
from qa.index.local.sentence_index import SentenceIndex
from qa.index.manifest import Manifest
from qa.index.recipe import document_context, with_summaries
from qa.models import Chunk
from qa.text.normalize import matching_form


@dataclass(frozen=True)
class LoadedIndex:
    """Everything a local build holds, read once; rows are positions in ``chunk_list``."""

    manifest: Manifest
    chunk_list: list[Chunk]
    documents: dict[str, dict[str, Any]]
    lexical_index: LexicalIndex
    vectors: Any
    doc_text: dict[str, str]
    pinyin_names: dict[str, list[str]]
    sentences: SentenceIndex | None
    rows: dict[str, int]
    index_dir: Path

    @classmethod
    def load(cls, index_dir: Path) -> LoadedIndex:
        manifest = store.require_manifest(index_dir)
        build = index_dir / manifest.build
        chunks = store.read_chunks(build)
        documents = store.read_documents(build)
        return cls(
            manifest=manifest,
            chunk_list=chunks,
            documents=with_summaries(documents, chunks),
            doc_text=document_texts(chunks, documents),
            pinyin_names=read_json(build / store.NAMES),
            lexical_index=LexicalIndex.load(build / store.BM25_DIR),
            vectors=faiss_index.load(build / store.VECTORS),
            sentences=SentenceIndex.load(build),
            rows={c.id: row for row, c in enumerate(chunks)},
            index_dir=index_dir,
        )

    def latest_build(self) -> str | None:
        manifest = store.read_manifest(self.index_dir)
        return manifest.build if manifest else None

    def pinyin_words(self, keys: list[str]) -> dict[str, list[str]]:
        return {k: self.pinyin_names[k] for k in keys if k in self.pinyin_names}

    def dense(self, vector: np.ndarray, k: int) -> dict[str, float]:
        scores, labels = faiss_index.search(self.vectors, vector, k)
        return {f"{int(label):016x}": float(s) for label, s in zip(labels, scores)}

    def lexical(self, tokens: list[str], k: int) -> dict[str, float]:
        scores, rows = self.lexical_index.top(tokens, k)
        return {self.chunk_list[int(r)].id: float(s) for r, s in zip(rows, scores)}

    def chunks(self, ids: Iterable[str]) -> dict[str, Chunk]:
        return {i: self.chunk_list[self.rows[i]] for i in ids}

    def document_chunks(self, doc: str) -> list[Chunk]:
        return [c for c in self.chunk_list if c.doc == doc]

    def iter_chunks(self) -> Iterator[Chunk]:
        return iter(self.chunk_list)

    def frequencies(self, tokens: list[str]) -> dict[str, int]:
        return self.lexical_index.frequencies(tokens)

    def mentioning(self, docs: set[str], names: Sequence[str]) -> set[str]:
        return {d for d in docs if any(n in self.doc_text.get(d, "") for n in names)}

    def sentence_similarities(
        self, ids: Sequence[str], vector: np.ndarray
    ) -> dict[str, tuple[list[tuple[int, int]], list[float]]]:
        if self.sentences is None:
            return {}
        by_row = self.sentences.similarities([self.rows[i] for i in ids], vector)
        return {i: by_row[self.rows[i]] for i in ids}


def document_texts(chunks: list[Chunk], documents: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Each document's context and text in the matching form, for place scoping."""
    parts: dict[str, list[str]] = {
        name: [document_context(info.get("metadata", {}))] for name, info in documents.items()
    }
    for chunk in chunks:
        parts.setdefault(chunk.doc, []).extend((chunk.title, chunk.text))
    return {name: matching_form("\n".join(p)) for name, p in parts.items()}
