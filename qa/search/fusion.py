"""Combining BM25 and dense rankings into one; swappable so evaluation can compare rules.

Each rule maps per-component ``{chunk_id: score}`` to a fused ``{chunk_id: score}``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

Ranked = dict[int, float]
Fusion = Callable[[Ranked, Ranked], Ranked]


def reciprocal_rank(bm25: Ranked, dense: Ranked, k: int = 60) -> Ranked:
    """RRF: sum of 1/(k + rank); ignores score scales, which differ wildly between the two."""
    fused: Ranked = {}
    for ranking in (bm25, dense):
        ordered = sorted(ranking, key=lambda i: -ranking[i])
        for rank, cid in enumerate(ordered, start=1):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (k + rank)
    return fused


def _minmax(ranking: Ranked) -> Ranked:
    if not ranking:
        return {}
    lo, hi = min(ranking.values()), max(ranking.values())
    span = hi - lo
    return {cid: (s - lo) / span if span > 0 else 1.0 for cid, s in ranking.items()}


def weighted_sum(bm25: Ranked, dense: Ranked, dense_weight: float = 0.5) -> Ranked:
    """Per-query min-max normalised scores, weighted; a component that missed a hit adds 0."""
    nb, nd = _minmax(bm25), _minmax(dense)
    return {
        cid: (1 - dense_weight) * nb.get(cid, 0.0) + dense_weight * nd.get(cid, 0.0)
        for cid in set(nb) | set(nd)
    }


def make_fusion(rule: str, rrf_k: int = 60, dense_weight: float = 0.5) -> Fusion:
    if rule == "rrf":
        return partial(reciprocal_rank, k=rrf_k)
    if rule == "weighted":
        return partial(weighted_sum, dense_weight=dense_weight)
    raise ValueError(f"unknown fusion rule {rule!r}: use rrf or weighted")
