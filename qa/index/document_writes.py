"""Adding, replacing and removing one corpus document, then indexing incrementally.

Everything is checked before anything is touched: a bad name, unreadable text
or a document with nothing to cite changes nothing. The file and
``metadata.json`` are written atomically under the index folder's writer lock;
if indexing then fails, both are put back as they were, so the corpus folder
and the served build never disagree.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embeddings.base import Embedder
from qa.errors import DocumentWriteError
from qa.index.factory import build
from qa.index.files import replace_atomically
from qa.index.manifest import Manifest
from qa.index.pipeline import IndexReport
from qa.index.recipe import chunking_config, settings_for_build
from qa.index.writer_lock import WriterLock, hold
from qa.ingest.chunking import chunk_document
from qa.ingest.corpus import SIDECAR, TOKEN_CHARS, decode, temporary_name
from qa.ingest.formats import extract
from qa.models import Document
from qa.settings import Settings
from qa.text.tokenize import Segmenter

log = logging.getLogger("wenyuan.documents")
Progress = Callable[[str, int, int], None]  # (stage, done, total): see qa.index.local.writer.build_index


@dataclass(frozen=True)
class WriteResult:
    doc: str
    chunks: int
    embedded: int
    reused: int
    took_ms: float
    build: str
    created: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "doc": self.doc,
            "chunks": self.chunks,
            "embedded": self.embedded,
            "reused": self.reused,
            "took_ms": round(self.took_ms, 1),
            "build": self.build,
        }


def read_text(raw: bytes) -> str:
    """The upload as text by the corpus's own rules (UTF-8, else Chinese GB18030), or ``unreadable_text``."""
    try:
        return decode(raw)[0]
    except ValueError as exc:
        raise DocumentWriteError(
            "unreadable_text", f"the document cannot be read: {exc}; send UTF-8 text"
        ) from None


