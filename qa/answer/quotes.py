"""Which sentences the chat quotes, and in which order.

Candidates are the best sentence of each of the top passages (the same span
each hit shows as its highlight); retrieval rank discounts them, so a later
passage wins only when its sentence states the asked-for fact and the first
passage's does not. The winner is quoted first as ``[1]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa.search.highlight import TUNED, Asked, Scored, Tuning, best_sentence
from qa.models import Hit

MAX_QUOTES = 3
SECOND_QUOTE_RATIO = 0.8  # 0.6–0.8 tie on answer accuracy on both halves; 0.8 quotes least (median 71 characters against 88)


@dataclass(frozen=True)
class Candidate:
    hit: Hit
    sentence: Scored
    score: float

    @property
    def text(self) -> str:
        return self.hit.text[self.sentence.start : self.sentence.end]


def candidates(
    hits: list[Hit],
    asked: Asked,
    tuning: Tuning = TUNED,
) -> list[Candidate]:
    """The top passages' answer sentences, best first."""
    out = []
    for hit in hits[: tuning.depth]:
        found = best_sentence(hit.text, asked, tuning, hit.chunk_id)
        out.append(Candidate(hit, found, found.score * tuning.rank_decay ** (hit.rank - 1)))
    return sorted(out, key=lambda c: (-c.score, c.hit.rank))


def chosen(ranked: list[Candidate]) -> list[Candidate]:
    """The best candidate, plus others from its document that score nearly as well.

    Staying within the first quote's document keeps a sentence about another
    place or paper out of an answer about this one.
    """
    if not ranked:
        return []
    first = ranked[0]
    out = [first]
    for cand in ranked[1:]:
        if len(out) == MAX_QUOTES:
            break
        if (
            cand.hit.citation.doc == first.hit.citation.doc
            and first.score > 0
            and cand.score >= SECOND_QUOTE_RATIO * first.score
            and all(cand.text != c.text for c in out)
        ):
            out.append(cand)
    return out
