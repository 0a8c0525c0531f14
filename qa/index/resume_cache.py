"""Vectors kept as each batch finishes, so a killed ``qa index`` restarts where it stopped.

A 16-hour embedding run that dies at hour 15 must not start again from
nothing. Each finished batch is written at once as two ``.npy`` files (its
vectors, then its content keys — the keys file is what makes a batch count),
each by write-to-temporary and ``os.replace``, so a kill leaves whole batches
or nothing. Content keys name model, prefix and text, so a kept vector is only
ever taken for the same text under the same model; the folder also records
the model's vectors of the probe texts, and is thrown away when the model now
embeds them differently (a server that changed its model under the same name).
The folder lives beside the builds, under the writer lock, and is removed once
a build is committed: by then the build itself holds every vector.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
from pathlib import Path

import numpy as np

from embeddings.base import Embedder
from qa.index import model_record
from qa.index.files import json_bytes, read_json, replace_atomically
from qa.index.recipe import KEY_BYTES

FOLDER = "embedding-cache"
PROBES = "probes.json"


class ResumeCache:
    """One model's kept vectors in ``<index_dir>/embedding-cache/<model hash>/``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._loaded: dict[bytes, np.ndarray] | None = None

    @classmethod
    def open(cls, index_dir: Path, embedder: Embedder) -> ResumeCache:
        """The cache for ``embedder``; what it holds is dropped when the model embeds the probes differently now."""
        tag = hashlib.blake2b(embedder.model_id.encode("utf-8"), digest_size=8).hexdigest()
        folder = index_dir / FOLDER / tag
        probes = model_record.probe_vectors(embedder)
        try:
            kept = read_json(folder / PROBES)
        except (OSError, ValueError):
            kept = None
        if kept is None or model_record.least_cosine(kept, probes) < model_record.MIN_COSINE:
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True, exist_ok=True)
            replace_atomically(folder / PROBES, lambda out: out.write(json_bytes(probes)))
        return cls(folder)

    def found(self, keys: list[bytes], dimension: int) -> dict[bytes, np.ndarray]:
        """Kept vectors of any of ``keys`` (a torn or foreign batch file is skipped, never trusted)."""
        if self._loaded is None:
            self._loaded = self._load(dimension)
        return {k: self._loaded[k] for k in keys if k in self._loaded}

    def keep(self, keys: list[bytes], vectors: np.ndarray) -> None:
        """One finished batch, vectors first, keys last: a batch without its keys file does not count."""
        if not keys:
            return
        stem = f"{secrets.token_hex(8)}"
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        replace_atomically(
            self.folder / f"{stem}.vectors.npy", lambda out: np.save(out, vectors, allow_pickle=False)
        )
        rows = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), KEY_BYTES)
        replace_atomically(
            self.folder / f"{stem}.keys.npy", lambda out: np.save(out, rows, allow_pickle=False)
        )

    def _load(self, dimension: int) -> dict[bytes, np.ndarray]:
        out: dict[bytes, np.ndarray] = {}
        for keys_path in sorted(self.folder.glob("*.keys.npy")):
            try:
                keys = np.load(keys_path, allow_pickle=False)
                vectors = np.load(
                    keys_path.with_name(keys_path.name.replace(".keys.", ".vectors.")), allow_pickle=False
                )
            except (OSError, ValueError):
                continue
            if keys.ndim != 2 or vectors.shape != (len(keys), dimension):
                continue
            for row, vector in zip(keys, vectors):
                out[row.tobytes()] = vector
        return out


def clear(index_dir: Path) -> None:
    """After a commit: the build holds every vector now, and another model's leftovers are of no use."""
    shutil.rmtree(index_dir / FOLDER, ignore_errors=True)
