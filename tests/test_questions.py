"""Keeps the shipped retrieval question set (tests/data/questions.jsonl) honest."""

import json
from collections import Counter
from pathlib import Path

import pytest

from qa.errors import InputError
from qa.evaluation.questions import SHIPPED, load_questions

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "data" / "questions.jsonl"
SEEDS = ROOT / "seeds"

ALLOWED_TYPES = {"factoid", "paraphrase", "reasoning", "unanswerable", "offtopic", "english", "furniture"}
NO_ANSWER_TYPES = {"unanswerable", "offtopic"}
EXPECTS = {"person", "number", "place", "date", "phrase"}
MIN_PER_EXPECTS = 10
MIN_PER_EXPECTS_HALF = 5
REQUIRED = {"id": str, "question": str, "answers": list, "type": str}


def _read_doc(name: str) -> str:
    data = (SEEDS / name).read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8")


def _load():
    rows = []
    with QUESTIONS.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.decode("utf-8").strip()
            if not line:
                continue
            try:
                rows.append((lineno, json.loads(line)))
            except json.JSONDecodeError as exc:  # pragma: no cover - failure path
                pytest.fail(f"line {lineno}: invalid JSON: {exc}")
    return rows


ROWS = _load()


def test_file_not_empty_and_large_enough():
    assert len(ROWS) >= 80, f"only {len(ROWS)} questions"


def test_schema():
    for lineno, q in ROWS:
        assert isinstance(q, dict), f"line {lineno}: not an object"
        for key, typ in REQUIRED.items():
            assert key in q, f"line {lineno}: missing {key!r}"
            assert isinstance(q[key], typ), f"line {lineno}: {key!r} is not {typ.__name__}"
        assert "doc" in q, f"line {lineno}: missing 'doc'"
        assert q["doc"] is None or isinstance(q["doc"], str), f"line {lineno}: bad doc"
        assert q["id"].strip() and q["question"].strip(), f"line {lineno}: empty id/question"
        assert q["type"] in ALLOWED_TYPES, f"line {lineno}: bad type {q['type']!r}"
        assert all(isinstance(a, str) and a.strip() for a in q["answers"]), (
            f"line {lineno}: answers must be non-empty strings"
        )
        assert q.get("expects") is None or q["expects"] in EXPECTS, (
            f"line {lineno}: bad expects {q['expects']!r}"
        )


def test_ids_unique():
    counts = Counter(q["id"] for _, q in ROWS)
    dupes = [i for i, n in counts.items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"


def test_answerability_matches_type():
    for _, q in ROWS:
        if q["type"] in NO_ANSWER_TYPES:
            assert q["answers"] == [], f"{q['id']}: {q['type']} must have no answers"
            assert q["doc"] is None, f"{q['id']}: {q['type']} must have doc null"
        else:
            assert q["answers"], f"{q['id']}: answerable question without answers"
            assert q["doc"], f"{q['id']}: answerable question without doc"


def test_answers_occur_verbatim_in_doc():
    docs = {}
    missing = []
    for _, q in ROWS:
        if not q["doc"]:
            continue
        path = SEEDS / q["doc"]
        assert path.is_file(), f"{q['id']}: doc {q['doc']} does not exist"
        text = docs.setdefault(q["doc"], _read_doc(q["doc"]))
        for a in q["answers"]:
            if a not in text:
                missing.append((q["id"], a))
    assert not missing, f"answers not found verbatim: {missing}"


def test_all_documents_covered():
    seeds = {p.name for p in SEEDS.glob("*.txt")}
    used = {q["doc"] for _, q in ROWS if q["doc"]}
    assert seeds, "no seed documents found"
    assert seeds <= used, f"documents without questions: {sorted(seeds - used)}"


def test_each_type_has_enough_questions():
    counts = Counter(q["type"] for _, q in ROWS)
    for t in ALLOWED_TYPES:
        assert counts[t] >= 8, f"type {t!r} has only {counts[t]} questions"


def _id_number(qid: str) -> int:
    """The number in an id, as scripts/tune.py (at commit e28accc) read it to split the set into dev (odd) and held-out (even)."""
    digits = "".join(c for c in qid if c.isdigit())
    return int(digits or 0)


def test_each_expected_answer_type_has_enough_answerable_questions():
    answerable = [q for _, q in ROWS if q["answers"]]
    counts = Counter(q.get("expects") for q in answerable)
    for e in sorted(EXPECTS):
        assert counts[e] >= MIN_PER_EXPECTS, f"expects {e!r} has only {counts[e]} answerable questions"
    for parity, half in ((1, "dev (odd ids)"), (0, "held-out (even ids)")):
        part = Counter(q.get("expects") for q in answerable if _id_number(q["id"]) % 2 == parity)
        for e in sorted(EXPECTS):
            assert part[e] >= MIN_PER_EXPECTS_HALF, (
                f"{half}: expects {e!r} has only {part[e]} answerable questions"
            )


def test_loader_reads_expects_as_in_the_file():
    loaded = {q.id: q.expects for q in load_questions(SHIPPED)}
    assert loaded == {q["id"]: q.get("expects") for _, q in ROWS}


@pytest.mark.parametrize("value", ["who", "", 3, ["person"]])
def test_loader_rejects_unknown_expects_with_line_number(tmp_path, value):
    path = tmp_path / "q.jsonl"
    good = {
        "id": "a",
        "question": "谁主持会议",
        "answers": ["蓝伶俐"],
        "doc": "x.txt",
        "type": "factoid",
        "expects": "person",
    }
    bad = dict(good, id="b", expects=value)
    path.write_text(
        json.dumps(good, ensure_ascii=False) + "\n" + json.dumps(bad, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"q\.jsonl:2: expects must be one of"):
        load_questions(path)


def test_loader_accepts_missing_and_null_expects(tmp_path):
    path = tmp_path / "q.jsonl"
    rows = [
        {"id": "a", "question": "会议开了吗", "answers": ["召开"], "doc": "x.txt", "type": "factoid"},
        {
            "id": "b",
            "question": "为什么要戴口罩",
            "answers": ["防护"],
            "doc": "x.txt",
            "type": "factoid",
            "expects": None,
        },
        {
            "id": "c",
            "question": "哪天召开",
            "answers": ["3月3日"],
            "doc": "x.txt",
            "type": "factoid",
            "expects": "date",
        },
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert [q.expects for q in load_questions(path)] == [None, None, "date"]
