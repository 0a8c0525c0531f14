"""The index on disk: chunk table, FAISS vectors, BM25 arrays and a manifest.

Layout: ``<index_dir>/manifest.json`` names a complete build folder
``<index_dir>/build-*/``. A build is written into a fresh folder first and the
manifest swapped in with one atomic ``os.replace``, so a crash mid-build leaves
the previous index (or none) loadable, never a half-written one. JSON and .npy
only: nothing is pickled.

Only the holder of the folder's writer lock (qa/index/writer_lock.py) creates,
commits or prunes builds. A committed build stays on disk until the commit
after the one that replaced it (the manifest records it as ``previous``), so a
reader that has just read the old manifest still finds its files. Files get
the modes a normal write gives under the process umask.
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import IndexMissingError
from qa.index.files import fsync, json_bytes, read_json, replace_atomically, write_json
from qa.index.manifest import FORMAT, Manifest, new_build_name
from qa.index.recipe import KEY_BYTES
from qa.index.writer_lock import WriterLock
from qa.models import Chunk

MANIFEST = "manifest.json"
CHUNKS = "chunks.json"
DOCUMENTS = "documents.json"
VECTORS = "dense.faiss"
BM25_DIR = "bm25"
NAMES = "pinyin_names.json"
PASSAGE_KEYS = "passage_keys.npy"
TMP_MANIFEST_PREFIX = ".manifest-"


def read_manifest(index_dir: Path) -> Manifest | None:
    """The manifest of a complete build, or None when there is none (or it is unreadable)."""
    try:
        data = read_json(index_dir / MANIFEST)
        manifest = Manifest(**data)
    except (OSError, ValueError, TypeError):
        return None
    if manifest.format != FORMAT or not (index_dir / manifest.build / CHUNKS).exists():
        return None
    return manifest


def require_manifest(index_dir: Path) -> Manifest:
    manifest = read_manifest(index_dir)
    if manifest is None and _older_format(index_dir):
        raise IndexMissingError(
            f"the index in {index_dir} was built by an older version of wenyuan: "
            f"rebuild it with `qa index [CORPUS_DIR] --index-dir {index_dir}`"
        )
    if manifest is None:
        raise IndexMissingError(
            f"no index in {index_dir}: build one with `qa index [CORPUS_DIR] --index-dir {index_dir}`"
        )
    return manifest


def _older_format(index_dir: Path) -> bool:
    try:
        return read_json(index_dir / MANIFEST).get("format", 1) < FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def new_build_dir(index_dir: Path) -> Path:
    """A fresh ``build-*`` folder; ``os.mkdir`` so the umask applies (``mkdtemp`` forces 0700)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    while True:
        path = index_dir / new_build_name()
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def _chunk_row(chunk: Chunk) -> dict[str, Any]:
    """A ``.txt`` chunk's row has no ``origin`` key, so its table is the same as before other formats."""
    row = asdict(chunk)
    if row["origin"] is None:
        del row["origin"]
    return row


def write_chunks(build_dir: Path, chunks: list[Chunk], documents: dict[str, dict[str, Any]]) -> None:
    write_json(build_dir / CHUNKS, [_chunk_row(c) for c in chunks])
    write_json(build_dir / DOCUMENTS, documents)


def _fsync_tree(folder: Path) -> None:
    """Files and folder entries, so the manifest never points at data still in the page cache only."""
    for path in [*folder.rglob("*"), folder]:
        fsync(path)


def _write_manifest_atomically(index_dir: Path, manifest: Manifest) -> None:
    """Under a name the start-up sweep knows (a crash can leave it)."""
    tmp = index_dir / f"{TMP_MANIFEST_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    data = json_bytes(asdict(manifest), indent=2)
    replace_atomically(index_dir / MANIFEST, lambda out: out.write(data), temporary=tmp, durable=True)


def commit(index_dir: Path, build_dir: Path, manifest: Manifest) -> Manifest:
    """Point the manifest at the finished build, atomically, then prune; call under the writer lock.

    Returns the manifest as written: its ``previous`` is the build it replaced,
    which is kept one more generation.
    """
    _fsync_tree(build_dir)
    current = read_manifest(index_dir)
    previous = current.build if current is not None and current.build != build_dir.name else ""
    committed = replace(manifest, previous=previous)
    _write_manifest_atomically(index_dir, committed)
    prune(index_dir, keep={committed.build, previous})
    return committed


def prune(index_dir: Path, keep: set[str]) -> list[str]:
    """Remove build folders not in ``keep`` and temporary manifests; only safe under the writer lock.

    What is left there was written by a run that was killed or failed
    (or is older than the previous build). Returns the removed names.
    """
    removed = []
    for path in sorted(index_dir.glob("build-*")):
        if path.name not in keep:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path.name)
    for path in sorted(index_dir.glob(f"{TMP_MANIFEST_PREFIX}*")):
        path.unlink(missing_ok=True)
        removed.append(path.name)
    return removed


def prune_stale(lock: WriterLock) -> list[str]:
    """At a writer's start: keep only what the manifest points at (current and previous build)."""
    current = read_manifest(lock.index_dir)
    keep = {current.build, current.previous} if current is not None else set()
    return prune(lock.index_dir, keep)


def read_chunks(build_dir: Path) -> list[Chunk]:
    return [Chunk(**c) for c in read_json(build_dir / CHUNKS)]


def read_documents(build_dir: Path) -> dict[str, dict[str, Any]]:
    return read_json(build_dir / DOCUMENTS)


def save_vectors(build_dir: Path, vectors: np.ndarray, ids: np.ndarray, kind: str = "auto") -> str:
    """FAISS labelled with the chunks' stable ids; returns the index kind chosen."""
    from qa.index.local import faiss_index

    index = faiss_index.build(vectors, kind, ids)
    faiss_index.save(index, build_dir / VECTORS)
    return faiss_index.kind_of(index)


def save_keys(path: Path, keys: list[bytes]) -> None:
    """Content keys (16 bytes each) of the vectors, row by row: what a later build matches to reuse them."""
    rows = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), KEY_BYTES)
    np.save(path, rows, allow_pickle=False)


def load_keys(path: Path) -> list[bytes]:
    rows = np.load(path, allow_pickle=False)
    return [row.tobytes() for row in rows]
