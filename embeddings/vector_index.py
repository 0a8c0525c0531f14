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


def build(vectors: np.ndarray, kind: str = "auto"):
    """Index normalised vectors for inner-product search; ``kind`` is auto, flat or hnsw."""
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
    index.add(vectors)
    return index


def save(index, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def load(path: Path):
    import faiss

    index = faiss.read_index(str(path))
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


def search(index, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, ids) for one normalised query vector; ids of -1 are dropped."""
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
