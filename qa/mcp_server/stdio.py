"""``qa mcp``: the MCP server over stdin/stdout, for desktop clients that start it themselves.

It serves the index folder as ``qa serve`` would (the same live engine, so a
``qa index`` run or another server's upload is picked up and announced), but
without HTTP. stdout carries protocol messages only: the SDK points file
descriptor 1 at stderr while serving, and logging goes to stderr. The index is
loaded before the first message is read, so the first tool call does not meet
``not_ready``; a missing index is not fatal: every tool says how to build one.
"""

from __future__ import annotations

import logging

import anyio
from mcp.server.stdio import stdio_server

from qa.answer.llm import make_llm
from qa.api.admission import Admission
from qa.api.live_engine import LiveEngine
from qa.api.reads import Reads
from qa.mcp_server.server import WenyuanMcp
from qa.settings import Settings


async def serve_stdio(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")  # stderr
    live = LiveEngine(settings)
    llm = make_llm(settings)
    mcp = WenyuanMcp(
        settings, Reads(live, Admission(settings.model_queue_depth, settings.busy_retry_after_s), llm)
    )
    try:
        async with stdio_server() as (read, write):
            await anyio.to_thread.run_sync(live.refresh)
            if live.failure:
                logging.getLogger("wenyuan.mcp").warning("no index served yet: %s", live.failure)
            live.start()  # follows later builds
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(mcp.changes.watch)
                await mcp.server.run(read, write, mcp.options())
                tasks.cancel_scope.cancel()
    finally:
        live.stop()
        if llm is not None:
            llm.close()
