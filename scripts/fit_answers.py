"""Fit the answer models (which sentence to quote, when to decline) and report what carries over.

    # 1. rows: every question of a set searched once through the chat's retrieval (an index must exist)
    .venv/bin/python -m scripts.fit_answers collect --index-dir IDX --squad cmrc2018_trial.json --out cmrc.npz
    .venv/bin/python -m scripts.fit_answers collect --index-dir .wenyuan --out seeds.npz   # the shipped set
    # 2. fit on some row files, report on others, write the model
    .venv/bin/python -m scripts.fit_answers fit --train cmrc.npz seeds.npz --test drcd.npz --out qa/answer/answer_model.json

The sentence model is scikit-learn's HistGradientBoostingClassifier over
``qa.answer.features.FEATURES``; the decline model smaller trees over
``qa.answer.abstain.DECLINE_FEATURES``, fitted on out-of-fold sentence
probabilities so its confidence is the one it will see on new data. The
threshold declines ``--max-declined`` of the training set's answerable
questions, judged out of fold too; the two quote ratios and whether a first quote
that points back brings the sentence before it (``quotes.picked``) are the most
accurate choice with the median answer within ``--max-median-chars``. Needs scikit-learn (the ``test`` extra).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.answer.abstain import DECLINE_FEATURES, EVIDENCE, decline_row
from qa.answer.features import FEATURES
from qa.answer.quotes import picked, places_of
from qa.answer.ranker import model_from_json, sigmoid
from qa.evaluation.answer_data import AnswerRows
from scripts.answer_learners import (
    decline_out_of_fold,
    fit_decline,
    fit_ranker,
    fit_sentence,
    lightgbm_json,
    out_of_fold,
    trees_json,
)

ATTRIBUTION = {
    "cmrc2018_trial.json": "CMRC 2018 trial set (Cui et al., EMNLP 2019), CC BY-SA 4.0",
    "DRCD_test.json": "DRCD test set, Delta Reading Comprehension Dataset (Shao et al., 2018), CC BY-SA 3.0",
    "questions.jsonl": "wenyuan's shipped question set over seeds/",
}
RULES = (
    "missing_time",
    "missing_count",
    "unknown_place",
)  # declines that stay rules (qa.answer.abstain.declines)
SECOND_RATIOS = (1.01, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0)
NEIGHBOUR_RATIOS = (None, 0.5, 0.3, 0.2, 0.1, 0.05, 0.0)
JOIN_BACK = (False, True)


def collect_cmd(args: argparse.Namespace) -> None:
    from qa.engine import Wenyuan
    from qa.evaluation.answer_data import collect
    from qa.evaluation.questions import SHIPPED, load_questions
    from qa.evaluation.squad import load_squad, sample, sample_documents

    if args.squad:
        questions, source = (
            sample_documents(load_squad(args.squad), args.documents, args.seed).questions,
            args.squad.name,
        )
    else:
        questions, source = load_questions(args.questions or SHIPPED), (args.questions or SHIPPED).name
    questions = sample(questions, args.limit, args.seed)
    if args.off_topic:
        # Another corpus's questions asked of this index: nothing here answers them, so each is a decline to learn.
        questions = [replace(q, answers=(), doc=None, type="offtopic") for q in questions]
        source = f"{source} (off-topic)"
    retriever = Wenyuan.open(args.index_dir).retriever
    step = max(1, len(questions) // 20)
    rows = collect(
        retriever,
        questions,
        source,
        lambda n: n % step == 0 and print(f"  {n}/{len(questions)}", file=sys.stderr),
    )
    rows.save(args.out)
    print(
        f"wrote {args.out}: {len(rows.asked)} asked questions, {len(rows.label)} candidate sentences",
        file=sys.stderr,
    )


def merged(paths: list[Path]) -> AnswerRows:
    parts = [AnswerRows.load(p) for p in paths]
    offset, groups, docs, doc_offset = 0, [], [], 0
    for p in parts:
        groups.append(p.group + offset)
        docs.append(p.doc + doc_offset)
        offset += len(p.asked)
        doc_offset += int(p.doc.max()) + 1 if len(p.doc) else 0
    return AnswerRows(
        x=np.concatenate([p.x for p in parts]),
        label=np.concatenate([p.label for p in parts]),
        length=np.concatenate([p.length for p in parts]),
        doc=np.concatenate(docs),
        group=np.concatenate(groups),
        evidence=np.concatenate([p.evidence for p in parts]),
        words=np.concatenate([p.words for p in parts]),
        asked=[a for p in parts for a in p.asked],
        label_next=np.concatenate([p.label_next for p in parts]),
        back=np.concatenate([p.back for p in parts]),
    )


def row_weights(rows: AnswerRows, weights: dict[str, float]) -> np.ndarray:
    """Per candidate: its source's weight (``--weight questions.jsonl=4`` lets a small set count as much as a big one)."""
    per_group = np.array([weights.get(a["source"], 1.0) for a in rows.asked])
    return per_group[rows.group]


