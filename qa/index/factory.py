"""Where the index lives, decided once: ``WENYUAN_STORE`` / ``--store`` local (files) or milvus.

Everything that opens, builds or watches an index asks here, so no other
module knows which backend it talks to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embeddings.base import Embedder
from qa.index import store
from qa.index.build import IndexReport, build_index
from qa.index.search_index import SearchIndex
from qa.index.writer_lock import WriterLock, hold
from qa.settings import Settings


def open_index(settings: Settings, served: SearchIndex | None = None) -> SearchIndex:
    """The committed index; ``served`` is the one being replaced, whose Milvus connection is reused."""
    if settings.store == "milvus":
        from qa.index.milvus.index import MilvusIndex

        return MilvusIndex.open(settings, getattr(served, "client", None))
    from qa.index.local_index import LoadedIndex

    return LoadedIndex.load(settings.index_dir)


def require_manifest(settings: Settings) -> store.Manifest:
    """The committed manifest, or IndexMissingError saying how to build one."""
    if settings.store == "milvus":
        from qa.index.milvus.index import MilvusIndex

        return MilvusIndex.open(settings).manifest
    return store.require_manifest(settings.index_dir)


def served_build(settings: Settings) -> str | None:
    """The build a reader would open now (None when there is none): what a server polls."""
    if settings.store == "milvus":
        from qa.index.milvus import store as ms

        manifest = ms.read_manifest(ms.connect(settings), settings)
    else:
        manifest = store.read_manifest(settings.index_dir)
    return manifest.build if manifest else None


def build(
    corpus_dir: Path,
    settings: Settings,
    embedder: Embedder,
    *,
    lock: WriterLock | None = None,
    **options: Any,
) -> IndexReport:
    """Index ``corpus_dir`` into the configured store under the writer lock (taken here unless given)."""
    if settings.store == "local":
        return build_index(corpus_dir, settings, embedder, lock=lock, **options)
    from qa.index.milvus.writer import build_milvus

    options.pop("faiss_kind", None)
    options.pop(
        "on_progress", None
    )  # the Milvus writer reports no progress: a waiting upload shows its stage only
    if lock is not None:
        return build_milvus(corpus_dir, settings, embedder, **_milvus_options(options))
    with hold(settings.index_dir, settings.index_lock_wait):
        return build_milvus(corpus_dir, settings, embedder, **_milvus_options(options))


def _milvus_options(options: dict[str, Any]) -> dict[str, Any]:
    from qa.index.build import warn_on_stderr

    options.setdefault("warn", warn_on_stderr)
    return options
