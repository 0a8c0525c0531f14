"""What MCP costs on top of the HTTP API: the same questions as tool calls on /mcp and as requests to /api.

    .venv/bin/python scripts/mcp_bench.py [--url http://127.0.0.1:8000] [--token T] [--requests 60]

Against a running ``qa serve`` (loopback only), one question at a time, the
two doors taken in turn for each question so that both see the same load:
``search`` vs POST /api/search, ``ask`` vs POST /api/chat, ``list_documents``
vs GET /api/documents. Both clients keep one connection (the MCP one a single
session, handshake-era, as desktop clients speak it). Prints p50 and p95 of
each and the MCP/API ratio of the p50s (the issue's target: at most 1.2).
No timed assertion: the figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

import anyio
import httpx
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from qa.evaluation.questions import SHIPPED, load_questions


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await call()
    return (time.perf_counter() - start) * 1000


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def measure(base: str, token: str | None, requests: int) -> dict[str, dict[str, list[float]]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    questions = [q.question for q in load_questions(SHIPPED)]
    picks = [questions[i % len(questions)] for i in range(requests)]
    times: dict[str, dict[str, list[float]]] = {
        n: {"mcp": [], "api": []} for n in ("search", "ask", "list_documents")
    }
    async with (
        httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as api,
        create_mcp_http_client(headers=headers) as http,
    ):
        async with Client(streamable_http_client(f"{base}/mcp", http_client=http), mode="legacy") as mcp:
            await mcp.list_tools()

            async def tool(name: str, arguments: dict[str, Any]) -> None:
                result = await mcp.call_tool(name, arguments)
                if result.is_error:
                    raise SystemExit(f"error: the {name} tool failed: {result.content[0].text}")

            async def route(method: str, path: str, body: dict[str, Any] | None = None) -> None:
                (await api.request(method, path, json=body)).raise_for_status()

            for q in questions[:3]:  # warm both doors
                await tool("search", {"question": q})
                await route("POST", "/api/search", {"question": q})
            for n, q in enumerate(picks):
                pairs: list[tuple[str, Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]] = [
                    (
                        "search",
                        lambda: tool("search", {"question": q, "k": 5}),
                        lambda: route("POST", "/api/search", {"question": q, "k": 5}),
                    ),
                    (
                        "ask",
                        lambda: tool("ask", {"question": q}),
                        lambda: route("POST", "/api/chat", {"messages": [{"role": "user", "content": q}]}),
                    ),
                    (
                        "list_documents",
                        lambda: tool("list_documents", {}),
                        lambda: route("GET", "/api/documents"),
                    ),
                ]
                for name, over_mcp, over_api in pairs:
                    first, second = (over_mcp, over_api) if n % 2 == 0 else (over_api, over_mcp)
                    a, b = await timed(first), await timed(second)
                    mcp_ms, api_ms = (a, b) if n % 2 == 0 else (b, a)
                    times[name]["mcp"].append(mcp_ms)
                    times[name]["api"].append(api_ms)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--token", default=None, help="the server's WENYUAN_API_TOKEN, when it has one")
    ap.add_argument(
        "--requests", type=int, default=60, help="questions per tool (drawn in order from the shipped set)"
    )
    args = ap.parse_args()
    if urlparse(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("error: benchmarks only target loopback addresses")
    times = anyio.run(measure, args.url.rstrip("/"), args.token, args.requests)
    print(f"{args.requests} calls each, one at a time, MCP and /api in turn, against {args.url}")
    routes = {"search": "POST /api/search", "ask": "POST /api/chat", "list_documents": "GET /api/documents"}
    for name, pair in times.items():
        m50, a50 = statistics.median(pair["mcp"]), statistics.median(pair["api"])
        print(
            f"{name:15s} MCP p50 {m50:7.1f} ms p95 {pct(pair['mcp'], 95):7.1f} ms | {routes[name]:19s} "
            f"p50 {a50:7.1f} ms p95 {pct(pair['api'], 95):7.1f} ms | MCP/API p50 {m50 / a50:.2f}×"
        )


if __name__ == "__main__":
    main()
