"""What the corpus answers, one place for every door to it: the HTTP routes and the MCP tools (qa.mcp_server).

Each call takes the served engine once (so it never mixes two builds) and
holds an admission slot while the embedding model works, so a question asked
over MCP queues, and is told ``busy``, exactly as one asked over ``/api``.
The answers are the plain JSON objects of the API's schemas (qa.api.schemas).
"""

from __future__ import annotations

from typing import Any

from qa.answer import chat
from qa.answer.llm import LlmClient
from qa.api import documents
from qa.api.admission import Admission
from qa.api.live_engine import LiveEngine


class Reads:
    """The read side of the corpus, bound to one server's live engine, admission queue and LLM."""

    def __init__(self, live: LiveEngine, admission: Admission, llm: LlmClient | None) -> None:
        self.live, self.admission, self.llm = live, admission, llm

    def search(self, question: str, k: int, mode: str) -> dict[str, Any]:
        with self.admission.slot():
            return self.live.get().search(question, k, mode).to_json()

    def turn(self, messages: list[dict[str, str]], k: int | None, mode: str) -> chat.Turn:
        """The searched turn; the LLM (if any) answers after, outside the slot, so it never holds the model's queue."""
        with self.admission.slot():
            return self.live.get().turn(messages, k, mode)

    def answer(self, messages: list[dict[str, str]], k: int | None, mode: str) -> chat.ChatAnswer:
        """The whole answer (not its JSON: the MCP tool also writes it out as text, as /v1 does)."""
        return chat.final(chat.finish(self.turn(messages, k, mode), self.llm))

    def documents(self) -> dict[str, Any]:
        return {"documents": documents.summaries(self.live.get().index)}

    def document(self, name: str) -> dict[str, Any]:
        index = self.live.get().index
        return documents.detail(index, documents.resolve(index, name))

    def build(self) -> str | None:
        """The build being served, None while none is: what a watcher compares to see the corpus change."""
        engine = self.live.engine
        return engine.build if engine is not None else None
