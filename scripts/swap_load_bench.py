"""Figures for issue 9: a load run on loopback across live swaps of the served build.

    .venv/bin/python scripts/swap_load_bench.py [--requests 1000] [--concurrency 8] [--swaps 5] [--keep]

A benchmark, not a test: it prints numbers. It copies seeds/ to a temporary
corpus, indexes it with the real model (`qa index`), starts `qa serve` with a
write token on a free loopback port, and runs two load phases of /api/search
and /api/chat (questions from tests/data/questions.jsonl, keep-alive clients
from scripts/load_test.py):

  A  no writes: the baseline;
  B  the same load while a writer makes live swaps one after the other:
     PUT a small new page, DELETE it, ... over the API (each answers once its
     build is served), and one build committed by `qa index` in a separate
     process, which the server must pick up without a restart.

A request fails when it gets anything but 200 (503 busy included) or no
answer at all. A swap window runs from the write's start to the moment
/api/health (polled every 50 ms) reports the new build; requests started
inside one are the "during swaps" latencies. Right after every write answers
(for `qa index`: once /api/health shows its build), GET /api/documents/{name}
checks that the served build already reflects the write.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from load_test import Busy, pct, post  # noqa: E402

from qa.evaluation.questions import SHIPPED, load_questions  # noqa: E402

QA = ROOT / ".venv" / "bin" / "qa"
HOST = "127.0.0.1"
TOKEN = "swap-bench-token"
DEADLINE_S = 540  # the whole run stays under ten minutes
PHASE_B_MAX_S = 300

# Small new pages the writer adds and removes: (name, text, a question only that page answers).
PAGES = [
    (
        "swap_library.txt",
        "平湖市图书馆新馆正式开放\n\n"
        "4月18日，平湖市图书馆新馆正式对外开放。新馆位于当湖街道东湖大道，建筑面积约两万八千平方米，"
        "设有少儿阅览区、古籍修复室和二十四小时自助借阅区，可容纳读者一千二百余人同时阅读。\n\n"
        "开馆首日，新馆共接待读者六千三百余人次，办理新读者证八百五十张。馆方表示，新馆将推出“一卡通借通还”服务，"
        "读者可在全市各镇街道分馆就近借还图书。\n\n"
        "据介绍，新馆藏书总量达到一百二十万册，其中地方文献专藏一万六千余册，将定期举办平湖地方史讲座。\n",
        "平湖市图书馆新馆开馆首日接待读者多少人次",
    ),
    (
        "swap_tea.txt",
        "遂昌春茶开采 茶农喜迎丰收\n\n"
        "清明前夕，遂昌县各主要茶园陆续开采春茶。今年全县茶园面积达到十二万亩，预计春茶产量一千九百吨，"
        "产值超过七亿元，比去年同期增长百分之九。\n\n"
        "在湖山乡的一处生态茶园里，六十多名采茶工正忙着采摘嫩芽。茶园负责人介绍，今年气温回升早，"
        "茶芽萌发比往年提前一周左右，头茶收购价每斤达到四百八十元。\n\n"
        "县农业农村局组织技术人员深入茶园，指导茶农做好病虫害绿色防控和机械化采摘，确保春茶质量安全。\n",
        "遂昌湖山乡生态茶园头茶收购价每斤多少元",
    ),
    (
        "swap_bridge.txt",
        "庆元松源溪新桥合龙\n\n"
        "5月6日上午，庆元县松源溪新桥主桥顺利合龙。新桥全长三百六十米，双向四车道，设计时速五十公里，"
        "建成后将连接城东新区和老城区，缓解濛洲街一带的交通压力。\n\n"
        "施工方介绍，项目自去年九月开工以来，克服汛期施工和山区运输等困难，累计投入建设者四百余人次。"
        "下一步将开展桥面铺装和附属工程施工，计划八月底建成通车。\n",
        "庆元松源溪新桥全长多少米",
    ),
]


@dataclass
class Outcome:
    started: float
    ended: float
    path: str
    error: str = ""

    @property
    def ms(self) -> float:
        return (self.ended - self.started) * 1000


@dataclass
class Swap:
    kind: str
    doc: str
    started: float
    answered: float = 0.0
    seen: float = 0.0
    build_before: str = ""
    build_after: str = ""
    status: int = 0
    took_ms: float = 0.0
    read_after_write_ok: bool | None = None


@dataclass
class HealthLog:
    """Every change of /api/health's build, as (monotonic time, build)."""

    changes: list[tuple[float, str]] = field(default_factory=list)
    errors: int = 0
    polls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def current(self) -> str:
        with self.lock:
            return self.changes[-1][1] if self.changes else ""

    def first_after(self, since: float, not_build: str) -> float | None:
        with self.lock:
            for at, build in self.changes:
                if at >= since and build != not_build:
                    return at
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def call(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 600,
) -> tuple[int, dict[str, Any]]:
    """One request on a fresh connection (writes, health): status and JSON body."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        raw = resp.read()
        try:
            return resp.status, json.loads(raw) if raw else {}
        except ValueError:
            return resp.status, {"raw": raw[:200].decode("utf-8", "replace")}
    finally:
        conn.close()


def watch_health(port: int, log: HealthLog, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            status, data = call(port, "GET", "/api/health", timeout=10)
            build = data.get("build", "") if status == 200 else ""
            with log.lock:
                log.polls += 1
                if status != 200:
                    log.errors += 1
                elif not log.changes or log.changes[-1][1] != build:
                    log.changes.append((time.perf_counter(), build))
        except (OSError, http.client.HTTPException):
            with log.lock:
                log.errors += 1
        stop.wait(0.05)


def payloads(questions: list[str], n: int, offset: int = 0) -> list[tuple[str, dict]]:
    out = []
    for i in range(n):
        q = questions[(i + offset) % len(questions)]
        if i % 2:
            out.append(("/api/chat", {"messages": [{"role": "user", "content": q}], "k": 5}))
        else:
            out.append(("/api/search", {"question": q, "k": 5}))
    return out


def load(
    base: str,
    work: list[tuple[str, dict]],
    concurrency: int,
    minimum: int,
    keep_going: threading.Event,
    limit_s: float,
) -> list[Outcome]:
    """``concurrency`` clients cycle through ``work`` until ``minimum`` requests are done and ``keep_going`` is clear."""
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    counter = iter(range(10**9))
    deadline = time.perf_counter() + limit_s

    def client() -> None:
        while True:
            with lock:
                i = next(counter)
            if (i >= minimum and not keep_going.is_set()) or time.perf_counter() > deadline:
                return
            path, payload = work[i % len(work)]
            started = time.perf_counter()
            error = ""
            try:
                post(f"{base}{path}", payload)
            except Busy:
                error = "503 busy"
            except RuntimeError as exc:
                error = str(exc).rsplit(" ", 1)[-1]  # "<url> answered <status>"
            except (OSError, http.client.HTTPException) as exc:
                error = type(exc).__name__
            with lock:
                outcomes.append(Outcome(started, time.perf_counter(), path, error))

    threads = [threading.Thread(target=client, name=f"client-{n}") for n in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def served(port: int, name: str) -> bool | None:
    """Whether the served build holds ``name`` (GET /api/documents/{name}: 200 or 404).

    Not a search: a ninth question beside the eight clients would exceed the
    server's model queue (depth 8) and be shed with 503 busy.
    """
    status, _ = call(port, "GET", f"/api/documents/{name}", timeout=60)
    return {200: True, 404: False}.get(status)


def swapper(
    port: int,
    corpus: Path,
    index_dir: Path,
    health: HealthLog,
    swaps: int,
    gap_s: float,
    out: list[Swap],
    done: threading.Event,
    env: dict[str, str],
) -> None:
    """Alternately PUT and DELETE small pages over the API; the third swap is a `qa index` run instead."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    live: list[tuple[str, str, str]] = []
    pages = itertools.cycle(PAGES)
    try:
        for n in range(swaps):
            time.sleep(gap_s)
            before = health.current()
            if n == 2:
                name, text, question = next(pages)
                swap = Swap("qa index (separate process)", name, time.perf_counter(), build_before=before)
                (corpus / name).write_text(text, encoding="utf-8")
                proc = subprocess.run(
                    [str(QA), "index", str(corpus), "--index-dir", str(index_dir), "--json"],
                    capture_output=True,
                    text=True,
                    env=env,
                    timeout=300,
                )
                swap.answered = time.perf_counter()
                swap.status = proc.returncode
                if proc.returncode == 0:
                    swap.took_ms = json.loads(proc.stdout).get("seconds", 0) * 1000
                    live.append((name, text, question))
            elif live and n % 2 == 1:
                name, text, question = live.pop(0)
                swap = Swap("DELETE /api/documents", name, time.perf_counter(), build_before=before)
                swap.status, data = call(port, "DELETE", f"/api/documents/{name}", headers=auth)
                swap.answered = time.perf_counter()
                swap.took_ms = data.get("took_ms", 0.0)
                swap.read_after_write_ok = served(port, name) is False
            else:
                name, text, question = next(pages)
                swap = Swap("PUT /api/documents", name, time.perf_counter(), build_before=before)
                swap.status, data = call(
                    port,
                    "PUT",
                    f"/api/documents/{name}",
                    text.encode("utf-8"),
                    {**auth, "Content-Type": "text/plain; charset=utf-8"},
                )
                swap.answered = time.perf_counter()
                swap.took_ms = data.get("took_ms", 0.0)
                swap.read_after_write_ok = served(port, name) is True
                live.append((name, text, question))
            wait_until = time.perf_counter() + 30
            while time.perf_counter() < wait_until:
                seen = health.first_after(swap.started, before)
                if seen is not None:
                    swap.seen, swap.build_after = seen, health.current()
                    if swap.read_after_write_ok is None and swap.status == 0:
                        swap.read_after_write_ok = served(port, swap.doc) is True
                    break
                time.sleep(0.05)
            out.append(swap)
    finally:
        done.clear()


