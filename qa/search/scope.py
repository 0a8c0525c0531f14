"""Place scoping: a question that names a place is about that place's documents.

Local papers say 我市/我县 instead of the place's name, so a paragraph about
平湖 may not contain "平湖" while a paragraph about 遂昌 matches every other
word of the question. When the question names places (jieba tags ``ns``) and
some candidate's document mentions them, candidates from documents that never
mention any of them move below the rest, keeping their order otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Tagger = Callable[[str], list[tuple[str, str]]]


def places(question: str, tagger: Tagger) -> list[str]:
    return sorted({w for w, flag in tagger(question) if flag == "ns" and len(w) >= 2})


def scoped(ranked: Sequence[str], doc_of: Callable[[str], str], mentioning: set[str]) -> list[str]:
    """``ranked`` with candidates from documents outside ``mentioning`` (those naming the places) moved last."""
    inside = [cid for cid in ranked if doc_of(cid) in mentioning]
    if not inside:
        return list(ranked)
    return inside + [cid for cid in ranked if doc_of(cid) not in mentioning]
