"""The four MCP tools: their names, bilingual descriptions, argument and result models, and what each runs.

Arguments are validated by models built from the HTTP API's request models
(qa.api.schemas.request_models), so a tool refuses exactly what ``/api``
refuses, with the same sentence; results are the HTTP API's JSON objects and
are declared with its response models, so a client can check them. Each tool
runs through qa.api.reads, the code the HTTP routes run. No ``mcp`` import
here: this module is plain pydantic and is read by the transports in this package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from qa.api.openai_format import strip_tail, tail
from qa.api.reads import Reads
from qa.api.schemas import ChatResponse, DocumentDetail, DocumentList, SearchResponse, request_models
from qa.errors import ApiError
from qa.mcp_server import text
from qa.settings import Settings


@dataclass(frozen=True)
class Reply:
    """A tool's result twice: the API's JSON object, and text a model can quote from."""

    structured: dict[str, Any]
    text: str


@dataclass(frozen=True)
class Tool:
    name: str
    title: str
    description: str
    arguments: type[BaseModel]
    result: type[BaseModel]
    run: Callable[[Any], Reply]
    # False: run in a worker thread (the model, or a store that may be remote). True: a read of the served
    # build's in-memory summaries, run on the event loop: a thread hop costs more than the read itself, and
    # /api/documents encodes the same list on the loop too.
    in_memory: bool = False

    def input_schema(self) -> dict[str, Any]:
        return self.arguments.model_json_schema()

    def output_schema(self) -> dict[str, Any]:
        return self.result.model_json_schema()


SEARCH = (
    "在问源语料库中检索与问题最相关的段落，每段附带精确到字符的出处（文档、标题、段落、行号、字符区间 start–end）"
    "和答案句的位置 highlight。适合需要原文证据、自行综合答案时使用。\n"
    "Search the wenyuan corpus (Chinese documents) for the passages that answer a question. Each hit carries its "
    "exact citation (document, headline, paragraph, lines, character span start–end into the source) and the "
    "answer sentence's span in the passage (highlight). Use it when you want the evidence itself."
)
ASK = (
    "用语料原文回答问题：答案逐句引用原文并以 [n] 标注出处，附引用列表；资料中没有答案时 abstained 为 true、不作答。"
    "可传入此前的对话 history 以解析追问（如“平湖呢？”）。\n"
    "Answer a question from the corpus: quoted sentences, each followed by [n] pointing at its citation, and the "
    "citation list. abstained is true when the corpus does not hold the answer (then only the nearest passages are "
    "listed). Pass the earlier turns as history to resolve follow-ups; question in the result is what was searched."
)
LIST_DOCUMENTS = (
    "列出语料库中的全部文档：文件名、各篇文章标题、段落块数和元数据（刊名、日期、网址）。\n"
    "List every document in the corpus: its name, article headlines, number of indexed passages and metadata "
    "(publication, date, url). Use a name with read_document."
)
READ_DOCUMENT = (
    "读取一篇文档的全文，按文章和段落给出，每段附出处（start–end 字符区间与行号）；可只取某篇文章 article 或某一段 paragraph。\n"
    "Read one document, article by article and paragraph by paragraph, each paragraph with its citation span "
    "(start–end characters and lines into the source). Give article and/or paragraph (numbers as in search "
    "citations) to read only those."
)


def ask_arguments(settings: Settings) -> type[BaseModel]:
    """``ask``'s arguments: the search question's limits, and history as /api/chat's messages take it."""
    models = request_models(settings)
    fields = models.search.model_fields
    history = Field(
        default_factory=list,
        max_length=settings.max_messages - 1,
        description="earlier turns, oldest first, as [{role: user|assistant, content}] (what /api/chat's messages "
        "hold before the question); 此前的对话",
    )
    return create_model(
        "AskArguments",
        __config__=ConfigDict(extra="forbid"),
        question=(fields["question"].annotation, fields["question"]),
        history=(list[models.message], history),  # type: ignore[name-defined]
        k=(fields["k"].annotation, fields["k"]),
        mode=(fields["mode"].annotation, fields["mode"]),
    )


class NoArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReadArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1, max_length=1024, description="the document's name, as list_documents gives it; 文档名"
    )
    article: int | None = Field(
        None, ge=0, description="only this article (its number in the document, from 0)"
    )
    paragraph: int | None = Field(
        None, ge=1, description="only this paragraph (numbered from 1 in each article, as in citations)"
    )


def make_tools(settings: Settings, reads: Reads) -> dict[str, Tool]:
    def search(args: Any) -> Reply:
        found = reads.search(args.question, args.k, args.mode)
        return Reply(found, text.search(found))

    def ask(args: Any) -> Reply:
        turns = [
            {"role": m.role, "content": strip_tail(m.content) if m.role == "assistant" else m.content}
            for m in args.history
        ]
        reply = reads.answer([*turns, {"role": "user", "content": args.question}], args.k, args.mode)
        return Reply(reply.to_json(), reply.answer + tail(reply))

    def list_documents(_: Any) -> Reply:
        listed = reads.documents()
        return Reply(listed, text.documents(listed))

    def read_document(args: Any) -> Reply:
        found = part(reads.document(args.name), args.article, args.paragraph)
        return Reply(found, text.document(found))

    tools = [
        Tool(
            "search",
            "检索段落 Search passages",
            SEARCH,
            request_models(settings).search,
            SearchResponse,
            search,
        ),
        Tool("ask", "引用作答 Ask with citations", ASK, ask_arguments(settings), ChatResponse, ask),
        Tool(
            "list_documents",
            "文档列表 List documents",
            LIST_DOCUMENTS,
            NoArguments,
            DocumentList,
            list_documents,
            in_memory=True,
        ),
        Tool(
            "read_document",
            "阅读文档 Read a document",
            READ_DOCUMENT,
            ReadArguments,
            DocumentDetail,
            read_document,
        ),
    ]
    return {t.name: t for t in tools}


def part(detail: dict[str, Any], article: int | None, paragraph: int | None) -> dict[str, Any]:
    """The document with only the asked article and/or paragraph; 404 ``unknown_paragraph`` when it has none such."""
    if article is None and paragraph is None:
        return detail
    kept = []
    for a in detail["articles"]:
        if article is not None and a["article"] != article:
            continue
        paragraphs = [p for p in a["paragraphs"] if paragraph is None or p["paragraph"] == paragraph]
        if paragraphs:
            kept.append({**a, "paragraphs": paragraphs})
    if not kept:
        asked = " ".join(
            f"{what} {n}" for what, n in (("article", article), ("paragraph", paragraph)) if n is not None
        )
        message = f"{detail['doc']!r} has no {asked}: it has articles 0..{len(detail['articles']) - 1}; read it whole to see them"
        raise ApiError(404, "unknown_paragraph", message)
    return {**detail, "articles": kept}
