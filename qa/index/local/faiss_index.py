"""Dense vectors in FAISS: exact inner product, or an 8-bit scan re-ranked exactly once a corpus is large.

Exact search of 10^5 chunks of 384 dims is a memory-bound scan of 153 MB a query (8-22 ms on this
2-core machine, depending on its load). ``scripts/ann_bench.py`` at commit 2f6ba27 measured the standard
remedies at 10^5 on the bench's vectors with the shipped questions: HNSW reached recall@10 0.84-0.96 (M 32/48,
efSearch 128-512; 0.7-12 ms), IVF1024 0.69-0.97 (nprobe 16-256), the 8-bit flat scan alone 0.97 at half
the time; the 8-bit scan whose best 2k are re-ranked with the exact vectors kept recall@10 1.0 at
3.8 ms against 7.9 ms exact (same run). So above ``SQ8_ABOVE`` vectors that is the index; HNSW stays
available by name (``kind="hnsw"``) but is never chosen.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

HNSW_ABOVE = 200_000  # qa bench's comparison row; "auto" no longer picks HNSW (recall, see above)
SQ8_ABOVE = 50_000
REFINE_FACTOR = 2  # the 8-bit scan's best k × this are re-ranked with the exact vectors
HNSW_M = 32
HNSW_EF_SEARCH = 128


def build(vectors: np.ndarray, kind: str = "auto", ids: np.ndarray | None = None):
    """Index normalised vectors for inner-product search; ``kind`` is auto, flat, sq8 or hnsw.

    ``ids`` (int64, unique) label the rows; without them a row's label is its position.
    """
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)  # building is batch work: all cores
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    if kind == "auto":
        kind = auto_kind(len(vectors))
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "sq8":
        index = faiss.IndexRefineFlat(
            faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        )
        index.k_factor = REFINE_FACTOR
        index.train(vectors)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        raise ValueError(f"unknown FAISS index kind {kind!r}: use auto, flat, sq8 or hnsw")
    labels = (
        np.arange(len(vectors), dtype=np.int64) if ids is None else np.ascontiguousarray(ids, dtype=np.int64)
    )
    if len(labels) != len(vectors) or len(np.unique(labels)) != len(labels):
        raise ValueError("FAISS labels must be one unique id per vector")
    mapped = faiss.IndexIDMap2(index)
    mapped.add_with_ids(vectors, labels)
    return mapped


def auto_kind(count: int) -> str:
    """What ``kind="auto"`` builds for ``count`` vectors."""
    return "sq8" if count > SQ8_ABOVE else "flat"


def _inner(index):
    import faiss

    return faiss.downcast_index(index.index) if hasattr(index, "id_map") else index


def kind_of(index) -> str:
    import faiss

    inner = _inner(index)
    return "hnsw" if hasattr(inner, "hnsw") else "sq8" if isinstance(inner, faiss.IndexRefine) else "flat"


def stored_vectors(index) -> tuple[np.ndarray, np.ndarray]:
    """(labels, vectors) in insertion order: what a later build reuses instead of re-embedding."""
    import faiss

    inner = _inner(index)
    vectors = (
        inner.reconstruct_n(0, inner.ntotal) if inner.ntotal else np.zeros((0, inner.d), dtype=np.float32)
    )
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
