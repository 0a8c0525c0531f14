"""What an OpenAI-compatible ``/v1/embeddings`` answer must be before its vectors go into an index.

TEI, vLLM, Ollama and Infinity all speak this protocol, each with its own
quirks (``data`` out of order, base64 or float lists, a dimension other than
the one configured, a 200 with no vectors under load). A short or misordered
answer would silently give passages each other's vectors, so every answer is
checked here and anything unexpected becomes one clear line.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import math
import time
from typing import Any

import numpy as np

from qa.errors import EmbeddingUnavailable

# The longest server-asked wait we honour: a longer Retry-After is more likely a mistake than a plan.
MAX_RETRY_AFTER_S = 120.0


class BadResponse(EmbeddingUnavailable):
    """The server answered 200 with something that is not one finite vector per input."""


def endpoint(url: str) -> str:
    """``http://host:8080/v1`` → ``…/v1/embeddings``; a URL already ending in ``/embeddings`` is kept."""
    url = url.rstrip("/")
    return url if url.endswith("/embeddings") else f"{url}/embeddings"


def request_body(model: str, texts: list[str], encoding_format: str) -> dict[str, Any]:
    """Raw strings only (never token ids) and the encoding named: servers differ in their defaults."""
    return {"model": model, "input": texts, "encoding_format": encoding_format}


def vectors_of(body: Any, count: int, dimension: int) -> np.ndarray:
    """The ``count`` vectors of an answer in input order (by ``index``), or BadResponse saying what is wrong.

    ``dimension`` 0 accepts any one dimension; otherwise every vector must have it.
    """
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise BadResponse("the embedding server's answer has no 'data' list")
    if len(data) != count:
        raise BadResponse(f"the embedding server returned {len(data)} vectors for {count} texts")
    rows: list[np.ndarray | None] = [None] * count
    for position, item in enumerate(data):
        index = item.get("index", position) if isinstance(item, dict) else None
        if not isinstance(index, int) or not 0 <= index < count or rows[index] is not None:
            raise BadResponse(
                f"the embedding server's 'data' has a missing, repeated or out-of-range index {index!r}"
            )
        rows[index] = _decode(item.get("embedding"))
    sizes = {len(row) for row in rows if row is not None}
    if len(sizes) != 1:
        raise BadResponse(f"the embedding server returned vectors of several dimensions: {sorted(sizes)}")
    size = sizes.pop()
    if dimension and size != dimension:
        raise BadResponse(
            f"the embedding server returned {size}-dimensional vectors where {dimension} were expected "
            "(another model behind the same name, or WENYUAN_EMBED_DIMENSION is wrong)"
        )
    vectors = np.vstack(rows).astype(np.float32, copy=False)  # type: ignore[arg-type]
    if not np.isfinite(vectors).all():
        raise BadResponse("the embedding server returned a vector with NaN or infinite values")
    return vectors


def _decode(embedding: Any) -> np.ndarray:
    """A float list, or base64 of little-endian float32 (what ``encoding_format: base64`` returns)."""
    if isinstance(embedding, str):
        try:
            raw = base64.b64decode(embedding, validate=True)
        except (binascii.Error, ValueError):
            raise BadResponse(
                "the embedding server returned an embedding that is neither a list nor base64"
            ) from None
        if not raw or len(raw) % 4:
            raise BadResponse(
                f"the embedding server returned a base64 embedding of {len(raw)} bytes (not float32)"
            )
        return np.frombuffer(raw, dtype="<f4")
    if isinstance(embedding, list) and embedding and all(isinstance(x, (int, float)) for x in embedding):
        return np.asarray(embedding, dtype=np.float32)
    raise BadResponse("the embedding server returned an empty or non-numeric embedding")


def retry_after(header: str | None) -> float | None:
    """Seconds a ``Retry-After`` asks for (delta-seconds or an HTTP date), capped; None when absent or unreadable."""
    if not header:
        return None
    header = header.strip()
    try:
        seconds = float(header)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def server_message(body: Any, text: str) -> str:
    """The server's own explanation of an error, on one line and short."""
    message: Any = None
    if isinstance(body, dict):
        error = body.get("error")
        message = (
            error.get("message")
            if isinstance(error, dict)
            else error or body.get("message") or body.get("detail")
        )
    line = " ".join(str(message if message else text).split())
    return line[:300] or "(no message)"
