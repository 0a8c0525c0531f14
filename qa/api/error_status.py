"""Which HTTP status and headers each of our errors is answered with: one table for the routes and the MCP tools.

The MCP tools (qa.mcp_server) have no status line, but a model and its user
should read the same code and message a browser would; keeping the mapping
here keeps the two from drifting apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qa.api.admission import BusyError
from qa.errors import ApiError, DocumentWriteError, EmbeddingUnavailable, IndexMissingError, InputError
from qa.index.milvus.store import MilvusUnavailable

INTERNAL = "the server failed to answer this request; see the server log"

# A document write that did not happen (qa.index.document_writes), by its code.
DOCUMENT_WRITE_STATUS = {
    "payload_too_large": 413,
    "unreadable_text": 422,
    "unreadable_document": 422,
    "no_indexable_text": 422,
    "unknown_document": 404,
    "not_a_document": 409,
    "corpus_error": 409,
    "corpus_missing": 409,
    "last_document": 409,
    "internal_error": 500,
}


@dataclass(frozen=True)
class HttpError:
    status: int
    code: str
    message: str
    headers: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        """The API's one error shape."""
        return {"error": {"status": self.status, "code": self.code, "message": self.message}}


def http_error(exc: BaseException) -> HttpError:
    """The answer to ``exc``; anything not ours (or ours without a status) is a bug: 500 ``internal_error``."""
    if isinstance(exc, ApiError):
        return HttpError(exc.status, exc.code, exc.message, exc.headers)
    if isinstance(exc, DocumentWriteError):
        return HttpError(DOCUMENT_WRITE_STATUS[exc.code], exc.code, str(exc))
    if isinstance(exc, BusyError):
        return HttpError(503, exc.code, str(exc), {"Retry-After": str(exc.retry_after_s)})
    if isinstance(exc, InputError):
        return HttpError(422, exc.code, str(exc))
    if isinstance(exc, (IndexMissingError, MilvusUnavailable, EmbeddingUnavailable)):  # try again later
        return HttpError(503, exc.code, str(exc))
    return HttpError(500, "internal_error", INTERNAL)
