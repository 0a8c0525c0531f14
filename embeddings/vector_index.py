"""Dense vectors in FAISS: exact inner product, or HNSW once a corpus is large.

The choice of index type is measured by ``qa bench`` (see README): exact search
of 10^5 chunks of 384 dims takes about 7 ms a query on one core, less than
embedding the question, while HNSW lost recall@10 (0.81 at 10^5 on the bench's
vectors); so HNSW only takes over above ``HNSW_ABOVE`` vectors.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

HNSW_ABOVE = 200_000
HNSW_M = 32
HNSW_EF_SEARCH = 128


def build(vectors: np.ndarray, kind: str = "auto", ids: np.ndarray | None = None):
    """Index normalised vectors for inner-product search; ``kind`` is auto, flat or hnsw.

    ``ids`` (int64, unique) label the rows; without them a row's label is its position.
    """
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)  # building is batch work: all cores
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    if kind == "auto":
        kind = "hnsw" if len(vectors) > HNSW_ABOVE else "flat"
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        raise ValueError(f"unknown FAISS index kind {kind!r}: use auto, flat or hnsw")
    labels = np.arange(len(vectors), dtype=np.int64) if ids is None else np.ascontiguousarray(ids, dtype=np.int64)
    if len(labels) != len(vectors) or len(np.unique(labels)) != len(labels):
        raise ValueError("FAISS labels must be one unique id per vector")
    mapped = faiss.IndexIDMap2(index)
    mapped.add_with_ids(vectors, labels)
    return mapped


def _inner(index):
    import faiss

    return faiss.downcast_index(index.index) if hasattr(index, "id_map") else index


def kind_of(index) -> str:
    return "hnsw" if hasattr(_inner(index), "hnsw") else "flat"


def stored_vectors(index) -> tuple[np.ndarray, np.ndarray]:
    """(labels, vectors) in insertion order: what a later build reuses instead of re-embedding."""
    import faiss

    inner = _inner(index)
    vectors = inner.reconstruct_n(0, inner.ntotal) if inner.ntotal else np.zeros((0, inner.d), dtype=np.float32)
    labels = faiss.vector_to_array(index.id_map) if hasattr(index, "id_map") else np.arange(inner.ntotal)
    return labels.astype(np.int64), np.asarray(vectors, dtype=np.float32)


def save(index, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def load(path: Path):
    import faiss

    index = faiss.read_index(str(path))
    inner = _inner(index)
    if hasattr(inner, "hnsw"):
        inner.hnsw.efSearch = HNSW_EF_SEARCH
    return index


def search(index, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, labels) for one normalised query vector; labels of -1 are dropped."""
    import faiss

    # One query at a time is faster on one thread (100k flat: 6.5 ms against 14.5 ms with 2
    # OpenMP threads) and leaves the other core to the model; the setting is per calling thread.
    faiss.omp_set_num_threads(1)
    k = min(k, index.ntotal)
    if k <= 0:
        return np.empty(0, dtype=np.float32), np.empty(0, dtype=np.int64)
    scores, ids = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]
