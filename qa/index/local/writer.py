"""``qa index`` for the local store: corpus folder → chunks → vectors + BM25 → one committed build.

Each build is complete and switched in atomically; what the committed build
already holds (vectors by content key, an unchanged document's chunks and
tokens) is taken over rather than recomputed, so adding one page to a large
corpus embeds that page only. BM25 is rebuilt whole from the kept tokens.
The steps both stores share are qa/index/pipeline.py's.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.base import Embedder
from qa.index import pipeline, resume_cache
from qa.index.files import write_json
from qa.index.local import previous_build, sentence_index, store
from qa.index.local.lexical import LexicalIndex, save_tokens
from qa.index.manifest import Manifest
from qa.index.pipeline import Corpus, IndexReport, Job, Warn, warn_on_stderr
from qa.index.recipe import Parts, content_key, document_infos, embedding_text, split_sentences
from qa.index.vectors import Embedding, Progress, no_progress
from qa.index.writer_lock import WriterLock, hold
from qa.ingest.chunking import CHUNKER_VERSION
from qa.models import Chunk
from qa.settings import Settings
from qa.text.romanize import pinyin_keys
from qa.text.tokenize import Segmenter


def write_lexical(build_dir: Path, lexical: LexicalIndex, known: dict[str, list[str]] | None = None) -> None:
    """BM25 arrays plus the pinyin keys of their vocabulary (``known``: the previous build's)."""
    lexical.save(build_dir / store.BM25_DIR)
    write_json(build_dir / store.NAMES, pinyin_keys(lexical.vocabulary(), known))


def build_index(
    corpus_dir: Path,
    settings: Settings,
    embedder: Embedder,
    *,
    force: bool = False,
    progress: bool = True,
    warn: Warn = warn_on_stderr,
    faiss_kind: str = "auto",
    lock: WriterLock | None = None,
    segmenter: Segmenter | None = None,
    on_progress: Progress = no_progress,
) -> IndexReport:
    """Index ``corpus_dir`` into ``settings.index_dir``, embedding only what the committed build lacks.

    A no-op when nothing changed; ``force`` re-embeds everything. Everything
    happens under the folder's writer lock; a caller that already holds it
    passes ``lock`` (the CLI takes it before loading the model, so a second
    writer is refused before doing any work). A server passes the segmenter it
    already has (made with the same options): loading jieba costs half a second.
    ``on_progress`` hears each stage and each batch embedded.
    """
    job = Job(corpus_dir, settings, embedder, force, progress, warn, segmenter, on_progress)
    if lock is None:
        with hold(settings.index_dir, settings.index_lock_wait) as held:
            return pipeline.run(LocalBuild(held, faiss_kind), job)
    if lock.index_dir != settings.index_dir:
        raise ValueError(f"the writer lock is for {lock.index_dir}, not {settings.index_dir}")
    return pipeline.run(LocalBuild(lock, faiss_kind), job)


@dataclass(frozen=True)
class LocalBuild:
    """The local store's side of a build: a fresh build folder, committed by swapping the manifest."""

    lock: WriterLock
    faiss_kind: str = "auto"

    @property
    def what(self) -> str:
        return f"the index in {self.lock.index_dir}"

    def start(self, job: Job) -> None:
        removed = store.prune_stale(self.lock)
        if removed:
            job.warn(
                f"note: removed what an interrupted run left in {job.settings.index_dir}: {', '.join(removed)}"
            )

    def current(self, job: Job) -> Manifest | None:
        return store.read_manifest(job.settings.index_dir)

    def tidy(self, job: Job, current: Manifest | None) -> None:
        """Stale build folders went at the start."""

    def unchanged(self, job: Job, current: Manifest, corpus: Corpus) -> bool:
        return current.matches(
            model_id=job.embedder.model_id,
            fingerprint=corpus.fingerprint,
            chunker_version=CHUNKER_VERSION,
            retrieval_text=corpus.options,
        )

    def write(self, job: Job, corpus: Corpus, current: Manifest | None, started: float) -> IndexReport:
        settings, embedder, index_dir = job.settings, job.embedder, job.settings.index_dir
        previous, note = previous_build.load(index_dir, current, corpus.options)
        if note:
            job.warn(f"note: {note}")
        before = dict(previous.hashes) if current is not None else {}
        if job.force:
            previous = previous_build.NOTHING
        parts = Parts(settings, job.segmenter)
        chunks: list[Chunk] = []
        tokens: list[list[str]] = []
        for doc in corpus.documents:
            part = previous.part(doc.name, corpus.hashes[doc.name]) or parts.of(doc)
            chunks.extend(part.chunks)
            tokens.extend(part.tokens)
        pipeline.warn_unchunked(corpus.documents, chunks, job.warn)
        pipeline.check_unique(chunks)

        texts = [embedding_text(c, settings.title_in_embedding) for c in chunks]
        passage_keys = [content_key(embedder.model_id, settings.passage_prefix, t) for t in texts]
        spans, sentence_texts = split_sentences(chunks)
        sentence_keys = [content_key(embedder.model_id, settings.passage_prefix, t) for t in sentence_texts]
        build_dir = store.new_build_dir(index_dir)
        try:
            store.write_chunks(build_dir, chunks, document_infos(corpus.documents, corpus.hashes))
            save_tokens(build_dir, tokens)
            write_lexical(build_dir, LexicalIndex.build(tokens), previous.pinyin)
            if job.force:
                resume_cache.clear(index_dir)
            embedding = Embedding(embedder, job.progress, job.on_progress, keep_in=index_dir)
            vectors, new_rows, embedded = embedding.fill(passage_keys, texts, previous.passages, "passages")
            sentence_vectors, _, sentences_embedded = embedding.fill(
                sentence_keys, sentence_texts, previous.sentences, "sentences"
            )
            job.on_progress("committing", 0, 0)
            store.save_keys(build_dir / store.PASSAGE_KEYS, passage_keys)
            kind = store.save_vectors(
                build_dir, vectors, np.array([c.key for c in chunks], dtype=np.int64), self.faiss_kind
            )
            sentence_index.write(build_dir, spans, sentence_vectors, sentence_keys)
            manifest = pipeline.new_manifest(job, corpus, build_dir.name, len(chunks), kind, started)
            manifest = store.commit(index_dir, build_dir, manifest)
            resume_cache.clear(index_dir)
        except BaseException:
            shutil.rmtree(build_dir, ignore_errors=True)
            raise
        return IndexReport(
            manifest,
            rebuilt=True,
            skipped=corpus.skipped,
            changes=pipeline.changes(corpus.documents, corpus.hashes, before),
            embedded=embedded,
            reused=len(chunks) - len(new_rows),
            sentences_embedded=sentences_embedded,
            sentences_reused=len(sentence_texts) - sentences_embedded,
            seconds=time.perf_counter() - started,
            per_document=pipeline.per_document(chunks, {chunks[r].key for r in new_rows}),
            embedding=embedding.stats,
        )
