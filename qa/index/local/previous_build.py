"""What a new build takes over from the committed one, so that only what changed costs work.

Vectors are matched by content key (model, prefix and the exact text that was
embedded), never by position or document: a paragraph that moved, or that a
second document repeats, keeps its vector. Chunks and BM25 tokens are taken
over per document, when the document's text and metadata hash and every
option that shapes them are unchanged. A previous build that cannot be read
costs nothing but time: everything is embedded again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa.index.files import read_json
from qa.index.local import sentence_index, store
from qa.index.local.lexical import load_tokens
from qa.index.manifest import Manifest
from qa.index.recipe import DocumentPart
from qa.ingest.chunking import CHUNKER_VERSION

# Options that decide a document's chunks and tokens (embedding options are in the content keys).
TEXT_OPTIONS = ("chunking", "jieba_mode", "jieba_user_dict", "lexical_context", "lexical_script")


@dataclass(frozen=True)
class VectorCache:
    rows: dict[bytes, int] = field(default_factory=dict)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))

    @classmethod
    def of(cls, keys: list[bytes], vectors: np.ndarray) -> VectorCache:
        if len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} keys for {len(vectors)} vectors")
        return cls({k: i for i, k in enumerate(keys)}, vectors)

    def found(self, keys: list[bytes], dimension: int) -> dict[bytes, np.ndarray]:
        if self.vectors.ndim != 2 or self.vectors.shape[1] != dimension:
            return {}
        return {k: self.vectors[self.rows[k]] for k in keys if k in self.rows}


@dataclass(frozen=True)
class Previous:
    hashes: dict[str, str]
    parts: dict[str, DocumentPart]
    passages: VectorCache
    sentences: VectorCache
    pinyin: dict[str, list[str]] = field(default_factory=dict)

    def part(self, name: str, digest: str) -> DocumentPart | None:
        """The document's chunks and tokens when it is unchanged since the previous build."""
        return self.parts.get(name) if self.hashes.get(name) == digest else None


NOTHING = Previous({}, {}, VectorCache(), VectorCache())


def load(index_dir: Path, manifest: Manifest | None, options: dict[str, Any]) -> tuple[Previous, str | None]:
    """What the committed build offers, and a note when it could not be read (then nothing is reused)."""
    if manifest is None:
        return NOTHING, None
    build = index_dir / manifest.build
    try:
        return _read(build, manifest, options), None
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        return NOTHING, f"the previous build {manifest.build} could not be read ({exc}); embedding everything"


def _read(build: Path, manifest: Manifest, options: dict[str, Any]) -> Previous:
    from qa.index.local import faiss_index

    chunks = store.read_chunks(build)
    documents = store.read_documents(build)
    labels, vectors = faiss_index.stored_vectors(faiss_index.load(build / store.VECTORS))
    if labels.tolist() != [c.key for c in chunks]:
        raise ValueError("its vectors are not in chunk order")
    passages = VectorCache.of(store.load_keys(build / store.PASSAGE_KEYS), vectors)
    sentences = VectorCache.of(
        store.load_keys(build / sentence_index.KEYS),
        np.load(build / sentence_index.VECTORS, allow_pickle=False),
    )
    same_text = manifest.chunker_version == CHUNKER_VERSION and all(
        manifest.retrieval_text.get(k) == options.get(k) for k in TEXT_OPTIONS
    )
    parts: dict[str, DocumentPart] = {}
    if same_text:
        tokens = load_tokens(build)
        if len(tokens) != len(chunks):
            raise ValueError(f"{len(tokens)} token rows for {len(chunks)} chunks")
        by_doc: dict[str, DocumentPart] = defaultdict(lambda: DocumentPart([], []))
        for chunk, row in zip(chunks, tokens):
            part = by_doc[chunk.doc]
            part.chunks.append(chunk)
            part.tokens.append(row)
        parts = dict(by_doc)
    hashes = {name: info.get("sha256", "") for name, info in documents.items()}
    return Previous(hashes, parts, passages, sentences, read_json(build / store.NAMES))
