"""A chat turn: resolve the follow-up, search, decide whether to answer, quote with markers.

The answer is never generated text: it quotes the highlighted sentence(s) of
the best passages verbatim, each followed by ``[n]`` pointing at its citation,
so every claim can be checked against the source paragraph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qa.abstain import declines
from qa.errors import InputError
from qa.followup import resolve
from qa.highlight import coverage
from qa.models import Citation, Hit, SearchResult
from qa.retrieval import Retriever

NO_ANSWER = "资料中没有找到相关内容。以下是最接近的段落，仅供参考。"
MAX_QUOTES = 3
SECOND_QUOTE_RATIO = 0.6


@dataclass(frozen=True)
class ChatAnswer:
    answer: str
    citations: list[Citation]
    result: SearchResult
    abstained: bool
    question: str

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "citations": [c.to_json() for c in self.citations],
            "hits": [h.to_json() for h in self.result.hits],
            "abstained": self.abstained,
            "question": self.question,
        }


def user_questions(messages: list[dict[str, str]]) -> list[str]:
    """The user's questions, oldest first; the conversation must end with one."""
    if not messages:
        raise InputError("the conversation is empty: send at least one user message")
    if messages[-1].get("role") != "user":
        raise InputError("the last message must be the user's question")
    return [m["content"] for m in messages if m.get("role") == "user"]


def _quoted(hits: list[Hit], weights: dict[str, float]) -> list[Hit]:
    """The best hit, plus hits from the same document whose answer sentence covers the question nearly as well.

    Staying within the top hit's document keeps a quote about another place or
    paper from slipping into an answer about this one.
    """
    if not hits:
        return []
    spans = [h.text[slice(*h.highlight)] for h in hits]
    best = coverage(spans[0], weights)
    chosen = [hits[0]]
    for hit, span in zip(hits[1:MAX_QUOTES], spans[1:MAX_QUOTES]):
        same_doc = hit.citation.doc == hits[0].citation.doc
        if same_doc and best > 0 and coverage(span, weights) >= SECOND_QUOTE_RATIO * best and span not in spans[: hit.rank - 1]:
            chosen.append(hit)
    return chosen


def answer(retriever: Retriever, messages: list[dict[str, str]], k: int | None = None, mode: str = "hybrid") -> ChatAnswer:
    questions = user_questions(messages)
    question = resolve(questions, retriever.segmenter.tag)
    result, weights = retriever.retrieve(question, k, mode)
    if declines(result, weights, question, retriever.settings):
        return ChatAnswer(NO_ANSWER, [], result, True, question)
    quoted = _quoted(result.hits, weights)
    lines = [f"{h.text[slice(*h.highlight)]}[{n}]" for n, h in enumerate(quoted, start=1)]
    return ChatAnswer("\n".join(lines), [h.citation for h in quoted], result, False, question)
