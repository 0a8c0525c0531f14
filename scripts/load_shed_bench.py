"""Load shedding under many clients, on a quiet CPU and beside a CPU hog (loopback only).

    .venv/bin/python -m scripts.load_shed_bench --index-dir .wenyuan      # starts and stops its own `qa serve`
    .venv/bin/python -m scripts.load_shed_bench --url http://127.0.0.1:8000
        [--clients 8,16,64] [--seconds 15] [--requests 2000] [--hog 2] [--backoff]

For each number of concurrent clients, every client sends /api/search questions
back to back on its own keep-alive connection until ``--requests`` were sent or
``--seconds`` passed; a 503 ``busy`` is counted and (with ``--backoff``) waited
out for its ``Retry-After``, otherwise the client asks again at once, the harsher
case. A side thread polls /api/health throughout. Then the same again with
``--hog`` busy-looping processes beside the server, each phase bounded by
``--seconds`` and the hogs always killed. Prints accepted p50/p95, the count of
503 busy and their p95, the count of anything else, and the issue's target:
accepted p95 at the most clients ≤ 2 × accepted p95 at the fewest.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class Level:
    clients: int
    ok_ms: list[float] = field(default_factory=list)
    busy_ms: list[float] = field(default_factory=list)
    other: dict[str, int] = field(default_factory=dict)
    health_bad: int = 0
    health_polls: int = 0
    seconds: float = 0.0

    def record(self, status: int, code: str, ms: float) -> None:
        if status == 200:
            self.ok_ms.append(ms)
        elif status == 503 and code == "busy":
            self.busy_ms.append(ms)
        else:
            key = f"{status} {code}"
            self.other[key] = self.other.get(key, 0) + 1


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def request(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None
) -> tuple[int, str, str | None]:
    """Status, error code (if any) and Retry-After of one request on a keep-alive connection."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    code = ""
    if resp.status != 200:
        try:
            code = json.loads(data)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = "unparsed"
    return resp.status, code, resp.getheader("Retry-After")


def client(
    host: str,
    port: int,
    payloads: list[bytes],
    level: Level,
    lock: threading.Lock,
    budget: list[int],
    deadline: float,
    backoff: bool,
    offset: int,
) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=60)
    i = offset
    while time.monotonic() < deadline:
        with lock:
            if budget[0] <= 0:
                break
            budget[0] -= 1
        started = time.perf_counter()
        try:
            status, code, retry_after = request(conn, "POST", "/api/search", payloads[i % len(payloads)])
        except (OSError, http.client.HTTPException) as exc:
            status, code, retry_after = 0, type(exc).__name__, None
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=60)
        ms = (time.perf_counter() - started) * 1000
        with lock:
            level.record(status, code, ms)
        if status == 503 and code == "busy" and backoff:
            time.sleep(float(retry_after or 1))
        i += 1
    conn.close()


def health_poller(host: str, port: int, level: Level, stop: threading.Event) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    while not stop.wait(0.25):
        try:
            status, _, _ = request(conn, "GET", "/api/health", None)
        except (OSError, http.client.HTTPException):
            status = 0
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
        level.health_polls += 1
        level.health_bad += status != 200
    conn.close()


def run_level(
    host: str, port: int, payloads: list[bytes], clients: int, requests: int, seconds: float, backoff: bool
) -> Level:
    level, lock, stop = Level(clients), threading.Lock(), threading.Event()
    budget = [requests]
    deadline = time.monotonic() + seconds
    poller = threading.Thread(target=health_poller, args=(host, port, level, stop))
    threads = [
        threading.Thread(
            target=client, args=(host, port, payloads, level, lock, budget, deadline, backoff, n * 7)
        )
        for n in range(clients)
    ]
    started = time.perf_counter()
    poller.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    level.seconds = time.perf_counter() - started
    stop.set()
    poller.join()
    return level


