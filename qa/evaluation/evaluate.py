"""``qa eval``: run a question set through each retrieval mode, and through the chat as ``/api/chat`` answers it."""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from qa.answer.chat import ChatAnswer
from qa.answer.features import char_bigrams
from qa.engine import Wenyuan
from qa.evaluation.metrics import first_relevant, mean, metric_names, score_all
from qa.evaluation.questions import Question
from qa.evaluation.trec import run_lines
from qa.models import SearchResult
from qa.text import sentences
from qa.text.normalize import matching_form

_MARKER = re.compile(r"\[\d+\]")


def _relevant_count(engine: Wenyuan, q: Question) -> int:
    return sum(q.relevant(c.doc, c.text) for c in engine.index.iter_chunks())


def evaluate(
    engine: Wenyuan,
    questions: Sequence[Question],
    modes: Sequence[str],
    k: int = 10,
    runs: dict[str, list[str]] | None = None,
    removed: bool = False,
) -> dict[str, Any]:
    """The stable report object documented in docs/evaluation.md (metrics as fractions 0..1).

    ``runs``: filled with TREC run lines per mode. ``removed``: also ask every
    answerable question with its own document left out of the hits (the right reply is a decline).
    """
    answerable = [q for q in questions if q.answerable]
    names = metric_names(k)
    report: dict[str, Any] = {"questions": len(questions), "k": k, "modes": {}, "misses": {}}
    relevant = {q.id: _relevant_count(engine, q) for q in answerable}
    for mode in modes:
        rows: list[dict[str, float]] = []
        by_type: dict[str, list[dict[str, float]]] = defaultdict(list)
        misses = []
        for q in answerable:
            result = engine.search(q.question, k, mode)
            if runs is not None:
                runs.setdefault(mode, []).extend(run_lines(q, result, f"wenyuan-{mode}"))
            ranked = [q.relevant(h.citation.doc, h.text) for h in result.hits]
            row = score_all(ranked, k, relevant[q.id])
            rows.append(row)
            by_type[q.type].append(row)
            if not ranked or not ranked[0]:
                top = result.hits[0] if result.hits else None
                misses.append(
                    {
                        "id": q.id,
                        "question": q.question,
                        "answers": list(q.answers),
                        "rank": first_relevant(ranked),
                        "top": {"doc": top.citation.doc, "text": top.text} if top else None,
                    }
                )
        summary: dict[str, Any] = {**mean(rows, names), "n": len(rows)}
        summary["by_type"] = {t: {**mean(r, names), "n": len(r)} for t, r in sorted(by_type.items())}
        report["modes"][mode] = summary
        report["misses"][mode] = misses
    report.update(chat_runs(engine, questions))
    if removed:
        report["abstention"]["removed"] = removed_declines(engine, questions)
    found = engine.calibration()
    if found is not None:
        report["abstention"]["calibration"] = found.to_json()
    return report


def bigram_baseline(question: str, result: SearchResult) -> str:
    """The trivial answer every report stands beside: the top passage's sentence sharing most character bigrams with the question."""
    if not result.hits:
        return ""
    text = result.hits[0].text
    folded = matching_form(text)
    wanted = char_bigrams(matching_form(question))
    s, e = max(sentences.spans(text), key=lambda span: len(wanted & char_bigrams(folded[span[0] : span[1]])))
    return text[s:e]


def removed_declines(engine: Wenyuan, questions: Sequence[Question]) -> dict[str, int]:
    """Each answerable question whose document is known, asked with that document's passages taken out of the hits."""
    out = {"n": 0, "declined": 0}
    for q in questions:
        if not q.answerable or q.doc is None:
            continue
        reply = engine.answer_without(q.question, q.doc)
        out["n"] += 1
        out["declined"] += int(reply.abstained)
    return out


def answer_text(reply: ChatAnswer) -> str:
    """The quoted text a reader sees, ``[n]`` markers removed."""
    return _MARKER.sub("", reply.answer)


def answer_correct(reply: ChatAnswer, q: Question) -> bool:
    """Right when the answer was given (not declined) and quotes one of the expected answers."""
    return not reply.abstained and any(a in answer_text(reply) for a in q.answers)


