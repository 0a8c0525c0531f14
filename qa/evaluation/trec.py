"""TREC run and qrels files, so ranx, trec_eval or pytrec_eval can re-score any question set.

A run line is ``qid Q0 chunk_id rank score tag``; a qrels line ``qid 0 chunk_id 1``
for every chunk of the question's document (any document when it names none)
that holds an expected answer. Question ids keep their own spelling, with
whitespace replaced, since both formats split on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from qa.evaluation.questions import Question
from qa.models import Chunk, SearchResult

_SPACE = re.compile(r"\s+")


def _qid(question: Question) -> str:
    return _SPACE.sub("_", question.id)


def run_lines(question: Question, result: SearchResult, tag: str) -> list[str]:
    return [f"{_qid(question)} Q0 {h.chunk_id} {h.rank} {h.scores.fused:.6f} {tag}" for h in result.hits]


def qrels_lines(questions: Sequence[Question], chunks: Iterable[Chunk]) -> list[str]:
    """Relevant chunks per answerable question, found in one pass over the index's chunks."""
    by_doc: dict[str | None, list[Question]] = {}
    for q in questions:
        if q.answerable:
            by_doc.setdefault(q.doc, []).append(q)
    anywhere = by_doc.pop(None, [])
    lines: list[str] = []
    for chunk in chunks:
        for q in by_doc.get(chunk.doc, []) + anywhere:
            if q.relevant(chunk.doc, chunk.text):
                lines.append(f"{_qid(q)} 0 {chunk.id} 1")
    return sorted(lines)


def write_trec(folder: Path, runs: dict[str, list[str]], qrels: list[str]) -> list[Path]:
    """``run-<mode>.txt`` per mode and ``qrels.txt``; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for mode, lines in runs.items():
        path = folder / f"run-{mode}.txt"
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        written.append(path)
    path = folder / "qrels.txt"
    path.write_text("".join(line + "\n" for line in qrels), encoding="utf-8")
    return [*written, path]
