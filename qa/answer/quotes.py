"""Which sentences the chat quotes, and in which order.

Every sentence of the top passages is a candidate (``qa.answer.features``);
the fitted sentence model (``qa.answer.ranker``) gives each the probability
that it holds the answer, and the most probable is quoted first as ``[1]``.
A second sentence of the same document follows when the model rates it
nearly as high (``second_ratio`` of the best, chosen on data with the answer
length in view).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.answer.features import FEATURES, Candidate, candidates
from qa.answer.ranker import AnswerModel
from qa.models import Hit
from qa.search.highlight import Asked

MAX_QUOTES = 2


@dataclass(frozen=True)
class Ranked:
    """The candidates, their feature rows and the model's probability for each."""

    candidates: list[Candidate]
    features: np.ndarray
    probabilities: np.ndarray


def rank(hits: list[Hit], asked: Asked, model: AnswerModel) -> Ranked:
    found, x = candidates(hits, asked)
    if not found:
        return Ranked([], x, np.zeros(0))
    columns = [FEATURES.index(f) for f in model.sentence.features]
    return Ranked(found, x, model.sentence.probabilities(x[:, columns]))


def chosen(ranked: Ranked, second_ratio: float) -> list[Candidate]:
    """The most probable sentence, then another of its document rated at least ``second_ratio`` of it.

    Staying within the first quote's document keeps a sentence about another
    place or person out of an answer about this one.
    """
    if not ranked.candidates:
        return []
    order = np.argsort(-ranked.probabilities, kind="stable")
    first = ranked.candidates[order[0]]
    best = float(ranked.probabilities[order[0]])
    out = [first]
    for i in order[1:]:
        if len(out) == MAX_QUOTES or ranked.probabilities[i] < second_ratio * best:
            break
        cand = ranked.candidates[i]
        if cand.hit.citation.doc == first.hit.citation.doc and all(cand.text != c.text for c in out):
            out.append(cand)
    return out
