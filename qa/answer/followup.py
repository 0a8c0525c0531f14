"""Turning a follow-up like ``平湖呢？`` into a standalone question, from the conversation.

No language model here: a short question that leans on the previous one
("X呢", "那X", "what about X") is rewritten by putting X in place of the
previous question's subject (its first place or organisation name), or by
prefixing X when that question names none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

_ZH_TAIL = re.compile(r"^(?:那么?|那|还有|再问一下)?\s*(?P<x>.+?)\s*(?:呢|的呢|怎么样|如何)\s*[?？。!！]*$")
_EN = re.compile(r"^(?:and|what about|how about)\s+(?P<x>.+?)\s*[?？.!]*$", re.IGNORECASE)
_LATIN_NAME = re.compile(r"(?<=\s)[A-Z][a-z]+(?:\s[A-Z][a-z]+)*")
MAX_FOLLOWUP_CHARS = 12
MAX_CHAIN = 4
PosTagger = Callable[[str], Iterable[tuple[str, str]]]


def _replace_last(text: str, old: str, new: str) -> str:
    i = text.rfind(old)
    return text[:i] + new + text[i + len(old) :]


def followup_subject(question: str) -> str | None:
    """The new subject when ``question`` is an elliptical follow-up, else None."""
    q = question.strip()
    for pattern in (_EN, _ZH_TAIL):
        m = pattern.match(q)
        if m and len(m.group("x")) <= MAX_FOLLOWUP_CHARS * (3 if pattern is _EN else 1):
            return m.group("x").strip()
    return None


def _substitute(previous: str, current: str, subject: str, pos_tagger: PosTagger) -> str:
    """``previous`` asked about ``subject`` instead; unchanged when it already names it (平湖呢 after a 平湖 question)."""
    if subject in previous:
        return previous
    names = _LATIN_NAME.findall(previous)
    if names and _EN.match(current):
        return _replace_last(previous, names[-1], subject)
    for word, flag in pos_tagger(previous):
        if flag in ("ns", "nt", "nz") and word != subject:
            return previous.replace(word, subject, 1)
    return f"{subject} {previous}"


def resolve(questions: list[str], pos_tagger: PosTagger) -> str:
    """Standalone form of the last user question given the earlier ones (oldest first).

    A chain of follow-ups is read back to the question it leans on, but never
    further than MAX_CHAIN questions: a conversation is bounded by the API, this
    work by its last few turns, however long the conversation is.
    ``pos_tagger(text)`` yields (word, flag) pairs, jieba.posseg style.
    """
    if not questions:
        return ""
    first = len(questions) - 1
    subjects: list[str] = []
    while first > 0 and len(subjects) < MAX_CHAIN:
        subject = followup_subject(questions[first])
        if subject is None:
            break
        subjects.append(subject)
        first -= 1
    resolved = questions[first].strip()
    for offset, subject in enumerate(reversed(subjects), start=first + 1):
        resolved = _substitute(resolved, questions[offset].strip(), subject, pos_tagger)
    return resolved
