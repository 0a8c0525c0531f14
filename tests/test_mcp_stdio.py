"""`qa mcp` over stdio, driven by the `mcp` SDK's own client: the real process, index and model.

The client spawns `python -m qa.cli mcp` as a desktop assistant would; each
test opens its own session. One index of a single seed page serves them, built
once for the module.
"""

from __future__ import annotations

import json
import subprocess
import sys

import anyio
import pytest
from mcp.client.client import Client

from tests.conftest import ROOT, SEEDS, SMALL, built, local_only
from tests.mcp_support import Changes, call, check_citations, refused, schemas, stdio_params

QUESTION = "丽水市委书记在哪里督查复工复产"
pytestmark = local_only


@pytest.fixture(scope="module")
def small(tmp_path_factory, embedder):
    """An index of one seed page, and its corpus folder."""
    root = tmp_path_factory.mktemp("mcp-stdio")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / SMALL).write_bytes((SEEDS / SMALL).read_bytes())
    settings = built(corpus, embedder, index_dir=root / "index")
    return settings.index_dir, corpus


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_every_tool_and_resource_over_stdio(small, mode):
    """Both protocol eras the SDK speaks: the initialize handshake (today's desktop clients) and 2026-07-28."""
    index_dir, corpus = small

    async def session() -> None:
        async with Client(stdio_params(index_dir), mode=mode) as client:
            assert client.server_capabilities.resources.list_changed or mode != "legacy"
            tools = await schemas(client)
            assert set(tools) == {"search", "ask", "list_documents", "read_document"}
            for tool in tools.values():
                assert tool.input_schema["type"] == "object" and tool.output_schema["type"] == "object"
                assert (
                    any("\u4e00" <= ch <= "\u9fff" for ch in tool.description) and "the" in tool.description
                )

            found = await call(client, tools, "search", {"question": QUESTION, "k": 3, "mode": "hybrid"})
            assert found["structured"]["question"] == QUESTION and len(found["structured"]["hits"]) == 3
            check_citations(found["structured"], corpus)
            top = found["structured"]["hits"][0]
            assert top["text"][slice(*top["highlight"])] in found["text"], (
                "the text carries the answer sentence"
            )
            assert f"字符 {top['citation']['start']}–{top['citation']['end']}" in found["text"]

            asked = await call(client, tools, "ask", {"question": QUESTION})
            answer = asked["structured"]
            assert answer["question"] == QUESTION and not answer["abstained"] and "[1]" in answer["answer"]
            assert (
                asked["text"].startswith(answer["answer"]) and answer["citations"][0]["doc"] in asked["text"]
            )
            follow = await call(
                client,
                tools,
                "ask",
                {
                    "question": "那遂昌呢？",
                    "history": [
                        {"role": "user", "content": QUESTION},
                        {"role": "assistant", "content": asked["text"]},
                    ],
                },
            )
            assert "遂昌" in follow["structured"]["question"] != "那遂昌呢？", (
                "the follow-up is resolved against the history"
            )

            listed = await call(client, tools, "list_documents", {})
            assert [d["doc"] for d in listed["structured"]["documents"]] == [SMALL]
            whole = await call(client, tools, "read_document", {"name": SMALL})
            source = (corpus / SMALL).read_text(encoding="utf-8")
            for article in whole["structured"]["articles"]:
                for p in article["paragraphs"]:
                    assert p["text"].replace("\n", "")[:20] in source[p["start"] : p["end"]].replace(
                        "\n", ""
                    ), p
            one = await call(client, tools, "read_document", {"name": SMALL, "article": 1, "paragraph": 2})
            assert [
                (a["article"], [p["paragraph"] for p in a["paragraphs"]])
                for a in one["structured"]["articles"]
            ] == [(1, [2])]

            resources = (await client.list_resources()).resources
            assert [r.uri for r in resources] == [f"wenyuan://documents/{SMALL}"] and resources[
                0
            ].name == SMALL
            read = await client.read_resource(resources[0].uri)
            assert read.contents[0].text == whole["text"]
            assert json.loads(read.contents[1].text) == whole["structured"]

    anyio.run(session)


