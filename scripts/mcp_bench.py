"""What MCP costs on top of the HTTP API: the same calls as tool calls on /mcp and as requests to /api, in one run.

    .venv/bin/python scripts/mcp_bench.py [--url http://127.0.0.1:8000] [--token T] [--requests 60]

Against a running ``qa serve`` (loopback only), one call at a time: ``search``
vs POST /api/search, ``ask`` vs POST /api/chat, ``list_documents`` vs GET
/api/documents, ``read_document`` vs GET /api/documents/{name}. Each call is
made three ways, in an order that rotates so that all three see the same load:

- ``wire``: the JSON-RPC ``tools/call`` POST on an initialised session
  (handshake-era, as desktop clients speak it), sent by the same HTTP client
  and connection as the /api requests, its JSON decoded. What the server and
  the protocol add: the issue's target is wire p50 ≤ 1.2 × /api p50.
- ``sdk``: the ``mcp`` SDK's own ``Client.call_tool`` on its own session. On
  top of the wire it parses the result into its models and validates
  ``structuredContent`` against the tool's output schema (jsonschema), work
  done in the client whatever the server, with no /api counterpart.
- ``api``: the /api route, its JSON decoded.

The HTTP client is the SDK's (httpx2, from create_mcp_http_client) for all
three, so no door gains from a faster client library. No timed assertion: the
figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlparse

import anyio
import httpx2
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp_types.version import LATEST_HANDSHAKE_VERSION

from qa.evaluation.questions import SHIPPED, load_questions

Call = Callable[[], Awaitable[None]]
DOORS = ("wire", "sdk", "api")
ROUTES = {
    "search": "POST /api/search",
    "ask": "POST /api/chat",
    "list_documents": "GET /api/documents",
    "read_document": "GET /api/documents/{name}",
}


class Wire:
    """``tools/call`` as plain JSON-RPC POSTs on one initialised session: what any MCP client puts on the wire."""

    def __init__(self, http: httpx2.AsyncClient, url: str) -> None:
        self.http, self.url, self.sent = http, url, 0
        self.headers = {
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
            "MCP-Protocol-Version": LATEST_HANDSHAKE_VERSION,
        }

    async def post(self, message: dict[str, Any]) -> httpx2.Response:
        answer = await self.http.post(self.url, json=message, headers=self.headers)
        answer.raise_for_status()
        return answer

    async def start(self) -> None:
        hello = {"protocolVersion": LATEST_HANDSHAKE_VERSION, "capabilities": {}}
        hello["clientInfo"] = {"name": "mcp_bench", "version": "1"}
        answer = await self.post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": hello})
        self.headers["Mcp-Session-Id"] = answer.headers["mcp-session-id"]
        await self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    async def call(self, name: str, arguments: dict[str, Any]) -> None:
        self.sent += 1
        params = {"name": name, "arguments": arguments}
        message = {"jsonrpc": "2.0", "id": self.sent, "method": "tools/call", "params": params}
        body = (await self.post(message)).json()
        if "error" in body or body["result"].get("isError"):
            raise SystemExit(f"error: the {name} tool failed: {body}")

    async def close(self) -> None:
        await self.http.delete(self.url, headers=self.headers)


async def timed(call: Call) -> float:
    start = time.perf_counter()
    await call()
    return (time.perf_counter() - start) * 1000


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def measure(base: str, token: str | None, requests: int) -> dict[str, dict[str, list[float]]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    questions = [q.question for q in load_questions(SHIPPED)]
    times = {name: {door: [] for door in DOORS} for name in ROUTES}
    async with (
        create_mcp_http_client(headers=headers) as http,
        create_mcp_http_client(headers=headers) as own,
    ):
        wire = Wire(http, f"{base}/mcp")
        await wire.start()
        async with Client(streamable_http_client(f"{base}/mcp", http_client=own), mode="legacy") as sdk:
            await sdk.list_tools()  # the SDK validates results against the schemas it listed

            async def tool(name: str, arguments: dict[str, Any]) -> None:
                result = await sdk.call_tool(name, arguments)
                if result.is_error:
                    raise SystemExit(f"error: the {name} tool failed: {result.content[0].text}")

            async def route(method: str, path: str, body: dict[str, Any] | None = None) -> None:
                answer = await http.request(method, base + path, json=body)
                answer.raise_for_status()
                answer.json()

            listed = await http.get(f"{base}/api/documents")
            names = [d["doc"] for d in listed.json()["documents"]]
            for q in questions[:3]:  # warm every door
                await wire.call("search", {"question": q})
                await tool("search", {"question": q})
                await route("POST", "/api/search", {"question": q})
            for n in range(requests):
                q, name = questions[n % len(questions)], names[n % len(names)]
                calls: dict[str, tuple[str, dict[str, Any], Call]] = {
                    "search": (
                        "search",
                        {"question": q, "k": 5},
                        lambda: route("POST", "/api/search", {"question": q, "k": 5}),
                    ),
                    "ask": (
                        "ask",
                        {"question": q},
                        lambda: route("POST", "/api/chat", {"messages": [{"role": "user", "content": q}]}),
                    ),
                    "list_documents": ("list_documents", {}, lambda: route("GET", "/api/documents")),
                    "read_document": (
                        "read_document",
                        {"name": name},
                        lambda: route("GET", f"/api/documents/{quote(name)}"),
                    ),
                }
                for label, (tool_name, arguments, over_api) in calls.items():
                    doors: dict[str, Call] = {
                        "wire": lambda: wire.call(tool_name, arguments),
                        "sdk": lambda: tool(tool_name, arguments),
                        "api": over_api,
                    }
                    order = DOORS[n % 3 :] + DOORS[: n % 3]
                    for door in order:
                        times[label][door].append(await timed(doors[door]))
        await wire.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--token", default=None, help="the server's WENYUAN_API_TOKEN, when it has one")
    ap.add_argument(
        "--requests",
        type=int,
        default=60,
        help="calls per tool (questions drawn in order from the shipped set)",
    )
    args = ap.parse_args()
    if urlparse(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("error: benchmarks only target loopback addresses")
    times = anyio.run(measure, args.url.rstrip("/"), args.token, args.requests)
    print(f"{args.requests} calls each, one at a time, wire/sdk/api in turn, against {args.url}")
    for name, by_door in times.items():
        p50 = {door: statistics.median(by_door[door]) for door in DOORS}
        figures = " | ".join(
            f"{door} p50 {p50[door]:6.1f} p95 {pct(by_door[door], 95):6.1f}" for door in DOORS
        )
        print(
            f"{name:14s} {figures} ms ({ROUTES[name]}) | wire/API {p50['wire'] / p50['api']:.2f}× "
            f"sdk/API {p50['sdk'] / p50['api']:.2f}×"
        )


if __name__ == "__main__":
    main()
