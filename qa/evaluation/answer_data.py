"""Training and test rows for the answer models: every candidate sentence of every question, searched once.

A question is searched as the chat searches it; its candidates' feature rows
(``qa.answer.features``) are labelled by whether the sentence holds a gold
answer. Each answerable question is also asked again with its own document
taken out of the hits (the passages below move up): there the right reply is
a decline, which gives the decline model its negatives without a second index.
Shipped unanswerable questions (near-topic, off-topic) are negatives as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np

from qa.answer.abstain import evidence
from qa.answer.calibration import SEARCH_DEPTH, without_document
from qa.answer.features import DEPTH, Candidate, candidates
from qa.answer.quotes import adjacent, points_back
from qa.evaluation.questions import Question
from qa.index.files import replace_atomically
from qa.search.retrieval import Retriever
from qa.text.normalize import matching_form


@dataclass
class AnswerRows:
    """Candidates of many asked questions; ``group[i]`` is the asked question (row of ``asked``) of candidate ``i``."""

    x: np.ndarray
    label: np.ndarray
    length: np.ndarray
    doc: np.ndarray
    group: np.ndarray
    evidence: np.ndarray
    words: np.ndarray
    asked: list[dict]
    label_next: np.ndarray  # the candidate and the next sentence of its passage hold a gold answer together
    back: np.ndarray  # the candidate opens by pointing back (quotes.points_back)

    def save(self, path: Path) -> None:
        """One file, written beside its final name and renamed: a collection killed halfway leaves the old one."""
        replace_atomically(Path(path), self._write)

    def _write(self, out: BinaryIO) -> None:
        np.savez_compressed(
            out,
            x=self.x,
            label=self.label,
            length=self.length,
            doc=self.doc,
            group=self.group,
            evidence=self.evidence,
            words=self.words,
            label_next=self.label_next,
            back=self.back,
            asked=np.asarray(json.dumps(self.asked, ensure_ascii=False)),
        )

    @classmethod
    def load(cls, path: Path) -> AnswerRows:
        with np.load(path, allow_pickle=False) as d:
            arrays = {k: d[k] for k in d.files}
        for name in ("label_next", "back"):  # files collected before them
            arrays.setdefault(name, np.zeros_like(arrays["label"]))
        if "asked" in arrays:
            asked = json.loads(str(arrays.pop("asked")))
        else:  # files collected before it, with their questions beside them
            asked = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        return cls(asked=asked, **arrays)


def holds_answer(text: str, answers: Sequence[str]) -> bool:
    folded = matching_form(text)
    return any(a in text or matching_form(a) in folded for a in answers)


def collect(
    retriever: Retriever,
    questions: Sequence[Question],
    source: str,
    progress: Callable[[int], None] | None = None,
) -> AnswerRows:
    xs, labels, lengths, docs, groups, evs, words, asked_rows = [], [], [], [], [], [], [], []
    joins: list[list[bool]] = []
    backs: list[list[bool]] = []
    doc_ids: dict[str, int] = {}
    for n, q in enumerate(questions):
        result, asked = retriever.retrieve(q.question, SEARCH_DEPTH, "hybrid")
        variants = [("asked", result.hits[:DEPTH])]
        if q.answerable and q.doc is not None:
            variants.append(("removed", without_document(result.hits, q.doc)))
        for variant, hits in variants:
            found, x = candidates(hits, asked)
            if not found:
                continue
            gold = q.answers if variant == "asked" else ()
            ev = evidence(replace(result, hits=hits), asked, hits)
            group = len(asked_rows)
            xs.append(x)
            labels.append([holds_answer(c.text, gold) for c in found])
            joins.append(
                [holds_answer(joined_text(c, after), gold) for c, after in zip(found, [*found[1:], None])]
            )
            backs.append([points_back(c.text) for c in found])
            lengths.append([c.end - c.start for c in found])
            docs.append([doc_ids.setdefault(c.hit.citation.doc, len(doc_ids)) for c in found])
            groups.append([group] * len(found))
            evs.append(ev.vector())
            words.append(len(asked.weights))
            asked_rows.append(
                {"source": source, "id": q.id, "variant": variant, "type": q.type, "answerable": bool(gold)}
            )
        if progress is not None:
            progress(n + 1)
    flat = lambda rows, dtype: np.asarray([v for r in rows for v in r], dtype=dtype)  # noqa: E731
    return AnswerRows(
        x=np.concatenate(xs) if xs else np.zeros((0, 0), dtype=np.float32),
        label=flat(labels, bool),
        length=flat(lengths, np.int32),
        doc=flat(docs, np.int32),
        group=flat(groups, np.int32),
        evidence=np.asarray(evs, dtype=np.float64),
        words=np.asarray(words, dtype=np.float64),
        asked=asked_rows,
        label_next=flat(joins, bool),
        back=flat(backs, bool),
    )


def joined_text(c: Candidate, after: Candidate | None) -> str:
    """``c`` and the sentence right after it in its passage, as one quote would join them ("" if none follows).

    7.8% of CMRC's gold answers run over a sentence end: neither sentence holds them alone.
    """
    if after is None or not adjacent(c, after):
        return ""
    return c.hit.text[c.start : after.end]
