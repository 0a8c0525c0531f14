"""The HTTP API and the chat page, one FastAPI app.

Routes stay thin: validation is pydantic's and ``check_query``'s, answers come
from qa.api.reads (which the MCP tools at /mcp, qa.mcp_server, answer with too). The index and model load once, in a background
thread at start-up, so ``/api/health`` can say 503 until they are ready; later
builds are swapped in by qa.api.live_engine, document writes live in qa.api.document_routes.
Every error leaves as ``{"error": {"status", "code", "message"}}`` (on /v1, OpenAI's
shape: qa.api.openai_api); qa.api.http_guard
checks Host, body size and headers before a route runs. No ``from __future__
import annotations`` here: the request models are made per Settings inside
``create_app``, and FastAPI reads route annotations as real objects.
"""

import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa.answer import chat
from qa.answer.llm import make_llm
from qa.api import documents
from qa.api.admission import Admission
from qa.api.chat_events import chat_events
from qa.api.corpus_sync import CorpusSync
from qa.api.document_routes import add_document_writes
from qa.api.error_status import INTERNAL, http_error
from qa.api.http_guard import HttpGuard
from qa.api.live_engine import LiveEngine
from qa.api.openai_api import add_openai_routes
from qa.api.openai_format import error_json, is_openai_path
from qa.api.pdfjs import add_pdfjs
from qa.api.reads import Reads
from qa.api.schemas import (
    ChatResponse,
    DocumentDetail,
    DocumentList,
    ErrorResponse,
    Health,
    SearchResponse,
    describe,
    request_models,
)
from qa.api.write_queue import WriteQueue
from qa.errors import ApiError, WenyuanError
from qa.index.factory import is_service
from qa.settings import Settings

log = logging.getLogger("wenyuan.api")
WEB_DIR = Path(__file__).resolve().parents[2] / "web"


def error(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    path: str = "",
    param: str | None = None,
) -> JSONResponse:
    """The API's error shape; on /v1 paths OpenAI's (qa.api.openai_format), with the same status and code."""
    if is_openai_path(path):
        return JSONResponse(error_json(status, code, message, param), status_code=status, headers=headers)
    return JSONResponse(
        {"error": {"status": status, "code": code, "message": message}}, status_code=status, headers=headers
    )


