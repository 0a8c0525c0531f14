"""The answer span: which sentence (or two) of a hit most likely answers the question.

Runs per hit per query, so it must cost microseconds: sentences are scored by
idf-weighted question words they contain (plain substring tests), no model call.
"""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"[^。！？；!?;\n]+(?:[。！？；!?;]+[”’」』\"]?|\n|$)")


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, trailing whitespace excluded."""
    out = []
    for m in _SENTENCE.finditer(text):
        start, end = m.start(), m.end()
        while end > start and text[end - 1].isspace():
            end -= 1
        while start < end and text[start].isspace():
            start += 1
        if end > start:
            out.append((start, end))
    return out or [(0, len(text))]


_DIGIT = re.compile(r"\d")
_QUANTITY = re.compile(r"多少|几|比例|百分|率|how (?:many|much)|what (?:percentage|share|rate)|number of", re.IGNORECASE)
NUMBER_BONUS = 0.5


def asks_quantity(question: str) -> bool:
    return bool(_QUANTITY.search(question))


def answer_span(text: str, weights: dict[str, float], quantity: bool = False) -> tuple[int, int]:
    """Best sentence by matched weight; joined with its neighbour when that one matches too.

    ``weights`` maps question words to their idf; a word counts once per sentence.
    For a quantity question a sentence holding a number gets a bonus, so the
    sentence that states the figure beats one that only repeats the topic.
    """
    spans = sentences(text)
    bonus = NUMBER_BONUS * max(weights.values(), default=0.0) if quantity else 0.0
    scores = [
        sum(w for t, w in weights.items() if t in text[s:e].lower()) + (bonus if _DIGIT.search(text[s:e]) else 0.0)
        for s, e in spans
    ]
    best = max(range(len(spans)), key=lambda i: (scores[i], -i))
    start, end = spans[best]
    if scores[best] > 0:
        nxt = best + 1
        if nxt < len(spans) and scores[nxt] >= 0.5 * scores[best] and spans[nxt][1] - start <= 200:
            end = spans[nxt][1]
    return start, end


def coverage(text: str, weights: dict[str, float]) -> float:
    """Share of the question's idf weight whose words occur in ``text`` (0..1)."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    lowered = text.lower()
    return sum(w for t, w in weights.items() if t in lowered) / total
