"""/mcp on a live `qa serve`, driven by the `mcp` SDK's client over streamable HTTP: real app, index and model.

The tools must answer exactly as the HTTP API does (same objects, same
citations), share its guard (token, Host, body cap) and its model queue, and
announce every change to the corpus.
"""

from __future__ import annotations

import json
import shutil

import anyio
import httpx
import pytest

from tests.conftest import SEEDS, SMALL, STORE, assert_error, built, live_server
from tests.mcp_support import SEARCHED, Changes, call, check_citations, over_http, refused, schemas

TOKEN = "mcp-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ADDED = "mcp-added.txt"
ADDED_TEXT = "青田县企业复工复产按下“快进键”\n\n本报讯 截至4月2日，青田县已有1234家规上工业企业复工，复工率达到百分之九十六点五。\n"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def shipped_sample(every: int = 6) -> list[str]:
    from qa.evaluation.questions import SHIPPED

    lines = SHIPPED.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines[::every] if line.strip()]


def without_time(found: dict) -> dict:
    return {**found, "took_ms": 0}


def test_tools_answer_as_the_http_api(server_url):
    """Over the seeds: ask equals /api/chat and search equals /api/search for a sample of the shipped questions."""
    questions = shipped_sample()
    assert len(questions) >= 8

    async def session() -> None:
        async with over_http(server_url, mode="legacy") as client:
            tools = await schemas(client)
            assert set(tools) == {"search", "ask", "list_documents", "read_document"}
            async with httpx.AsyncClient(base_url=server_url, timeout=120) as api:
                for question in questions:
                    asked = await call(client, tools, "ask", {"question": question})
                    chat = (
                        await api.post(
                            "/api/chat", json={"messages": [{"role": "user", "content": question}]}
                        )
                    ).json()
                    assert asked["structured"] == chat, question
                    found = await call(
                        client, tools, "search", {"question": question, "k": 5, "mode": "hybrid"}
                    )
                    searched = (
                        await api.post("/api/search", json={"question": question, "k": 5, "mode": "hybrid"})
                    ).json()
                    assert without_time(found["structured"]) == without_time(searched), question
                    check_citations(found["structured"], SEEDS)
                listed = await call(client, tools, "list_documents", {})
                assert listed["structured"] == (await api.get("/api/documents")).json()
                name = listed["structured"]["documents"][0]["doc"]
                read = await call(client, tools, "read_document", {"name": name})
                assert read["structured"] == (await api.get(f"/api/documents/{name}")).json()
            resources = (await client.list_resources()).resources
            assert sorted(r.name for r in resources) == sorted(
                d["doc"] for d in listed["structured"]["documents"]
            )
            content = await client.read_resource(f"wenyuan://documents/{name}")
            assert (
                json.loads(content.contents[1].text) == read["structured"]
                and content.contents[0].text == read["text"]
            )
            templates = (await client.list_resource_templates()).resource_templates
            assert [t.uri_template for t in templates] == ["wenyuan://documents/{name}"]

    anyio.run(session)


@pytest.fixture(scope="module")
def writable(tmp_path_factory, embedder):
    """A server with a write token over one seed page; its model queue is one question deep."""
    root = tmp_path_factory.mktemp("mcp-http")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(SEEDS / SMALL, corpus / SMALL)
    settings = built(
        corpus,
        embedder,
        index_dir=root / "index",
        api_token=TOKEN,
        model_queue_depth=1,
        reload_interval_s=0.2,
    )
    with live_server(settings) as url:
        yield url


