"""Ranking metrics on tiny cases computed by hand."""

import math

import pytest

from qa.evaluation.metrics import first_relevant, hit_at, mrr_at, ndcg_at, score_all


def test_hit_and_mrr():
    ranked = [False, False, True, False, True]
    assert hit_at(ranked, 1) == 0.0 and hit_at(ranked, 2) == 0.0 and hit_at(ranked, 3) == 1.0
    assert mrr_at(ranked, 10) == pytest.approx(1 / 3)
    assert mrr_at(ranked, 2) == 0.0
    assert first_relevant(ranked) == 3 and first_relevant([False]) is None


def test_ndcg_by_hand():
    # relevant at ranks 2 and 3, two relevant passages exist: DCG = 1/log2(3) + 1/log2(4); IDCG = 1 + 1/log2(3)
    ranked = [False, True, True]
    expected = (1 / math.log2(3) + 0.5) / (1 + 1 / math.log2(3))
    assert ndcg_at(ranked, 10, relevant=2) == pytest.approx(expected)
    assert ndcg_at([True], 10, relevant=1) == 1.0
    assert ndcg_at([False, False], 10, relevant=0) == 0.0


def test_score_all_names():
    scores = score_all([True], 10, 1)
    assert set(scores) == {"hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10"}
    assert set(score_all([True], 5, 1)) == {"hit@1", "hit@3", "hit@5", "mrr@5", "ndcg@5"}
