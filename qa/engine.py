"""The Python API scripts import: open a built index once, then ask many questions.

from qa.engine import Wenyuan
wy = Wenyuan.open(".wenyuan")
result = wy.search("截至3月1日庆元县健康码申领率是多少", k=3)
for hit in result.hits:
    print(hit.citation.doc, hit.citation.title, hit.text[slice(*hit.highlight)])

The routes and the CLI ask through it too (search, chat, the served build and its index), so a
served engine and a script answer alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embeddings.factory import embedder_for
from qa.answer import chat
from qa.answer.calibration import Calibration, calibrated, calibration_of, carry_over
from qa.answer.llm import LlmClient
from qa.answer.ranker import AnswerModel
from qa.index import model_record
from qa.index.document_writes import DocumentWriter, Progress
from qa.index.factory import open_index
from qa.index.recipe import settings_for_build
from qa.index.search_index import SearchIndex
from qa.models import SearchResult
from qa.search.retrieval import Retriever
from qa.settings import Settings


class Wenyuan:
    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    @classmethod
    def open(cls, index_dir: str | Path | None = None, **overrides: Any) -> Wenyuan:
        """Load the index and the model it was built with (prefixes included)."""
        if index_dir is not None:
            overrides["index_dir"] = Path(index_dir)
        settings = Settings(**overrides)
        index = open_index(settings)
        built = settings_for_build(settings, index.manifest)
        embedder = embedder_for(built)
        model_record.check(
            index.manifest.embedder, built, embedder, f"serving the index {index.manifest.build}"
        )
        return cls(Retriever(index, embedder, settings))

    def reopen(self) -> Wenyuan:
        """The newest committed build of the same index, with this engine's model and segmenter when they fit.

        A server swaps builds after every upload: loading the model again each
        time would cost seconds and memory for nothing.
        """
        index = open_index(self.settings, self.index)
        if self.retriever.embedder.model_id != index.manifest.model_id:
            return Wenyuan.open(**self.settings.model_dump())
        newer = Wenyuan(Retriever(index, self.retriever.embedder, self.settings, self.retriever.segmenter))
        carry_over(self.retriever, newer.retriever, chat.answer_model(self.settings))
        return newer

    @property
    def settings(self) -> Settings:
        return self.retriever.settings

    @property
    def index(self) -> SearchIndex:
        return self.retriever.index

    @property
    def build(self) -> str:
        """The build this engine serves."""
        return self.retriever.index.manifest.build

    def search(self, question: str, k: int | None = None, mode: str = "hybrid") -> SearchResult:
        return self.retriever.search(question, k, mode)

    def document_writer(self, progress: Progress | None = None) -> DocumentWriter:
        """Adds, replaces and removes corpus documents, indexed with this engine's model into its index."""
        r = self.retriever
        return DocumentWriter(self.settings, r.embedder, r.index.manifest, r.segmenter, progress)

    def embedding_retries(self) -> int:
        """Requests the embedding server has retried so far (0 for a local model)."""
        return int(getattr(self.retriever.embedder, "retries", 0))

    def answer_without(self, question: str, doc: str) -> chat.ChatAnswer:
        """The answer with ``doc``'s passages taken out of the hits: what the rest of the corpus says.

        Evaluation asks every question this way too; the right reply is a decline.
        """
        return chat.answer_without(self.retriever, question, doc, self.answer_model())

    def calibration(self) -> Calibration | None:
        """The decline threshold found for this build's corpus, once the chat has needed it."""
        return calibration_of(self.retriever)

    def answer_model(self) -> AnswerModel:
        """The fitted answer model with this corpus's own decline threshold (computed once per build, seconds)."""
        return calibrated(self.retriever, chat.answer_model(self.settings))

    def turn(self, messages: list[dict[str, str]], k: int | None = None, mode: str = "hybrid") -> chat.Turn:
        """The searched and quoted turn of a conversation, before any generation (``chat.finish`` does that)."""
        return chat.prepare(self.retriever, messages, k, mode)

    def chat(
        self,
        messages: list[dict[str, str]],
        k: int | None = None,
        mode: str = "hybrid",
        llm: LlmClient | None = None,
    ) -> chat.ChatAnswer:
        """The whole answer to the conversation's last question, quoted or (``llm``) generated and verified."""
        return chat.final(chat.finish(self.turn(messages, k, mode), llm))
