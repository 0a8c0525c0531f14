"""OpenAI's chat shapes for wenyuan's answers: the completion, its stream chunks, the error body.

Pure functions; qa.api.openai_api owns the routes. The source list goes into
``content`` itself, after the answer, because most chat clients show ``content``
and nothing else; the full citation objects ride along in extra fields that
clients which do not know them ignore.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.answer.chat import ChatAnswer
    from qa.models import Citation

MODEL_ID = "wenyuan"
SOURCES = "来源："
NEAREST = "参考："
NEAREST_SHOWN = 3
EXTRA_FIELDS = ("citations", "abstained", "question", "generated", "unsupported", "generation_note")
DONE = "data: [DONE]\n\n"


def is_openai_path(path: str) -> bool:
    return path == "/v1" or path.startswith("/v1/")


def error_json(status: int, code: str, message: str, param: str | None = None) -> dict[str, Any]:
    """OpenAI's error body; the type follows OpenAI's use (401 and 404 are ``invalid_request_error`` there too)."""
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return {"error": {"message": message, "type": kind, "code": code, "param": param}}


def model_card(created: int) -> dict[str, Any]:
    return {"id": MODEL_ID, "object": "model", "created": created, "owned_by": MODEL_ID}


def source_line(c: Citation) -> str:
    lines = f"第{c.line_start}行" if c.line_start == c.line_end else f"第{c.line_start}–{c.line_end}行"
    return f"《{c.title}》 {c.doc} · 第{c.paragraph}段 · {lines}"


def source_list(reply: ChatAnswer) -> str:
    """The answer's citations as a markdown list; for a decline, the nearest passages the notice points to."""
    if reply.citations:
        return (
            SOURCES
            + "\n"
            + "\n".join(f"- [{n}] {source_line(c)}" for n, c in enumerate(reply.citations, start=1))
        )
    nearest: list[Citation] = []
    for hit in reply.result.hits:
        if hit.citation not in nearest:
            nearest.append(hit.citation)
    if not nearest:
        return ""
    return NEAREST + "\n" + "\n".join(f"- {source_line(c)}" for c in nearest[:NEAREST_SHOWN])


def tail(reply: ChatAnswer) -> str:
    """What follows the answer text in ``content``: a blank line and the source list, or nothing."""
    sources = source_list(reply)
    return "\n\n" + sources if sources else ""


def strip_tail(text: str) -> str:
    """An assistant message as the conversation had it before the source list was added."""
    for header in (SOURCES, NEAREST):
        text = text.split("\n\n" + header + "\n", 1)[0]
    return text


def extras(reply: ChatAnswer) -> dict[str, Any]:
    data = reply.to_json()
    return {k: data[k] for k in EXTRA_FIELDS}


def usage(prompt_chars: int, completion_chars: int) -> dict[str, int]:
    """Counted in characters, not tokens: there is no tokenizer to count with, and no one is billed."""
    total = prompt_chars + completion_chars
    return {"prompt_tokens": prompt_chars, "completion_tokens": completion_chars, "total_tokens": total}


def completion(reply: ChatAnswer, cid: str, created: int, prompt_chars: int) -> dict[str, Any]:
    content = reply.answer + tail(reply)
    message = {"role": "assistant", "content": content, **extras(reply)}
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_ID,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
        "usage": usage(prompt_chars, len(content)),
    }


def chunk(cid: str, created: int, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL_ID,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }


def usage_chunk(cid: str, created: int, prompt_chars: int, completion_chars: int) -> dict[str, Any]:
    """The extra last chunk OpenAI sends when ``stream_options.include_usage`` is set: no choices, only usage."""
    out = chunk(cid, created, {})
    out["choices"] = []
    out["usage"] = usage(prompt_chars, completion_chars)
    return out


def event(data: dict[str, Any]) -> str:
    return "data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n\n"
