"""Turning a follow-up like ``平湖呢？`` into a standalone question, from the conversation.

No language model here: a short question that leans on the previous one
("X呢", "那X", "what about X") is rewritten by putting X in place of the
previous question's subject (its first place or organisation name), or by
prefixing X when that question names none.
"""

from __future__ import annotations

import re

_ZH_TAIL = re.compile(r"^(?:那么?|那|还有|再问一下)?\s*(?P<x>.+?)\s*(?:呢|的呢|怎么样|如何)\s*[?？。!！]*$")
_EN = re.compile(r"^(?:and|what about|how about)\s+(?P<x>.+?)\s*[?？.!]*$", re.IGNORECASE)
_LATIN_NAME = re.compile(r"(?<=\s)[A-Z][a-z]+(?:\s[A-Z][a-z]+)*")
MAX_FOLLOWUP_CHARS = 12


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


def resolve(questions: list[str], pos_tagger) -> str:
    """Standalone form of the last user question given the earlier ones (oldest first).

    ``pos_tagger(text)`` yields (word, flag) pairs, jieba.posseg style.
    """
    current = questions[-1].strip()
    subject = followup_subject(current)
    if subject is None or len(questions) < 2:
        return current
    previous = resolve(questions[:-1], pos_tagger)
    names = _LATIN_NAME.findall(previous)
    if names and _EN.match(current):
        return _replace_last(previous, names[-1], subject)
    for word, flag in pos_tagger(previous):
        if flag in ("ns", "nt", "nz") and word != subject:
            return previous.replace(word, subject, 1)
    return f"{subject} {previous}"
