"""The large-corpus FAISS index: an 8-bit scan re-ranked with the exact vectors (scripts/ann_bench.py at 2f6ba27 chose it)."""

from __future__ import annotations

import shutil

import numpy as np

from qa.engine import Wenyuan
from qa.index.local import faiss_index
from qa.index.local.writer import build_index
from qa.settings import Settings
from tests.conftest import SEEDS, local_only


def clustered(n: int, seed: int = 0) -> np.ndarray:
    """Vectors in tight clusters with near-ties, the hard case for an approximate index."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((50, 384)).astype(np.float32)
    x = centres[rng.integers(0, 50, n)] + rng.normal(0, 0.05, (n, 384)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_above_the_threshold_auto_takes_the_re_ranked_8_bit_scan_and_keeps_exact_results(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(faiss_index, "SQ8_ABOVE", 1000)
    x, queries = clustered(3000), clustered(40, seed=1)
    ids = np.arange(len(x), dtype=np.int64) * 3 + 1
    assert faiss_index.kind_of(faiss_index.build(x[:1000], "auto", ids[:1000])) == "flat"
    index = faiss_index.build(x, "auto", ids)
    faiss_index.save(index, tmp_path / "v.faiss")
    loaded = faiss_index.load(tmp_path / "v.faiss")
    assert faiss_index.kind_of(loaded) == "sq8"
    labels, stored = faiss_index.stored_vectors(loaded)
    assert np.array_equal(labels, ids) and np.array_equal(stored, x)  # a later build reuses exact vectors
    flat = faiss_index.build(x, "flat", ids)
    recall = []
    for q in queries:
        scores, found = faiss_index.search(loaded, q, 10)
        exact_scores, exact = faiss_index.search(flat, q, 10)
        recall.append(len(set(found) & set(exact)) / 10)
        assert np.allclose(scores, exact_scores[: len(scores)], atol=1e-5)  # re-ranked: exact scores
    assert np.mean(recall) >= 0.99


@local_only
def test_a_build_with_the_8_bit_index_is_searched_and_updated(small_corpus, tmp_path, embedder):
    s = Settings(index_dir=tmp_path / "idx")
    assert build_index(small_corpus, s, embedder, progress=False, faiss_kind="sq8").manifest.faiss == "sq8"
    hit = Wenyuan.open(s.index_dir).search("平湖", k=3, mode="dense").hits
    assert len(hit) == 3
    shutil.copy(SEEDS / "000_03be0d9acd7aceea.txt", small_corpus)
    report = build_index(small_corpus, s, embedder, progress=False, faiss_kind="sq8")
    assert report.reused > 0 and report.manifest.faiss == "sq8"
