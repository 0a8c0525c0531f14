"""``qa index``: corpus folder → chunks → vectors + BM25 → one committed build.

Each build is complete and switched in atomically; what the committed build
already holds (vectors by content key, an unchanged document's chunks and
tokens) is taken over rather than recomputed, so adding one page to a large
corpus embeds that page only. BM25 is rebuilt whole from the kept tokens.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.base import Embedder
from qa.errors import CorpusError, WenyuanError
from qa.index import model_record, previous_build, resume_cache, sentence_index, store
from qa.index.lexical import LexicalIndex, save_tokens
from qa.index.previous_build import content_key
from qa.index.vectors import Embedding, EmbeddingStats, Progress, VectorSource, no_progress  # noqa: F401 (re-exported)
from qa.index.writer_lock import WriterLock, hold
from qa.ingest.chunking import CHUNKER_VERSION, ChunkingConfig, chunk_document
from qa.ingest.corpus import corpus_limits, document_hash, fingerprint, load_corpus
from qa.models import Chunk, Document
from qa.settings import Settings
from qa.text.normalize import matching_form
from qa.text.romanize import pinyin_keys
from qa.text.tokenize import Segmenter

Warn = Callable[[str], None]


def warn_on_stderr(msg: str) -> None:
    print(msg, file=sys.stderr)


def retrieval_text_options(settings: Settings) -> dict[str, Any]:
    """What besides corpus and model shapes the stored index (so a change forces a rebuild)."""
    return {
        "title_in_embedding": settings.title_in_embedding,
        "jieba_mode": settings.jieba_mode,
        "jieba_user_dict": _user_dict_identity(settings.jieba_user_dict),
        "lexical_context": "publication",
        "lexical_script": "simplified",
        "sentence_vectors": True,
        "chunking": [settings.chunk_min_chars, settings.chunk_split_chars, settings.chunk_max_chars],
        "query_prefix": settings.query_prefix,
        "passage_prefix": settings.passage_prefix,
    }


def _user_dict_identity(path: Path | None) -> list[str] | None:
    """Path and content hash, so editing the dictionary forces a rebuild."""
    if path is None:
        return None
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise WenyuanError(f"cannot read the jieba user dictionary {path}: {exc.strerror}") from exc
    return [str(path.resolve()), digest]


def settings_for_build(settings: Settings, manifest: store.Manifest) -> Settings:
    """``settings`` with the model and text options a committed build was made with.

    A server updating its index must add to the index it serves, not to one
    its own environment would describe (another model would re-embed everything).
    """
    options = manifest.retrieval_text
    low, split, high = options.get(
        "chunking", [settings.chunk_min_chars, settings.chunk_split_chars, settings.chunk_max_chars]
    )
    return settings.model_copy(
        update={
            "model": manifest.model,
            "query_prefix": options.get("query_prefix", settings.query_prefix),
            "passage_prefix": options.get("passage_prefix", settings.passage_prefix),
            "title_in_embedding": options.get("title_in_embedding", settings.title_in_embedding),
            "jieba_mode": options.get("jieba_mode", settings.jieba_mode),
            "jieba_user_dict": user_dict_of(options),
            "chunk_min_chars": low,
            "chunk_split_chars": split,
            "chunk_max_chars": high,
            **model_record.settings_of(manifest.embedder, settings),
        }
    )


def user_dict_of(options: dict[str, Any]) -> Path | None:
    entry = options.get("jieba_user_dict")
    return Path(entry[0]) if entry else None


def write_lexical(build_dir: Path, lexical: LexicalIndex, known: dict[str, list[str]] | None = None) -> None:
    """BM25 arrays plus the pinyin keys of their vocabulary (``known``: the previous build's)."""
    lexical.save(build_dir / store.BM25_DIR)
    store.write_json(build_dir / store.NAMES, pinyin_keys(lexical.vocabulary(), known))


def chunking_config(settings: Settings) -> ChunkingConfig:
    return ChunkingConfig(settings.chunk_min_chars, settings.chunk_split_chars, settings.chunk_max_chars)


def embedding_text(chunk: Chunk, with_title: bool) -> str:
    return f"{chunk.title}\n{chunk.text}" if with_title and chunk.title else chunk.text


def lexical_text(chunk: Chunk, context: str = "") -> str:
    """Headline and document context (e.g. ``嘉兴日报·平湖版``) count as words of every chunk.

    Local papers write 我市/我县 where a reader asks about 平湖 or 遂昌; the
    edition's name is what ties such a paragraph to its place.
    """
    return "\n".join(part for part in (context, chunk.title, chunk.text) if part)


def document_context(metadata: dict[str, str]) -> str:
    return metadata.get("publication", "")


@dataclass(frozen=True)
class Changes:
    """Documents against the previous build, by name."""

    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: int


@dataclass(frozen=True)
class DocumentWork:
    chunks: int
    embedded: int
    reused: int


@dataclass(frozen=True)
class IndexReport:
    manifest: store.Manifest
    rebuilt: bool
    skipped: list[tuple[str, str]]
    changes: Changes
    embedded: int = 0
    reused: int = 0
    sentences_embedded: int = 0
    sentences_reused: int = 0
    seconds: float = 0.0
    per_document: dict[str, DocumentWork] = field(default_factory=dict)
    embedding: EmbeddingStats = field(default_factory=EmbeddingStats)

    def to_json(self) -> dict[str, Any]:
        """The stable shape ``qa index --json`` prints."""
        return {
            "documents": {
                "added": self.changes.added,
                "changed": self.changes.changed,
                "removed": self.changes.removed,
                "unchanged": self.changes.unchanged,
            },
            "chunks": self.manifest.chunks,
            "embedded": self.embedded,
            "reused": self.reused,
            "sentences": {"embedded": self.sentences_embedded, "reused": self.sentences_reused},
            "seconds": round(self.seconds, 3),
            # Embedding's own figures: seconds, texts/s, texts embedded, reused, resumed from a killed run, retries.
            "embedding": self.embedding.to_json(),
            "build": self.manifest.build,
            "rebuilt": self.rebuilt,
            # Files not read and PDF pages left out (a scan, garbled text), each with its reason.
            "skipped": [{"doc": name, "reason": reason} for name, reason in self.skipped],
        }


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
    job = _Job(corpus_dir, settings, embedder, force, progress, warn, faiss_kind, segmenter, on_progress)
    if lock is None:
        with hold(settings.index_dir, settings.index_lock_wait) as held:
            return _build_locked(job, held)
    if lock.index_dir != settings.index_dir:
        raise ValueError(f"the writer lock is for {lock.index_dir}, not {settings.index_dir}")
    return _build_locked(job, lock)


@dataclass(frozen=True)
class _Job:
    corpus_dir: Path
    settings: Settings
    embedder: Embedder
    force: bool
    progress: bool
    warn: Warn
    faiss_kind: str
    segmenter: Segmenter | None
    on_progress: Progress = no_progress


class Parts:
    """A document's chunks and BM25 tokens; jieba is loaded on first need (half a second)."""

    def __init__(self, settings: Settings, segmenter: Segmenter | None = None) -> None:
        self.settings = settings
        self.segmenter = segmenter

    def of(self, doc: Document) -> previous_build.DocumentPart:
        chunks = chunk_document(doc, chunking_config(self.settings))
        if self.segmenter is None:
            self.segmenter = Segmenter(self.settings.jieba_mode, self.settings.jieba_user_dict)
        context = document_context(doc.metadata)
        tokens = [self.segmenter.tokens(matching_form(lexical_text(c, context))) for c in chunks]
        return previous_build.DocumentPart(chunks, tokens)


def changes(documents: list[Document], hashes: dict[str, str], before: dict[str, str]) -> Changes:
    added = sorted(n for n in hashes if n not in before)
    changed = sorted(n for n in hashes if n in before and before[n] != hashes[n])
    removed = sorted(n for n in before if n not in hashes)
    return Changes(added, changed, removed, len(documents) - len(added) - len(changed))


def _build_locked(job: _Job, lock: WriterLock) -> IndexReport:
    started = time.perf_counter()
    corpus_dir, settings, embedder, force, progress, warn = (
        job.corpus_dir,
        job.settings,
        job.embedder,
        job.force,
        job.progress,
        job.warn,
    )
    job.on_progress("reading", 0, 0)
    removed = store.prune_stale(lock)
    if removed:
        warn(f"note: removed what an interrupted run left in {settings.index_dir}: {', '.join(removed)}")
    loaded = load_corpus(corpus_dir, corpus_limits(settings))
    for name, reason in loaded.skipped:
        warn(f"warning: skipped {name}: {reason}")
    fp = fingerprint(loaded.documents)
    options = retrieval_text_options(settings)
    index_dir = settings.index_dir
    current = store.read_manifest(index_dir)
    hashes = {d.name: document_hash(d) for d in loaded.documents}
    if current is not None and not force:
        model_record.check_update(
            current.embedder, settings, embedder, f"updating the index in {index_dir}", warn
        )
    if (
        current is not None
        and not force
        and current.matches(
            model_id=embedder.model_id,
            fingerprint=fp,
            chunker_version=CHUNKER_VERSION,
            retrieval_text=options,
        )
    ):
        unchanged = Changes([], [], [], len(loaded.documents))
        return IndexReport(
            current,
            False,
            loaded.skipped,
            unchanged,
            reused=current.chunks,
            seconds=time.perf_counter() - started,
        )

    previous, note = previous_build.load(index_dir, current, options)
    if note:
        warn(f"note: {note}")
    before = dict(previous.hashes) if current is not None else {}
    if force:
        previous = previous_build.NOTHING
    parts = Parts(settings, job.segmenter)
    chunks: list[Chunk] = []
    tokens: list[list[str]] = []
    for doc in loaded.documents:
        part = previous.part(doc.name, hashes[doc.name]) or parts.of(doc)
        chunks.extend(part.chunks)
        tokens.extend(part.tokens)
    warn_unchunked(loaded.documents, chunks, warn)
    _check_unique(chunks)

    texts = [embedding_text(c, settings.title_in_embedding) for c in chunks]
    passage_keys = [content_key(embedder.model_id, settings.passage_prefix, t) for t in texts]
    spans, sentence_texts = sentence_index.split(chunks)
    sentence_keys = [content_key(embedder.model_id, settings.passage_prefix, t) for t in sentence_texts]
    build_dir = store.new_build_dir(index_dir)
    try:
        documents = {
            d.name: {
                "encoding": d.encoding,
                "metadata": d.metadata,
                "chars": len(d.text),
                "sha256": hashes[d.name],
            }
            for d in loaded.documents
        }
        store.write_chunks(build_dir, chunks, documents)
        save_tokens(build_dir, tokens)
        write_lexical(build_dir, LexicalIndex.build(tokens), previous.pinyin)
        if force:
            resume_cache.clear(index_dir)
        embedding = Embedding(embedder, progress, job.on_progress, keep_in=index_dir)
        vectors, new_rows, embedded = embedding.fill(passage_keys, texts, previous.passages, "passages")
        sentence_vectors, _, sentences_embedded = embedding.fill(
            sentence_keys, sentence_texts, previous.sentences, "sentences"
        )
        job.on_progress("committing", 0, 0)
        store.save_keys(build_dir / store.PASSAGE_KEYS, passage_keys)
        kind = store.save_vectors(
            build_dir, vectors, np.array([c.key for c in chunks], dtype=np.int64), job.faiss_kind
        )
        sentence_index.write(build_dir, spans, sentence_vectors, sentence_keys)
        manifest = store.Manifest(
            build=build_dir.name,
            model=settings.model,
            model_id=embedder.model_id,
            dimension=embedder.dimension,
            corpus_dir=str(corpus_dir.resolve()),
            fingerprint=fp,
            chunker_version=CHUNKER_VERSION,
            retrieval_text=options,
            chunks=len(chunks),
            documents=len(loaded.documents),
            faiss=kind,
            created=store.now_iso(),
            build_seconds=round(time.perf_counter() - started, 3),
            embedder=model_record.describe(settings, embedder),
        )
        manifest = store.commit(index_dir, build_dir, manifest)
        resume_cache.clear(index_dir)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    return IndexReport(
        manifest,
        rebuilt=True,
        skipped=loaded.skipped,
        changes=changes(loaded.documents, hashes, before),
        embedded=embedded,
        reused=len(chunks) - len(new_rows),
        sentences_embedded=sentences_embedded,
        sentences_reused=len(sentence_texts) - sentences_embedded,
        seconds=time.perf_counter() - started,
        per_document=_per_document(chunks, new_rows),
        embedding=embedding.stats,
    )


def _per_document(chunks: list[Chunk], new_rows: set[int]) -> dict[str, DocumentWork]:
    counts: dict[str, list[int]] = {}
    for row, chunk in enumerate(chunks):
        entry = counts.setdefault(chunk.doc, [0, 0])
        entry[0] += 1
        entry[1] += row in new_rows
    return {doc: DocumentWork(n, e, n - e) for doc, (n, e) in counts.items()}


def _check_unique(chunks: list[Chunk]) -> None:
    seen: dict[str, Chunk] = {}
    for chunk in chunks:
        other = seen.setdefault(chunk.id, chunk)
        if other is not chunk:
            raise WenyuanError(f"chunk id collision between {other.doc} and {chunk.doc}; please report this")


def warn_unchunked(documents: list[Document], chunks: list[Chunk], warn: Warn) -> None:
    """A file that decodes but gives no passage (e.g. headings only) would otherwise vanish silently."""
    chunked = {c.doc for c in chunks}
    for doc in documents:
        if doc.name not in chunked:
            warn(
                f"warning: {doc.name}: no indexable text (no paragraph to cite); nothing from it is searchable"
            )
    if not chunks:
        raise CorpusError("no indexable text in the corpus: every file is headings or fragments only")
