"""Choose the answer-selection weights on half the shipped questions and confirm on the other half.

    .venv/bin/python scripts/tune_answers.py [--index-dir .wenyuan]

Each question is searched once (hybrid, the chat's k); the quote choice and
the decline rule are then re-run for every setting on the grid. Settings are
ranked by answer accuracy on the dev half (odd ids) with ≤ 3% answerable
questions wrongly declined, and printed with the held-out half (even ids) and
the near-topic / off-topic decline rates beside them.
"""

from __future__ import annotations

import argparse
import itertools
import re
from dataclasses import replace

from qa.answer.chat import compose
from qa.engine import Wenyuan
from qa.evaluation.evaluate import answer_correct
from qa.search.highlight import TUNED
from qa.evaluation.questions import SHIPPED, load_questions


def halves(questions):
    num = lambda q: int(re.sub(r"\D", "", q.id) or 0)
    return [q for q in questions if num(q) % 2 == 1], [q for q in questions if num(q) % 2 == 0]


def rates(rows, tuning, settings):
    out = {"ok": 0, "n": 0, "wrong_decline": 0, "near": 0, "near_n": 0, "off": 0, "off_n": 0}
    for q, result, asked in rows:
        reply = compose(q.question, result, asked, settings, tuning)
        if q.answerable:
            out["n"] += 1
            out["ok"] += answer_correct(reply, q)
            out["wrong_decline"] += reply.abstained
        elif q.type == "offtopic":
            out["off_n"] += 1
            out["off"] += reply.abstained
        else:
            out["near_n"] += 1
            out["near"] += reply.abstained
    return out


def fmt(r) -> str:
    return (
        f"acc {r['ok']}/{r['n']} ({r['ok'] / max(r['n'], 1):.3f}) wrongly declined {r['wrong_decline']} "
        f"near {r['near']}/{r['near_n']} off {r['off']}/{r['off_n']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", default=".wenyuan")
    parser.add_argument("--steps-only", action="store_true", help="print the defaults and the steps, skip the grid")
    args = parser.parse_args()
    wy = Wenyuan.open(args.index_dir)
    retriever = wy.retriever
    questions = load_questions(SHIPPED)
    rows = []
    for q in questions:
        result, asked = retriever.retrieve(q.question, retriever.settings.k_default, "hybrid")
        rows.append((q, result, asked))
    dev_ids = {q.id for q in halves(questions)[0]}
    dev = [r for r in rows if r[0].id in dev_ids]
    held = [r for r in rows if r[0].id not in dev_ids]
    print(f"dev {len(dev)} / held-out {len(held)} questions; defaults {TUNED}")
    base = retriever.settings
    print("defaults  dev:", fmt(rates(dev, TUNED, base)), "| held:", fmt(rates(held, TUNED, base)))
    print("\nsteps, each adding one signal to the one before (the last is the defaults):")
    plain = replace(TUNED, focus=0.0, untyped=1.0, depth=1, rank_decay=1.0, similarity=0.0)
    steps = [
        ("question words only, best passage", plain),
        ("+ kind of fact asked for", replace(plain, untyped=TUNED.untyped)),
        ("+ words around the question word", replace(plain, untyped=TUNED.untyped, focus=TUNED.focus)),
        ("+ five candidate passages", replace(TUNED, similarity=0.0)),
        ("+ sentence similarity", TUNED),
    ]
    for name, tuning in steps:
        print(f"  {name:36s} dev: {fmt(rates(dev, tuning, base))} | held: {fmt(rates(held, tuning, base))}")
    if args.steps_only:
        return
    grid = itertools.product((0.5, 1.0, 2.0), (0.2, 0.4, 0.7), (3, 5), (0.8, 1.0), (2.0, 4.0, 8.0), (0.7, 0.75, 0.8))
    results = []
    for focus, untyped, depth, decay, sim, floor in grid:
        tuning = replace(
            TUNED, focus=focus, untyped=untyped, depth=depth, rank_decay=decay,
            similarity=sim, similarity_floor=floor,
        )
        r = rates(dev, tuning, base)
        results.append((r["ok"], -r["wrong_decline"], tuning))
    results.sort(key=lambda x: (x[0], x[1]), reverse=True)
    print("\nbest on dev (answer accuracy), then held-out:")
    for ok, _, tuning in results[:12]:
        print(f"  {tuning}\n    dev: {fmt(rates(dev, tuning, base))} | held: {fmt(rates(held, tuning, base))}")

if __name__ == "__main__":
    main()
