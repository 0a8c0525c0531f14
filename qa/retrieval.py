"""Search: a question in, ranked hits with per-component scores, answer spans and citations out."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embeddings import vector_index
from embeddings.base import Embedder
from qa import store
from qa.errors import InputError, WenyuanError
from qa.fusion import Fusion, make_fusion
from qa.highlight import Asked, answer_span
from qa.indexing import document_context, user_dict_of
from qa.lexical import LexicalIndex
from qa.models import Chunk, Citation, Hit, Scores, SearchResult
from qa.normalize import clean_text, has_content, normalize_question
from qa.romanize import linked_words
from qa.scope import places, scoped
from qa.sentence_index import SentenceIndex
from qa.settings import MODES, Settings
from qa.tokenize import Segmenter


@dataclass(frozen=True)
class LoadedIndex:
    """Everything a built index holds, read once at start-up.

    Chunks are addressed by row within this build; FAISS answers with stable
    chunk ids, which ``rows`` maps back.
    """

    manifest: store.Manifest
    chunks: list[Chunk]
    documents: dict[str, dict[str, Any]]
    lexical: LexicalIndex
    dense: Any
    doc_text: dict[str, str]
    pinyin_names: dict[str, list[str]]
    sentences: SentenceIndex | None
    rows: dict[int, int]

    @classmethod
    def load(cls, index_dir: Path) -> "LoadedIndex":
        manifest = store.require_manifest(index_dir)
        build = index_dir / manifest.build
        chunks = store.read_chunks(build)
        documents = store.read_documents(build)
        return cls(
            manifest=manifest,
            chunks=chunks,
            documents=documents,
            doc_text=document_texts(chunks, documents),
            pinyin_names=store.read_json(build / store.NAMES),
            lexical=LexicalIndex.load(build / store.BM25_DIR),
            dense=vector_index.load(build / store.VECTORS),
            sentences=SentenceIndex.load(build),
            rows={c.key: row for row, c in enumerate(chunks)},
        )


def document_texts(chunks: list[Chunk], documents: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Each document's context and cleaned text, for place scoping."""
    parts: dict[str, list[str]] = {name: [document_context(info.get("metadata", {}))] for name, info in documents.items()}
    for chunk in chunks:
        parts.setdefault(chunk.doc, []).extend((chunk.title, chunk.text))
    return {name: "\n".join(p) for name, p in parts.items()}


def check_query(question: str, k: int, mode: str, settings: Settings) -> str:
    """Validated question text, cleaned of characters nothing downstream can read; raises InputError with what to change."""
    if not isinstance(question, str):
        raise InputError("the question must be text, e.g. 截至3月1日庆元县健康码申领率是多少")
    if len(question) > settings.max_question_chars:
        raise InputError(f"the question is {len(question)} characters long; the limit is {settings.max_question_chars}")
    question = clean_text(question).strip()
    if not question:
        raise InputError("the question is empty: type a question, e.g. 截至3月1日庆元县健康码申领率是多少")
    if not has_content(question):
        raise InputError("the question has no letter, digit or Chinese character: type a question, e.g. 平湖有多少家企业复工")
    if not 1 <= k <= settings.k_max:
        raise InputError(f"k must be between 1 and {settings.k_max}, got {k}")
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    return question


_ADMIN_SUFFIXES = "省市县区镇乡村"


class Retriever:
    """Holds the loaded index and models; safe to share between threads."""

    def __init__(self, index: LoadedIndex, embedder: Embedder, settings: Settings) -> None:
        if embedder.model_id != index.manifest.model_id:
            raise WenyuanError(
                f"the index was built with {index.manifest.model_id} but the model is {embedder.model_id}: "
                f"rebuild with `qa index --model {settings.model}` or search with --model {index.manifest.model}"
            )
        self.index = index
        self.embedder = embedder
        self.settings = settings
        options = index.manifest.retrieval_text
        self.segmenter = Segmenter(options.get("jieba_mode", settings.jieba_mode), user_dict_of(options))
        self.fusion: Fusion = make_fusion(settings.fusion, settings.rrf_k, settings.dense_weight)

    def search(self, question: str, k: int | None = None, mode: str = "hybrid") -> SearchResult:
        return self.retrieve(question, k, mode)[0]

    def retrieve(self, question: str, k: int | None = None, mode: str = "hybrid") -> tuple[SearchResult, Asked]:
        """The result plus what the answer spans were judged against, which the chat's quotes and declines read too."""
        started = time.perf_counter()
        k = self.settings.k_default if k is None else k
        question = check_query(question, k, mode, self.settings)
        query = normalize_question(question)
        linked = linked_words(query, self.index.pinyin_names)
        tokens = self.segmenter.tokens(query)
        depth = max(k, self.settings.candidates)
        bm25: dict[int, float] = {}
        dense: dict[int, float] = {}
        vector = None
        if mode in ("hybrid", "bm25"):
            scores, ids = self.index.lexical.top(tokens, depth)
            bm25 = {int(i): float(s) for i, s in zip(ids, scores)}
        if mode in ("hybrid", "dense"):
            vector = self.embedder.encode_queries([query])[0]
            scores, labels = vector_index.search(self.index.dense, vector, depth)
            rows = self.index.rows
            dense = {rows[int(label)]: float(s) for label, s in zip(labels, scores)}
        fused = self.fusion(bm25, dense) if mode == "hybrid" else (bm25 or dense)
        ranked = sorted(fused, key=lambda cid: (-fused[cid], cid))
        named = places(query, self.segmenter.tag)
        names = sorted(set(named) | set(linked))
        ranked = scoped(ranked, lambda cid: self.index.chunks[cid].doc, self.index.doc_text, names)[:k]
        weights = self.index.lexical.idf(sorted(set(tokens) | set(linked)))
        similar = self.index.sentences.similarities(ranked, vector) if self.index.sentences and vector is not None else {}
        unknown = tuple(p for p in named if not self._mentioned(p))
        asked = Asked.of(query, weights, similar, tuple(linked), unknown)
        hits = [self._hit(rank, cid, fused[cid], bm25, dense, asked) for rank, cid in enumerate(ranked, start=1)]
        return SearchResult(question, mode, (time.perf_counter() - started) * 1000, hits), asked

    def _mentioned(self, place: str) -> bool:
        """A word of the corpus, also without its administrative suffix (嘉兴市 where the papers say 嘉兴)."""
        lexical = self.index.lexical
        return lexical.knows(place.lower()) or (place[-1] in _ADMIN_SUFFIXES and lexical.knows(place[:-1]))

    def _hit(
        self, rank: int, cid: int, fused: float, bm25: dict, dense: dict, asked: Asked
    ) -> Hit:
        chunk = self.index.chunks[cid]
        meta = self.index.documents.get(chunk.doc, {}).get("metadata", {})
        return Hit(
            rank=rank,
            row=cid,
            chunk_id=chunk.id,
            text=chunk.text,
            highlight=answer_span(chunk.text, asked, cid),
            scores=Scores(fused=fused, bm25=bm25.get(cid), dense=dense.get(cid)),
            citation=Citation.of(chunk, meta),
        )
