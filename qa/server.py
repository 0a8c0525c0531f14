"""The HTTP API and the chat page, one FastAPI app.

Routes stay thin: validation is pydantic's and ``check_query``'s, answers come
from ``qa.chat``/``Retriever``. The index and model load once, in a background
thread at start-up, so ``/api/health`` can say 503 until they are ready.
Every error leaves as ``{"error": {"status", "code", "message"}}``.
"""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa import chat, documents
from qa.engine import Wenyuan
from qa.errors import IndexMissingError, InputError, WenyuanError
from qa.schemas import ChatRequest, SearchRequest
from qa.settings import Settings

WEB_DIR = Path(__file__).resolve().parent.parent / "web"


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "code": code, "message": message}}, status_code=status)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class EngineHolder:
    """Loads the engine off the request path; requests before it is ready get 503."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: Wenyuan | None = None
        self.failure: str | None = None
        self._thread = threading.Thread(target=self._load, name="wenyuan-load", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _load(self) -> None:
        try:
            self.engine = Wenyuan.open(**self.settings.model_dump())
        except WenyuanError as exc:
            self.failure = str(exc)
        except Exception as exc:  # reported through /api/health instead of killing the server
            self.failure = f"{type(exc).__name__}: {exc}"

    def get(self) -> Wenyuan:
        if self.engine is None:
            raise ApiError(503, "not_ready", self.failure or "the index is still loading; try again in a moment")
        return self.engine


def _validation_message(exc: RequestValidationError) -> tuple[int, str, str]:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return 400, "invalid_json", "the request body is not valid JSON"
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    return 422, "invalid_request", f"{where}: {first.get('msg', 'invalid value')}"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    holder = EngineHolder(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        holder.start()
        yield

    app = FastAPIOffline(
        title="问源 wenyuan",
        description="Ask Chinese questions over the corpus; every answer quotes and cites the exact paragraph. "
        "Errors: `{\"error\": {\"status\": int, \"code\": str, \"message\": str}}`.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.holder = holder

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error(exc.status, exc.code, exc.message)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        return error(422, exc.code, str(exc))

    @app.exception_handler(IndexMissingError)
    async def _missing(request: Request, exc: IndexMissingError) -> JSONResponse:
        return error(503, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error(*_validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return error(500, "internal_error", "the server failed to answer this request; see the server log")

    @app.get("/api/health")
    def health() -> Any:
        engine = holder.get()
        return {"status": "ok", "model": engine.retriever.index.manifest.model_id, "chunks": len(engine.retriever.index.chunks)}

    # JSONResponse directly: the objects are plain JSON already, and FastAPI's encoder pass costs milliseconds.
    @app.post("/api/search")
    def search(body: SearchRequest) -> JSONResponse:
        return JSONResponse(holder.get().search(body.question, body.k, body.mode).to_json())

    @app.post("/api/chat")
    def chat_turn(body: ChatRequest) -> JSONResponse:
        messages = [m.model_dump() for m in body.messages]
        return JSONResponse(chat.answer(holder.get().retriever, messages, body.k, body.mode).to_json())

    @app.get("/api/documents")
    def list_documents() -> Any:
        return {"documents": documents.summaries(holder.get().retriever.index)}

    @app.get("/api/documents/{doc:path}")
    def get_document(doc: str) -> Any:
        index = holder.get().retriever.index
        if ".." in doc.split("/") or doc.startswith("/") or "\\" in doc:
            raise ApiError(400, "invalid_document", f"invalid document name {doc!r}: use a name from /api/documents")
        if doc not in index.documents:
            raise ApiError(404, "unknown_document", f"no document named {doc!r}; see /api/documents")
        return documents.detail(index, doc)

    if WEB_DIR.is_dir():
        app.mount("/web", StaticFiles(directory=WEB_DIR), name="web")

        @app.get("/", include_in_schema=False)
        def page() -> FileResponse:
            return FileResponse(WEB_DIR / "index.html")

    return app
