"""``PUT``/``DELETE /api/documents/{name}``: thin routes over qa.api.document_writes.

A write answers only once its build is served, so the next question already
sees it. Writes in one server queue one behind the other; a ``qa index``
running elsewhere on the same folder makes them wait, then answer 503.
No ``from __future__ import annotations``: FastAPI reads the annotations.
"""

import json
import threading
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from qa.api.auth import require_token
from qa.api.document_writes import DocumentWriter, WriteResult, check_metadata, check_name, read_text
from qa.engine import Wenyuan
from qa.errors import ApiError, CorpusError, WenyuanError
from qa.api.live_engine import LiveEngine
from qa.api.schemas import DocumentWrite
from qa.settings import Settings
from qa.index.writer_lock import IndexBusyError

RETRY_AFTER_S = 5
BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {"schema": {"type": "string"}, "example": "标题\n\n正文第一段……"},
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["text"],
                    "properties": {
                        "text": {"type": "string"},
                        "metadata": {
                            "type": "object",
                            "properties": {k: {"type": "string"} for k in ("publication", "date", "url")},
                            "additionalProperties": False,
                        },
                    },
                }
            },
        },
    }
}


async def _document_body(request: Request, settings: Settings) -> tuple[str, dict[str, str]]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "text/plain":
        return read_text(await request.body()), {}
    if kind != "application/json":
        raise ApiError(
            415,
            "unsupported_media_type",
            "send the document as text/plain; charset=utf-8, or as JSON {\"text\": ..., \"metadata\": {...}}",
        )
    try:
        data = json.loads(await request.body())
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", "the request body is not valid JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise ApiError(422, "invalid_request", "the JSON body needs a \"text\" string (and optionally \"metadata\")")
    unknown = sorted(set(data) - {"text", "metadata"})
    if unknown:
        raise ApiError(422, "invalid_request", f"unknown field(s) {', '.join(unknown)}: use text and metadata")
    return data["text"], check_metadata(data.get("metadata"), settings.metadata_value_max_chars)


def _chunks_of(engine: Wenyuan, name: str) -> int:
    return int(engine.retriever.index.documents.get(name, {}).get("chunks", 0))


def add_document_writes(app: FastAPI, settings: Settings, live: LiveEngine, errors: Callable[..., dict]) -> None:
    queue = threading.Lock()

    def write(action: Callable[[DocumentWriter, Wenyuan], WriteResult]) -> WriteResult:
        if not queue.acquire(timeout=settings.document_write_wait_s):
            raise ApiError(503, "index_busy", "other uploads are still being indexed; try again", {"Retry-After": str(RETRY_AFTER_S)})
        try:
            live.refresh()
            engine = live.get()
            retriever = engine.retriever
            result = action(DocumentWriter(settings, retriever.embedder, retriever.index.manifest, retriever.segmenter), engine)
            live.refresh()
            return result
        except IndexBusyError as exc:
            raise ApiError(503, exc.code, str(exc), {"Retry-After": str(RETRY_AFTER_S)}) from None
        except CorpusError as exc:
            raise ApiError(409, exc.code, str(exc)) from None
        except ApiError:
            raise
        except WenyuanError as exc:
            raise ApiError(500, "index_failed", f"indexing failed and nothing was changed: {exc}") from None
        finally:
            queue.release()

    write_errors = errors(400, 401, 403, 404, 409, 413, 415, 422, 500, 503)

    @app.put(
        "/api/documents/{doc:path}",
        status_code=201,
        responses={200: {"model": DocumentWrite, "description": "replaced"}, 201: {"model": DocumentWrite}, **write_errors},
        openapi_extra=BODY_DOC,
    )
    async def put_document(doc: str, request: Request) -> JSONResponse:
        """Create or replace a document (needs the bearer token); answers once the new build is served."""
        require_token(settings, request.headers.get("authorization"))
        name = check_name(doc)
        text, metadata = await _document_body(request, settings)
        def store(writer: DocumentWriter, engine: Wenyuan) -> WriteResult:
            return writer.put(name, text, metadata, _chunks_of(engine, name))

        result = await run_in_threadpool(write, store)
        return JSONResponse(result.to_json(), status_code=201 if result.created else 200)

    @app.delete("/api/documents/{doc:path}", responses={200: {"model": DocumentWrite}, **write_errors})
    async def delete_document(doc: str, request: Request) -> Any:
        """Remove a document (needs the bearer token); answers once the new build is served."""
        require_token(settings, request.headers.get("authorization"))
        name = check_name(doc)

        def remove(writer: DocumentWriter, engine: Wenyuan) -> WriteResult:
            return writer.delete(name, _chunks_of(engine, name), len(engine.retriever.index.documents))

        return JSONResponse((await run_in_threadpool(write, remove)).to_json())
