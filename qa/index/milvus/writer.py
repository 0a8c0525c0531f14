"""``qa index --store milvus``: the corpus into Milvus collections, updating in place when it can.

Same rules as the local store: vectors are reused by content key and only new
text is embedded. A first build, a new model or new text options write a new
build's collections and switch the manifest row only when they are complete,
so a crash never leaves a half index behind it. Otherwise the served build is
updated in place: rows of removed or changed documents are deleted by id,
new rows inserted, and term statistics adjusted; the manifest row is written
last. Called under the index folder's writer lock, like the local build.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.base import Embedder
from qa.index import model_record, resume_cache, sentence_index, store
from qa.index.build import (
    Changes,
    DocumentWork,
    Embedding,
    IndexReport,
    Parts,
    Warn,
    changes,
    embedding_text,
    retrieval_text_options,
    warn_unchunked,
)
from qa.index.local_index import with_summaries
from qa.index.milvus import store as ms
from qa.index.previous_build import content_key
from qa.ingest.chunking import CHUNKER_VERSION
from qa.ingest.corpus import corpus_limits, document_hash, fingerprint, load_corpus
from qa.models import Chunk, Document
from qa.settings import Settings
from qa.text.romanize import pinyin_keys
from qa.text.tokenize import Segmenter

INSERT_BATCH = 500


class MilvusVectors:
    """Vectors already in a build's collection, found by content key."""

    def __init__(self, client: Any, collection: str | None, key_field: str, vector_field: str) -> None:
        self.client, self.collection, self.key_field, self.vector_field = (
            client,
            collection,
            key_field,
            vector_field,
        )

    def found(self, keys: list[bytes], dimension: int) -> dict[bytes, np.ndarray]:
        if self.collection is None or not keys:
            return {}
        out: dict[bytes, np.ndarray] = {}
        unique = sorted({k.hex() for k in keys})
        for i in range(0, len(unique), ms.SEARCH_BATCH):
            batch = unique[i : i + ms.SEARCH_BATCH]
            expr = f"{self.key_field} in [" + ",".join(f'"{k}"' for k in batch) + "]"
            rows = ms.call(
                "reading stored vectors",
                self.client.query,
                self.collection,
                filter=expr,
                output_fields=[self.key_field, self.vector_field],
                limit=16_384,
                consistency_level=ms.STRONG,
            )
            for row in rows:
                vector = np.asarray(row[self.vector_field], dtype=np.float32)
                if vector.shape == (dimension,):
                    out[bytes.fromhex(row[self.key_field])] = vector
        return out


def build_milvus(
    corpus_dir: Path,
    settings: Settings,
    embedder: Embedder,
    *,
    force: bool = False,
    progress: bool = True,
    warn: Warn,
    segmenter: Segmenter | None = None,
) -> IndexReport:
    started = time.perf_counter()
    loaded = load_corpus(corpus_dir, corpus_limits(settings))
    for name, reason in loaded.skipped:
        warn(f"warning: skipped {name}: {reason}")
    fp = fingerprint(loaded.documents)
    options = retrieval_text_options(settings)
    hashes = {d.name: document_hash(d) for d in loaded.documents}
    client = ms.connect(settings)
    current = ms.read_manifest(client, settings)
    left = ms.stale_builds(client, settings, {current.collections} if current else set())
    if current is not None and not force:
        model_record.check_update(
            current.embedder,
            settings,
            embedder,
            f"updating the Milvus index {settings.milvus_collection}",
            warn,
        )
    for prefix in sorted(left):  # a killed build's collections, or the build before the served one
        ms.drop_build(client, prefix)
    if left:
        warn(f"note: dropped collections no build is served from: {', '.join(sorted(left))}")
    same = (
        current is not None
        and current.model_id == embedder.model_id
        and current.chunker_version == CHUNKER_VERSION
        and current.retrieval_text == options
        and bool(current.collections)
        and ms.current_schema(client, current.collections)
    )
    if same and not force and current.fingerprint == fp:
        unchanged = Changes([], [], [], len(loaded.documents))
        return IndexReport(
            current,
            False,
            loaded.skipped,
            unchanged,
            reused=current.chunks,
            seconds=time.perf_counter() - started,
        )
    if force:
        resume_cache.clear(settings.index_dir)
    job = Writer(client, settings, embedder, progress, warn, Parts(settings, segmenter), corpus_dir)
    if same and not force:
        return job.update(current, loaded.documents, hashes, fp, options, loaded.skipped, started)
    return job.rebuild(
        current, loaded.documents, hashes, fp, options, loaded.skipped, started, reuse=not force
    )


def _row(chunk: Chunk, tokens: list[str], key: bytes, vector: np.ndarray) -> dict[str, Any]:
    return {
        "id": chunk.key,
        "doc": chunk.doc,
        "doc_key": ms.doc_key(chunk.doc),
        "title": chunk.title,
        "text": chunk.text,
        "article": chunk.article,
        "paragraph": chunk.paragraph,
        "start": chunk.start,
        "end": chunk.end,
        "line_start": chunk.line_start,
        "line_end": chunk.line_end,
        "passage_key": key.hex(),
        "origin": ms.origin_text(chunk),
        "tokens": _bm25_text(tokens),
        "dense": vector.tolist(),
    }


def _sentence_id(chunk_key: int, start: int) -> int:
    return int.from_bytes(content_key("sentence", str(chunk_key), str(start))[:8], "big") >> 1


