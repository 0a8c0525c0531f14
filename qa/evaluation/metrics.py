"""Ranking metrics over binary relevance, named like ranx (``hit@5``, ``mrr@10``, ``ndcg@10``).

``ranked`` is the relevance (True/False) of each returned passage, best first;
``relevant`` is how many relevant passages exist in the whole index, which the
ideal ranking of nDCG needs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def hit_at(ranked: Sequence[bool], k: int) -> float:
    return 1.0 if any(ranked[:k]) else 0.0


def mrr_at(ranked: Sequence[bool], k: int) -> float:
    for i, rel in enumerate(ranked[:k], start=1):
        if rel:
            return 1.0 / i
    return 0.0


def ndcg_at(ranked: Sequence[bool], k: int, relevant: int) -> float:
    dcg = sum(1.0 / math.log2(i + 1) for i, rel in enumerate(ranked[:k], start=1) if rel)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(k, relevant) + 1))
    return dcg / ideal if ideal > 0 else 0.0


def first_relevant(ranked: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant passage, or None."""
    return next((i for i, rel in enumerate(ranked, start=1) if rel), None)


def metric_names(k: int) -> list[str]:
    return [f"hit@{n}" for n in (1, 3, 5, 10) if n <= k] + [f"mrr@{k}", f"ndcg@{k}"]


def score_all(ranked: Sequence[bool], k: int, relevant: int) -> dict[str, float]:
    out = {f"hit@{n}": hit_at(ranked, n) for n in (1, 3, 5, 10) if n <= k}
    out[f"mrr@{k}"] = mrr_at(ranked, k)
    out[f"ndcg@{k}"] = ndcg_at(ranked, k, relevant)
    return out


def mean(rows: Sequence[dict[str, float]], names: Sequence[str]) -> dict[str, float]:
    if not rows:
        return {n: 0.0 for n in names}
    return {n: sum(r[n] for r in rows) / len(rows) for n in names}
