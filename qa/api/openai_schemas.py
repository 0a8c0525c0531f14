"""The shapes of /v1: OpenAI's chat request as wenyuan reads it, and the answers as /openapi.json shows them.

Requests allow fields this server does not know (OpenAI's request has many, and
clients send them); text is cleaned as it is read, as on /api.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from qa.api.openai_format import MODEL_ID
from qa.api.schemas import Citation
from qa.settings import Settings
from qa.text.normalize import clean_text

EXAMPLE = {"model": MODEL_ID, "messages": [{"role": "user", "content": "截至3月1日庆元县健康码申领率是多少"}]}
Cleaned = BeforeValidator(lambda v: clean_text(v) if isinstance(v, str) else v)


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = Field(description="text parts are read; other parts (images, files) are ignored")
    text: Annotated[str | None, Cleaned] = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant"] = Field(
        description="system and developer messages are accepted and ignored"
    )
    content: Annotated[str | list[ContentPart] | None, Cleaned] = Field(
        None, description="a string, or a list of parts whose text parts are joined"
    )


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = Field(
        False, description="send a last chunk with usage (in characters) and no choices"
    )


def completion_request(settings: Settings) -> type[BaseModel]:
    """The request with this configuration's limits, the same as /api/chat's."""

    class CompletionRequest(BaseModel):
        """OpenAI's chat request. temperature, top_p, max_tokens, stop, user and the rest are accepted and ignored."""

        model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [EXAMPLE]})

        model: str = Field(description=f"{MODEL_ID!r}, the one model /v1/models lists")
        messages: list[ChatMessage] = Field(
            min_length=1,
            max_length=settings.max_messages,
            description=f"1..{settings.max_messages} messages, oldest first, the last the user's question; user and "
            f"assistant contents at most {settings.max_message_chars} characters (an assistant's without its source "
            f"list), the question at most {settings.max_question_chars}",
        )
        stream: bool | None = Field(False, description="server-sent events of chat.completion.chunk")
        stream_options: StreamOptions | None = None
        n: int | None = Field(None, ge=1, le=1, description="one answer per request")

    return CompletionRequest


class ModelCard(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelCard]


class AnswerFields(BaseModel):
    """wenyuan's fields beside OpenAI's, on the message (or, streamed, on the last chunk's delta)."""

    citations: list[Citation] = Field(
        description="the passages the [n] markers point to, in order, as /api/chat gives them"
    )
    abstained: bool = Field(description="true when the corpus does not answer the question")
    question: str = Field(description="the standalone question that was searched (follow-ups resolved)")
    generated: bool = Field(description="true when an LLM wrote the answer")
    unsupported: list[str] = Field(
        description="generated sentences removed because their passages do not support them"
    )
    generation_note: str | None = Field(
        description="why the answer is quoted although an LLM is configured, else null"
    )


class AssistantMessage(AnswerFields):
    role: Literal["assistant"]
    content: str = Field(
        description="the answer with [n] markers, a blank line, then the markdown source list"
    )


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    logprobs: None = None
    finish_reason: Literal["stop"]


class Usage(BaseModel):
    """Counted in characters, not tokens."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class ErrorBody(BaseModel):
    message: str
    type: str = Field(description="invalid_request_error (4xx) or server_error (5xx)")
    code: str = Field(
        description="invalid_api_key, model_not_found, or the code /api gives for the same error"
    )
    param: str | None = Field(None, description="the request field at fault, when one is")


class V1ErrorResponse(BaseModel):
    """Every error answer on /v1, in OpenAI's shape."""

    error: ErrorBody


def v1_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    out: dict[int | str, dict[str, Any]] = {s: {"model": V1ErrorResponse} for s in statuses}
    if 503 in out:
        retry = {"description": "seconds to wait, on busy only", "schema": {"type": "integer", "minimum": 0}}
        out[503]["headers"] = {"Retry-After": retry}
    if 401 in out:
        out[401]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return out