def subset(rows: AnswerRows, source: str) -> tuple[AnswerRows, np.ndarray]:
    """The rows of one source (its groups renumbered), and which candidates they were."""
    keep_groups = np.array([a["source"] == source for a in rows.asked])
    renumber = np.cumsum(keep_groups) - 1
    mask = keep_groups[rows.group]
    part = AnswerRows(
        x=rows.x[mask],
        label=rows.label[mask],
        length=rows.length[mask],
        doc=rows.doc[mask],
        group=renumber[rows.group[mask]],
        evidence=rows.evidence[keep_groups],
        words=rows.words[keep_groups],
        asked=[a for a in rows.asked if a["source"] == source],
        label_next=rows.label_next[mask],
        back=rows.back[mask],
    )
    return part, mask


def by_group(rows: AnswerRows) -> list[np.ndarray]:
    order = np.argsort(rows.group, kind="stable")
    bounds = np.searchsorted(rows.group[order], np.arange(len(rows.asked) + 1))
    return [order[a:b] for a, b in zip(bounds, bounds[1:])]


def decline_rows(rows: AnswerRows, probs: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(
        [
            decline_row(rows.evidence[g], rows.words[g], rows.x[idx], probs[idx])
            for g, idx in enumerate(groups)
        ]
    )


def outcome(
    rows: AnswerRows,
    probs: np.ndarray,
    groups: list[np.ndarray],
    p_answer: np.ndarray,
    threshold: float,
    second_ratio: float,
    neighbour_ratio: float | None = None,
    join_back: bool = False,
) -> dict[str, Any]:
    """Accuracy (answered and holding a gold answer), declines per kind of question, median answer length."""
    counts: dict[str, list[int]] = {}
    lengths: list[int] = []
    latin = EVIDENCE.index("latin")
    rules = [EVIDENCE.index(f) for f in RULES]
    for g, idx in enumerate(groups):
        info = rows.asked[g]
        if rows.evidence[g, latin]:
            continue  # English questions keep their rule
        quoted = idx[
            picked(
                probs[idx],
                rows.doc[idx],
                None,
                second_ratio,
                places_of(rows.x[idx]),
                neighbour_ratio,
                rows.back[idx].__getitem__ if join_back else None,
            )
        ]
        declined = p_answer[g] < threshold or bool(rows.evidence[g, rules].any())
        kind = (
            "answerable"
            if info["answerable"]
            else ("removed" if info["variant"] == "removed" else info["type"])
        )
        c = counts.setdefault(kind, [0, 0, 0])
        c[0] += 1
        c[1] += int(declined)
        if info["answerable"]:
            c[2] += int(not declined and holds(rows, quoted))
            if not declined:
                lengths.append(int(rows.length[quoted].sum()))
    ans = counts.get("answerable", [0, 0, 0])
    return {
        "accuracy": ans[2] / ans[0] if ans[0] else 0.0,
        "answerable_declined": ans[1] / ans[0] if ans[0] else 0.0,
        "declined": {k: round(v[1] / v[0], 4) for k, v in counts.items() if k != "answerable"},
        "n": {k: v[0] for k, v in counts.items()},
        "median_chars": float(statistics.median(lengths)) if lengths else 0.0,
    }


def holds(rows: AnswerRows, quoted: np.ndarray) -> bool:
    """A quoted sentence holds a gold answer, or two quoted neighbours do together (``quotes.joined``)."""
    held = set(quoted.tolist())
    return bool(rows.label[quoted].any()) or any(rows.label_next[i] and i + 1 in held for i in held)


def first_choice_accuracy(rows: AnswerRows, probs: np.ndarray, groups: list[np.ndarray]) -> float:
    right = [
        bool(rows.label[idx[np.argmax(probs[idx])]])
        for g, idx in enumerate(groups)
        if rows.asked[g]["answerable"]
    ]
    return sum(right) / len(right) if right else 0.0


def fit_cmd(args: argparse.Namespace) -> None:
    train = merged(args.train)
    groups = by_group(train)
    weights = dict(w.split("=", 1) for w in args.weight or [])
    weight = row_weights(train, {k: float(v) for k, v in weights.items()})
    if args.ranker == "lambdarank":
        sentence = fit_ranker(train.x, train.label, train.group, weight)
        spec_sentence = lightgbm_json(sentence, FEATURES)
        predict = lambda x: sigmoid(sentence.predict(x))  # noqa: E731
    else:
        sentence = fit_sentence(train.x, train.label, weight)
        spec_sentence = trees_json(sentence, FEATURES)
        predict = lambda x: sentence.predict_proba(x)[:, 1]  # noqa: E731
    oof = out_of_fold(train, weight, args.ranker)
    answerable = np.array([a["answerable"] for a in train.asked])
    d_x = decline_rows(train, oof, groups)
    d_y = np.array([bool(train.label[idx[np.argmax(oof[idx])]]) for idx in groups])
    d_w = np.ones(
        len(d_y)
    )  # unweighted: weighting the shipped set here declined more of DRCD's answerable questions
    clf = fit_decline(d_x, d_y, d_w)
    spec_decline = trees_json(clf, DECLINE_FEATURES)
    decline = model_from_json(spec_decline)
    p_train = decline_out_of_fold(train, d_x, d_y, d_w)
    threshold = float(np.quantile(p_train[answerable], args.max_declined)) if answerable.any() else 0.5
    choices = [(r, n, b) for b in JOIN_BACK for r in SECOND_RATIOS for n in NEIGHBOUR_RATIOS]
    ratios = {c: outcome(train, oof, groups, p_train, threshold, *c) for c in choices}
    parts = {source: subset(train, source) for source in {a["source"] for a in train.asked}}
    keep = {source: np.array([a["source"] == source for a in train.asked]) for source in parts}

    def short_enough(choice: tuple[float, float | None, bool]) -> bool:
        """The median answer within the limit on every training source, not only on the largest."""
        return all(
            outcome(part, oof[mask], by_group(part), p_train[keep[source]], threshold, *choice)[
                "median_chars"
            ]
            <= args.max_median_chars
            for source, (part, mask) in parts.items()
        )

    # Ties go to the earlier choice: fewer and shorter quotes.
    fitting = [c for c in choices if short_enough(c)] or [choices[0]]
    quoting = max(fitting, key=lambda c: ratios[c]["accuracy"])
    second_ratio, neighbour_ratio, join_back = quoting
    spec = {
        "about": "wenyuan answer models: fitted by scripts/fit_answers.py; see docs/answers.md",
        "fitted_on": sorted({a["source"] for a in train.asked}),
        "attribution": {k: v for k, v in ATTRIBUTION.items() if k in {a["source"] for a in train.asked}},
        "ranker": args.ranker,
        "threshold": round(threshold, 6),
        "second_ratio": second_ratio,
        "neighbour_ratio": neighbour_ratio,
        "join_back": join_back,
        "sentence": spec_sentence,
        "decline": spec_decline,
    }
    model = model_from_json(spec_sentence)
    check = model.probabilities(train.x[:2000])
    if not np.allclose(check, predict(train.x[:2000]), atol=1e-5):
        raise SystemExit(
            "exported trees disagree with the fitted model's predictions: refusing to write the model"
        )
    report: dict[str, Any] = {
        "fitted_on": spec["fitted_on"],
        "threshold": spec["threshold"],
        "second_ratio": second_ratio,
        "neighbour_ratio": neighbour_ratio,
        "join_back": join_back,
        "train_out_of_fold": {
            **outcome(train, oof, groups, p_train, threshold, *quoting),
            "first_choice": first_choice_accuracy(train, oof, groups),
        },
    }
    for source, (part, mask) in sorted(parts.items()):
        report[f"out_of_fold {source}"] = {
            **outcome(part, oof[mask], by_group(part), p_train[keep[source]], threshold, *quoting),
            "first_choice": first_choice_accuracy(part, oof[mask], by_group(part)),
        }
    for path in args.test or []:
        report[path.name] = scored(path, model, decline, threshold, quoting)
    if args.out:
        args.out.write_text(
            json.dumps(spec, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
        )
        print(f"wrote {args.out}", file=sys.stderr)
    print(json.dumps(report, ensure_ascii=False, indent=2))


def scored(
    path: Path,
    sentence: Any,
    decline: Any,
    threshold: float,
    quoting: tuple[float, float | None, bool],
) -> dict[str, Any]:
    """How the models answer and decline the questions of one row file (``quoting``: ``outcome``'s last three)."""
    test = merged([path])
    groups = by_group(test)
    probs = sentence.probabilities(test.x[:, [FEATURES.index(f) for f in sentence.features]])
    rows = decline_rows(test, probs, groups)
    p_answer = decline.probabilities(rows[:, [DECLINE_FEATURES.index(f) for f in decline.features]])
    return {
        **outcome(test, probs, groups, p_answer, threshold, *quoting),
        "first_choice": first_choice_accuracy(test, probs, groups),
    }


def score_cmd(args: argparse.Namespace) -> None:
    from qa.answer.ranker import load_answer_model

    model = load_answer_model(args.model)
    report = {
        p.name: scored(
            p,
            model.sentence,
            model.decline,
            model.threshold,
            (model.second_ratio, model.neighbour_ratio, model.join_back),
        )
        for p in args.test
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect", help="search every question once and save its candidates' features")
    c.add_argument("--index-dir", type=Path, required=True)
    c.add_argument("--squad", type=Path, help="SQuAD-style JSON whose corpus the index holds")
    c.add_argument("--questions", type=Path, help="JSON Lines question file [default: the shipped set]")
    c.add_argument("--limit", type=int)
    c.add_argument(
        "--documents",
        type=int,
        help="with --squad: only the questions of this many documents (as qa eval --documents)",
    )
    c.add_argument("--seed", type=int, default=0)
    c.add_argument(
        "--off-topic",
        action="store_true",
        help="the questions belong to another corpus than the index's: collect them as declines",
    )
    c.add_argument("--out", type=Path, required=True)
    f = sub.add_parser("fit", help="fit on --train row files, report on --test ones")
    f.add_argument("--train", type=Path, nargs="+", required=True)
    f.add_argument("--test", type=Path, nargs="*")
    f.add_argument(
        "--max-declined",
        type=float,
        default=0.008,
        help="share of answerable training questions declined (out of fold)",
    )
    f.add_argument("--max-median-chars", type=float, default=100.0)
    f.add_argument(
        "--weight",
        nargs="*",
        help="SOURCE=FACTOR: how much one source's questions count, e.g. questions.jsonl=5",
    )
    f.add_argument(
        "--ranker",
        choices=("lambdarank", "trees"),
        default="lambdarank",
        help="lambdarank: LightGBM's ranker (shipped); trees: scikit-learn's gradient-boosted classifier",
    )
    f.add_argument("--out", type=Path)
    sc = sub.add_parser("score", help="report a fitted model on row files")
    sc.add_argument("--model", type=Path, required=True)
    sc.add_argument("--test", type=Path, nargs="+", required=True)
    args = parser.parse_args(argv)
    {"collect": collect_cmd, "fit": fit_cmd, "score": score_cmd}[args.command](args)


if __name__ == "__main__":
    main()
