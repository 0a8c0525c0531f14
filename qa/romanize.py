"""Linking romanised names in a question to the corpus's Chinese words, by pinyin.

An English question says "Suichang" or "Che Jun" where the text says 遂昌 or
车俊; the embedding model links such names only weakly, and BM25 not at all.
At index time every Chinese word of the BM25 vocabulary is keyed by its
toneless pinyin; at query time capitalised Latin words (and runs of them, for
two-syllable names written apart) that match a key bring the Chinese word in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,4}")
_CAPITALISED_RUN = re.compile(r"[A-Z][a-z]+(?:[\s\-–][A-Z][a-z]+)*")


def pinyin_keys(words: Iterable[str]) -> dict[str, list[str]]:
    """``{"suichang": ["遂昌"], ...}`` for the Chinese words of 2–4 characters."""
    from pypinyin import lazy_pinyin

    keys: dict[str, list[str]] = {}
    for word in sorted(set(words)):
        if _CJK_WORD.fullmatch(word):
            keys.setdefault("".join(lazy_pinyin(word)), []).append(word)
    return keys


def linked_words(question: str, keys: dict[str, list[str]]) -> list[str]:
    """Chinese words whose pinyin a capitalised name of the question spells."""
    found: list[str] = []
    for match in _CAPITALISED_RUN.finditer(question):
        parts = re.split(r"[\s\-–]", match.group())
        for i in range(len(parts)):
            for j in range(len(parts), i, -1):
                for word in keys.get("".join(parts[i:j]).lower(), []):
                    if word not in found:
                        found.append(word)
    return found
