"""Retrieval over the real seeds index: BM25, dense (bundled model), hybrid, spans, normalisation."""

from __future__ import annotations

import numpy as np
import pytest

from qa.index.local.lexical import LexicalIndex
from qa.search.fusion import reciprocal_rank, weighted_sum
from qa.text.tokenize import Segmenter
from tests.conftest import SEEDS

Q = "截至3月1日庆元县健康码申领率是多少"


def test_chinese_bm25_really_scores():
    seg = Segmenter()
    docs = ["截至3月1日,庆元县申领健康码共89423人,申领率64.24%", "遂昌企业开工复工299家", "今天阴有阵雨"]
    index = LexicalIndex.build([seg.tokens(d) for d in docs])
    scores = index.scores(seg.tokens("庆元县健康码申领率"))
    assert scores[0] > 0
    assert scores[0] > scores[1] and scores[0] > scores[2]
    assert index.scores(seg.tokens("完全无关的词语ZZZ")).max() == 0


def test_acceptance_question_top_hit(engine):
    result = engine.search(Q, k=5, mode="hybrid")
    top = result.hits[0]
    assert "64.24%" in top.text
    assert top.citation.doc == "000_03be0d9acd7aceea.txt"
    assert top.citation.title == "庆元“健康码”申领率 全市第一"
    source = (SEEDS / top.citation.doc).read_bytes().decode("utf-8")
    span = source[top.citation.start : top.citation.end]
    assert span == top.text or all(ch.isspace() for ch in span if ch not in top.text)
    assert top.text[slice(*top.highlight)].find("64.24%") >= 0
    assert top.scores.bm25 is not None and top.scores.dense is not None


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_each_mode_finds_the_paragraph(engine, mode):
    result = engine.search(Q, k=5, mode=mode)
    assert result.mode == mode
    assert any("64.24%" in h.text for h in result.hits[:3])
    ranks = [h.rank for h in result.hits]
    assert ranks == list(range(1, len(ranks) + 1))
    for h in result.hits:
        assert h.scores.fused == (
            h.scores.dense if mode == "dense" else h.scores.bm25 if mode == "bm25" else h.scores.fused
        )
        if mode == "dense":
            assert h.scores.bm25 is None
        if mode == "bm25":
            assert h.scores.dense is None


def test_dense_with_bundled_model_ranks_by_meaning(engine):
    result = engine.search("哪个地方的人领健康码的比例在全市排第一", k=3, mode="dense")
    assert any("64.24%" in h.text for h in result.hits)


def test_traditional_and_fullwidth_questions_match(engine):
    simplified = engine.search("庆元县健康码申领率", k=3)
    traditional = engine.search("庆元縣健康碼申領率", k=3)
    assert [h.chunk_id for h in traditional.hits] == [h.chunk_id for h in simplified.hits]
    fullwidth = engine.search("申领率６４．２４％", k=3, mode="bm25")
    assert any("64.24%" in h.text for h in fullwidth.hits)


def test_rrf_rewards_agreement():
    fused = reciprocal_rank({1: 9.0, 2: 5.0}, {2: 0.9, 3: 0.8}, k=60)
    assert fused[2] == pytest.approx(1 / 62 + 1 / 61)
    assert max(fused, key=fused.get) == 2
    assert fused[1] == pytest.approx(1 / 61) and fused[3] == pytest.approx(1 / 62)


def test_weighted_sum_normalises_per_query():
    fused = weighted_sum({1: 10.0, 2: 0.0}, {2: 0.9, 3: 0.5}, dense_weight=0.5)
    assert fused == pytest.approx({1: 0.5, 2: 0.5, 3: 0.0})


def test_hybrid_json_shape(engine):
    data = engine.search(Q, k=2).to_json()
    assert set(data) == {"question", "mode", "took_ms", "hits"}
    hit = data["hits"][0]
    assert set(hit) == {"rank", "chunk_id", "text", "highlight", "scores", "citation"}
    assert len(hit["chunk_id"]) == 16 and int(hit["chunk_id"], 16) >= 0
    assert set(hit["scores"]) == {"bm25", "dense", "fused"}
    assert {"doc", "title", "paragraph", "start", "end", "line_start", "line_end"} <= set(hit["citation"])
    s, e = hit["highlight"]
    assert 0 <= s < e <= len(hit["text"])


def test_vectors_are_normalised(embedder):
    v = embedder.encode_queries(["健康码"])
    p = embedder.encode_passages(["健康码申领率", "遂昌复工"])
    assert v.shape == (1, embedder.dimension) and p.shape == (2, embedder.dimension)
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-4)


def test_place_scoping_moves_other_places_last():
    from qa.search.scope import scoped

    doc_of = {"1": "a", "2": "b", "3": "a", "4": "c"}.__getitem__
    assert scoped(["1", "2", "3", "4"], doc_of, {"b", "c"}) == ["2", "4", "1", "3"]
    assert scoped(["1", "3"], doc_of, {"b", "c"}) == ["1", "3"], "nothing mentions the place: order kept"
    assert scoped(["1", "2"], doc_of, set()) == ["1", "2"]


def test_local_index_finds_documents_naming_a_place(engine):
    index = engine.retriever.index
    pinghu = "002_376477d7800202f4.txt"
    assert index.mentioning(set(index.documents), ["平湖"]) == {pinghu}, (
        "the edition name 嘉兴日报·平湖版 counts"
    )
    assert index.mentioning({pinghu}, ["遂昌"]) == set()


def test_only_a_place_the_dictionary_knows_can_be_missing_from_the_corpus(engine):
    """jieba's HMM tags 明州州 (from 秋明州州内) and 内共 (科大内共设) as places: cuts, not places asked about."""
    segmenter = engine.retriever.segmenter
    assert segmenter.in_dictionary("巴黎") and not segmenter.in_dictionary("明州州")
    _, asked = engine.retriever.retrieve("明天巴黎的天气怎么样", 5, "hybrid")
    assert asked.unknown_places == ("巴黎",)
    for question in ("秋明州州内哪一种作物的产量最高", "中国科大内共设有几个国家人才培养基地"):
        _, asked = engine.retriever.retrieve(question, 5, "hybrid")
        assert asked.unknown_places == (), question


def test_follow_up_place_question_prefers_that_place(engine):
    result = engine.search("平湖有多少家企业开工复工？", k=5)
    assert result.hits[0].citation.doc == "002_376477d7800202f4.txt"
    assert any("597家" in h.text for h in result.hits)


def test_romanised_names_link_to_corpus_words():
    from qa.text.romanize import linked_words, pinyin_keys

    keys = pinyin_keys(["遂昌", "平湖", "车俊", "庆元县", "健康码", "ab"])
    assert keys["suichang"] == ["遂昌"] and "ab" not in keys
    assert linked_words("How many firms resumed work in Suichang?", keys) == ["遂昌"]
    assert linked_words("Where did Che Jun go? What about Pinghu", keys) == ["车俊", "平湖"]
    assert linked_words("what about the weather", keys) == []


def test_english_question_naming_a_place_stays_in_that_place(engine):
    result = engine.search("How many enterprises in Pinghu have resumed work?", k=3, mode="dense")
    assert result.hits[0].citation.doc == "002_376477d7800202f4.txt"
    s, e = result.hits[0].highlight
    assert e > s
