"""The shapes of the HTTP API: request bodies with their real limits, answers, and the one error shape.

The request models are made per ``Settings`` so that the limits the server
enforces and the limits ``/openapi.json`` shows are the same numbers. Text
fields are cleaned (lone surrogates, control characters) as they are read, so
nothing downstream meets text it cannot encode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from qa.settings import Settings
from qa.text.normalize import clean_text

ModeField = Literal["hybrid", "dense", "bm25"]


def clean_up_to(limit: int) -> BeforeValidator:
    """Clean text before pydantic reads it (it refuses lone surrogates); text over ``limit`` is left to max_length to refuse."""

    def cleaned(value: Any) -> Any:
        return clean_text(value) if isinstance(value, str) and len(value) <= limit else value

    return BeforeValidator(cleaned)


SEARCH_EXAMPLE = {"question": "截至3月1日庆元县健康码申领率是多少", "k": 5, "mode": "hybrid"}
CHAT_EXAMPLE = {
    "messages": [
        {"role": "user", "content": "遂昌有多少家企业开工复工？"},
        {"role": "assistant", "content": "截至2月22日,遂昌企业开工复工299家……[1]"},
        {"role": "user", "content": "平湖呢？"},
    ],
    "k": 5,
    "mode": "hybrid",
}


@dataclass(frozen=True)
class RequestModels:
    search: type[BaseModel]
    chat: type[BaseModel]
    message: type[BaseModel]


def request_models(settings: Settings) -> RequestModels:
    """Request bodies whose constraints are this configuration's limits."""
    question_chars, k_max = settings.max_question_chars, settings.k_max

    class SearchRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SEARCH_EXAMPLE]})

        question: Annotated[
            str, Field(min_length=1, max_length=question_chars), clean_up_to(question_chars)
        ] = Field(
            description=f"the question, in Chinese or English; 1..{question_chars} characters with at least "
            "one letter, digit or Chinese character"
        )
        k: int = Field(settings.k_default, ge=1, le=k_max, description=f"number of passages, 1..{k_max}")
        mode: ModeField = Field("hybrid", description="retrieval: hybrid (recommended), dense or bm25")

    class Message(BaseModel):
        model_config = ConfigDict(extra="forbid")

        role: Literal["user", "assistant"]
        content: Annotated[
            str, Field(max_length=settings.max_message_chars), clean_up_to(settings.max_message_chars)
        ] = Field(
            description=f"at most {settings.max_message_chars} characters; the last (the question) at most {question_chars}"
        )

    class ChatRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [CHAT_EXAMPLE]})

        messages: list[Message] = Field(
            min_length=1,
            max_length=settings.max_messages,
            description=f"the conversation so far, oldest first, 1..{settings.max_messages} messages; "
            "the last one is the user's question",
        )
        k: int = Field(settings.k_default, ge=1, le=k_max, description=f"number of passages, 1..{k_max}")
        mode: ModeField = Field("hybrid", description="retrieval: hybrid (recommended), dense or bm25")
        stream: bool = Field(
            False,
            description="answer as server-sent events: `delta` pieces of text as each is ready, then `answer`",
        )

    return RequestModels(search=SearchRequest, chat=ChatRequest, message=Message)


class ErrorDetail(BaseModel):
    status: int = Field(description="the HTTP status again")
    code: str = Field(
        description="stable machine-readable reason, e.g. invalid_request, payload_too_large, busy"
    )
    message: str = Field(description="what went wrong and what to change, fit to show a user")


class ErrorResponse(BaseModel):
    """Every error answer of the API, whatever the status."""

    error: ErrorDetail


class Scores(BaseModel):
    bm25: float | None
    dense: float | None
    fused: float


class Box(BaseModel):
    """One line of a cited PDF span: PDF points from the page's top-left corner, with the page's size."""

    page: int
    x0: float
    top: float
    x1: float
    bottom: float
    page_width: float
    page_height: float


class Citation(BaseModel):
    doc: str
    title: str
    paragraph: int
    start: int
    end: int
    line_start: int
    line_end: int
    publication: str | None = None
    date: str | None = None
    url: str | None = None
    format: str | None = Field(
        None,
        description="pdf, docx, html or markdown; absent for .txt (offsets above are into the rendition)",
    )
    page_start: int | None = Field(None, description="PDF: first page of the span (1-based)")
    page_end: int | None = Field(None, description="PDF: last page of the span")
    boxes: list[Box] | None = Field(None, description="PDF: one rectangle per line of the span")
    source_line_start: int | None = Field(None, description="HTML and Markdown: first source line (1-based)")
    source_line_end: int | None = Field(None, description="HTML and Markdown: last source line")


class Hit(BaseModel):
    rank: int
    chunk_id: str = Field(
        description="the passage's stable id (16 hex digits): the same in every build while its document and text are"
    )
    text: str
    highlight: list[int] = Field(description="[start, end) of the answer sentence(s) in text")
    highlight_boxes: list[Box] | None = Field(
        None, description="PDF: the answer sentence(s)' own lines on the page, one box each"
    )
    scores: Scores
    citation: Citation


