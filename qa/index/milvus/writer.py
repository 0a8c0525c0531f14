"""``qa index --store milvus``: the corpus into Milvus collections, updating in place when it can.

Same rules as the local store: vectors are reused by content key and only new
text is embedded. A first build, a new model or new text options write a new
build's collections and switch the manifest row only when they are complete,
so a crash never leaves a half index behind it. Otherwise the served build is
updated in place: rows of removed or changed documents are deleted by id,
new rows inserted, and term statistics adjusted; the manifest row is written
last. Called under the index folder's writer lock, like the local build; the
steps both stores share are qa/index/pipeline.py's.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable
from itertools import islice
from typing import Any

from qa.index import pipeline, resume_cache
from qa.index.manifest import Manifest, new_build_name
from qa.index.milvus import store as ms
from qa.index.milvus.rows import PLACE_FIELDS, MilvusVectors, bm25_text, chunk_row, sentence_id, signature
from qa.index.pipeline import Corpus, IndexReport, Job
from qa.index.recipe import (
    Parts,
    content_key,
    document_infos,
    embedding_text,
    split_sentences,
    with_summaries,
)
from qa.index.vectors import Embedding
from qa.ingest.chunking import CHUNKER_VERSION
from qa.models import Chunk, Document
from qa.settings import Settings
from qa.text.romanize import pinyin_keys

INSERT_BATCH = 500


def build_milvus(job: Job) -> IndexReport:
    """``job.corpus_dir`` into Milvus; the caller holds the index folder's writer lock."""
    return pipeline.run(MilvusBuild(job.settings), job)


class MilvusBuild:
    """The Milvus side of a build: new collections switched in by the manifest row, or the served ones updated."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client: Any = None
        self._same: bool | None = None

    @property
    def what(self) -> str:
        return f"the Milvus index {self.settings.milvus_collection}"

    def start(self, job: Job) -> None:
        """Milvus is reached once the corpus is read."""

    def current(self, job: Job) -> Manifest | None:
        self.client = ms.connect(self.settings)
        return ms.read_manifest(self.client, self.settings)

    def tidy(self, job: Job, current: Manifest | None) -> None:
        left = ms.stale_builds(self.client, self.settings, {current.collections} if current else set())
        for prefix in sorted(left):  # a killed build's collections, or the build before the served one
            ms.drop_build(self.client, prefix)
        if left:
            job.warn(f"note: dropped collections no build is served from: {', '.join(sorted(left))}")

    def same_text(self, job: Job, current: Manifest, corpus: Corpus) -> bool:
        """Whether the served build's collections take rows made as this run makes them (then it is updated)."""
        if self._same is None:
            self._same = (
                current.model_id == job.embedder.model_id
                and current.chunker_version == CHUNKER_VERSION
                and current.retrieval_text == corpus.options
                and bool(current.collections)
                and ms.current_schema(self.client, current.collections)
            )
        return self._same

    def unchanged(self, job: Job, current: Manifest, corpus: Corpus) -> bool:
        return self.same_text(job, current, corpus) and current.fingerprint == corpus.fingerprint

    def write(self, job: Job, corpus: Corpus, current: Manifest | None, started: float) -> IndexReport:
        if job.force:
            resume_cache.clear(self.settings.index_dir)
        writer = Writer(self.client, job)
        if current is not None and not job.force and self.same_text(job, current, corpus):
            return writer.update(current, corpus, started)
        return writer.rebuild(current, corpus, started, reuse=not job.force)


