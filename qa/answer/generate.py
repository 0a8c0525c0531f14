"""Answers written by an LLM from the numbered passages, released one verified sentence at a time.

The model gets the top passages of the search as ``[1]..[n]`` (headline and
text) and is asked, in Chinese, to answer only from them with a marker after
every sentence. Its reply is cut into sentences as it arrives; each is checked
by ``qa.answer.verify`` and released only if it passes, with its markers renumbered
to the passages actually cited, in order of first use, so ``[1]`` is always the
first citation. Sentences that fail are kept aside as ``unsupported``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from qa.answer.llm import LlmClient, LlmFailure
from qa.answer.verify import MARKER, Tagger, verify
from qa.models import Citation, Hit
from qa.text.sentences import cited_end

SYSTEM_PROMPT = (
    "你是严谨的资料问答助手。只能根据用户给出的编号资料回答问题，不得使用资料以外的任何知识，不得推测。"
    "用简洁的中文回答；每一句话的句末都必须用方括号标出它依据的资料编号，例如：……共1234家[1]。"
    "一句话依据多条资料时写成[1][2]。数字、单位、日期、引语、人名、地名和机构名必须与资料原文一字不差。"
    "资料中没有答案时，只回答：资料中没有相关内容。"
)


@dataclass
class Generated:
    """The outcome of one generation: the released text and its citations, or why nothing was released."""

    answer: str = ""
    citations: list[Citation] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    note: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.answer)


def passage_text(hit: Hit) -> str:
    """What the model sees of a passage, and what its sentences are checked against: headline and text."""
    return f"《{hit.citation.title}》\n{hit.text}" if hit.citation.title else hit.text


def prompt(question: str, hits: list[Hit]) -> list[dict[str, str]]:
    sources = "\n\n".join(f"[{n}] {passage_text(h)}" for n, h in enumerate(hits, start=1))
    user = f"资料：\n{sources}\n\n问题：{question}\n\n请只根据以上资料回答，每句句末标注资料编号。"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def sentences(pieces: Iterable[str]) -> Iterator[str]:
    """Whole sentences of a streamed reply, each with its trailing markers, as soon as each is complete.

    A sentence end counts once something other than a marker or a space
    follows it, so ``……1234家。`` waits for a ``[1]`` arriving in the next piece.
    """
    buffer = ""
    for piece in pieces:
        buffer += piece
        while True:
            m = cited_end(buffer)
            if m is None or m.end() == len(buffer) or buffer[m.end()] in "[［【 \t":
                break
            yield buffer[: m.end()]
            buffer = buffer[m.end() :]
    while buffer:
        m = cited_end(buffer)
        end = m.end() if m else len(buffer)
        yield buffer[:end]
        buffer = buffer[end:]


class Renumber:
    """Maps the model's passage numbers to citation numbers in order of first use."""

    def __init__(self, hits: list[Hit]) -> None:
        self.hits = hits
        self.order: list[int] = []

    def __call__(self, sentence: str) -> str:
        def new(m: re.Match[str]) -> str:
            n = int(m.group(1))
            if n not in self.order:
                self.order.append(n)
            return f"[{self.order.index(n) + 1}]"

        return MARKER.sub(new, sentence)

    @property
    def citations(self) -> list[Citation]:
        return [self.hits[n - 1].citation for n in self.order]


def verified(pieces: Iterable[str], hits: list[Hit], tag: Tagger, outcome: Generated) -> Iterator[str]:
    """The released text, sentence by sentence; ``outcome`` collects the answer, citations and rejects.

    A model failure part-way keeps what was released (it was verified) and notes why the answer stops.
    """
    passages = [passage_text(h) for h in hits]
    renumber = Renumber(hits)
    line_break = False
    for raw in sentences(_until_failure(pieces, outcome)):
        sentence = raw.strip()
        if sentence:
            verdict = verify(sentence, passages, tag)
            if verdict.supported:
                text = ("\n" if line_break and outcome.answer else "") + renumber(sentence)
                outcome.answer += text
                outcome.citations = renumber.citations
                line_break = False
                yield text
            else:
                outcome.unsupported.append(sentence)
        line_break = line_break or "\n" in raw[len(raw.rstrip()) :]
    if not outcome.answer and outcome.note is None:
        outcome.note = (
            "no sentence of the model's answer was supported by the passages it cites"
            if outcome.unsupported
            else "the model answered with no text"
        )


def _until_failure(pieces: Iterable[str], outcome: Generated) -> Iterator[str]:
    """The pieces until the model fails; the failure becomes the note, and what arrived before it is still judged."""
    try:
        yield from pieces
    except LlmFailure as exc:
        outcome.note = str(exc)


def generate(
    llm: LlmClient, question: str, hits: list[Hit], tag: Tagger, outcome: Generated, stream: bool
) -> Iterator[str]:
    """Ask ``llm`` about ``question`` from ``hits`` and release its verified sentences (streamed or at once)."""
    messages = prompt(question, hits)
    if stream:
        return verified(llm.stream(messages), hits, tag, outcome)
    return verified(_whole(llm, messages), hits, tag, outcome)


def _whole(llm: LlmClient, messages: list[dict[str, str]]) -> Iterator[str]:
    yield llm.complete(messages)