def chat_runs(engine: Wenyuan, questions: Sequence[Question]) -> dict[str, Any]:
    """Every question through the chat rule exactly as ``/api/chat`` runs it: answers, and declines."""
    answered: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "correct": 0})
    by_expects: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "correct": 0})
    declined: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "declined": 0})
    counts = {"unanswerable": 0, "declined": 0, "answerable": 0, "answerable_declined": 0}
    lengths: list[int] = []
    baseline = 0
    misses = []
    for q in questions:
        reply = engine.chat([{"role": "user", "content": q.question}])
        declined[q.type]["n"] += 1
        declined[q.type]["declined"] += int(reply.abstained)
        if not q.answerable:
            counts["unanswerable"] += 1
            counts["declined"] += int(reply.abstained)
            continue
        counts["answerable"] += 1
        counts["answerable_declined"] += int(reply.abstained)
        correct = answer_correct(reply, q)
        baseline += int(any(a in bigram_baseline(reply.question, reply.result) for a in q.answers))
        for table, key in ((answered, q.type), (by_expects, q.expects or "none")):
            table[key]["n"] += 1
            table[key]["correct"] += int(correct)
        if not reply.abstained:
            lengths.append(len(answer_text(reply)))
        if not correct:
            misses.append(
                {"id": q.id, "question": q.question, "answers": list(q.answers), "answer": reply.answer}
            )
    n = counts["answerable"]
    correct_total = sum(v["correct"] for v in answered.values())
    answer = {
        "n": n,
        "correct": correct_total,
        "accuracy": correct_total / n if n else 0.0,
        "median_chars": float(statistics.median(lengths)) if lengths else 0.0,
        "baseline_bigram": baseline / n if n else 0.0,
        "by_type": dict(sorted(answered.items())),
        "by_expects": dict(sorted(by_expects.items())),
    }
    return {
        "answer": answer,
        "answer_misses": misses,
        "abstention": {**counts, "by_type": dict(sorted(declined.items()))},
    }


def format_report(report: dict[str, Any]) -> str:
    """Side-by-side plain-text table: metrics per mode, per type, answers, abstention, misses."""
    modes = list(report["modes"])
    names = [n for n in next(iter(report["modes"].values())) if "@" in n] if modes else []
    width = 10
    lines = [f"{report['questions']} questions, k={report['k']}", ""]
    lines.append("metric".ljust(14) + "".join(m.rjust(width) for m in modes))
    for n in names:
        lines.append(n.ljust(14) + "".join(f"{report['modes'][m][n]:.3f}".rjust(width) for m in modes))
    lines.append("n".ljust(14) + "".join(str(report["modes"][m]["n"]).rjust(width) for m in modes))
    types = sorted({t for m in modes for t in report["modes"][m]["by_type"]})
    for t in types:
        lines += ["", f"type {t} (n={report['modes'][modes[0]]['by_type'].get(t, {}).get('n', 0)})"]
        for n in names:
            vals = [report["modes"][m]["by_type"].get(t, {}).get(n, 0.0) for m in modes]
            lines.append(("  " + n).ljust(14) + "".join(f"{v:.3f}".rjust(width) for v in vals))
    ans = report["answer"]
    lines += [
        "",
        f"answers (the chat, as /api/chat): correct {ans['correct']}/{ans['n']} ({ans['accuracy']:.3f}), "
        f"median {ans['median_chars']:.0f} characters; baseline (top passage's sentence sharing most bigrams): "
        f"{ans['baseline_bigram']:.3f}",
    ]
    for label, table in (("type", ans["by_type"]), ("expects", ans["by_expects"])):
        lines.append(f"  by {label}: " + ", ".join(f"{t} {v['correct']}/{v['n']}" for t, v in table.items()))
    a = report["abstention"]
    lines += [
        "",
        f"abstention (hybrid): declined {a['declined']}/{a['unanswerable']} unanswerable, "
        f"wrongly declined {a['answerable_declined']}/{a['answerable']} answerable",
    ]
    lines += [f"  {t}: declined {v['declined']}/{v['n']}" for t, v in a["by_type"].items()]
    if "removed" in a:
        lines.append(f"  own document removed: declined {a['removed']['declined']}/{a['removed']['n']}")
    if "calibration" in a:
        c = a["calibration"]
        how = f"from {c['questions']} cloze questions of the corpus" if c["calibrated"] else "the model's own"
        lines.append(f"  decline threshold {c['threshold']:.4f} ({how})")
    for m in modes:
        if report["misses"][m]:
            lines += ["", f"misses at rank 1 ({m}):"]
            for miss in report["misses"][m]:
                top = miss["top"]["text"][:60].replace("\n", " ") if miss["top"] else "—"
                lines.append(
                    f"  {miss['id']} {miss['question']}  want {miss['answers']} (rank {miss['rank']})  got: {top}"
                )
    if report["answer_misses"]:
        lines += ["", "answers that miss:"]
        for miss in report["answer_misses"]:
            got = miss["answer"][:60].replace("\n", " ")
            lines.append(f"  {miss['id']} {miss['question']}  want {miss['answers']}  got: {got}")
    return "\n".join(lines)


def check_gate(report: dict[str, Any], gate_file) -> list[str]:
    """Metrics below the floors written in ``gate_file``: ``{mode: {metric: minimum}}``, and ``{"answer": {"accuracy": minimum}}``."""
    import json
    from pathlib import Path

    floors = json.loads(Path(gate_file).read_text(encoding="utf-8"))
    failures = []
    for mode, metrics in floors.items():
        got = report["answer"] if mode == "answer" else report["modes"].get(mode)
        if got is None:
            failures.append(f"mode {mode} was not evaluated")
            continue
        for name, floor in metrics.items():
            if got.get(name, 0.0) + 1e-9 < floor:
                failures.append(f"{mode} {name} = {got.get(name, 0.0):.3f} is below the floor {floor:.3f}")
    return failures