def start_hogs(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def stop_hogs(hogs: list[subprocess.Popen]) -> None:
    for h in hogs:
        h.kill()
    for h in hogs:
        h.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index_dir: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """``qa serve`` on a free loopback port, with ``env`` (default: this process's environment)."""
    port = free_port()
    qa = Path(sys.executable).with_name("qa")
    proc = subprocess.Popen(
        [str(qa), "serve", "--index-dir", index_dir, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"error: qa serve exited with status {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            if request(conn, "GET", "/api/health", None)[0] == 200:
                return proc, url
        except OSError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("error: qa serve did not become healthy within 180 s")


def print_level(where: str, lv: Level) -> None:
    other = ", ".join(f"{k}×{v}" for k, v in sorted(lv.other.items())) or "0"
    print(
        f"{where:6s} {lv.clients:4d} {len(lv.ok_ms):6d} {pct(lv.ok_ms, 50):8.0f} {pct(lv.ok_ms, 95):8.0f} "
        f"{len(lv.ok_ms) / lv.seconds:6.1f} {len(lv.busy_ms):6d} {pct(lv.busy_ms, 95):8.1f}   "
        f"{lv.health_polls - lv.health_bad}/{lv.health_polls:<4d} {other}",
        flush=True,
    )


def verdict(where: str, levels: list[Level]) -> None:
    low, high = levels[0], levels[-1]
    ratio = pct(high.ok_ms, 95) / pct(low.ok_ms, 95)
    clean = not any(lv.other for lv in levels)
    print(
        f"{where}: accepted p95 at {high.clients} clients is {ratio:.2f} × the p95 at {low.clients} "
        f"(target ≤ 2): {'met' if ratio <= 2 else 'NOT met'}; other errors: {'none' if clean else 'SOME'}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", help="a running server; otherwise --index-dir starts one")
    ap.add_argument(
        "--index-dir", help="start `qa serve` on this index (with this environment's WENYUAN_* settings)"
    )
    ap.add_argument("--clients", default="8,16,64")
    ap.add_argument("--seconds", type=float, default=15.0, help="per level; at most 60")
    ap.add_argument("--requests", type=int, default=20000, help="per level, 503s included")
    ap.add_argument(
        "--hog", type=int, default=2, help="busy-looping processes in the second pass (0: skip it)"
    )
    ap.add_argument("--backoff", action="store_true", help="clients wait out Retry-After after a 503 busy")
    args = ap.parse_args()
    if not 0 < args.seconds <= 60:
        raise SystemExit("error: --seconds must be in (0, 60]")
    if bool(args.url) == bool(args.index_dir):
        raise SystemExit("error: give exactly one of --url and --index-dir")
    server = None
    if args.index_dir:
        server, url = start_server(args.index_dir)
    else:
        url = args.url
    try:
        parts = urlparse(url)
        if parts.hostname not in LOOPBACK:
            raise SystemExit("error: load tests only target loopback addresses")
        host, port = parts.hostname, parts.port or 80
        path = ROOT / "tests" / "data" / "questions.jsonl"
        questions = [json.loads(ln)["question"] for ln in path.read_text("utf-8").splitlines() if ln.strip()]
        payloads = [json.dumps({"question": q, "k": 5}).encode() for q in questions]
        warm = http.client.HTTPConnection(host, port, timeout=60)
        for p in payloads[:5]:
            request(warm, "POST", "/api/search", p)
        warm.close()
        levels = [int(c) for c in args.clients.split(",")]
        env = {
            k: v
            for k, v in os.environ.items()
            if k.startswith(("WENYUAN_MODEL_QUEUE", "WENYUAN_BUSY", "OMP_", "GOMP_"))
        }
        print(
            f"{url}; clients {'back off' if args.backoff else 'retry at once'} after 503; "
            f"≤{args.requests} requests or {args.seconds:.0f} s per level; {os.cpu_count()} CPUs, shared machine; {env or ''}"
        )
        print("CPU    clients  ok  ok p50 ok p95  ok/s   busy busy p95 health  other")
        passes = [("quiet", 0)] + ([(f"hog×{args.hog}", args.hog)] if args.hog else [])
        for where, hogs in passes:
            done: list[Level] = []
            for clients in levels:
                running = start_hogs(hogs)
                try:
                    done.append(
                        run_level(host, port, payloads, clients, args.requests, args.seconds, args.backoff)
                    )
                finally:
                    stop_hogs(running)
                print_level(where, done[-1])
            verdict(where, done)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