def test_bad_input_is_a_tool_error_with_the_api_message(small):
    index_dir, _ = small

    async def session() -> None:
        async with Client(stdio_params(index_dir), mode="legacy") as client:
            too_long = await refused(client, "search", {"question": "问" * 501})
            assert too_long == {
                "status": 422,
                "code": "invalid_request",
                "message": "question is 501 characters long; the limit is 500",
            }
            assert (await refused(client, "search", {"question": "健康码", "k": 0}))[
                "message"
            ] == "k must be at least 1, got 0"
            assert (await refused(client, "search", {"question": "健康码", "mode": "fuzzy"}))[
                "code"
            ] == "invalid_request"
            assert (await refused(client, "search", {"question": "健康码", "top": 3}))[
                "message"
            ] == "top is not a known field"
            assert (await refused(client, "ask", {}))["message"] == "question is required"
            assert (await refused(client, "search", {"question": "？！"}))["code"] == "invalid_input"
            unknown = await refused(client, "read_document", {"name": "nope.txt"})
            assert unknown == {
                "status": 404,
                "code": "unknown_document",
                "message": "no document named 'nope.txt'; see /api/documents",
            }
            assert (await refused(client, "read_document", {"name": "../etc/passwd"}))[
                "code"
            ] == "invalid_document"
            assert (await refused(client, "read_document", {"name": SMALL, "paragraph": 999}))[
                "code"
            ] == "unknown_paragraph"
            assert (await refused(client, "forget", {}))["code"] == "unknown_tool"
            tools = await schemas(client)
            await call(client, tools, "list_documents", {})  # the session goes on after every refusal

    anyio.run(session)


def test_stdout_carries_only_protocol_messages(small):
    """Spoken to by hand: every line on stdout is a JSON-RPC message, whatever the model and jieba print."""
    index_dir, _ = small
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "by-hand", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "search", "arguments": {"question": QUESTION}},
        },
    ]
    params = stdio_params(index_dir)
    stdin = "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in messages)
    with subprocess.Popen(
        [params.command, *params.args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=params.env,
        cwd=ROOT,
    ) as proc:
        proc.stdin.write(stdin.encode())
        proc.stdin.flush()
        lines = []
        while not any(m.get("id") == 2 for m in lines):
            line = proc.stdout.readline()
            assert line, proc.stderr.read().decode()[-2000:]
            lines.append(json.loads(line))
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
        stderr = proc.stderr.read().decode()
    assert all(m["jsonrpc"] == "2.0" for m in lines)
    assert lines[-1]["result"]["structuredContent"]["hits"], lines[-1]
    assert "jieba" in stderr or "Prefix dict" in stderr, "the libraries' chatter went to stderr"


def test_missing_index_then_a_build_in_progress_then_served(tmp_path, small, embedder):
    """No index: tools say how to build one; while `qa index` holds the folder they say so; then it is served and announced."""
    from qa.index.writer_lock import hold

    _, corpus = small
    index_dir = tmp_path / "index"
    index_dir.mkdir()

    async def session() -> None:
        changes = Changes()
        async with Client(stdio_params(index_dir), mode="legacy", message_handler=changes) as client:
            missing = await refused(client, "search", {"question": QUESTION})
            assert (
                missing["status"] == 503
                and missing["code"] == "not_ready"
                and "qa index" in missing["message"]
            ), missing
            assert (await client.list_resources()).resources == []
            with hold(index_dir, 0):
                building = await refused(client, "ask", {"question": QUESTION})
            assert building["code"] == "index_building" and "being built" in building["message"], building
            await anyio.to_thread.run_sync(lambda: built(corpus, embedder, index_dir=index_dir))
            await changes.wait()
            assert [r.name for r in (await client.list_resources()).resources] == [SMALL]
            tools = await schemas(client)
            await call(client, tools, "search", {"question": QUESTION})

    anyio.run(session)


def test_qa_mcp_is_a_cli_command():
    out = subprocess.run(
        [sys.executable, "-m", "qa.cli", "mcp", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0 and "MCP" in out.stdout
