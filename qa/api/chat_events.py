"""``POST /api/chat`` with ``"stream": true``: the answer as server-sent events.

``event: delta`` carries ``{"text": ...}``, a piece of the answer as soon as it
is ready (a quoted line, or a generated sentence once verified); the pieces join
to the final answer. ``event: answer`` then carries the whole answer object,
the same JSON as the plain response. A failure after the stream started (the
status line is gone by then) ends it with ``event: error`` in the API's error shape.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from qa.answer.chat import ChatAnswer

log = logging.getLogger(__name__)


def event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def chat_events(pieces: Iterator[str | ChatAnswer]) -> Iterator[str]:
    try:
        for piece in pieces:
            if isinstance(piece, ChatAnswer):
                yield event("answer", piece.to_json())
            elif piece:
                yield event("delta", {"text": piece})
    except Exception:
        log.exception("chat stream failed")
        failed = {
            "status": 500,
            "code": "internal_error",
            "message": "the server failed to finish this answer; see the server log",
        }
        yield event("error", {"error": failed})
