"""``notifications/resources/list_changed`` whenever the corpus changes: an upload, a delete or a new ``qa index``.

Every change to the corpus ends in a new build being served (qa.api.live_engine
swaps it in), so one watcher comparing the served build's name catches them all,
whoever made them. It reads one attribute per look, on the event loop, so it
needs no thread and no lock. Clients hear of it two ways, as the SDK has them:
those on a handshake-era protocol (2025-11-25 and before: Claude Desktop, Cursor,
VS Code today) on their connection's own channel, and those on 2026-07-28 on the
``subscriptions/listen`` stream they opened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio
import mcp_types as types
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ResourcesListChanged

log = logging.getLogger("wenyuan.mcp")
LOOK_EVERY_S = 0.2  # an attribute read: cheap, and well under the live engine's own WENYUAN_RELOAD_INTERVAL_S


class CorpusChanges:
    """The connected clients, and the watcher that tells them the resource list changed."""

    def __init__(self, served_build: Callable[[], str | None]) -> None:
        self.served_build = served_build
        self.sessions: set[ServerSession] = set()
        self.bus = InMemorySubscriptionBus()
        self.listen = ListenHandler(self.bus)

    async def joined(self, ctx: Any, _: types.NotificationParams) -> None:
        """``notifications/initialized``: remember the connection until it closes."""
        session: ServerSession = ctx.session
        self.sessions.add(session)
        # The SDK (2.3) hands handlers no public handle on the connection; its exit stack is where cleanup belongs.
        connection = getattr(session, "_connection", None)
        if connection is not None:
            connection.exit_stack.callback(self.sessions.discard, session)

    async def notify(self) -> None:
        for session in list(self.sessions):
            await session.send_resource_list_changed()  # best effort: the SDK drops it on a closed connection
        await self.bus.publish(ResourcesListChanged())

    async def watch(self) -> None:
        """Runs until cancelled; a change is any other build served (the first one too: resources appear)."""
        seen = self.served_build()
        while True:
            await anyio.sleep(LOOK_EVERY_S)
            now = self.served_build()
            if now is not None and now != seen:
                log.info("corpus changed (build %s): telling %d MCP client(s)", now, len(self.sessions))
                try:
                    await self.notify()
                except Exception:  # a notification that fails must not stop the next ones
                    log.exception("the resource list-changed notification failed")
            seen = now
