"""The index on disk: chunk table, FAISS vectors, BM25 arrays and a manifest.

Layout: ``<index_dir>/manifest.json`` names a complete build folder
``<index_dir>/build-*/``. A build is written into a fresh folder first and the
manifest swapped in with one atomic ``os.replace``, so a crash mid-build leaves
the previous index (or none) loadable, never a half-written one. JSON and .npy
only: nothing is pickled.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import IndexMissingError
from qa.models import Chunk

MANIFEST = "manifest.json"
FORMAT = 2
CHUNKS = "chunks.json"
DOCUMENTS = "documents.json"
VECTORS = "dense.faiss"
BM25_DIR = "bm25"
NAMES = "pinyin_names.json"


@dataclass(frozen=True)
class Manifest:
    build: str
    model: str
    model_id: str
    dimension: int
    corpus_dir: str
    fingerprint: str
    chunker_version: str
    retrieval_text: dict[str, Any]
    chunks: int
    documents: int
    faiss: str
    created: str
    build_seconds: float
    format: int = FORMAT

    def matches(self, *, model_id: str, fingerprint: str, chunker_version: str, retrieval_text: dict[str, Any]) -> bool:
        """True when rebuilding would produce the same index."""
        return (
            self.format == FORMAT
            and self.model_id == model_id
            and self.fingerprint == fingerprint
            and self.chunker_version == chunker_version
            and self.retrieval_text == retrieval_text
        )


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
    if manifest is None:
        raise IndexMissingError(
            f"no index in {index_dir}: build one with `qa index [CORPUS_DIR] --index-dir {index_dir}`"
        )
    return manifest


def new_build_dir(index_dir: Path) -> Path:
    index_dir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="build-", dir=index_dir))


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def write_chunks(build_dir: Path, chunks: list[Chunk], documents: dict[str, dict[str, Any]]) -> None:
    write_json(build_dir / CHUNKS, [asdict(c) for c in chunks])
    write_json(build_dir / DOCUMENTS, documents)


def commit(index_dir: Path, build_dir: Path, manifest: Manifest) -> None:
    """Point the manifest at the finished build, atomically, then drop older builds."""
    for path in build_dir.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    fd, tmp = tempfile.mkstemp(prefix=".manifest-", dir=index_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(manifest), fh, ensure_ascii=False, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / MANIFEST)
    for old in index_dir.glob("build-*"):
        if old.name != manifest.build:
            shutil.rmtree(old, ignore_errors=True)
    for stale in index_dir.glob(".manifest-*"):
        stale.unlink(missing_ok=True)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_chunks(build_dir: Path) -> list[Chunk]:
    return [Chunk(**c) for c in read_json(build_dir / CHUNKS)]


def read_documents(build_dir: Path) -> dict[str, dict[str, Any]]:
    return read_json(build_dir / DOCUMENTS)


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def save_vectors(build_dir: Path, vectors: np.ndarray, kind: str = "auto") -> str:
    from embeddings import vector_index

    index = vector_index.build(vectors, kind)
    vector_index.save(index, build_dir / VECTORS)
    return "hnsw" if hasattr(index, "hnsw") else "flat"
