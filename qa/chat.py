"""A chat turn: resolve the follow-up, search, decide whether to answer, quote with markers.

The answer is never generated text: it quotes, verbatim, the sentences that
state the asked-for fact (``qa.quotes``), each followed by ``[n]`` pointing at
its citation, so every claim can be checked against the source paragraph.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from qa.abstain import declines
from qa.errors import InputError
from qa.followup import resolve
from qa.highlight import TUNED, Asked, Tuning
from qa.models import Citation, SearchResult
from qa.normalize import clean_text, has_content
from qa.quotes import candidates, chosen
from qa.retrieval import Retriever
from qa.settings import Settings

NO_ANSWER = "资料中没有找到相关内容。以下是最接近的段落，仅供参考。"


@dataclass(frozen=True)
class ChatAnswer:
    answer: str
    citations: list[Citation]
    result: SearchResult
    abstained: bool
    question: str
    generated: bool = False
    unsupported: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "citations": [c.to_json() for c in self.citations],
            "hits": [h.to_json() for h in self.result.hits],
            "abstained": self.abstained,
            "question": self.question,
            "generated": self.generated,
            "unsupported": self.unsupported,
        }


def user_questions(messages: list[dict[str, str]]) -> list[str]:
    """The user's questions, oldest first; the conversation must end with one."""
    if not messages:
        raise InputError("the conversation is empty: send at least one user message")
    if messages[-1].get("role") != "user":
        raise InputError("the last message must be the user's question")
    return [m["content"] for m in messages if m.get("role") == "user"]


def answer(
    retriever: Retriever, messages: list[dict[str, str]], k: int | None = None, mode: str = "hybrid", llm: Any = None
) -> ChatAnswer:
    """``llm`` (an OpenAI-compatible client, or None) is not used yet: answers are quoted."""
    questions = user_questions(messages)
    question = resolve(questions, retriever.segmenter.tag)
    if not has_content(clean_text(question)):
        # Nothing to look up (only punctuation, emoji or control characters): a decline, not an error.
        return ChatAnswer(NO_ANSWER, [], SearchResult(question, mode, 0.0, []), True, question)
    result, asked = retriever.retrieve(question, k, mode)
    return compose(question, result, asked, retriever.settings)


def compose(question: str, result: SearchResult, asked: Asked, settings: Settings, tuning: Tuning = TUNED) -> ChatAnswer:
    """The answer to ``question`` from its search result: quotes in order, or a decline."""
    ranked = candidates(result.hits, asked, tuning)
    if declines(result, asked, settings, ranked):
        return ChatAnswer(NO_ANSWER, [], result, True, question)
    quoted = chosen(ranked)
    lines = [f"{c.text}[{n}]" for n, c in enumerate(quoted, start=1)]
    return ChatAnswer("\n".join(lines), [c.hit.citation for c in quoted], result, False, question)


def stream(
    retriever: Retriever, messages: list[dict[str, str]], k: int | None = None, mode: str = "hybrid", llm: Any = None
) -> Iterator[str | ChatAnswer]:
    """The answer's text in pieces as each is ready (a line at a time), then the whole ``ChatAnswer``."""
    final = answer(retriever, messages, k, mode, llm)
    lines = final.answer.split("\n")
    for n, line in enumerate(lines):
        yield line + ("\n" if n < len(lines) - 1 else "")
    yield final