class Writer:
    """Rows into a build's collections: a new build's, or the served one's updated in place."""

    def __init__(self, client: Any, job: Job) -> None:
        self.client, self.job = client, job
        self.settings, self.embedder, self.warn = job.settings, job.embedder, job.warn
        self.parts = Parts(job.settings, job.segmenter)
        self.embedding = Embedding(job.embedder, job.progress, keep_in=job.settings.index_dir)

    def _keys(self, texts: list[str]) -> list[bytes]:
        return [content_key(self.embedder.model_id, self.settings.passage_prefix, t) for t in texts]

    def _upsert(self, name: str, rows: Iterable[dict[str, Any]]) -> None:
        """Upsert, so a row rewritten under the same id replaces the old one; rows are made a batch at a time
        (as Python lists, 10^5 chunks' vectors and their sentences' would take gigabytes at once)."""
        it = iter(rows)
        while batch := list(islice(it, INSERT_BATCH)):
            ms.call(f"writing {name}", self.client.upsert, name, batch)

    def _write_chunks(
        self, prefix: str, chunks: list[Chunk], tokens: list[list[str]], source: str | None
    ) -> tuple[set[int], int, int, int]:
        """Insert chunks and their sentences, embedding only what ``source`` lacks."""
        texts = [embedding_text(c, self.settings.title_in_embedding) for c in chunks]
        keys = self._keys(texts)
        vectors, new_rows, embedded = self.embedding.fill(
            keys,
            texts,
            MilvusVectors(self.client, source and f"{source}_chunks", "passage_key", "dense"),
            "passages",
        )
        spans, sentence_texts = split_sentences(chunks)
        sentence_keys = self._keys(sentence_texts)
        sentence_vectors, _, sentences_embedded = self.embedding.fill(
            sentence_keys,
            sentence_texts,
            MilvusVectors(self.client, source and f"{source}_sentences", "key", "vector"),
            "sentences",
        )
        self._upsert(
            f"{prefix}_chunks", (chunk_row(c, t, k, v) for c, t, k, v in zip(chunks, tokens, keys, vectors))
        )
        places = (
            (chunk.key, start, end) for chunk, row_spans in zip(chunks, spans) for start, end in row_spans
        )
        self._upsert(
            f"{prefix}_sentences",
            (
                {
                    "id": sentence_id(key, start),
                    "chunk": key,
                    "start": start,
                    "end": end,
                    "key": k.hex(),
                    "vector": v.tolist(),
                }
                for (key, start, end), k, v in zip(places, sentence_keys, sentence_vectors)
            ),
        )
        return new_rows, embedded, sentences_embedded, len(sentence_texts)

    def new_build(
        self,
        build: str,
        chunks: list[Chunk],
        tokens: list[list[str]],
        infos: dict[str, dict[str, Any]],
        source: str | None,
    ) -> tuple[str, tuple[set[int], int, int, int]]:
        """A complete, flushed build's collections (dropped again if anything fails); the manifest is the caller's."""
        prefix = ms.create_build(self.client, self.settings, build, self.embedder.dimension)
        try:
            written = self._write_chunks(prefix, chunks, tokens, source)
            self._write_documents(prefix, infos, chunks)
            self._adjust_terms(
                prefix, Counter(t for row in tokens for t in set(bm25_text(row).split())), Counter()
            )
            self._flush(prefix)
        except BaseException:
            ms.drop_build(self.client, prefix)
            raise
        return prefix, written

    def _write_documents(self, prefix: str, infos: dict[str, dict[str, Any]], chunks: list[Chunk]) -> None:
        rows = [
            {"name": n, "info": json.dumps(i, ensure_ascii=False), "pad": [0.0, 0.0]}
            for n, i in with_summaries(infos, chunks).items()
        ]
        if rows:
            ms.call("writing documents", self.client.upsert, f"{prefix}_documents", rows)

    def _adjust_terms(self, prefix: str, added: Counter[str], removed: Counter[str]) -> None:
        """Document frequencies (per chunk) after rows came and went, with the pinyin keys of new terms."""
        name = f"{prefix}_terms"
        touched = sorted(set(added) | set(removed))
        current: dict[str, int] = {}
        for i in range(0, len(touched), ms.SEARCH_BATCH):
            batch = touched[i : i + ms.SEARCH_BATCH]
            expr = "term in [" + ",".join(ms.quoted(t) for t in batch) + "]"
            for row in ms.call(
                "reading term statistics",
                self.client.query,
                name,
                filter=expr,
                output_fields=["term", "df"],
                limit=16_384,
                consistency_level=ms.STRONG,
            ):
                current[row["term"]] = int(row["df"])
        keys = {word: key for key, words in pinyin_keys(touched).items() for word in words}
        upserts, deletes = [], []
        for term in touched:
            df = current.get(term, 0) + added.get(term, 0) - removed.get(term, 0)
            if df > 0:
                upserts.append({"term": term, "df": df, "pinyin": keys.get(term, ""), "pad": [0.0, 0.0]})
            elif term in current:
                deletes.append(term)
        for i in range(0, len(upserts), INSERT_BATCH):
            ms.call("writing term statistics", self.client.upsert, name, upserts[i : i + INSERT_BATCH])
        for i in range(0, len(deletes), ms.SEARCH_BATCH):
            expr = "term in [" + ",".join(ms.quoted(t) for t in deletes[i : i + ms.SEARCH_BATCH]) + "]"
            ms.call("writing term statistics", self.client.delete, name, filter=expr)

    def _chunked(self, documents: list[Document]) -> tuple[list[Chunk], list[list[str]]]:
        chunks: list[Chunk] = []
        tokens: list[list[str]] = []
        for doc in documents:
            part = self.parts.of(doc)
            chunks.extend(part.chunks)
            tokens.extend(part.tokens)
        return chunks, tokens

    def _flush(self, prefix: str) -> None:
        for part in ms.BUILD_PARTS:
            ms.call("flushing", self.client.flush, f"{prefix}_{part}")

    def rebuild(self, current: Manifest | None, corpus: Corpus, started: float, reuse: bool) -> IndexReport:
        documents, hashes = corpus.documents, corpus.hashes
        chunks, tokens = self._chunked(documents)
        pipeline.warn_unchunked(documents, chunks, self.warn)
        build = new_build_name()
        source = current.collections if (current is not None and reuse and current.collections) else None
        prefix, (new_rows, embedded, sentences_embedded, sentences) = self.new_build(
            build, chunks, tokens, document_infos(documents, hashes), source
        )
        manifest = self._manifest(corpus, build, prefix, len(chunks), started, current)
        ms.write_manifest(self.client, self.settings, manifest)
        resume_cache.clear(self.settings.index_dir)
        for stale in ms.stale_builds(
            self.client, self.settings, {prefix, current.collections if current else ""}
        ):
            ms.drop_build(self.client, stale)
        before = {} if current is None else self._hashes(current.collections)
        return IndexReport(
            manifest,
            True,
            corpus.skipped,
            pipeline.changes(documents, hashes, before),
            embedded=embedded,
            reused=len(chunks) - len(new_rows),
            sentences_embedded=sentences_embedded,
            sentences_reused=sentences - sentences_embedded,
            seconds=time.perf_counter() - started,
            per_document=pipeline.per_document(chunks, {chunks[r].key for r in new_rows}),
            embedding=self.embedding.stats,
        )

    def _hashes(self, prefix: str) -> dict[str, str]:
        if not prefix or not ms.call(
            "listing collections", self.client.has_collection, f"{prefix}_documents"
        ):
            return {}
        rows = ms.query_all(self.client, f"{prefix}_documents", 'name != ""', ["name", "info"], strong=True)
        return {r["name"]: json.loads(r["info"]).get("sha256", "") for r in rows}

    def update(self, current: Manifest, corpus: Corpus, started: float) -> IndexReport:
        documents, hashes = corpus.documents, corpus.hashes
        prefix = current.collections
        before = self._hashes(prefix)
        touched = [d for d in documents if before.get(d.name) != hashes[d.name]]
        gone = sorted(set(before) - set(hashes))
        chunks, tokens = self._chunked(touched)
        names = sorted({d.name for d in touched} | set(gone))
        old_tokens: dict[int, str] = {}
        old_rows: dict[int, tuple[Any, ...]] = {}
        for i in range(0, len(names), 100):
            expr = "doc in [" + ",".join(ms.quoted(n) for n in names[i : i + 100]) + "]"
            for r in ms.query_all(
                self.client, f"{prefix}_chunks", expr, ["id", "tokens", "origin", *PLACE_FIELDS], strong=True
            ):
                old_tokens[int(r["id"])] = r["tokens"]
                old_rows[int(r["id"])] = (r["tokens"], r["origin"], *(int(r[f]) for f in PLACE_FIELDS))
        # A row is kept only when its BM25 text (metadata feeds it too) and its place in the document and in the
        # original are unchanged: a paragraph inserted above, or a PDF laid out anew, keeps a chunk's id and vector.
        fresh = [(c, t) for c, t in zip(chunks, tokens) if old_rows.get(c.key) != signature(c, t)]
        kept = {c.key for c in chunks} - {c.key for c, _ in fresh}
        stale = sorted(set(old_tokens) - {c.key for c in chunks})
        fresh_chunks = [c for c, _ in fresh]
        new_rows, embedded, sentences_embedded, sentences = self._write_chunks(
            prefix, fresh_chunks, [t for _, t in fresh], prefix
        )
        for i in range(0, len(stale), ms.SEARCH_BATCH):
            ids = "[" + ",".join(map(str, stale[i : i + ms.SEARCH_BATCH])) + "]"
            ms.call("removing chunks", self.client.delete, f"{prefix}_chunks", filter=f"id in {ids}")
            ms.call("removing sentences", self.client.delete, f"{prefix}_sentences", filter=f"chunk in {ids}")
        removed_terms = Counter(
            t for key, text in old_tokens.items() if key not in kept for t in set(text.split())
        )
        added_terms = Counter(t for _, row in fresh for t in set(bm25_text(row).split()))
        self._adjust_terms(prefix, added_terms, removed_terms)
        self._write_documents(prefix, document_infos(touched, hashes), chunks)
        if gone:
            expr = "name in [" + ",".join(ms.quoted(n) for n in gone) + "]"
            ms.call("removing documents", self.client.delete, f"{prefix}_documents", filter=expr)
        self._flush(prefix)
        total = current.chunks + len(chunks) - len(old_tokens)
        manifest = self._manifest(corpus, new_build_name(), prefix, total, started, current)
        ms.write_manifest(self.client, self.settings, manifest)
        resume_cache.clear(self.settings.index_dir)
        embedded_ids = {fresh_chunks[r].key for r in new_rows}
        return IndexReport(
            manifest,
            True,
            corpus.skipped,
            pipeline.changes(documents, hashes, before),
            embedded=embedded,
            reused=total - len(new_rows),
            sentences_embedded=sentences_embedded,
            sentences_reused=sentences - sentences_embedded,
            seconds=time.perf_counter() - started,
            per_document=pipeline.per_document(chunks, embedded_ids),
            embedding=self.embedding.stats,
        )

    def _manifest(
        self, corpus: Corpus, build: str, prefix: str, chunks: int, started: float, current: Manifest | None
    ) -> Manifest:
        return pipeline.new_manifest(
            self.job,
            corpus,
            build,
            chunks,
            "milvus",
            started,
            previous=current.build if current else "",
            collections=prefix,
        )
