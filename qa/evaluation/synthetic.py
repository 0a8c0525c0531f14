"""Synthetic corpora for ``qa bench``: seed-style chunks at any size, written as a real build of either store.

Embedding 10^5 chunks on a 2-core CPU takes hours, so vectors are made from
the real seed vectors (see ``Synthesizer.chunks``). Everything after that runs
the stores' own code: the bm25s arrays, FAISS file and sentence vectors of a
local build, or ``milvus.writer.Writer.new_build`` for Milvus, which a lookup
table stands in front of instead of the model.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.base import Delegating, Progress
from qa.index.local import sentence_index, store
from qa.index.local.lexical import LexicalIndex
from qa.index.local.writer import write_lexical
from qa.index.manifest import Manifest, new_build_name, now_iso
from qa.index.recipe import (
    content_key,
    embedding_text,
    lexical_text,
    retrieval_text_options,
    split_sentences,
)
from qa.ingest.chunking import CHUNKER_VERSION, chunk_id
from qa.models import Chunk
from qa.settings import Settings
from qa.text.sentences import synthetic_pieces
from qa.text.tokenize import Segmenter

NOISE = 0.02  # per-dimension sigma of the synthetic-vector noise (norm ≈ 0.4 at 384 dims)
PER_DOC = 40  # synthetic chunks per synthetic document


class Synthesizer:
    """Grows seed-style chunks: real seed sentences, shuffled, with fresh place names and numbers."""

    _PLACE = re.compile(r"[\u4e00-\u9fff]{2}(?=县|市|镇|乡|村|街道|社区|公司)")
    _NUMBER = re.compile(r"\d+")
    _CHARS = "青云山河安泰兴平宁华东西南北阳新和丰长乐永定嘉丽江松林竹溪桥石岭金银湖海明光春秋龙凤鹤桂兰梅"

    def __init__(self, chunks: list[Chunk], vectors: np.ndarray, seed: int = 0) -> None:
        self.pool = [(i, s) for i, c in enumerate(chunks) for s in synthetic_pieces(c.text) if len(s) >= 8]
        self.titles = sorted({c.title for c in chunks if c.title})
        self.lengths = [len(c.text) for c in chunks]
        self.vectors = vectors
        self.rand = random.Random(seed)
        self.rng = np.random.default_rng(seed)

    def _vary(self, text: str) -> str:
        r = self.rand
        text = self._PLACE.sub(lambda m: r.choice(self._CHARS) + r.choice(self._CHARS), text)
        return self._NUMBER.sub(lambda m: str(r.randrange(10 ** len(m.group()))), text)

    def _noisy(self, vectors: np.ndarray) -> np.ndarray:
        vectors = vectors + self.rng.normal(0.0, NOISE, vectors.shape).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def chunks(self, n: int) -> tuple[list[Chunk], np.ndarray]:
        """``n`` chunks plus a synthetic vector each: the mean of its sentences' seed vectors + noise."""
        out, vecs, offset = [], np.empty((n, self.vectors.shape[1]), dtype=np.float32), 0
        for i in range(n):
            target, parts, sources = min(self.rand.choice(self.lengths), 500), [], []
            while sum(map(len, parts)) < target:
                src, sentence = self.rand.choice(self.pool)
                parts.append(self._vary(sentence))
                sources.append(src)
            text = "".join(parts)[:512]
            offset = 0 if i % PER_DOC == 0 else offset
            doc, title = f"synthetic/{i // PER_DOC:05d}.txt", self._vary(self.rand.choice(self.titles))
            out.append(
                Chunk(
                    doc,
                    title,
                    (i % PER_DOC) // 5,
                    i % 5,
                    text,
                    offset,
                    offset + len(text),
                    0,
                    0,
                    chunk_id(doc, title, text, i),
                )
            )
            offset += len(text) + 2
            vecs[i] = self.vectors[sources].mean(axis=0)
        return out, self._noisy(vecs)

    def sentence_vectors(
        self, chunks: Sequence[Chunk], vectors: np.ndarray
    ) -> tuple[list[list[tuple[int, int]]], list[str], np.ndarray]:
        """Every chunk's sentences as the index splits them, each with its chunk's vector + fresh noise."""
        spans, texts = split_sentences(chunks)
        rows = np.repeat(np.arange(len(chunks)), [len(s) for s in spans])
        return spans, texts, self._noisy(vectors[rows])


