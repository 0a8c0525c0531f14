"""The answer span: which sentence of a passage states the fact the question asks for.

Runs per hit per query, so it must cost microseconds: sentences are scored by
the idf-weighted question words they contain (plain substring tests), by the
words around the question word, by their precomputed embedding similarity to
the question (``qa.index.local.sentence_index``: a dot product), and by whether they hold
a fact of the kind asked for (``qa.text.answer_type``). The last matters because
papers often restate the question in one sentence and give the answer in the
next (…研判会召开。…蓝伶俐主持会议).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qa.text import sentences
from qa.text.answer_type import expected_type, focus_text, states
from qa.text.normalize import matching_form


@dataclass(frozen=True)
class Tuning:
    """How a hit's highlight weighs its sentences (the chat's quote is the fitted model's choice, which
    reads this score as one feature); chosen on the odd half of the shipped questions and confirmed on
    the even half by scripts/tune_answers.py (in the history up to e28accc)."""

    focus: float = 1.0
    untyped: float = 0.7
    similarity: float = 4.0
    similarity_floor: float = 0.75


TUNED = Tuning()


@dataclass(frozen=True)
class Asked:
    """What a candidate sentence is judged against.

    The question's weighted words, the kind of fact it asks for, the words
    around its question word, and (when the index has sentence vectors and the
    search embedded the question) each retrieved chunk's sentence spans with
    their similarity to the question; also the corpus words its romanised
    names spell (``linked``) and the places it names that the corpus never does.
    """

    question: str
    weights: dict[str, float]
    kind: str | None
    focus: dict[str, float]
    similar: dict[str, tuple[list[tuple[int, int]], list[float]]] = field(default_factory=dict)
    linked: tuple[str, ...] = ()
    unknown_places: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        question: str,
        weights: dict[str, float],
        similar: dict[str, tuple[list[tuple[int, int]], list[float]]] | None = None,
        linked: tuple[str, ...] = (),
        unknown_places: tuple[str, ...] = (),
    ) -> Asked:
        around = focus_text(question).lower()
        focus = {t: w for t, w in weights.items() if t in around}
        return cls(question, weights, expected_type(question), focus, similar or {}, linked, unknown_places)


@dataclass(frozen=True)
class Scored:
    start: int
    end: int
    score: float
    typed: bool


def coverage(text: str, weights: dict[str, float]) -> float:
    """Share of the question's idf weight whose words occur in ``text`` (0..1)."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    lowered = text.lower()
    return sum(w for t, w in weights.items() if t in lowered) / total


def best_sentence(text: str, asked: Asked, tuning: Tuning = TUNED, chunk_id: str | None = None) -> Scored:
    """The sentence most likely to state the answer, with its score (0..~2).

    A sentence's coverage of the question's words and of the words around the
    question word, and its embedding similarity to the question above a floor,
    anchor it to the question. One that holds no fact of the asked-for kind
    keeps only ``tuning.untyped`` of that, so the sentence that states the fact
    beats the one beside it that restates the question.
    """
    text = matching_form(text)
    spans, sims = asked.similar.get(chunk_id, (None, None)) if chunk_id is not None else (None, None)
    if spans is None:
        spans = sentences.spans(text)
        sims = [0.0] * len(spans)
    anchor = [
        coverage(text[s:e], asked.weights)
        + tuning.focus * coverage(text[s:e], asked.focus)
        + tuning.similarity * max(0.0, sim - tuning.similarity_floor)
        for (s, e), sim in zip(spans, sims)
    ]
    best: Scored | None = None
    for (s, e), score in zip(spans, anchor):
        typed = states(text[s:e], asked.kind, asked.question)
        if not typed:
            score *= tuning.untyped
        if best is None or score > best.score:
            best = Scored(s, e, score, typed)
    return best  # type: ignore[return-value]


def answer_span(text: str, asked: Asked, chunk_id: str | None = None) -> tuple[int, int]:
    found = best_sentence(text, asked, chunk_id=chunk_id)
    return found.start, found.end