class SearchResponse(BaseModel):
    question: str
    mode: ModeField
    took_ms: float
    hits: list[Hit]


class ChatResponse(BaseModel):
    answer: str = Field(description="quoted sentence(s), each followed by [n]; or the decline notice")
    citations: list[Citation]
    hits: list[Hit]
    abstained: bool
    question: str = Field(description="the standalone question that was searched (follow-ups resolved)")
    generated: bool = Field(
        False,
        description="true when an LLM wrote the answer (every sentence checked against its cited passage)",
    )
    unsupported: list[str] = Field(
        default_factory=list,
        description="generated sentences removed because their cited passages do not support them",
    )
    generation_note: str | None = Field(
        None,
        description="why the LLM's answer was not used (or stopped early): timeout, HTTP error, no supported sentence",
    )


class CorpusHealth(BaseModel):
    state: Literal["in_sync", "updating", "out_of_sync"] = Field(
        description="in_sync: the served build holds the corpus folder as it is; updating: documents the build lacks "
        "(e.g. left by a crash mid-upload) are being indexed in the background; out_of_sync: they could not be"
    )
    pending: int = Field(
        description="documents added, changed or removed in the folder that the served build lacks"
    )


class QueueHealth(BaseModel):
    running: int = Field(description="document writes being indexed now (0 or 1)")
    waiting: int = Field(description="writes waiting behind it")
    limit: int = Field(
        description="WENYUAN_DOCUMENT_WRITE_QUEUE: beyond this many waiting, a write answers 503 index_busy"
    )


class Health(BaseModel):
    status: str
    model: str
    chunks: int
    build: str = Field(
        description="the build folder being served; changes when `qa index` or an upload commits one"
    )
    built_at: str
    writes: bool = Field(description="true when WENYUAN_API_TOKEN is set, so document writes are possible")
    corpus: CorpusHealth
    queue: QueueHealth


class JobProgress(BaseModel):
    stage: str = Field(
        description="queued, reading, passages, sentences, committing; or done, failed, cancelled"
    )
    message: str
    done: int = Field(description="texts embedded so far in this stage")
    total: int = Field(description="texts this stage embeds")
    fraction: float = Field(description="an estimate of the share of the write done, 0..1")


class Job(BaseModel):
    """A document write followed at ``GET /api/jobs/{id}`` (a write answered ``202 Accepted`` gives the URL)."""

    id: str
    kind: Literal["put", "delete", "sync"] = Field(
        description="sync: the server indexing what it found in the folder at start"
    )
    doc: str
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    position: int = Field(description="place in the queue (1: next); 0 once it runs")
    progress: JobProgress
    elapsed_s: float
    status: int | None = Field(
        description="the HTTP status the write would have answered: 200/201, or the error's"
    )
    result: dict[str, Any] | None = Field(
        description="when done: the write's answer (doc, chunks, embedded, reused, took_ms, build)"
    )
    error: ErrorDetail | None = Field(description="when failed: the error, in the error shape's inner object")


class DocumentWrite(BaseModel):
    doc: str
    chunks: int = Field(description="the document's passages (for a delete: the passages it had)")
    embedded: int = Field(description="passages sent to the model")
    reused: int = Field(description="passages whose vectors were already in the index")
    took_ms: float
    build: str


class DocumentSummary(BaseModel):
    doc: str
    titles: list[str]
    chunks: int
    metadata: dict[str, Any]


class DocumentList(BaseModel):
    documents: list[DocumentSummary]


class Paragraph(BaseModel):
    paragraph: int
    text: str
    start: int
    end: int
    line_start: int
    line_end: int


class Article(BaseModel):
    article: int
    title: str
    paragraphs: list[Paragraph]


class DocumentDetail(BaseModel):
    doc: str
    metadata: dict[str, Any]
    articles: list[Article]


def describe(error: dict[str, Any]) -> str:
    """One pydantic validation error as a sentence that says what to change."""
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "the request body"
    kind, ctx, value = error.get("type", ""), error.get("ctx") or {}, error.get("input")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{where} must be a JSON object"
    if kind == "string_unicode":
        return f"{where} is not valid Unicode text"
    if kind == "missing":
        return f"{where} is required"
    if kind == "extra_forbidden":
        return f"{where} is not a known field"
    if kind == "string_too_short":
        return f"{where} is empty"
    if kind == "string_too_long" and isinstance(value, str):
        return f"{where} is {len(value)} characters long; the limit is {ctx.get('max_length')}"
    if kind == "too_short" and isinstance(value, list):
        return f"{where} needs at least {ctx.get('min_length')} item(s), got {len(value)}"
    if kind == "too_long" and isinstance(value, list):
        return f"{where} has {len(value)} items; the limit is {ctx.get('max_length')}"
    if kind == "greater_than_equal":
        return f"{where} must be at least {ctx.get('ge')}, got {_short(value)}"
    if kind == "less_than_equal":
        return f"{where} must be at most {ctx.get('le')}, got {_short(value)}"
    if kind == "literal_error":
        return f"{where} must be one of {ctx.get('expected')}, got {_short(value)}"
    return f"{where}: {error.get('msg', 'invalid value')}"


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