def test_mcp_is_guarded_as_v1(writable):
    """The token as /v1 wants it, the Host allow-list and the body cap: the API's error object before MCP sees anything."""
    body = json.dumps(INITIALIZE)
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        resp = httpx.post(f"{writable}/mcp", content=body, headers={**MCP_HEADERS, **headers})
        assert_error(resp, 401, "invalid_api_key")
        assert resp.headers["www-authenticate"] == "Bearer"
    assert_error(
        httpx.post(f"{writable}/mcp", content=body, headers={**MCP_HEADERS, **AUTH, "Host": "evil.example"}),
        400,
        "invalid_host",
    )
    huge = json.dumps({**INITIALIZE, "padding": "x" * 1_100_000})
    assert_error(
        httpx.post(f"{writable}/mcp", content=huge, headers={**MCP_HEADERS, **AUTH}), 413, "payload_too_large"
    )
    ok = httpx.post(f"{writable}/mcp", content=body, headers={**MCP_HEADERS, **AUTH})
    assert ok.status_code == 200, ok.text

    async def session() -> None:
        async with over_http(writable, TOKEN) as client:
            tools = await schemas(client)
            assert (await call(client, tools, "list_documents", {}))["structured"]["documents"][0][
                "doc"
            ] == SMALL
            assert (await refused(client, "search", {"question": "问" * 501}))[
                "message"
            ] == "question is 501 characters long; the limit is 500"

    anyio.run(session)


def upload(url: str) -> httpx.Response:
    headers = {**AUTH, "Content-Type": "text/plain; charset=utf-8"}
    return httpx.put(
        f"{url}/api/documents/{ADDED}", content=ADDED_TEXT.encode(), headers=headers, timeout=180
    )


@pytest.mark.skipif(STORE != "local", reason="an upload's citations need the local store (docs/milvus.md)")
def test_an_upload_and_a_delete_announce_the_resource_list(writable):
    """Both eras: a handshake-era client on its GET stream, a 2026-07-28 client on its subscriptions/listen stream."""

    async def session() -> None:
        changes = Changes()
        async with (
            over_http(writable, TOKEN, mode="legacy", message_handler=changes) as old,
            over_http(writable, TOKEN) as new,
        ):
            assert old.server_capabilities.resources.list_changed
            async with new.listen(resources_list_changed=True) as events:
                resp = await anyio.to_thread.run_sync(lambda: upload(writable))
                assert resp.status_code == 201, resp.text
                await changes.wait()
                with anyio.fail_after(60):
                    async for _ in events:
                        break
            assert ADDED in [r.name for r in (await old.list_resources()).resources]
            read = await new.read_resource(f"wenyuan://documents/{ADDED}")
            assert "1234家" in read.contents[0].text
            tools = await schemas(old)
            found = await call(old, tools, "search", {"question": "截至4月2日青田县有多少家规上工业企业复工"})
            assert found["structured"]["hits"][0]["citation"]["doc"] == ADDED

            def remove() -> httpx.Response:
                return httpx.delete(f"{writable}/api/documents/{ADDED}", headers=AUTH, timeout=180)

            assert (await anyio.to_thread.run_sync(remove)).status_code == 200
            await changes.wait()
            assert [r.name for r in (await old.list_resources()).resources] == [SMALL]
            assert (await refused(old, "read_document", {"name": ADDED}))["code"] == "unknown_document"

    anyio.run(session)


def test_a_full_model_queue_is_a_busy_tool_error(writable):
    """Questions over MCP queue with those over /api: past the depth they are told busy, and the session goes on."""
    from qa.api.admission import BusyError

    async def session() -> None:
        async with over_http(writable, TOKEN) as client:
            tools = await schemas(client)
            outcomes: list = []

            async def one() -> None:
                outcomes.append(await client.call_tool("search", {"question": SEARCHED, "k": 50}))

            for _ in range(3):  # concurrent calls; the first takes the only place in the queue
                async with anyio.create_task_group() as group:
                    for _ in range(12):
                        group.start_soon(one)
                if any(r.is_error for r in outcomes):
                    break
            busy = [json.loads(r.content[0].text)["error"] for r in outcomes if r.is_error]
            assert busy and any(not r.is_error for r in outcomes)
            assert busy[0] == {"status": 503, "code": "busy", "message": str(BusyError(1, 1))}
            await call(client, tools, "search", {"question": SEARCHED})

    anyio.run(session)
