"""Measure retrieval variants on half the shipped questions and confirm on the other half.

    .venv/bin/python scripts/tune.py [--index-dir DIR]

Prints hybrid/dense/bm25 metrics for fusion variants (no rebuild needed) and the
abstention rule over a grid of thresholds, each on the dev half (odd ids) and the
held-out half (even ids). Index-time variants (headline in the embedding, jieba
mode) are compared by building indexes with WENYUAN_* settings and rerunning.
"""

from __future__ import annotations

import argparse
import itertools
import re
from pathlib import Path

from qa.answer.abstain import evidence, should_abstain
from qa.engine import Wenyuan
from qa.evaluation.evaluate import evaluate, with_fusion
from qa.answer.quotes import candidates
from qa.evaluation.questions import SHIPPED, load_questions


def halves(questions):
    num = lambda q: int(re.sub(r"\D", "", q.id) or 0)
    return [q for q in questions if num(q) % 2 == 1], [q for q in questions if num(q) % 2 == 0]


def line(name: str, report: dict) -> str:
    m = report["modes"]
    return f"{name:28s} " + "  ".join(
        f"{mode}: h1 {m[mode]['hit@1']:.3f} h5 {m[mode]['hit@5']:.3f} mrr {m[mode]['mrr@10']:.3f}" for mode in m
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index-dir", type=Path, default=Path(".wenyuan"))
    args = ap.parse_args()
    wy = Wenyuan.open(args.index_dir)
    questions = load_questions(SHIPPED)
    dev, held = halves(questions)
    print(f"index {wy.retriever.index.manifest.retrieval_text}; dev {len(dev)} / held-out {len(held)} questions")

    variants = {"rrf k=60": dict(fusion="rrf", rrf_k=60)}
    variants.update({f"rrf k={k}": dict(fusion="rrf", rrf_k=k) for k in (5, 10, 20, 30)})
    variants.update({f"weighted dense={w}": dict(fusion="weighted", dense_weight=w) for w in (0.3, 0.4, 0.5, 0.6, 0.7)})
    base = evaluate(wy.retriever, dev, ["dense", "bm25"], 10)
    print(line("components (dev)", base))
    for name, overrides in variants.items():
        r = with_fusion(wy.retriever, **overrides)
        print(line(name + " dev", evaluate(r, dev, ["hybrid"], 10)), "|", line("held", evaluate(r, held, ["hybrid"], 10)))

    settings = wy.settings
    rows = []
    for q in questions:
        result, asked = wy.retriever.retrieve(q.question, settings.k_default, "hybrid")
        rows.append((q, evidence(result, asked, candidates(result.hits, asked))))

    def rates(subset, dense_min, ascii_min, cov_min):
        s = settings.model_copy(update=dict(abstain_dense_min=dense_min, abstain_dense_min_ascii=ascii_min, abstain_coverage_min=cov_min))
        ans = [should_abstain(ev, s) for q, ev in subset if q.answerable]
        off = [should_abstain(ev, s) for q, ev in subset if q.type == "offtopic"]
        near = [should_abstain(ev, s) for q, ev in subset if q.type == "unanswerable"]
        return sum(ans) / len(ans), sum(off) / max(len(off), 1), sum(near) / max(len(near), 1)

    dev_ids = {q.id for q in dev}
    dev_rows = [r for r in rows if r[0].id in dev_ids]
    held_rows = [r for r in rows if r[0].id not in dev_ids]
    print("\nper-question evidence (type, dense_top, coverage, latin):")
    for q, ev in rows:
        print(f"  {q.id:4s} {q.type:12s} dense {ev.dense_top or 0:.3f} cov {ev.coverage_top:.2f} {'EN' if ev.latin else ''}")
    grid = itertools.product([0.80, 0.83, 0.85, 0.865, 0.88], [0.74, 0.75, 0.76, 0.78], [0.0, 0.15, 0.2, 0.25, 0.3, 0.4])
    best = None
    for dm, am, cm in grid:
        wrong, off, near = rates(dev_rows, dm, am, cm)
        if wrong <= 0.05 and (best is None or (off, near, -wrong) > best[0]):
            best = ((off, near, -wrong), (dm, am, cm))
    print("\nabstention: chosen on dev (max off-topic then near-topic declines with <=5% answerable declined):", best)
    current = (settings.abstain_dense_min, settings.abstain_dense_min_ascii, settings.abstain_coverage_min)
    for label, choice in (("grid choice", best[1] if best else None), ("current settings", current)):
        if choice is None:
            continue
        print(f"{label} {choice}:")
        for name, subset in (("dev", dev_rows), ("held-out", held_rows), ("all", rows)):
            wrong, off, near = rates(subset, *choice)
            print(f"  {name:8s} answerable wrongly declined {wrong:.3f}  off-topic declined {off:.3f}  near-topic declined {near:.3f}")


if __name__ == "__main__":
    main()
