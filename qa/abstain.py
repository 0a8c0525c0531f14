"""When to say "the sources don't say": one rule, used by chat and measured by ``qa eval``.

Two signals, both cheap: how similar the best passage is to the question
(dense cosine), and how much of the question's weighted vocabulary the best
passages contain. English questions embed with lower similarity to Chinese
text and share no words with it, so they get their own dense threshold and
skip the word test.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa.highlight import coverage
from qa.models import SearchResult
from qa.settings import Settings


@dataclass(frozen=True)
class Evidence:
    dense_top: float | None
    coverage_top: float
    latin: bool


def is_latin(question: str) -> bool:
    letters = [ch for ch in question if ch.isalpha()]
    return bool(letters) and sum(ch.isascii() for ch in letters) / len(letters) > 0.5


def evidence(result: SearchResult, weights: dict[str, float], question: str, top_n: int = 3) -> Evidence:
    dense = [h.scores.dense for h in result.hits if h.scores.dense is not None]
    cov = max((coverage(f"{h.citation.title}\n{h.text}", weights) for h in result.hits[:top_n]), default=0.0)
    return Evidence(max(dense) if dense else None, cov, is_latin(question))


def should_abstain(ev: Evidence, settings: Settings) -> bool:
    """True when nothing retrieved supports an answer well enough to quote."""
    if ev.dense_top is None:
        return ev.coverage_top < settings.abstain_coverage_min
    if ev.latin:
        return ev.dense_top < settings.abstain_dense_min_ascii
    return ev.dense_top < settings.abstain_dense_min or ev.coverage_top < settings.abstain_coverage_min


def declines(result: SearchResult, weights: dict[str, float], question: str, settings: Settings) -> bool:
    """The chat's rule, as evaluation measures it: decline on weak evidence (or no hits)."""
    return not result.hits or should_abstain(evidence(result, weights, question), settings)
