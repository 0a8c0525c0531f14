"""A chat turn: resolve the follow-up, search, decide whether to answer, then quote or generate.

By default the answer is never generated text: it quotes, verbatim, the
sentences a fitted model rates most likely to hold the answer (``qa.answer.quotes``), each followed by
``[n]`` pointing at its citation, so every claim can be checked against the
source paragraph. With an LLM configured, the model writes the answer from the
numbered passages and only sentences that ``qa.answer.verify`` finds supported by the
passages they cite are kept (``qa.answer.generate``); when none is, or the model
fails, the quoted answer is given with the reason. Declined questions never
reach the model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from qa.answer.abstain import declines
from qa.answer.calibration import SEARCH_DEPTH, calibrated, without_document
from qa.answer.followup import resolve
from qa.answer.generate import Generated, generate
from qa.answer.llm import LlmClient
from qa.answer.quotes import chosen, rank
from qa.answer.ranker import AnswerModel, cached, shipped
from qa.answer.verify import Tagger
from qa.errors import InputError
from qa.models import Citation, SearchResult
from qa.search.highlight import Asked
from qa.search.retrieval import Retriever
from qa.settings import Settings
from qa.text.normalize import has_content, written_traditional

NO_ANSWER = "资料中没有找到相关内容。以下是最接近的段落，仅供参考。"
NO_ANSWER_TRADITIONAL = "資料中沒有找到相關內容。以下是最接近的段落，僅供參考。"


def no_answer(question: str) -> str:
    """The decline in the question's script: a reader in Taiwan or Hong Kong asks in Traditional characters."""
    return NO_ANSWER_TRADITIONAL if written_traditional(question) else NO_ANSWER


@dataclass(frozen=True)
class ChatAnswer:
    answer: str
    citations: list[Citation]
    result: SearchResult
    abstained: bool
    question: str
    generated: bool = False
    unsupported: list[str] = field(default_factory=list)
    generation_note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "citations": [c.to_json() for c in self.citations],
            "hits": [h.to_json() for h in self.result.hits],
            "abstained": self.abstained,
            "question": self.question,
            "generated": self.generated,
            "unsupported": self.unsupported,
            "generation_note": self.generation_note,
        }


def user_questions(messages: list[dict[str, str]]) -> list[str]:
    """The user's questions, oldest first; the conversation must end with one."""
    if not messages:
        raise InputError("the conversation is empty: send at least one user message")
    if messages[-1].get("role") != "user":
        raise InputError("the last message must be the user's question")
    return [m["content"] for m in messages if m.get("role") == "user"]


@dataclass(frozen=True)
class Turn:
    """A searched question and its quoted answer (or decline): everything but the optional generation."""

    quoted: ChatAnswer
    tag: Tagger
    passages: int


def prepare(
    retriever: Retriever,
    messages: list[dict[str, str]],
    k: int | None = None,
    mode: str = "hybrid",
    model: AnswerModel | None = None,
) -> Turn:
    """The part that needs the index and the embedding model; raises InputError for a bad conversation."""
    questions = user_questions(messages)
    question = resolve(questions, retriever.segmenter.tag)
    tag, passages = retriever.segmenter.tag, retriever.settings.llm_passages
    if not has_content(question):
        # Nothing to look up (only punctuation, emoji or control characters): a decline, not an error.
        return Turn(
            ChatAnswer(no_answer(question), [], SearchResult(question, mode, 0.0, []), True, question),
            tag,
            passages,
        )
    model = model or calibrated(retriever, answer_model(retriever.settings))
    result, asked = retriever.retrieve(question, k, mode)
    return Turn(compose(question, result, asked, retriever.settings, model), tag, passages)


def finish(turn: Turn, llm: LlmClient | None = None, stream: bool = False) -> Iterator[str | ChatAnswer]:
    """The answer's text in pieces as each is ready, then the whole ``ChatAnswer``.

    Quoted answers come a line at a time; generated ones a verified sentence at
    a time (``stream``: ask the model for a streamed reply).
    """
    quoted = turn.quoted
    if llm is not None and not quoted.abstained and quoted.result.hits:
        hits = quoted.result.hits[: turn.passages]
        outcome = Generated()
        yield from generate(llm, quoted.question, hits, turn.tag, outcome, stream)
        if outcome.ok:
            yield replace(
                quoted,
                answer=outcome.answer,
                citations=outcome.citations,
                generated=True,
                unsupported=outcome.unsupported,
                generation_note=outcome.note,
            )
            return
        quoted = replace(quoted, unsupported=outcome.unsupported, generation_note=outcome.note)
    lines = quoted.answer.split("\n")
    for n, line in enumerate(lines):
        yield line + ("\n" if n < len(lines) - 1 else "")
    yield quoted


def answer(
    retriever: Retriever,
    messages: list[dict[str, str]],
    k: int | None = None,
    mode: str = "hybrid",
    llm: LlmClient | None = None,
) -> ChatAnswer:
    """The whole answer at once (``llm``: an OpenAI-compatible client, or None for quoted answers)."""
    return final(finish(prepare(retriever, messages, k, mode), llm))


def answer_without(retriever: Retriever, question: str, doc: str, model: AnswerModel) -> ChatAnswer:
    """The quoted answer (or decline) from the hits of every document but ``doc``."""
    result, asked = retriever.retrieve(question, min(retriever.settings.k_max, SEARCH_DEPTH), "hybrid")
    hits = without_document(result.hits, doc)
    return compose(question, replace(result, hits=hits), asked, retriever.settings, model)


def final(pieces: Iterator[str | ChatAnswer]) -> ChatAnswer:
    """The ``ChatAnswer`` that ends a stream of pieces."""
    last: str | ChatAnswer = ""
    for last in pieces:
        pass
    if not isinstance(last, ChatAnswer):
        raise RuntimeError("a chat stream ended without its answer")
    return last


def answer_model(settings: Settings) -> AnswerModel:
    """The shipped fitted model, or the one ``WENYUAN_ANSWER_MODEL`` names."""
    return shipped() if settings.answer_model is None else cached(settings.answer_model)


def compose(
    question: str, result: SearchResult, asked: Asked, settings: Settings, model: AnswerModel
) -> ChatAnswer:
    """The answer to ``question`` from its search result: quotes in order, or a decline.

    ``model`` carries the corpus's own decline threshold (``calibration.calibrated``): no default, so
    no caller can fall back to the fitted model's threshold without saying so.
    """
    ranked = rank(result.hits, asked, model)
    if declines(result, asked, settings, ranked.features, ranked.probabilities, model):
        return ChatAnswer(no_answer(question), [], result, True, question)
    quoted = chosen(ranked, model.second_ratio, model.neighbour_ratio, model.join_back)
    lines = [f"{c.text}[{n}]" for n, c in enumerate(quoted, start=1)]
    citations = [c.hit.citation.quoting(c.start, c.end) for c in quoted]  # a PDF quote's own lines (issue 19)
    return ChatAnswer("\n".join(lines), citations, result, False, question)


def stream(
    retriever: Retriever,
    messages: list[dict[str, str]],
    k: int | None = None,
    mode: str = "hybrid",
    llm: LlmClient | None = None,
) -> Iterator[str | ChatAnswer]:
    """The answer's text in pieces as each is ready, then the whole ``ChatAnswer``; the pieces join to its ``answer``."""
    return finish(prepare(retriever, messages, k, mode), llm, stream=True)