def summarize(outcomes: list[Outcome]) -> dict[str, Any]:
    ok = [o.ms for o in outcomes if not o.error]
    errors: dict[str, int] = {}
    for o in outcomes:
        if o.error:
            errors[o.error] = errors.get(o.error, 0) + 1
    return {
        "requests": len(outcomes),
        "failed": sum(errors.values()),
        "errors": errors,
        "p50_ms": round(pct(ok, 50), 1),
        "p95_ms": round(pct(ok, 95), 1),
        "max_ms": round(max(ok, default=0), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=1000, help="at least this many requests per phase")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--swaps", type=int, default=5)
    ap.add_argument(
        "--gap", type=float, default=3.0, help="seconds between one swap's end and the next write"
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary corpus, index and server log")
    args = ap.parse_args()
    started_all = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    work = Path(tempfile.mkdtemp(prefix="wenyuan-swap-"))
    corpus, index_dir = work / "corpus", work / "index"
    shutil.copytree(ROOT / "seeds", corpus)
    env = {**os.environ, "WENYUAN_API_TOKEN": TOKEN}
    server: subprocess.Popen | None = None
    stop_health = threading.Event()
    try:
        log("indexing the seeds copy with the real model ...")
        t = time.perf_counter()
        subprocess.run(
            [str(QA), "index", str(corpus), "--index-dir", str(index_dir), "--json"],
            check=True,
            capture_output=True,
            env=env,
            timeout=600,
        )
        index_s = time.perf_counter() - t
        port = free_port()
        server_log = open(work / "server.log", "wb")
        server = subprocess.Popen(
            [str(QA), "serve", "--index-dir", str(index_dir), "--port", str(port)],
            stdout=server_log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.perf_counter() + 120
        while True:
            try:
                status, data = call(port, "GET", "/api/health", timeout=5)
                if status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.perf_counter() > deadline:
                raise SystemExit(f"error: qa serve did not come up; see {work / 'server.log'}")
            time.sleep(0.25)
        if not data.get("writes"):
            raise SystemExit("error: the server reports writes disabled; WENYUAN_API_TOKEN was not seen")
        base = f"http://{HOST}:{port}"
        log(f"server up on {base}, build {data['build']}, {data['chunks']} chunks")

        questions = [q.question for q in load_questions(SHIPPED)]
        for q in questions[:8]:
            post(f"{base}/api/search", {"question": q})
        health = HealthLog()
        watcher = threading.Thread(target=watch_health, args=(port, health, stop_health), daemon=True)
        watcher.start()

        log(f"phase A: {args.requests} requests, {args.concurrency} concurrent, no writes ...")
        idle = threading.Event()
        t = time.perf_counter()
        phase_a = load(
            base, payloads(questions, args.requests), args.concurrency, args.requests, idle, PHASE_B_MAX_S
        )
        a_s = time.perf_counter() - t
        log(f"phase A: {len(phase_a)} requests in {a_s:.1f} s")

        log(f"phase B: ≥ {args.requests} requests while {args.swaps} swaps run ...")
        swaps: list[Swap] = []
        writing = threading.Event()
        writing.set()
        budget = max(60.0, DEADLINE_S - (time.perf_counter() - started_all) - 30)
        writer = threading.Thread(
            target=swapper,
            args=(port, corpus, index_dir, health, args.swaps, args.gap, swaps, writing, env),
            daemon=True,
        )
        t = time.perf_counter()
        writer.start()
        phase_b = load(
            base,
            payloads(questions, args.requests, offset=7),
            args.concurrency,
            args.requests,
            writing,
            min(PHASE_B_MAX_S, budget),
        )
        b_s = time.perf_counter() - t
        writer.join(timeout=60)
        time.sleep(0.3)
        stop_health.set()
        log(f"phase B: {len(phase_b)} requests in {b_s:.1f} s, {len(swaps)} swaps")

        final = []  # with the load stopped: does a question only the page answers find exactly the pages served?
        for name, _, question in PAGES:
            status, data = call(
                port,
                "POST",
                "/api/search",
                json.dumps({"question": question, "k": 5}).encode("utf-8"),
                {"Content-Type": "application/json"},
                timeout=60,
            )
            found = name in [h["citation"]["doc"] for h in data.get("hits", [])] if status == 200 else None
            final.append((name, served(port, name), found))

        windows = [(s.started, s.seen or s.answered) for s in swaps]
        during = [o for o in phase_b if any(a <= o.started <= b for a, b in windows)]
        outside = [o for o in phase_b if not any(a <= o.started <= b for a, b in windows)]
        changes_b = [c for c in health.changes if c[0] >= t]
        stats = {
            "A (no swaps)": summarize(phase_a),
            "B (whole phase)": summarize(phase_b),
            "B during swap windows": summarize(during),
            "B outside swap windows": summarize(outside),
        }

        print("=" * 100)
        print("swap_load_bench: load on loopback across live swaps (qa serve, real model, seeds copy)")
        print(
            "machine: shared, busy 2-core machine (other agents running); latencies are client-side wall clock"
        )
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        print(f"code: git HEAD {head or '?'} + working tree at {time.strftime('%H:%M', time.gmtime())} UTC")
        print(f"index of the seeds copy: {index_s:.1f} s (qa index, separate process); server {base}")
        print(
            f"load: {args.concurrency} keep-alive clients, /api/search and /api/chat alternating, questions from "
            f"tests/data/questions.jsonl; a client reconnects once when the server closed an idle keep-alive connection"
        )
        print()
        print(
            f"{'phase':26s} {'requests':>8s} {'failed':>6s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s}  errors"
        )
        for label, s in stats.items():
            print(
                f"{label:26s} {s['requests']:8d} {s['failed']:6d} {s['p50_ms']:8.1f} {s['p95_ms']:8.1f} "
                f"{s['max_ms']:8.1f}  {s['errors'] or ''}"
            )
        total = len(phase_a) + len(phase_b)
        failed = stats["A (no swaps)"]["failed"] + stats["B (whole phase)"]["failed"]
        print(f"total requests {total}, failed {failed} (goal 0); phase A {a_s:.1f} s, phase B {b_s:.1f} s")
        print()
        print(
            "swaps (window = write start → /api/health shows the new build; answered-build = what the write spends besides"
            " build_index: queueing, opening the new build, HTTP; for `qa index`: process start, model and jieba load):"
        )
        for n, s in enumerate(swaps, 1):
            window = ((s.seen or s.answered) - s.started) * 1000
            answered = (s.answered - s.started) * 1000
            raw = {None: "-", True: "yes", False: "NO"}[s.read_after_write_ok]
            inside = summarize([o for o in phase_b if s.started <= o.started <= (s.seen or s.answered)])
            print(
                f"  {n}. {s.kind:28s} {s.doc:18s} status {s.status:3d}  answered {answered:7.0f} ms  "
                f"build took {s.took_ms:7.0f} ms  answered-build {answered - s.took_ms:6.0f} ms  window {window:7.0f} ms  "
                f"health {'changed' if s.seen else 'DID NOT CHANGE'} ({s.build_before[-8:]} → {s.build_after[-8:]})  "
                f"read-after-write {raw}"
            )
            print(
                f"     requests started in this window: {inside['requests']}, failed {inside['failed']}, "
                f"p50 {inside['p50_ms']:.0f} ms, p95 {inside['p95_ms']:.0f} ms"
            )
        observed = len(changes_b)
        print(
            f"build changes seen by /api/health during phase B: {observed} (swaps made: {len(swaps)}); "
            f"health polls {health.polls}, failed polls {health.errors}"
        )
        print(
            "after the load, each page's own question: "
            + "; ".join(f"{name} served {is_served} / in top 5 {found}" for name, is_served, found in final)
        )
        summary = {
            "machine": "shared busy 2-core machine",
            "requests_total": total,
            "failed_total": failed,
            "phases": stats,
            "swaps_made": len(swaps),
            "swaps_observed_via_health": observed,
            "swaps": [
                {
                    "kind": s.kind,
                    "doc": s.doc,
                    "status": s.status,
                    "answered_ms": round((s.answered - s.started) * 1000),
                    "build_ms": round(s.took_ms),
                    "window_ms": round(((s.seen or s.answered) - s.started) * 1000),
                    "health_changed": bool(s.seen),
                    "read_after_write_ok": s.read_after_write_ok,
                    "window_requests": summarize(
                        [o for o in phase_b if s.started <= o.started <= (s.seen or s.answered)]
                    ),
                }
                for s in swaps
            ],
            "phase_seconds": {"A": round(a_s, 1), "B": round(b_s, 1)},
            "health_poll_failures": health.errors,
            "pages_after": [{"doc": n, "served": a, "found_by_its_question": f} for n, a, f in final],
        }
        print()
        print("JSON summary")
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    finally:
        stop_health.set()
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
