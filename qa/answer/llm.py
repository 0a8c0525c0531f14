"""A small client for any OpenAI-compatible chat-completions server (Ollama, vLLM, llama.cpp, DeepSeek, Qwen).

Only ``POST {base}/chat/completions`` is used, plain or streamed (server-sent
``data:`` lines). Every way the server can fail (refused connection, timeout,
an HTTP error, a body that is not the protocol) becomes an ``LlmFailure`` whose
message says what happened; the caller turns it into the quoted answer and a
note, so no LLM trouble ever reaches the user as an error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from qa.errors import WenyuanError
from qa.settings import Settings


class LlmFailure(Exception):
    """The model gave no usable answer; the message is the reason, fit to show a user."""


class LlmClient:
    """One pooled HTTP client per server process; safe to share between request threads."""

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 30.0
    ) -> None:
        import httpx  # here: servers without an LLM never pay for the import

        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.timeout_s = timeout_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s), follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def _body(self, messages: list[dict[str, str]], stream: bool) -> dict[str, Any]:
        return {"model": self.model, "messages": messages, "stream": stream, "temperature": 0}

    def complete(self, messages: list[dict[str, str]]) -> str:
        """The whole reply text at once."""
        import httpx

        try:
            resp = self._http.post(self.url, json=self._body(messages, False))
        except httpx.TimeoutException:
            raise LlmFailure(f"the model did not answer within {self.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise LlmFailure(f"the connection to the model server failed ({type(exc).__name__})") from None
        _check_status(resp.status_code)
        try:
            text = resp.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise LlmFailure("the model server's answer is not an OpenAI chat completion") from None
        if not isinstance(text, str) or not text.strip():
            raise LlmFailure("the model answered with no text")
        return text

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        """The reply in pieces as the server sends them; the whole reply must arrive within the timeout."""
        import httpx

        deadline = time.monotonic() + self.timeout_s
        got = False
        try:
            with self._http.stream("POST", self.url, json=self._body(messages, True)) as resp:
                _check_status(resp.status_code)
                for line in resp.iter_lines():
                    if time.monotonic() > deadline:
                        raise LlmFailure(f"the model did not finish within {self.timeout_s:g} s")
                    piece = _delta(line)
                    if piece is None:
                        break
                    if piece:
                        got = True
                        yield piece
        except httpx.TimeoutException:
            raise LlmFailure(f"the model did not answer within {self.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise LlmFailure(f"the connection to the model server failed ({type(exc).__name__})") from None
        if not got:
            raise LlmFailure("the model answered with no text")


def _check_status(status: int) -> None:
    if status != 200:
        raise LlmFailure(f"the model server answered HTTP {status}")


def _delta(line: str) -> str | None:
    """The text of one server-sent line ("" for keep-alives and non-data lines); None at ``data: [DONE]``."""
    if not line.startswith("data:"):
        return ""
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    try:
        choices = json.loads(data)["choices"]
        if not choices:  # some servers end with a usage chunk that has no choices
            return ""
        content = (choices[0].get("delta") or {}).get("content")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise LlmFailure("the model server's stream is not OpenAI chat-completion chunks") from None
    return content if isinstance(content, str) else ""


def make_llm(settings: Settings) -> LlmClient | None:
    """The configured model's client, or None when ``WENYUAN_LLM_BASE_URL`` is unset (answers are quoted)."""
    if not settings.llm_base_url:
        return None
    if not settings.llm_model.strip():
        raise WenyuanError(
            "WENYUAN_LLM_BASE_URL is set but WENYUAN_LLM_MODEL is not: name the model, e.g. qwen2.5:7b"
        )
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    return LlmClient(settings.llm_base_url, settings.llm_model, key, settings.llm_timeout)