@dataclass(frozen=True)
class Corpus:
    """One synthetic corpus, ready to write into either store."""

    chunks: list[Chunk]
    tokens: list[list[str]]
    vectors: np.ndarray
    spans: list[list[tuple[int, int]]]
    sentence_texts: list[str]
    sentence_vectors: np.ndarray

    def payload_bytes(self) -> dict[str, int]:
        """What the corpus itself weighs: the yardstick for how much memory serving it may take."""
        text = sum(len(c.text.encode()) + len(c.title.encode()) for c in self.chunks)
        return {"vectors": int(self.vectors.nbytes + self.sentence_vectors.nbytes), "text": text}


def make_corpus(
    synth: Synthesizer, n: int, segmenter: Segmenter, vectors: np.ndarray | None = None
) -> tuple[Corpus, float]:
    """The corpus and the seconds jieba took to segment it (``vectors``: real model vectors to use instead)."""
    import time

    chunks, synthetic = synth.chunks(n)
    vectors = synthetic if vectors is None else vectors[:n]
    started = time.perf_counter()
    tokens = [segmenter.tokens(lexical_text(c)) for c in chunks]
    seg_s = time.perf_counter() - started
    spans, texts, sentence_vectors = synth.sentence_vectors(chunks, vectors)
    return Corpus(chunks, tokens, vectors, spans, texts, sentence_vectors), seg_s


def _infos(chunks: Sequence[Chunk]) -> dict[str, dict[str, Any]]:
    return {
        d: {"encoding": "utf-8", "metadata": {}, "chars": 0, "sha256": ""}
        for d in sorted({c.doc for c in chunks})
    }


def _manifest(
    build: str, corpus: Corpus, embedder: Any, settings: Settings, kind: str, collections: str = ""
) -> Manifest:
    return Manifest(
        build=build,
        model=settings.model,
        model_id=embedder.model_id,
        dimension=embedder.dimension,
        corpus_dir="synthetic",
        fingerprint="synthetic",
        chunker_version=CHUNKER_VERSION,
        retrieval_text=retrieval_text_options(settings),
        chunks=len(corpus.chunks),
        documents=len(_infos(corpus.chunks)),
        faiss=kind,
        created=now_iso(),
        build_seconds=0.0,
        collections=collections,
    )


def write_local(
    settings: Settings, corpus: Corpus, lexical: LexicalIndex, dense: Any, kind: str, embedder: Any
) -> None:
    """A build folder in the real on-disk format, committed like ``qa index`` does."""
    from qa.index.local import faiss_index

    build_dir = store.new_build_dir(settings.index_dir)
    store.write_chunks(build_dir, corpus.chunks, _infos(corpus.chunks))
    write_lexical(build_dir, lexical)
    faiss_index.save(dense, build_dir / store.VECTORS)
    keys = [content_key(embedder.model_id, settings.passage_prefix, t) for t in corpus.sentence_texts]
    sentence_index.write(build_dir, corpus.spans, corpus.sentence_vectors, keys)
    store.commit(settings.index_dir, build_dir, _manifest(build_dir.name, corpus, embedder, settings, kind))


class _Lookup(Delegating):
    """The model's identity with the corpus's prepared vectors: what the Milvus writer embeds, it looks up."""

    def __init__(self, inner: Any, table: dict[str, np.ndarray]) -> None:
        super().__init__(inner)
        self.table = table

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        if progress is not None:
            progress(len(texts))
        return (
            np.stack([self.table[t] for t in texts]) if texts else np.empty((0, self.dimension), np.float32)
        )


def write_milvus(settings: Settings, corpus: Corpus, embedder: Any) -> None:
    """The corpus into a new build's collections through the real writer, then the manifest row switched."""
    from qa.index.milvus import store as ms
    from qa.index.milvus.writer import Writer
    from qa.index.pipeline import Job

    table = dict(zip(corpus.sentence_texts, corpus.sentence_vectors))
    table.update(
        (embedding_text(c, settings.title_in_embedding), v) for c, v in zip(corpus.chunks, corpus.vectors)
    )
    client = ms.connect(settings)
    writer = Writer(client, Job(Path("synthetic"), settings, _Lookup(embedder, table), progress=False))
    build = new_build_name()
    prefix, _ = writer.new_build(build, corpus.chunks, corpus.tokens, _infos(corpus.chunks), None)
    ms.write_manifest(client, settings, _manifest(build, corpus, embedder, settings, "milvus", prefix))
