"""Where the index lives, decided once: ``WENYUAN_STORE`` / ``--store`` local (files) or milvus.

Everything that opens, builds or watches an index asks here, so no other
module knows which backend it talks to: this is the only module that reads
the store setting, and the only one that imports both backends.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from embeddings.base import Embedder
from qa.errors import WenyuanError
from qa.index.local import store
from qa.index.manifest import Manifest
from qa.index.pipeline import IndexReport, Job
from qa.index.search_index import SearchIndex
from qa.index.writer_lock import WriterLock, held_by, hold
from qa.settings import Settings


def _milvus(settings: Settings) -> bool:
    return store_name(settings) == "milvus"


def store_name(settings: Settings) -> str:
    """``local`` or ``milvus``, as reports and logs name the store."""
    return settings.store


def open_index(settings: Settings, served: SearchIndex | None = None) -> SearchIndex:
    """The committed index; ``served`` is the one being replaced, whose Milvus connection is reused."""
    if _milvus(settings):
        from qa.index.milvus.index import MilvusIndex

        return MilvusIndex.open(settings, getattr(served, "client", None))
    from qa.index.local.index import LoadedIndex

    return LoadedIndex.load(settings.index_dir)


def require_manifest(settings: Settings) -> Manifest:
    """The committed manifest, or IndexMissingError saying how to build one."""
    if _milvus(settings):
        from qa.index.milvus.index import MilvusIndex

        return MilvusIndex.open(settings).manifest
    return store.require_manifest(settings.index_dir)


def served_build(settings: Settings) -> str | None:
    """The build a reader would open now (None when there is none): what a server polls."""
    if _milvus(settings):
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
    if not _milvus(settings):
        from qa.index.local.writer import build_index

        return build_index(corpus_dir, settings, embedder, lock=lock, **options)
    from qa.index.milvus.writer import build_milvus

    options.pop("faiss_kind", None)
    options.pop(
        "on_progress", None
    )  # the Milvus writer reports no progress: a waiting upload shows its stage only
    job = Job(corpus_dir, settings, embedder, **options)
    if lock is not None:
        return build_milvus(job)
    with hold(settings.index_dir, settings.index_lock_wait):
        return build_milvus(job)


class BuildWatch:
    """Tells a server, cheaply and often, whether a build newer than the one it serves may be committed.

    Local: a commit replaces manifest.json (a new inode), so a stat tells
    without reading it. Milvus: the manifest is a row, read with the served
    index's connection.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._seen: tuple[int, int] | None = None

    def mark(self) -> None:
        """Remember the manifest as it is now (called before the served build is looked up)."""
        if _milvus(self.settings):
            return
        try:
            st = os.stat(Path(self.settings.index_dir) / store.MANIFEST)
            self._seen = (st.st_ino, st.st_mtime_ns)
        except OSError:
            pass

    def moved(self, served: SearchIndex | None) -> bool:
        """Whether to look again; ``served``: the index served now (None while nothing is)."""
        if _milvus(self.settings):
            try:
                build = served.latest_build() if served else served_build(self.settings)
            except WenyuanError:
                return False
            return build is not None and (served is None or build != served.manifest.build)
        try:
            st = os.stat(Path(self.settings.index_dir) / store.MANIFEST)
        except OSError:
            return served is None
        return (st.st_ino, st.st_mtime_ns) != self._seen


def build_running(settings: Settings) -> str | None:
    """``" (pid N)"`` while a ``qa index`` writes the local index folder a server waits on; None otherwise
    (and always for Milvus, whose readers see a build only once it is switched in)."""
    return None if _milvus(settings) else held_by(settings.index_dir)


def is_service(settings: Settings) -> bool:
    """Whether the index is held by a service (Milvus) that can fail after it was opened, so that a health
    check must ask it; benchmarks write it through its writer and measure no FAISS."""
    return _milvus(settings)


def service_path(settings: Settings) -> str | None:
    """The file an embedded Milvus serves the index from (None for local files or a Milvus server)."""
    if not _milvus(settings):
        return None
    from qa.index.milvus import store as ms

    return ms.embedded_path(settings)


def release(settings: Settings, index: SearchIndex) -> None:
    """Drop a throwaway index's Milvus collections and stop its embedded Milvus (local files: the caller's)."""
    if not _milvus(settings):
        return
    from qa.index.milvus import store as ms

    ms.release(index.client, settings)  # type: ignore[attr-defined]
