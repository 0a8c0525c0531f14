"""Public reading-comprehension sets and either script: `qa eval --squad`, TREC files, Traditional meets Simplified.

The SQuAD-style file is written here (our own sentences, one Traditional and
one Simplified document), indexed by the real CLI with the bundled model.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import SEEDS, SMALL, built
from tests.test_cli import assert_one_line_error, qa

ZOO = (
    "臺北市立動物園位於臺灣臺北市文山區，是亞洲規模最大的動物園之一。"
    "園區面積約一百六十五公頃，一九八六年由圓山遷至現址。"
)
PANDA = "園內的大貓熊「團團」與「圓圓」於二〇〇八年抵達，是最受遊客歡迎的動物。每年入園人數超過四百萬人次。"
TEA = "龙井茶产于浙江省杭州市西湖一带，以色绿、香郁、味甘、形美著称。每年清明前采摘的明前茶最为名贵。"
SQUAD = {
    "version": "test",
    "data": [
        {
            "title": "臺北市立動物園",
            "id": "zoo",
            "paragraphs": [
                {
                    "context": ZOO,
                    "qas": [
                        {
                            "id": "z1",
                            "question": "臺北市立動物園位於哪個區？",
                            "answers": [{"text": "文山區", "answer_start": 14}],
                        },
                        {
                            "id": "z2",
                            "question": "動物園是哪一年由圓山遷至現址的？",
                            "answers": [{"text": "一九八六年", "answer_start": 44}],
                        },
                    ],
                },
                {
                    "context": PANDA,
                    "qas": [
                        {
                            "id": "z3",
                            "question": "大貓熊團團與圓圓是哪一年抵達的？",
                            "answers": [{"text": "二〇〇八年", "answer_start": 15}],
                        },
                    ],
                },
            ],
        },
        {
            "title": "龙井茶",
            "id": "tea",
            "paragraphs": [
                {
                    "context": TEA,
                    "qas": [
                        {
                            "id": "t1",
                            "question": "龍井茶產於哪個省？",
                            "answers": [{"text": "浙江省", "answer_start": 5}],
                        },
                    ],
                },
            ],
        },
    ],
}


@pytest.fixture(scope="module")
def squad_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("squad") / "tiny_squad.json"
    path.write_text(json.dumps(SQUAD, ensure_ascii=False), encoding="utf-8")
    return path


def test_eval_squad_reports_answers_baseline_and_removed_declines(squad_file, tmp_path):
    work, trec = tmp_path / "work", tmp_path / "trec"
    proc = qa(
        "eval",
        "--squad",
        str(squad_file),
        "--work-dir",
        str(work),
        "--json",
        "--modes",
        "hybrid,bm25",
        "--trec",
        str(trec),
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["questions"] == 4 and set(report["modes"]) == {"hybrid", "bm25"}
    # Each question's own document holds the answer, and both scripts meet: BM25 finds every one at rank 1.
    assert report["modes"]["bm25"]["hit@1"] == 1.0, report["misses"]["bm25"]
    ans = report["answer"]
    assert ans["n"] == 4 and 0.0 <= ans["baseline_bigram"] <= 1.0 and ans["correct"] >= 3, report[
        "answer_misses"
    ]
    removed = report["abstention"]["removed"]
    assert removed["n"] == 4 and 0 <= removed["declined"] <= 4
    assert sorted(p.name for p in (work / "corpus").iterdir()) == ["0000_zoo.txt", "0001_tea.txt"]
    assert (
        (work / "corpus" / "0000_zoo.txt").read_text(encoding="utf-8").startswith("臺北市立動物園\n\n" + ZOO)
    )

    runs = (trec / "run-bm25.txt").read_text(encoding="utf-8").splitlines()
    qrels = [line.split() for line in (trec / "qrels.txt").read_text(encoding="utf-8").splitlines()]
    assert {line.split()[0] for line in runs} == {"z1", "z2", "z3", "t1"}
    assert all(len(line.split()) == 6 and line.split()[1] == "Q0" for line in runs)
    assert all(len(row) == 4 and row[1] == "0" and row[3] == "1" for row in qrels)
    relevant = {(row[0], row[2]) for row in qrels}
    top = {fields[0]: fields[2] for fields in map(str.split, runs) if fields[3] == "1"}
    # hit@1 is 1.0 above, so the qrels must hold every question's first hit: the files agree with the report.
    assert all((qid, chunk) in relevant for qid, chunk in top.items())

    again = qa(
        "eval",
        "--squad",
        str(squad_file),
        "--work-dir",
        str(work),
        "--json",
        "--modes",
        "bm25",
        "--limit",
        "2",
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["questions"] == 2
    assert "0 embedded" in again.stderr or "unchanged" in again.stderr, again.stderr


def test_eval_squad_refuses_a_file_that_is_not_squad(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1}', encoding="utf-8")
    assert_one_line_error(
        qa("eval", "--squad", str(bad), "--work-dir", str(tmp_path / "w")), "no data[] list"
    )
    assert_one_line_error(qa("eval", "--squad", str(tmp_path / "missing.json")), "not found")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, embedder):
    """A Simplified seed page beside a Traditional document."""
    corpus = tmp_path_factory.mktemp("mixed")
    shutil.copy(SEEDS / SMALL, corpus / SMALL)
    (corpus / "zoo.txt").write_text(f"臺北市立動物園\n\n{ZOO}\n\n{PANDA}\n", encoding="utf-8")
    settings = built(corpus, embedder, index_dir=tmp_path_factory.mktemp("mixed-index"))
    from qa.engine import Wenyuan

    return Wenyuan.open(**settings.model_dump())


def test_a_simplified_question_finds_and_cites_a_traditional_document(mixed):
    result = mixed.search("台北市立动物园位于哪个区", k=3, mode="bm25")
    top = result.hits[0]
    assert top.citation.doc == "zoo.txt"
    # Matched in one script, cited in the document's own: the quote and offsets are the Traditional original.
    assert "文山區" in top.text and "臺北市立動物園" in top.text
    start, end = top.highlight
    assert top.text[start:end] in top.text and "文山區" in top.text[start:end]


def test_a_traditional_question_finds_a_simplified_document(mixed):
    import opencc

    question = opencc.OpenCC("s2t").convert("省委书记车俊在丽水督查疫情防控和复工复产工作时，由谁陪同")
    assert question != "省委书记车俊在丽水督查疫情防控和复工复产工作时，由谁陪同"
    result = mixed.search(question, k=3, mode="bm25")
    assert result.hits[0].citation.doc == SMALL
    assert "车俊" in result.hits[0].text


def test_a_gold_answer_is_spaced_as_the_corpus_file_holds_it(tmp_path):
    """The loader collapses the paragraphs' whitespace (王\u3000晶 → 王 晶); a gold answer with it must still be found."""
    from qa.evaluation.squad import load_squad

    context = "潇洒哥（王\u3000晶饰）取笑她。\xa0三百零二号公路。"
    entry = {
        "title": "t",
        "id": "d",
        "paragraphs": [
            {
                "context": context,
                "qas": [
                    {
                        "id": "q1",
                        "question": "谁饰演潇洒哥？",
                        "answers": [{"text": "王\u3000晶", "answer_start": 4}],
                    },
                    {
                        "id": "q2",
                        "question": "哪条公路？",
                        "answers": [{"text": "\xa0三百零二号公路", "answer_start": 14}],
                    },
                ],
            }
        ],
    }
    path = tmp_path / "spaced.json"
    path.write_text(json.dumps({"data": [entry]}, ensure_ascii=False), encoding="utf-8")
    squad = load_squad(path)
    (text,) = squad.documents.values()
    assert [q.answers for q in squad.questions] == [("王 晶",), ("三百零二号公路",)]
    assert all(a in text for q in squad.questions for a in q.answers)


def test_a_passage_and_a_whole_document_meet_in_the_same_matching_form():
    """Passages are remembered once converted, whole documents are not: both ways give one form."""
    from qa.text.normalize import matching_form

    passage = "五屆亞太城市市長峰會在臺北舉辦，ＡＢＣ１２３。"
    assert matching_form(passage) == "五届亚太城市市长峰会在台北举办,ABC123。"
    assert matching_form(passage) is matching_form(passage[:-1] + "。"), "a passage asked again is remembered"
    document = passage * 200  # longer than any passage: converted, not kept
    assert matching_form(document) == matching_form(passage) * 200


def test_a_question_in_traditional_characters_is_declined_in_them(mixed):
    from qa.answer.chat import NO_ANSWER, NO_ANSWER_TRADITIONAL

    traditional = mixed.chat([{"role": "user", "content": "明天巴黎的天氣怎麼樣"}])
    assert traditional.abstained and traditional.answer == NO_ANSWER_TRADITIONAL
    simplified = mixed.chat([{"role": "user", "content": "明天巴黎的天气怎么样？"}])
    assert simplified.abstained and simplified.answer == NO_ANSWER, (
        "full-width punctuation is not Traditional"
    )
