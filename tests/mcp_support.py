"""What the MCP tests share: how to start `qa mcp`, and the checks every tool result must pass."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import jsonschema
import mcp_types as types
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.conftest import ROOT

SEARCHED = "截至3月1日庆元县健康码申领率是多少"


def stdio_params(index_dir: Path, **env: str) -> StdioServerParameters:
    """`python -m qa.cli mcp`, importing this tree (as the `qa mcp` line in a client's configuration would)."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "WENYUAN_RELOAD_INTERVAL_S": "0.2", **env}
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "qa.cli", "mcp", "--index-dir", str(index_dir)],
        env=environment,
        cwd=str(ROOT),
    )


async def schemas(client: Client) -> dict[str, types.Tool]:
    return {t.name: t for t in (await client.list_tools()).tools}


async def call(
    client: Client, tools: dict[str, types.Tool], name: str, arguments: dict[str, Any]
) -> dict[str, Any]:
    """A successful call: structured content valid against the declared schema, and text that says the same."""
    result = await client.call_tool(name, arguments)
    assert not result.is_error, result.content
    jsonschema.validate(result.structured_content, tools[name].output_schema)
    assert len(result.content) == 1 and result.content[0].type == "text" and result.content[0].text.strip()
    return {"structured": result.structured_content, "text": result.content[0].text}


async def refused(client: Client, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A tool error carrying the HTTP API's error object as its text."""
    result = await client.call_tool(name, arguments)
    assert result.is_error, result
    body = json.loads(result.content[0].text)
    assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message"}, body
    assert body["error"]["message"] and "Traceback" not in body["error"]["message"]
    return body["error"]


def check_citations(found: dict[str, Any], corpus: Path) -> None:
    """Each hit's citation holds its text in the source file, as on /api/search: ``source[start:end]``."""
    assert found["hits"]
    for hit in found["hits"]:
        c = hit["citation"]
        source = (corpus / c["doc"]).read_text(encoding="utf-8")
        span = source[c["start"] : c["end"]]
        assert span == hit["text"] or all(ch.isspace() for ch in span if ch not in hit["text"]), c
        sentence = hit["text"][slice(*hit["highlight"])]
        assert sentence and squashed(sentence) in squashed(span), (
            sentence,
            c,
        )  # a paragraph may wrap over lines
        assert source.count("\n", 0, c["start"]) + 1 == c["line_start"], c


def squashed(text: str) -> str:
    return "".join(text.split())


class Changes:
    """Counts resources/list_changed notifications reaching a client's message handler."""

    def __init__(self) -> None:
        self.seen = 0
        self.event = anyio.Event()

    async def __call__(self, message: Any) -> None:
        if isinstance(message, types.ResourceListChangedNotification):
            self.seen += 1
            self.event.set()

    async def wait(self, seconds: float = 120) -> None:
        with anyio.fail_after(seconds):
            await self.event.wait()
        self.event = anyio.Event()


@asynccontextmanager
async def over_http(url: str, token: str | None = None, **options: Any) -> AsyncIterator[Client]:
    """The SDK's client on /mcp of a live `qa serve`, with the bearer token when given."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with create_mcp_http_client(headers=headers) as http:
        async with Client(streamable_http_client(f"{url}/mcp", http_client=http), **options) as client:
            yield client