def _atomic_write(path: Path, data: bytes) -> None:
    """Durable, under the name the corpus reader skips and the name bound counts on."""
    tmp = path.with_name(temporary_name(path.name, secrets.token_hex(TOKEN_CHARS // 2)))
    replace_atomically(path, lambda out: out.write(data), temporary=tmp, durable=True)


def _read_if_file(path: Path) -> bytes | None:
    """The current bytes, None when absent; ``not_a_document`` when the name is taken by a folder, link or device."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):
        raise DocumentWriteError(
            "not_a_document", f"{path.name} in the corpus folder is not a plain file; rename it first"
        )
    return path.read_bytes()


def _restore(path: Path, before: bytes | None) -> None:
    if before is None:
        path.unlink(missing_ok=True)
    else:
        _atomic_write(path, before)


def _sidecar_with(corpus: Path, name: str, metadata: dict[str, str] | None) -> bytes | None:
    """metadata.json with the document's entry updated (given fields) or removed (None); None when unchanged."""
    path = corpus / SIDECAR
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig")) if path.exists() else {}
    except (OSError, ValueError) as exc:
        raise DocumentWriteError(
            "corpus_error", f"{SIDECAR} in the corpus folder cannot be read ({exc}); fix it first"
        ) from None
    if not isinstance(data, dict):
        raise DocumentWriteError(
            "corpus_error", f"{SIDECAR} in the corpus folder is not a JSON object; fix it first"
        )
    if metadata is None:
        if name not in data:
            return None
        data.pop(name)
    else:
        if not metadata:
            return None
        data[name] = {**data.get(name, {}), **metadata}
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


class DocumentWriter:
    """Writes for one server: its index folder, its corpus folder and its (already loaded) model."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        manifest: Manifest,
        segmenter: Segmenter | None = None,
        on_progress: Progress | None = None,
    ) -> None:
        self.settings = settings_for_build(settings, manifest)
        self.embedder = embedder
        self.segmenter = segmenter
        self.corpus = Path(manifest.corpus_dir)
        self.on_progress = on_progress

    def prepare(self, name: str, text: str, metadata: dict[str, str]) -> bytes:
        """The UTF-8 bytes to store, or why not (too large, unreadable, nothing to cite); run before the write queues, so a bad body never waits."""
        raw = text.encode("utf-8")
        if len(raw) > self.settings.document_max_bytes:
            raise DocumentWriteError(
                "payload_too_large",
                f"the document is larger than {self.settings.document_max_bytes} bytes",
            )
        text = read_text(raw)
        if not chunk_document(Document(name, text, "utf-8", metadata), chunking_config(self.settings)):
            raise DocumentWriteError(
                "no_indexable_text", "the document has no paragraph to cite (headings or fragments only)"
            )
        return raw

    def prepare_file(self, name: str, raw: bytes) -> bytes:
        """A PDF, Word, HTML or Markdown upload as sent, or why not (too large, unreadable, nothing to cite)."""
        if len(raw) > self.settings.document_max_bytes:
            raise DocumentWriteError(
                "payload_too_large",
                f"the document is larger than {self.settings.document_max_bytes} bytes",
            )
        try:
            extracted = extract(name, raw, decode)
        except ValueError as exc:
            raise DocumentWriteError("unreadable_document", f"the document cannot be read: {exc}") from None
        document = Document(name, extracted.text, extracted.encoding, {}, extracted.source)
        if not chunk_document(document, chunking_config(self.settings)):
            raise DocumentWriteError(
                "no_indexable_text", "the document has no paragraph to cite (headings or fragments only)"
            )
        return raw

    def sync(self) -> IndexReport:
        """Index the corpus folder as it is: what a server does when it finds the folder ahead of its build."""
        corpus = self._corpus()
        with hold(self.settings.index_dir, self.settings.index_lock_wait) as lock:
            return self._build(corpus, lock)

    def _build(self, corpus: Path, lock: WriterLock) -> IndexReport:
        return build(
            corpus,
            self.settings,
            self.embedder,
            progress=False,
            warn=_log,
            lock=lock,
            segmenter=self.segmenter,
            on_progress=self.on_progress,
        )

    def _corpus(self) -> Path:
        if not self.corpus.is_dir():
            raise DocumentWriteError(
                "corpus_missing", f"the corpus folder {self.corpus} the index was built from is gone"
            )
        return self.corpus

    def put(self, name: str, raw: bytes, metadata: dict[str, str], served_chunks: int = 0) -> WriteResult:
        """Create or replace with ``prepare``'s bytes; ``served_chunks`` is the document's passages now, reported when nothing changed."""
        started = time.perf_counter()
        path = self._corpus() / name
        report, created = self._apply(path, raw, metadata)
        if not report.rebuilt:  # the same text and metadata again: the served build already holds it
            return WriteResult(
                name, served_chunks, 0, served_chunks, _ms(started), report.manifest.build, created
            )
        work = report.per_document.get(name)
        if work is None:
            raise DocumentWriteError(
                "internal_error", f"{name} was written but not indexed; see the server log"
            )
        return WriteResult(
            name, work.chunks, work.embedded, work.reused, _ms(started), report.manifest.build, created
        )

    def delete(self, name: str, chunks_before: int, documents_before: int) -> WriteResult:
        started = time.perf_counter()
        path = self._corpus() / name
        if documents_before <= 1 and chunks_before:
            raise DocumentWriteError(
                "last_document", f"{name} is the only document; add another before removing it"
            )
        report, _ = self._apply(path, None, None)
        return WriteResult(name, chunks_before, 0, 0, _ms(started), report.manifest.build)

    def _apply(
        self, path: Path, data: bytes | None, metadata: dict[str, str] | None
    ) -> tuple[IndexReport, bool]:
        """Write (or remove) the file and its metadata, index, and undo both if indexing fails."""
        sidecar = path.parent / SIDECAR
        with hold(self.settings.index_dir, self.settings.index_lock_wait) as lock:
            before = _read_if_file(path)
            if data is None and before is None:
                raise DocumentWriteError(
                    "unknown_document", f"no document named {path.name!r} in the corpus folder"
                )
            sidecar_before = _read_if_file(sidecar)
            new_sidecar = _sidecar_with(path.parent, path.name, metadata if data is not None else None)
            try:
                if data is None:
                    path.unlink()
                else:
                    _atomic_write(path, data)
                if new_sidecar is not None:
                    _atomic_write(sidecar, new_sidecar)
                report = self._build(path.parent, lock)
            except BaseException:
                _restore(path, before)
                if new_sidecar is not None:
                    _restore(sidecar, sidecar_before)
                raise
        return report, before is None


def _log(message: str) -> None:
    """Warnings about other files of the folder go to the server log, not to this upload's answer."""
    log.warning("%s", message)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