class Writer:
    def __init__(
        self,
        client: Any,
        settings: Settings,
        embedder: Embedder,
        progress: bool,
        warn: Warn,
        parts: Parts,
        corpus_dir: Path,
    ) -> None:
        self.client, self.settings, self.embedder, self.progress, self.warn, self.parts = (
            client,
            settings,
            embedder,
            progress,
            warn,
            parts,
        )
        self.corpus_dir = corpus_dir
        self.embedding = Embedding(embedder, progress, keep_in=settings.index_dir)

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
        spans, sentence_texts = sentence_index.split(chunks)
        sentence_keys = self._keys(sentence_texts)
        sentence_vectors, _, sentences_embedded = self.embedding.fill(
            sentence_keys,
            sentence_texts,
            MilvusVectors(self.client, source and f"{source}_sentences", "key", "vector"),
            "sentences",
        )
        self._upsert(
            f"{prefix}_chunks", (_row(c, t, k, v) for c, t, k, v in zip(chunks, tokens, keys, vectors))
        )
        places = (
            (chunk.key, start, end) for chunk, row_spans in zip(chunks, spans) for start, end in row_spans
        )
        self._upsert(
            f"{prefix}_sentences",
            (
                {
                    "id": _sentence_id(key, start),
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
                prefix, Counter(t for row in tokens for t in set(_bm25_text(row).split())), Counter()
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

    def rebuild(self, current, documents, hashes, fp, options, skipped, started, reuse: bool) -> IndexReport:
        chunks, tokens = self._chunked(documents)
        warn_unchunked(documents, chunks, self.warn)
        build = store.new_build_name()
        source = current.collections if (current is not None and reuse and current.collections) else None
        prefix, (new_rows, embedded, sentences_embedded, sentences) = self.new_build(
            build, chunks, tokens, document_infos(documents, hashes), source
        )
        manifest = self._manifest(build, prefix, fp, options, len(chunks), len(documents), started, current)
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
            skipped,
            changes(documents, hashes, before),
            embedded=embedded,
            reused=len(chunks) - len(new_rows),
            sentences_embedded=sentences_embedded,
            sentences_reused=sentences - sentences_embedded,
            seconds=time.perf_counter() - started,
            per_document=_work(chunks, {chunks[r].key for r in new_rows}),
            embedding=self.embedding.stats,
        )

    def _hashes(self, prefix: str) -> dict[str, str]:
        if not prefix or not ms.call(
            "listing collections", self.client.has_collection, f"{prefix}_documents"
        ):
            return {}
        rows = ms.query_all(self.client, f"{prefix}_documents", 'name != ""', ["name", "info"], strong=True)
        return {r["name"]: json.loads(r["info"]).get("sha256", "") for r in rows}

    def update(self, current, documents, hashes, fp, options, skipped, started) -> IndexReport:
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
        fresh = [(c, t) for c, t in zip(chunks, tokens) if old_rows.get(c.key) != _signature(c, t)]
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
        added_terms = Counter(t for _, row in fresh for t in set(_bm25_text(row).split()))
        self._adjust_terms(prefix, added_terms, removed_terms)
        self._write_documents(prefix, document_infos(touched, hashes), chunks)
        if gone:
            expr = "name in [" + ",".join(ms.quoted(n) for n in gone) + "]"
            ms.call("removing documents", self.client.delete, f"{prefix}_documents", filter=expr)
        self._flush(prefix)
        total = current.chunks + len(chunks) - len(old_tokens)
        manifest = self._manifest(
            store.new_build_name(), prefix, fp, options, total, len(documents), started, current
        )
        ms.write_manifest(self.client, self.settings, manifest)
        resume_cache.clear(self.settings.index_dir)
        embedded_ids = {fresh_chunks[r].key for r in new_rows}
        return IndexReport(
            manifest,
            True,
            skipped,
            changes(documents, hashes, before),
            embedded=embedded,
            reused=total - len(new_rows),
            sentences_embedded=sentences_embedded,
            sentences_reused=sentences - sentences_embedded,
            seconds=time.perf_counter() - started,
            per_document=_work(chunks, embedded_ids),
            embedding=self.embedding.stats,
        )

    def _manifest(self, build, prefix, fp, options, chunks, documents, started, current) -> store.Manifest:
        return store.Manifest(
            build=build,
            model=self.settings.model,
            model_id=self.embedder.model_id,
            dimension=self.embedder.dimension,
            corpus_dir=str(Path(self.corpus_dir).resolve()),
            fingerprint=fp,
            chunker_version=CHUNKER_VERSION,
            retrieval_text=options,
            chunks=chunks,
            documents=documents,
            faiss="milvus",
            created=store.now_iso(),
            build_seconds=round(time.perf_counter() - started, 3),
            previous=current.build if current else "",
            collections=prefix,
            embedder=model_record.describe(self.settings, self.embedder),
        )


def document_infos(documents: list[Document], hashes: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {
        d.name: {
            "encoding": d.encoding,
            "metadata": d.metadata,
            "chars": len(d.text),
            "sha256": hashes[d.name],
        }
        for d in documents
    }


def _work(chunks: list[Chunk], embedded: set[int]) -> dict[str, DocumentWork]:
    counts: dict[str, list[int]] = {}
    for chunk in chunks:
        entry = counts.setdefault(chunk.doc, [0, 0])
        entry[0] += 1
        entry[1] += chunk.key in embedded
    return {doc: DocumentWork(n, e, n - e) for doc, (n, e) in counts.items()}


PLACE_FIELDS = ("article", "paragraph", "start", "end", "line_start", "line_end")


def _signature(chunk: Chunk, tokens: list[str]) -> tuple[Any, ...]:
    return (_bm25_text(tokens), ms.origin_text(chunk), *(getattr(chunk, f) for f in PLACE_FIELDS))


def _bm25_text(tokens: list[str]) -> str:
    """Tokens as the whitespace analyser reads them (a token holding a space would split)."""
    return " ".join(t for t in tokens if t and not any(c.isspace() for c in t))
