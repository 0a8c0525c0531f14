"""``PUT``/``DELETE /api/documents/{name}`` and ``GET /api/jobs/{id}``: thin routes over the write queue.

Name and body are checked first, on the event loop or a small pool of their
own, so a bad request is refused at once even while a write indexes. The write
then goes to qa.api.write_queue (one writer thread, a bounded queue, 503
``index_busy`` beyond it). The request waits for it without holding a thread:
up to ``WENYUAN_DOCUMENT_WRITE_HOLD_S``, answering 201/200 once the new build
is served; past that (or at once with ``Prefer: respond-async``) it answers
``202 Accepted`` with ``Location: /api/jobs/{id}``, and the write goes on.
No ``from __future__ import annotations``: FastAPI reads the annotations.
"""

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from qa.api.auth import require_token
from qa.api.document_names import check_metadata, check_name, check_text, existing_name
from qa.api.live_engine import LiveEngine
from qa.api.schemas import DocumentWrite
from qa.api.schemas import Job as JobModel
from qa.api.write_actions import writer_action, written
from qa.api.write_jobs import Job, Outcome
from qa.api.write_queue import WriteQueue, wait_for
from qa.engine import Wenyuan
from qa.errors import ApiError
from qa.index.document_writes import DocumentWriter, read_text
from qa.ingest.formats import TEXT_SUFFIX
from qa.settings import Settings

CHECK_THREADS = 2  # decoding and chunking a body before it queues: brief, but not on the event loop
BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {"schema": {"type": "string"}, "example": "标题\n\n正文第一段……"},
            "application/octet-stream": {
                "schema": {"type": "string", "format": "binary"},
                "description": "for .pdf, .docx, .html and .md names: the file's bytes as they are",
            },
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
    },
    "parameters": [
        {
            "name": "Prefer",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "enum": ["respond-async"]},
            "description": "respond-async: answer 202 with the job at once instead of waiting for the build",
        }
    ],
}
ACCEPTED = {
    "model": JobModel,
    "description": "accepted: the write is queued or indexing and goes on; follow it at the Location URL "
    "(GET /api/jobs/{id}). Given after WENYUAN_DOCUMENT_WRITE_HOLD_S, or at once with Prefer: respond-async",
    "headers": {
        "Location": {"description": "/api/jobs/{id}", "schema": {"type": "string"}},
        "Retry-After": {
            "description": "seconds before asking the job URL again",
            "schema": {"type": "integer"},
        },
    },
}


async def _document_body(request: Request, settings: Settings) -> tuple[str, dict[str, str]]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "text/plain":
        return read_text(await request.body()), {}
    if kind != "application/json":
        raise ApiError(
            415,
            "unsupported_media_type",
            'send the document as text/plain; charset=utf-8, or as JSON {"text": ..., "metadata": {...}}',
        )
    try:
        data = json.loads(await request.body())
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", "the request body is not valid JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise ApiError(
            422, "invalid_request", 'the JSON body needs a "text" string (and optionally "metadata")'
        )
    unknown = sorted(set(data) - {"text", "metadata"})
    if unknown:
        raise ApiError(
            422, "invalid_request", f"unknown field(s) {ascii(unknown)[1:-1][:200]}: use text and metadata"
        )
    metadata = check_metadata(data.get("metadata"), settings.metadata_value_max_chars)
    return check_text(data["text"]), metadata


def _chunks_of(engine: Wenyuan, name: str) -> int:
    return int(engine.index.documents.get(name, {}).get("chunks", 0))


