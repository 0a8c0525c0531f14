"""One build, whichever store it goes to: read the corpus, compare with the committed build, write, report.

Both stores run this skeleton (load, fingerprint, model check, unchanged?,
then the store's own write); a backend (qa/index/local/writer.py,
qa/index/milvus/writer.py) implements only what differs: where the committed
manifest is, what "unchanged" needs, and how a new build is written and
switched in. What a build reports (``IndexReport``, the ``qa index --json``
shape) is the same for both.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from embeddings.base import Embedder
from qa.errors import CorpusError, WenyuanError
from qa.index import model_record
from qa.index.manifest import Manifest, now_iso
from qa.index.recipe import retrieval_text_options
from qa.index.vectors import EmbeddingStats, Progress, no_progress
from qa.ingest.chunking import CHUNKER_VERSION
from qa.ingest.corpus import corpus_limits, document_hash, fingerprint, load_corpus
from qa.models import Chunk, Document
from qa.settings import Settings
from qa.text.tokenize import Segmenter

Warn = Callable[[str], None]


def warn_on_stderr(msg: str) -> None:
    print(msg, file=sys.stderr)


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
    manifest: Manifest
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


@dataclass(frozen=True)
class Job:
    """What was asked: which folder into which index, with which model, and who hears about it."""

    corpus_dir: Path
    settings: Settings
    embedder: Embedder
    force: bool = False
    progress: bool = True
    warn: Warn = warn_on_stderr
    segmenter: Segmenter | None = None
    on_progress: Progress = no_progress


@dataclass(frozen=True)
class Corpus:
    """The folder as read now: its documents, what was skipped, and what identifies it."""

    documents: list[Document]
    skipped: list[tuple[str, str]]
    fingerprint: str
    hashes: dict[str, str]
    options: dict[str, Any]


class Backend(Protocol):
    """What a store does differently; ``what`` names the index in messages."""

    @property
    def what(self) -> str: ...

    def start(self, job: Job) -> None:
        """Before the corpus is read."""

    def current(self, job: Job) -> Manifest | None:
        """The committed build's manifest (None when there is none)."""

    def tidy(self, job: Job, current: Manifest | None) -> None:
        """After the model check: remove what no build is served from."""

    def unchanged(self, job: Job, current: Manifest, corpus: Corpus) -> bool:
        """Whether the committed build is what this corpus would give."""

    def write(self, job: Job, corpus: Corpus, current: Manifest | None, started: float) -> IndexReport:
        """A new build (or an updated one) committed, and what it cost."""


def run(backend: Backend, job: Job) -> IndexReport:
    """The build both stores share; a no-op report when nothing changed (``job.force`` rebuilds anyway)."""
    started = time.perf_counter()
    settings, warn = job.settings, job.warn
    job.on_progress("reading", 0, 0)
    backend.start(job)
    loaded = load_corpus(job.corpus_dir, corpus_limits(settings))
    for name, reason in loaded.skipped:
        warn(f"warning: skipped {name}: {reason}")
    corpus = Corpus(
        loaded.documents,
        loaded.skipped,
        fingerprint(loaded.documents),
        {d.name: document_hash(d) for d in loaded.documents},
        retrieval_text_options(settings),
    )
    current = backend.current(job)
    if current is not None and not job.force:
        model_record.check_update(current.embedder, settings, job.embedder, f"updating {backend.what}", warn)
    backend.tidy(job, current)
    if current is not None and not job.force and backend.unchanged(job, current, corpus):
        return IndexReport(
            current,
            False,
            corpus.skipped,
            Changes([], [], [], len(corpus.documents)),
            reused=current.chunks,
            seconds=time.perf_counter() - started,
        )
    return backend.write(job, corpus, current, started)


def new_manifest(
    job: Job,
    corpus: Corpus,
    build: str,
    chunks: int,
    faiss: str,
    started: float,
    **store_fields: Any,
) -> Manifest:
    """The manifest of a build just written (``store_fields``: what only one store records)."""
    return Manifest(
        build=build,
        model=job.settings.model,
        model_id=job.embedder.model_id,
        dimension=job.embedder.dimension,
        corpus_dir=str(Path(job.corpus_dir).resolve()),
        fingerprint=corpus.fingerprint,
        chunker_version=CHUNKER_VERSION,
        retrieval_text=corpus.options,
        chunks=chunks,
        documents=len(corpus.documents),
        faiss=faiss,
        created=now_iso(),
        build_seconds=round(time.perf_counter() - started, 3),
        **store_fields,
        embedder=model_record.describe(job.settings, job.embedder),
    )


def changes(documents: list[Document], hashes: dict[str, str], before: dict[str, str]) -> Changes:
    added = sorted(n for n in hashes if n not in before)
    changed = sorted(n for n in hashes if n in before and before[n] != hashes[n])
    removed = sorted(n for n in before if n not in hashes)
    return Changes(added, changed, removed, len(documents) - len(added) - len(changed))


def per_document(chunks: list[Chunk], embedded: set[int]) -> dict[str, DocumentWork]:
    """Chunks, embedded and reused per document; ``embedded``: the keys of the chunks embedded now."""
    counts: dict[str, list[int]] = {}
    for chunk in chunks:
        entry = counts.setdefault(chunk.doc, [0, 0])
        entry[0] += 1
        entry[1] += chunk.key in embedded
    return {doc: DocumentWork(n, e, n - e) for doc, (n, e) in counts.items()}


def check_unique(chunks: list[Chunk]) -> None:
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
