"""``/v1/models`` and ``/v1/chat/completions``: wenyuan as a model for OpenAI-compatible clients and the openai SDK.

The answer is the one ``/api/chat`` gives (same follow-up resolution, limits
and admission slot); qa.api.openai_format puts it in OpenAI's shapes. A streamed
answer searches inside the slot before the response starts (a bad question
still gets an HTTP error status, not an error event); the LLM, if any, writes
outside it, so a slow model does not hold the embedding model's queue. Web pages may call /v1 only from the origins in WENYUAN_CORS_ORIGINS.
No ``from __future__ import annotations``: FastAPI reads the annotations.
"""

import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Header
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import iterate_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from qa.answer import chat
from qa.api import openai_format as fmt
from qa.api.auth import check_bearer
from qa.api.openai_schemas import (
    ChatCompletion,
    ChatMessage,
    ModelCard,
    ModelList,
    completion_request,
    v1_errors,
)
from qa.api.reads import Reads
from qa.errors import ApiError, WenyuanError
from qa.settings import Settings

log = logging.getLogger("wenyuan.openai")
STREAM_DOC = {
    "description": 'the chat.completion; with "stream": true, server-sent events of chat.completion.chunk instead, '
    "the last one (finish_reason stop) carrying citations, abstained, question, generated and unsupported "
    "on its delta, then data: [DONE]",
    "content": {
        "text/event-stream": {
            "schema": {
                "description": "one event: data is a chat.completion.chunk as JSON, or [DONE]",
                "type": "object",
                "required": ["data"],
                "properties": {"data": {"type": "string"}, "event": {"type": "string"}},
            }
        }
    },
}


class V1Error(ApiError):
    """An ApiError naming the request field at fault, for OpenAI's ``param``."""

    def __init__(self, status: int, code: str, message: str, param: str | None = None) -> None:
        super().__init__(status, code, message)
        self.param = param


class V1Cors:
    """CORS on /v1 only, for chat clients that call it from a web page; /api and the chat page stay same-origin."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
            allow_private_network=True,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and fmt.is_openai_path(scope.get("path", "")):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def text_of(message: ChatMessage) -> str:
    if isinstance(message.content, list):
        return "".join(p.text or "" for p in message.content if p.type == "text")
    return message.content or ""


def conversation(messages: list[ChatMessage], limit: int) -> list[dict[str, str]]:
    """The user and assistant turns qa.answer.chat reads, assistant turns without the source list they were sent with."""
    turns = []
    for i, m in enumerate(messages):
        if m.role not in ("user", "assistant"):
            continue
        text = text_of(m)
        if m.role == "assistant":
            text = fmt.strip_tail(text)
        if len(text) > limit:
            message = f"messages.{i}.content is {len(text)} characters long; the limit is {limit}"
            raise V1Error(422, "invalid_request", message, "messages")
        turns.append({"role": m.role, "content": text})
    return turns


def prompt_chars(messages: list[ChatMessage]) -> int:
    return sum(len(text_of(m)) for m in messages)


def frames(pieces: Iterator[Any], cid: str, created: int, prompt: int, with_usage: bool) -> Iterator[str]:
    """Server-sent events of one answer; the caller primes it (runs it to its first event) before responding."""
    item = next(pieces)
    yield fmt.event(fmt.chunk(cid, created, {"role": "assistant", "content": ""}))
    sent = 0
    try:
        while not isinstance(item, chat.ChatAnswer):
            if item:
                sent += len(item)
                yield fmt.event(fmt.chunk(cid, created, {"content": item}))
            item = next(pieces)
        tail = fmt.tail(item)
        if tail:
            sent += len(tail)
            yield fmt.event(fmt.chunk(cid, created, {"content": tail}))
        yield fmt.event(fmt.chunk(cid, created, fmt.extras(item), "stop"))
        if with_usage:
            yield fmt.event(fmt.usage_chunk(cid, created, prompt, sent))
    except WenyuanError as exc:
        status = exc.status if isinstance(exc, ApiError) else 422
        yield fmt.event(fmt.error_json(status, exc.code, str(exc)))
        return
    except Exception:
        log.exception("a streamed answer failed")
        yield fmt.event(
            fmt.error_json(500, "internal_error", "the answer failed part-way; see the server log")
        )
        return
    yield fmt.DONE


def add_openai_routes(app: FastAPI, settings: Settings, reads: Reads) -> None:
    started = int(time.time())
    CompletionRequest = completion_request(settings)

    def bearer(authorization: str | None = Header(None)) -> None:
        check_bearer(settings, authorization)

    router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"], dependencies=[Depends(bearer)])

    read_errors = v1_errors(400, 401, 404, 405, 422, 500)

    @router.get("/models", response_model=None, responses={200: {"model": ModelList}, **read_errors})
    def list_models() -> JSONResponse:
        return JSONResponse({"object": "list", "data": [fmt.model_card(started)]})

    @router.get("/models/{model}", response_model=None, responses={200: {"model": ModelCard}, **read_errors})
    def get_model(model: str) -> JSONResponse:
        if model != fmt.MODEL_ID:
            raise unknown_model(model)
        return JSONResponse(fmt.model_card(started))

    answered = {
        200: {"model": ChatCompletion, **STREAM_DOC},
        **v1_errors(400, 401, 404, 405, 413, 415, 422, 500, 503),
    }

    @router.post("/chat/completions", response_model=None, responses=answered)
    def completions(body: CompletionRequest) -> Any:  # type: ignore[valid-type]
        if body.model != fmt.MODEL_ID:
            raise unknown_model(body.model)
        messages = conversation(body.messages, settings.max_message_chars)
        cid, created, prompt = f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), prompt_chars(body.messages)
        if not body.stream:
            return JSONResponse(fmt.completion(reads.answer(messages, None, "hybrid"), cid, created, prompt))
        turn = reads.turn(
            messages, None, "hybrid"
        )  # the LLM (if any) writes after, outside the model's queue
        with_usage = bool(body.stream_options and body.stream_options.include_usage)
        pieces = chat.finish(turn, reads.llm, stream=True)
        events = frames(pieces, cid, created, prompt, with_usage)
        first = next(events)
        return StreamingResponse(
            iterate_in_threadpool(_after(first, events)),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    app.include_router(router)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(V1Cors, origins=origins)


def _after(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def unknown_model(model: str) -> V1Error:
    message = f"the model {model[:100]!r} does not exist: this server serves {fmt.MODEL_ID!r}"
    return V1Error(404, "model_not_found", message, "model")
