"""Is a generated sentence supported by the passages it cites?

A model that cites ``[2]`` may still invent a figure, a date or a name: the
marker alone proves nothing. So a sentence passes only when it carries at least
one ``[n]`` marker, every marker points at a passage the model was given, and
every checkable fact in it (a number with its unit or %, a date, a quoted
phrase, a person, place or organisation name) occurs in one of the passages it
cites. Both sides are normalised as questions are (full-width → half-width,
traditional → simplified), so ``６４．２４％`` and ``庆元縣`` match the papers.
Facts are found with the same rules that judge answer sentences
(``qa.text.answer_type``) plus the segmenter's name tags.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from qa.text.answer_type import _DATE, _DIGITS, _PERSON, _QUOTE, _is_date_at
from qa.text.normalize import clean_text, normalize_question

Tagger = Callable[[str], list[tuple[str, str]]]

# [n], also as Chinese models often write it: ［n］ or 【n】.
MARKER = re.compile(r"[\[［【](\d{1,3})[\]］】]")
# What may follow a number as its unit: a magnitude, then a measure word (longest first), or a percent sign.
_UNIT = re.compile(
    r"\s*(?:余|多|来)?\s*(?:万亿|亿|万|千|百)?\s*"
    r"(?:%|个百分点|百分点|平方公里|平方米|公里|千米|公顷|千克|公斤|小时|分钟|万元|亿元|元|米|亩|吨|斤"
    r"|[个家名人位条台户只件批项所座辆场次天周岁本册张支箱套份趟组队例倍辆栋间块头匹棵株盒剂针台班期届])?"
)
_NAME_TAGS = ("nr", "ns", "nt", "nz")
_NUMBER_EDGE = r"(?<![\d.])"
_NUMBER_END = r"(?!\.?\d)"


@dataclass(frozen=True)
class Verdict:
    sentence: str
    cited: tuple[int, ...]
    supported: bool
    reason: str = ""


def markers(sentence: str) -> list[int]:
    """The passage numbers a sentence cites, in order of first use."""
    out: list[int] = []
    for m in MARKER.finditer(sentence):
        n = int(m.group(1))
        if n not in out:
            out.append(n)
    return out


def facts(sentence: str, tag: Tagger) -> list[str]:
    """The checkable facts of a (normalised, marker-free) sentence, each as the text a passage must hold."""
    found: list[str] = []
    for m in _DIGITS.finditer(sentence):
        if _is_date_at(sentence, m):
            continue
        unit = _UNIT.match(sentence, m.end())
        found.append(sentence[m.start() : unit.end() if unit else m.end()].replace(" ", ""))
    found.extend(m.group(0) for m in _DATE.finditer(sentence))
    found.extend(m.group(1).strip() for m in _QUOTE.finditer(sentence))
    found.extend(m.group("a") for m in _PERSON.finditer(sentence) if m.group("a"))
    found.extend(w for w, flag in tag(sentence) if flag.startswith(_NAME_TAGS) and len(w.strip()) >= 2)
    return list(dict.fromkeys(f for f in found if f))


def occurs(fact: str, text: str) -> bool:
    """``fact`` is in ``text``; a figure must not be part of a longer one (1234 is not in 11234 or 1234.5)."""
    if not fact[0].isdigit() and not fact[-1].isdigit():
        return fact in text
    pattern = (
        (_NUMBER_EDGE if fact[0].isdigit() else "")
        + re.escape(fact)
        + (_NUMBER_END if fact[-1].isdigit() else "")
    )
    return re.search(pattern, text) is not None


def verify(sentence: str, passages: list[str], tag: Tagger) -> Verdict:
    """Judge one generated sentence against the passages given to the model (``[1]`` is ``passages[0]``)."""
    cited = tuple(markers(sentence))
    if not cited:
        return Verdict(sentence, cited, False, "no [n] marker")
    wrong = [n for n in cited if not 1 <= n <= len(passages)]
    if wrong:
        return Verdict(
            sentence, cited, False, f"cites [{wrong[0]}], but only {len(passages)} passages were given"
        )
    plain = normalize_question(clean_text(MARKER.sub("", sentence)))
    sources = [normalize_question(clean_text(passages[n - 1])) for n in cited]
    for fact in facts(plain, tag):
        if not any(occurs(fact, s) for s in sources):
            return Verdict(sentence, cited, False, f"{fact} is not in the cited passage")
    return Verdict(sentence, cited, True)
