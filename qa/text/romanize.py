"""Linking romanised names in a question to the corpus's Chinese words, by pinyin.

An English question says "Suichang" or "Che Jun" where the text says 遂昌 or
车俊; the embedding model links such names only weakly, and BM25 not at all.
At index time every Chinese word of the BM25 vocabulary is keyed by its
toneless pinyin; at query time capitalised Latin words (and runs of them, for
two-syllable names written apart) that match a key bring the Chinese word in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,4}")
_CAPITALISED_RUN = re.compile(r"[A-Z][a-z]+(?:[\s\-–][A-Z][a-z]+)*")


def pinyin_keys(words: Iterable[str], known: Mapping[str, list[str]] | None = None) -> dict[str, list[str]]:
    """``{"suichang": ["遂昌"], ...}`` for the Chinese words of 2–4 characters.

    ``known`` (a previous result) saves converting the words it already holds.
    """
    from pypinyin import lazy_pinyin

    key_of = {word: key for key, group in (known or {}).items() for word in group}
    keys: dict[str, list[str]] = {}
    for word in sorted(set(words)):
        if _CJK_WORD.fullmatch(word):
            key = key_of.get(word) or "".join(lazy_pinyin(word))
            keys.setdefault(key, []).append(word)
    return keys


def romanised_keys(question: str) -> list[str]:
    """Every pinyin key a capitalised name of the question could spell (runs of names written apart too)."""
    keys: list[str] = []
    for match in _CAPITALISED_RUN.finditer(question):
        parts = re.split(r"[\s\-–]", match.group())
        for i in range(len(parts)):
            for j in range(len(parts), i, -1):
                key = "".join(parts[i:j]).lower()
                if key not in keys:
                    keys.append(key)
    return keys


def linked_words(question: str, keys: Mapping[str, list[str]]) -> list[str]:
    """Chinese words whose pinyin a capitalised name of the question spells.

    ``keys`` needs to hold only the question's ``romanised_keys`` (an index
    stored elsewhere answers just those).
    """
    found: list[str] = []
    for key in romanised_keys(question):
        for word in keys.get(key, []):
            if word not in found:
                found.append(word)
    return found
