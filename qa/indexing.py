"""``qa index``: corpus folder → chunks → vectors + BM25 → one committed build."""

from __future__ import annotations

import hashlib
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embeddings.base import Embedder
from qa import sentence_index, store
from qa.chunking import CHUNKER_VERSION, ChunkingConfig, chunk_corpus
from qa.corpus import corpus_limits, fingerprint, load_corpus
from qa.errors import CorpusError, WenyuanError
from qa.lexical import LexicalIndex
from qa.models import Chunk, Document
from qa.romanize import pinyin_keys
from qa.settings import Settings
from qa.tokenize import Segmenter
from qa.writer_lock import WriterLock, hold

Warn = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr)


def retrieval_text_options(settings: Settings) -> dict[str, Any]:
    """What besides corpus and model shapes the stored index (so a change forces a rebuild)."""
    return {
        "title_in_embedding": settings.title_in_embedding,
        "jieba_mode": settings.jieba_mode,
        "jieba_user_dict": _user_dict_identity(settings.jieba_user_dict),
        "lexical_context": "publication",
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


def user_dict_of(options: dict[str, Any]) -> Path | None:
    entry = options.get("jieba_user_dict")
    return Path(entry[0]) if entry else None


def write_lexical(build_dir: Path, lexical: LexicalIndex) -> None:
    """BM25 arrays plus the pinyin keys of their vocabulary: what search reads for words."""
    lexical.save(build_dir / store.BM25_DIR)
    store.write_json(build_dir / store.NAMES, pinyin_keys(lexical.vocabulary()))


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
class IndexReport:
    manifest: store.Manifest
    rebuilt: bool
    skipped: list[tuple[str, str]]


def build_index(
    corpus_dir: Path,
    settings: Settings,
    embedder: Embedder,
    *,
    force: bool = False,
    progress: bool = True,
    warn: Warn = _stderr,
    faiss_kind: str = "auto",
    lock: WriterLock | None = None,
) -> IndexReport:
    """Index ``corpus_dir`` into ``settings.index_dir``; a no-op when nothing changed.

    Everything happens under the folder's writer lock; a caller that already
    holds it passes ``lock`` (the CLI takes it before loading the model, so a
    second writer is refused before doing any work).
    """
    if lock is None:
        with hold(settings.index_dir, settings.index_lock_wait) as held:
            return _build_locked(corpus_dir, settings, embedder, held, force, progress, warn, faiss_kind)
    if lock.index_dir != settings.index_dir:
        raise ValueError(f"the writer lock is for {lock.index_dir}, not {settings.index_dir}")
    return _build_locked(corpus_dir, settings, embedder, lock, force, progress, warn, faiss_kind)


def _build_locked(
    corpus_dir: Path,
    settings: Settings,
    embedder: Embedder,
    lock: WriterLock,
    force: bool,
    progress: bool,
    warn: Warn,
    faiss_kind: str,
) -> IndexReport:
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
    if (
        current is not None
        and not force
        and current.matches(model_id=embedder.model_id, fingerprint=fp, chunker_version=CHUNKER_VERSION, retrieval_text=options)
    ):
        return IndexReport(current, rebuilt=False, skipped=loaded.skipped)

    started = time.perf_counter()
    chunks = chunk_corpus(loaded.documents, chunking_config(settings))
    _warn_unchunked(loaded.documents, chunks, warn)
    build_dir = store.new_build_dir(index_dir)
    try:
        documents = {d.name: {"encoding": d.encoding, "metadata": d.metadata, "chars": len(d.text)} for d in loaded.documents}
        store.write_chunks(build_dir, chunks, documents)
        segmenter = Segmenter(settings.jieba_mode, settings.jieba_user_dict)
        contexts = {d.name: document_context(d.metadata) for d in loaded.documents}
        lexical = [segmenter.tokens(lexical_text(c, contexts[c.doc])) for c in chunks]
        write_lexical(build_dir, LexicalIndex.build(lexical))
        texts = [embedding_text(c, settings.title_in_embedding) for c in chunks]
        vectors = _embed(embedder, texts, progress)
        sentence_index.write(build_dir, chunks, lambda sents: _embed(embedder, sents, progress, "sentences"))
        kind = store.save_vectors(build_dir, vectors, faiss_kind)
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
        )
        manifest = store.commit(index_dir, build_dir, manifest)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    return IndexReport(manifest, rebuilt=True, skipped=loaded.skipped)


def _warn_unchunked(documents: list[Document], chunks: list[Chunk], warn: Warn) -> None:
    """A file that decodes but gives no passage (e.g. headings only) would otherwise vanish silently."""
    chunked = {c.doc for c in chunks}
    for doc in documents:
        if doc.name not in chunked:
            warn(f"warning: {doc.name}: no indexable text (no paragraph to cite); nothing from it is searchable")
    if not chunks:
        raise CorpusError("no indexable text in the corpus: every file is headings or fragments only")


def _embed(embedder: Embedder, texts: list[str], progress: bool, what: str = "embedding"):
    from tqdm import tqdm

    with tqdm(total=len(texts), desc=what, unit="chunk", file=sys.stderr, disable=not progress) as bar:
        return embedder.encode_passages(texts, progress=bar.update)
