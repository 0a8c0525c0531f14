"""A stand-in for the user's LLM: a tiny OpenAI-protocol server on a loopback port with scripted replies.

It speaks ``POST /v1/chat/completions`` as Ollama, vLLM or DeepSeek do, plain
(one ``chat.completion``) or streamed (``chat.completion.chunk`` server-sent
events ending ``data: [DONE]``), as the request's ``stream`` asks. A test
queues what the next request gets — a reply text, a delay, an HTTP status —
and reads back every request it received (so it can check the prompt, or that
no request came at all).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = str | Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class Script:
    """What one request gets: ``text`` (or a function of the request body), after ``delay_s``, with ``status``;
    streamed ``chunk_chars`` at a time with ``pause_s`` after each; ``raw``: this body instead, whatever was asked."""

    text: Reply = ""
    status: int = 200
    delay_s: float = 0.0
    chunk_chars: int = 3
    pause_s: float = 0.0
    raw: bytes | None = None


class StandIn:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Script] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.base_url = ""

    def reply(
        self,
        text: Reply = "",
        status: int = 200,
        delay_s: float = 0.0,
        chunk_chars: int = 3,
        pause_s: float = 0.0,
        raw: bytes | None = None,
    ) -> None:
        with self._lock:
            self._queue.append(Script(text, status, delay_s, chunk_chars, pause_s, raw))

    def next_script(self, body: dict[str, Any], headers: dict[str, str]) -> Script:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            if self._queue:
                return self._queue.pop(0)
        return Script("no reply was scripted for this request", status=500)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.headers.clear()

    def passages(self, index: int = -1) -> list[str]:
        """The numbered passages of the ``index``-th received prompt, ``[1]`` first."""
        return passages_of(self.requests[index])


def passages_of(body: dict[str, Any]) -> list[str]:
    """The numbered passages a chat-completions request hands the model (qa.answer.generate's prompt), ``[1]`` first."""
    user = body["messages"][-1]["content"]
    sources = user.split("资料：\n", 1)[1].rsplit("\n\n问题：", 1)[0]
    return [block.split("] ", 1)[1] for block in sources.split("\n\n[")]


class QuietHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1, no access log, and a JSON answer helper: what every stand-in's handler needs."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(data, ensure_ascii=False).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


def _handler(standin: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path != "/v1/chat/completions":
                self._json(
                    404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}}
                )
                return
            script = standin.next_script(body, dict(self.headers.items()))
            time.sleep(script.delay_s)
            if script.status != 200:
                self._json(script.status, {"error": {"message": "scripted failure", "type": "server_error"}})
                return
            if script.raw is not None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(script.raw)))
                self.end_headers()
                self.wfile.write(script.raw)
                return
            text = script.text(body) if callable(script.text) else script.text
            if body.get("stream"):
                self._stream(text, script, body.get("model", ""))
            else:
                message = {"role": "assistant", "content": text}
                self._json(
                    200,
                    _completion(
                        "chat.completion",
                        body.get("model", ""),
                        {"message": message, "finish_reason": "stop"},
                    ),
                )

        def _stream(self, text: str, script: Script, model: str) -> None:
            size = script.chunk_chars
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            pieces = [{"role": "assistant"}] + [
                {"content": text[i : i + size]} for i in range(0, len(text), size)
            ]
            for delta in pieces:
                chunk = _completion("chat.completion.chunk", model, {"delta": delta, "finish_reason": None})
                self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                self.wfile.flush()
                if "content" in delta:
                    time.sleep(script.pause_s)
            end = _completion("chat.completion.chunk", model, {"delta": {}, "finish_reason": "stop"})
            self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
            self.wfile.flush()
            self.close_connection = True

    return Handler


def _completion(kind: str, model: str, choice: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-standin",
        "object": kind,
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, **choice}],
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client hung up (the timeout case), or a stand-in dropped it on purpose: nothing to report


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` serving on 127.0.0.1 (a free port) in a thread; yields the base URL, ending in ``/v1`` like Ollama's."""
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def running() -> Iterator[StandIn]:
    """The stand-in serving on 127.0.0.1 (a free port); ``base_url`` ends in ``/v1`` like Ollama's."""
    standin = StandIn()
    with serving(_handler(standin)) as url:
        standin.base_url = url
        yield standin


def llm_settings(settings: Any, standin: StandIn, timeout: float, key: str = "sk-test") -> Any:
    """``settings`` with the LLM pointed at the stand-in."""
    from pydantic import SecretStr

    return settings.model_copy(
        update={
            "llm_base_url": standin.base_url,
            "llm_model": "standin-7b",
            "llm_api_key": SecretStr(key),
            "llm_timeout": timeout,
        }
    )
