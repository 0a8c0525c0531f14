"""When to say "the sources don't say": one rule, used by chat and measured by ``qa eval``.

Signals, all cheap. How similar the best passage is to the question (dense
cosine), and how much of the question's weighted vocabulary the best
passages contain. Then answer evidence: a question that asks for a kind of
fact (a name for 谁, a figure for 多少) is declined when no candidate sentence
holds one; a question pinned to a time (4月份, 2021年, 一季度) when no
candidate passage mentions that time; one that counts in a measure word
(多少户) when no candidate counts anything in it; one that names a place the
corpus never mentions. The corpus then holds a neighbouring fact, not this one.
English questions embed with lower similarity to Chinese text and share no
words with it, so they get their own dense threshold, skip the word tests,
and must name a place or person of the corpus in pinyin, which also declines
Latin gibberish (``qwerty``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa.text.answer_type import counted_unit, states, time_terms
from qa.search.highlight import Asked, coverage, sentences
from qa.models import SearchResult
from qa.answer.quotes import Candidate
from qa.settings import Settings


@dataclass(frozen=True)
class Evidence:
    dense_top: float | None
    coverage_top: float
    latin: bool
    names_corpus: bool
    untyped: bool
    missing_time: bool
    missing_count: bool
    unknown_place: bool


def is_latin(question: str) -> bool:
    letters = [ch for ch in question if ch.isalpha()]
    return bool(letters) and sum(ch.isascii() for ch in letters) / len(letters) > 0.5


def evidence(result: SearchResult, asked: Asked, ranked: Sequence[Candidate], top_n: int = 3) -> Evidence:
    dense = [h.scores.dense for h in result.hits if h.scores.dense is not None]
    cov = max((coverage(f"{h.citation.title}\n{h.text}", asked.weights) for h in result.hits[:top_n]), default=0.0)
    untyped = asked.kind is not None and not any(
        states(c.hit.text[s:e], asked.kind, asked.question) for c in ranked for s, e in sentences(c.hit.text)
    )
    latin = is_latin(asked.question)
    passages = "\n".join(f"{c.hit.citation.title}\n{c.hit.text}" for c in ranked)
    missing_time = any(t not in passages for t in time_terms(asked.question))
    unit = counted_unit(asked.question) if asked.kind == "number" else None
    missing_count = unit is not None and not unit.search(passages)
    return Evidence(
        dense_top=max(dense) if dense else None,
        coverage_top=cov,
        latin=latin,
        names_corpus=bool(asked.linked),
        untyped=untyped,
        missing_time=missing_time,
        missing_count=missing_count,
        unknown_place=bool(asked.unknown_places),
    )


def should_abstain(ev: Evidence, settings: Settings) -> bool:
    """True when nothing retrieved supports an answer well enough to quote."""
    if ev.latin:
        # Cross-lingual similarity alone does not tell on-topic from off-topic English (README):
        # an English question must name a place or person of the corpus, in pinyin.
        return not ev.names_corpus or ev.dense_top is None or ev.dense_top < settings.abstain_dense_min_ascii
    if ev.untyped or ev.unknown_place or ev.missing_time or ev.missing_count:
        return True
    if ev.dense_top is None:
        return ev.coverage_top < settings.abstain_coverage_min
    return ev.dense_top < settings.abstain_dense_min or ev.coverage_top < settings.abstain_coverage_min


def declines(result: SearchResult, asked: Asked, settings: Settings, ranked: Sequence[Candidate]) -> bool:
    """The chat's rule, as evaluation measures it: decline on weak evidence (or no hits)."""
    return not result.hits or should_abstain(evidence(result, asked, ranked), settings)