NOT_JSON = "the request body is not valid JSON (UTF-8 text, nested at most a few hundred levels, integers under 4300 digits)"
HTTP_CODES = {400: "invalid_json", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def _validation_message(exc: RequestValidationError) -> tuple[int, str, str]:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return 400, "invalid_json", NOT_JSON
    first = errors[0] if errors else {}
    if tuple(first.get("loc", ())) == ("body",) and isinstance(first.get("input"), bytes):
        return (
            415,
            "unsupported_media_type",
            "send the body as JSON with the header Content-Type: application/json",
        )
    return 422, "invalid_request", describe(first)


def _allow(headers: dict[str, str] | None) -> dict[str, str] | None:
    """405's Allow header, with HEAD wherever GET is allowed (qa.api.http_guard answers HEAD as GET)."""
    if not headers or "Allow" not in headers:
        return headers
    methods = [m.strip() for m in headers["Allow"].split(",")]
    if "GET" in methods and "HEAD" not in methods:
        methods.append("HEAD")
    return {**headers, "Allow": ", ".join(methods)}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route can give, all in the one error shape."""
    why = {
        400: "invalid_json: the body is not JSON; invalid_host: the Host header is not allowed; "
        "invalid_document: a document name that leaves the corpus, is over 241 UTF-8 bytes, or holds an invisible "
        "(Unicode Cf), space-edged or control character (the message names it, e.g. U+202E RIGHT-TO-LEFT OVERRIDE)",
        401: "unauthorized: the bearer token is missing or wrong (WWW-Authenticate: Bearer)",
        403: "writes_disabled: the server has no WENYUAN_API_TOKEN, so documents cannot be changed",
        404: "not_found / unknown_document / unknown_job (jobs are kept for the last 200 writes)",
        409: "last_document: the only document cannot be removed; not_a_document / corpus_error / corpus_missing: "
        "the corpus folder needs fixing first",
        405: "method_not_allowed: the Allow header lists the methods this path answers",
        413: "payload_too_large: the body is larger than WENYUAN_MAX_BODY_BYTES; refused before it is read",
        415: "unsupported_media_type: the body is not sent as application/json",
        422: "invalid_request / invalid_input: a value outside the documented limits, or a question with no "
        "letter, digit or Chinese character; unreadable_text / no_indexable_text: an upload that is not "
        "UTF-8 or GB18030 text, holds a lone surrogate, or has no paragraph to cite",
        500: "internal_error: a bug; the server log has the details; index_failed: indexing failed, nothing changed",
        503: "not_ready / index_missing: the index is loading or missing; index_building: a `qa index` is building the "
        "first index of the folder; busy: too many requests queued; "
        "index_busy: WENYUAN_DOCUMENT_WRITE_QUEUE writes already wait, or another process holds the index; "
        "retry after the Retry-After header's seconds (estimated from the running write's progress); "
        "milvus_unavailable: the Milvus store does not answer; embedding_unavailable: the embedding server does not",
    }
    out: dict[int | str, dict[str, Any]] = {
        s: {"model": ErrorResponse, "description": why[s]} for s in statuses
    }
    if 503 in out:
        retry = {
            "description": "seconds to wait, on busy and index_busy",
            "schema": {"type": "integer", "minimum": 0},
        }
        out[503]["headers"] = {"Retry-After": retry}
    return out


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    live = LiveEngine(settings)
    queue = WriteQueue(settings.document_write_queue)
    corpus = CorpusSync(settings, live, queue)
    live.on_first_load = corpus.check
    admission = Admission(settings.model_queue_depth, settings.busy_retry_after_s)
    models = request_models(settings)
    SearchRequest, ChatRequest = models.search, models.chat

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        queue.start()
        live.start()
        async with mcp.running():
            yield
        live.stop()
        queue.stop()
        if app.state.llm is not None:
            app.state.llm.close()

    app = FastAPIOffline(
        title="问源 wenyuan",
        description="Ask Chinese questions over the corpus; every answer quotes and cites the exact paragraph. "
        'Errors: `{"error": {"status": int, "code": str, "message": str}}`; a request line over 16 KiB '
        "gets 414 uri_too_long and headers over 16 KiB 431 headers_too_large, in the same shape. Document writes queue "
        "(503 index_busy beyond WENYUAN_DOCUMENT_WRITE_QUEUE) and answer 202 with a job at /api/jobs/{id} when slow.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.live = live
    app.state.llm = make_llm(settings)  # an OpenAI-compatible client when WENYUAN_LLM_* are set (issue 11)
    reads = Reads(live, admission, app.state.llm)
    from qa.mcp_server.http import (
        McpEndpoint,
    )  # the mcp SDK loads only with the app, not with every import of this module

    mcp = McpEndpoint(settings, reads)
    app.router.add_route("/mcp", mcp, include_in_schema=False)  # MCP over streamable HTTP (issue 22)
    app.add_middleware(HttpGuard, settings=settings)

    @app.exception_handler(WenyuanError)
    async def _ours(request: Request, exc: WenyuanError) -> JSONResponse:
        answer = http_error(exc)
        if answer.code == "internal_error" and not isinstance(exc, ApiError):
            log.error("an error without an HTTP status reached a route", exc_info=exc)
        return error(
            answer.status,
            answer.code,
            answer.message,
            answer.headers,
            request.url.path,
            getattr(exc, "param", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error(*_validation_message(exc), path=request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        headers = _allow(exc.headers) or {}
        message = {
            "invalid_json": NOT_JSON,
            "not_found": f"nothing at {request.url.path}; the API is described at /docs",
            "method_not_allowed": f"{request.method} is not allowed on {request.url.path}; use {headers.get('Allow', 'another method')}",
        }.get(code, str(exc.detail))
        response = error(exc.status_code, code, message, path=request.url.path)
        response.headers.update(headers)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return error(500, "internal_error", INTERNAL, path=request.url.path)

    @app.get(
        "/api/health", response_model=None, responses={200: {"model": Health}, **_errors(400, 405, 500, 503)}
    )
    async def health() -> Any:
        """On the event loop, needing no worker thread: it answers while every thread is busy."""
        index = live.get().index
        if is_service(settings):
            await run_in_threadpool(
                index.latest_build
            )  # Milvus must answer now, not only when the server started
        running, waiting = queue.counts()
        return {
            "status": "ok",
            "model": index.manifest.model_id,
            "chunks": index.manifest.chunks,
            "build": index.manifest.build,
            "built_at": index.manifest.created,
            "writes": settings.api_token is not None,
            "corpus": corpus.to_json(),
            "queue": {"running": running, "waiting": waiting, "limit": queue.depth},
        }

    # JSONResponse directly: the objects are plain JSON already, and FastAPI's encoder pass costs milliseconds.
    body_errors = _errors(400, 405, 413, 415, 422, 500, 503)

    @app.post("/api/search", responses={200: {"model": SearchResponse}, **body_errors})
    def search(body: SearchRequest) -> JSONResponse:
        return JSONResponse(reads.search(body.question, body.k, body.mode))

    chat_ok = {
        "model": ChatResponse,
        "description": 'the answer; with "stream": true (or Accept: text/event-stream), server-sent events instead: '
        '`delta` ({"text"}) pieces, then `answer` (this object)',
        "content": {
            "text/event-stream": {
                "schema": {  # one event (OpenAPI before 3.2 describes each event, not the stream)
                    "type": "object",
                    "required": ["event", "data"],
                    "properties": {
                        "event": {"enum": ["delta", "answer", "error"]},
                        "data": {
                            "type": "string",
                            "contentMediaType": "application/json",
                            "description": 'delta: {"text"}; answer: the ChatResponse object; error: the error shape',
                        },
                    },
                }
            }
        },
    }

    @app.post("/api/chat", responses={200: chat_ok, **body_errors})
    def chat_turn(body: ChatRequest, request: Request) -> Response:
        messages = [m.model_dump() for m in body.messages]
        if body.stream or "text/event-stream" in request.headers.get("accept", ""):
            turn = reads.turn(messages, body.k, body.mode)
            return StreamingResponse(
                chat_events(chat.finish(turn, reads.llm, stream=True)), media_type="text/event-stream"
            )
        return JSONResponse(reads.answer(messages, body.k, body.mode).to_json())

    @app.get(
        "/api/documents",
        response_model=None,
        responses={200: {"model": DocumentList}, **_errors(400, 405, 500, 503)},
    )
    def list_documents() -> Any:
        return reads.documents()

    @app.get(
        "/api/documents/{doc:path}/source",
        response_model=None,
        responses={
            200: {
                "description": "the original file (PDF, Word, HTML, Markdown or text) as it is in the corpus folder"
            },
            **_errors(400, 404, 405, 422, 500, 503),
        },  # 422 in our shape, not FastAPI's HTTPValidationError
        summary="The original file of a document",
    )
    def get_document_source(doc: str) -> Any:
        path, media_type = documents.source_file(live.get().index, doc)
        return FileResponse(
            path, media_type=media_type, content_disposition_type="inline", filename=path.name
        )

    @app.get(
        "/api/documents/{doc:path}",
        response_model=None,
        responses={200: {"model": DocumentDetail}, **_errors(400, 404, 405, 422, 500, 503)},
    )
    def get_document(doc: str) -> Any:
        return reads.document(doc)

    add_document_writes(app, settings, live, queue, _errors)
    add_openai_routes(app, settings, reads)
    add_pdfjs(app, settings.pdfjs_dir)

    if WEB_DIR.is_dir():
        app.mount("/web", StaticFiles(directory=WEB_DIR), name="web")

        @app.get("/", include_in_schema=False)
        def page() -> FileResponse:
            return FileResponse(WEB_DIR / "index.html")

    return app