def add_document_writes(
    app: FastAPI, settings: Settings, live: LiveEngine, queue: WriteQueue, errors: Callable[..., dict]
) -> None:
    checks = ThreadPoolExecutor(max_workers=CHECK_THREADS, thread_name_prefix="wenyuan-upload-check")

    async def answer(job: Job, request: Request) -> JSONResponse:
        """The write's own answer if it finishes within the hold, else 202 with the job; a gone client's queued job is dropped."""
        at_once = "respond-async" in request.headers.get("prefer", "").lower()
        finished = await wait_for(
            job, 0 if at_once else settings.document_write_hold_s, request.is_disconnected
        )
        if not finished and not job.is_finished() and not at_once and await request.is_disconnected():
            queue.cancel(job)
        if finished or job.is_finished():
            outcome = job.outcome
            if outcome is None:  # cancelled: the client is gone, nobody reads this
                raise ApiError(499, "cancelled", "the client disconnected before the write started")
            if outcome.status >= 400:
                raise ApiError(
                    outcome.status, outcome.body["code"], outcome.body["message"], outcome.headers or None
                )
            return JSONResponse(outcome.body, status_code=outcome.status)
        location = f"/api/jobs/{job.id}"
        headers = {"Location": location, "Retry-After": str(min(5, queue.retry_after()))}
        return JSONResponse(job.to_json(queue.position(job)), status_code=202, headers=headers)

    write_errors = errors(400, 401, 403, 404, 409, 413, 415, 422, 500, 503)

    @app.put(
        "/api/documents/{doc:path}",
        status_code=201,
        responses={
            200: {"model": DocumentWrite, "description": "replaced"},
            201: {"model": DocumentWrite, "description": "created"},
            202: ACCEPTED,
            **write_errors,
        },
        openapi_extra=BODY_DOC,
        summary="Create or replace a document",
    )
    async def put_document(doc: str, request: Request) -> JSONResponse:
        """Create or replace a document (needs the bearer token): 201/200 once the new build is served, or 202 with a job."""
        require_token(settings, request.headers.get("authorization"))
        name = check_name(doc)
        # PDF, Word, HTML, Markdown: the file's own bytes, whatever the Content-Type.
        is_text = name.endswith(TEXT_SUFFIX)
        body, metadata = await _document_body(request, settings) if is_text else (await request.body(), {})
        checker = live.get().document_writer()
        loop = asyncio.get_running_loop()
        if isinstance(body, str):
            raw = await loop.run_in_executor(checks, checker.prepare, name, body, metadata)
        else:
            raw = await loop.run_in_executor(checks, checker.prepare_file, name, body)

        def store(writer: DocumentWriter, engine: Wenyuan) -> Outcome:
            return written(writer.put(name, raw, metadata, _chunks_of(engine, name)))

        job = queue.submit(Job("put", name, len(raw), writer_action(settings, live, store)))
        return await answer(job, request)

    @app.delete(
        "/api/documents/{doc:path}",
        responses={200: {"model": DocumentWrite}, 202: ACCEPTED, **write_errors},
        summary="Remove a document",
    )
    async def delete_document(doc: str, request: Request) -> Any:
        """Remove a document (needs the bearer token): 200 once the new build is served, or 202 with a job."""
        require_token(settings, request.headers.get("authorization"))
        name = existing_name(doc, Path(live.get().index.manifest.corpus_dir))

        def remove(writer: DocumentWriter, engine: Wenyuan) -> Outcome:
            return written(writer.delete(name, _chunks_of(engine, name), len(engine.index.documents)))

        job = queue.submit(Job("delete", name, 0, writer_action(settings, live, remove)))
        return await answer(job, request)

    @app.get(
        "/api/jobs/{job_id}",
        response_model=None,
        responses={
            200: {"model": JobModel},
            **errors(400, 404, 405, 422, 500),
        },  # 422: in our shape, not FastAPI's
        summary="Follow a document write",
    )
    async def get_job(job_id: str) -> Any:
        """A write's state and progress, then its result or error: what a 202 Accepted write points to."""
        job = queue.get(job_id)
        if job is None:
            raise ApiError(
                404,
                "unknown_job",
                f"no write job {ascii(job_id[:40])}: jobs are kept for the last 200 writes",
            )
        return job.to_json(queue.position(job))
