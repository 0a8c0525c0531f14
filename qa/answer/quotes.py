"""Which sentences the chat quotes, and in which order.

Every sentence of the top passages is a candidate (``qa.answer.features``);
the fitted sentence model (``qa.answer.ranker``) gives each the probability
that it holds the answer, and the most probable is quoted first as ``[1]``.
Up to two more sentences of the same document follow when the model rates
them nearly as high (``second_ratio`` of the best, chosen on data with the
answer length in view: on the public sets a third quote lifted answers that
hold the gold answer by about 0.02 to 0.04 at a median of under 100 characters).
The sentences just before and after the first quote in its passage join it at a
lower bar (``neighbour_ratio``): a question often restates one sentence while
its answer (the year, the person) is in the sentence beside it. With
``join_back`` (chosen on data like the ratios), a first quote that opens by
pointing back (同年, 他, 该…) brings the sentence before it whatever its rating,
and that one the sentence before it if it points back too: alone it does not
say which year or who.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from qa.answer.features import FEATURES, Candidate, candidates
from qa.answer.ranker import AnswerModel
from qa.models import Hit
from qa.search.highlight import Asked
from qa.text.normalize import matching_form

MAX_QUOTES = 3
BACK_STEPS = 3  # sentences a first quote that points back may bring, each pointing back at the one before
# Openings that stand for something the sentence before named (matched in the Simplified matching form).
_POINTS_BACK = re.compile(
    r"(?:而|但是?|不过|然而|可是)?[，,]?\s*"
    r"(?:他|她|它|该|这|那[时年些个]|此(?!外)|其(?![实他它])|同[年月日]|当[年月日时]|[次翌][年月日]|年[末底初]"
    r"|[两二三]人|前者|后者|上述|随后|之后|后来|接[着著]|由此|因此|所以|因而)"
)


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


def picked(
    probabilities: np.ndarray,
    docs: Sequence[object],
    texts: Sequence[str] | None,
    second_ratio: float,
    places: Sequence[tuple[float, float]] | None = None,
    neighbour_ratio: float | None = None,
    back: Callable[[int], bool] | None = None,
) -> list[int]:
    """Indices of the quoted candidates: the most probable, then others of its document rated at least
    ``second_ratio`` of it (at most ``MAX_QUOTES``; given ``texts``, no sentence twice), then the first's
    neighbours rated at least ``neighbour_ratio`` of it (``places``: each candidate's passage and
    sentence number), and, when the first ``points_back`` (``back(i)``: asked only of the first and the
    sentences it brings), the sentences before it whatever their rating, back to the first that does not
    point back (at most ``BACK_STEPS``).

    Staying within the first quote's document keeps a sentence about another
    place or person out of an answer about this one. A neighbour joins the
    first quote as one passage (``joined``), so it adds words but no citation.
    The fitting script (``scripts/fit_answers.py``) scores its rows with this same function.
    """
    if len(probabilities) == 0:
        return []
    order = np.argsort(-probabilities, kind="stable")
    first = int(order[0])
    out = [first]
    for i in order[1:]:
        if len(out) == MAX_QUOTES or probabilities[i] < second_ratio * probabilities[first]:
            break
        if docs[i] == docs[first] and (texts is None or all(texts[i] != texts[j] for j in out)):
            out.append(int(i))
    if places is None:
        return out
    passage, at = places[first]
    where = {place: i for i, place in enumerate(places)}
    if neighbour_ratio is not None:
        for i in (where.get((passage, at - 1), -1), where.get((passage, at + 1), -1)):
            if i >= 0 and i not in out and probabilities[i] >= neighbour_ratio * probabilities[first]:
                out.append(i)
    if back is None:
        return out
    i = first
    for step in range(1, BACK_STEPS + 1):
        if not back(i) or (i := where.get((passage, at - step), -1)) < 0:
            break
        if i not in out:
            out.append(i)
    return out


def points_back(text: str) -> bool:
    """The sentence opens with a word standing for what the sentence before it named (同年, 他, 该市)."""
    return _POINTS_BACK.match(matching_form(text).lstrip()) is not None


def places_of(features: np.ndarray) -> list[tuple[float, float]]:
    """Each candidate's passage (its hit's rank) and sentence number, from its feature row."""
    return [
        (float(r), float(p)) for r, p in features[:, [FEATURES.index("rank"), FEATURES.index("position")]]
    ]


def chosen(
    ranked: Ranked, second_ratio: float, neighbour_ratio: float | None = None, join_back: bool = False
) -> list[Candidate]:
    """The candidates ``picked`` quotes, in the order they are quoted, neighbours joined."""
    found = ranked.candidates
    docs = [c.hit.citation.doc for c in found]
    texts = [c.text for c in found]
    places = places_of(ranked.features)
    back = (lambda i: points_back(texts[i])) if join_back else None
    return joined(
        [
            found[i]
            for i in picked(ranked.probabilities, docs, texts, second_ratio, places, neighbour_ratio, back)
        ]
    )


def joined(quoted: list[Candidate]) -> list[Candidate]:
    """Quotes that follow each other in one passage as one quote, in the passage's order.

    Two neighbouring sentences read as the source wrote them, under one
    citation, and an answer that runs over the sentence end between them is
    quoted whole (7.8% of CMRC's gold answers do). A joined quote keeps the
    place of its first-ranked sentence.
    """
    runs: list[tuple[int, Candidate]] = []  # (rank of the run's best sentence, the run)
    for rank_, c in sorted(enumerate(quoted), key=lambda rc: (id(rc[1].hit), rc[1].start)):
        if runs:
            best, last = runs[-1]
            if adjacent(last, c):
                runs[-1] = (min(best, rank_), Candidate(c.hit, last.start, max(last.end, c.end)))
                continue
        runs.append((rank_, c))
    return [c for _, c in sorted(runs, key=lambda rc: rc[0])]


def adjacent(first: Candidate, then: Candidate) -> bool:
    """``then`` goes on from ``first`` in the same passage, nothing but whitespace between them."""
    return (
        then.hit is first.hit
        and then.start >= first.start
        and not first.hit.text[first.end : then.start].strip()
    )
