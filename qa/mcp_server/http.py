"""``/mcp`` on ``qa serve``: streamable HTTP, behind the same token as ``/v1``, inside the same guard as ``/api``.

qa.api.http_guard already stands in front of every path (Host allow-list, body
cap, security headers), so the SDK's own Host/Origin check is off rather than
kept as a second, differently configured list. The token rule is /v1's
(qa.api.auth.check_bearer): open when the server has no WENYUAN_API_TOKEN,
else ``Authorization: Bearer <token>``; a refusal is the API's error object.
Answers are plain JSON bodies rather than one-event SSE streams: the tools send
nothing before their result, and JSON halves what the transport adds to a call
(scripts/mcp_bench.py); notifications still reach clients on the GET stream.
The tools answer through the server's own ``Reads``, so MCP questions share the
model's admission queue with /api and /v1.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import Receive, Scope, Send

from qa.api.auth import check_bearer
from qa.api.error_status import http_error
from qa.api.reads import Reads
from qa.errors import ApiError
from qa.mcp_server.server import WenyuanMcp
from qa.settings import Settings


class McpEndpoint:
    """The ASGI app mounted at /mcp, and the session manager's lifetime (entered in the app's lifespan)."""

    def __init__(self, settings: Settings, reads: Reads) -> None:
        self.settings = settings
        self.mcp = WenyuanMcp(settings, reads)
        self.manager = StreamableHTTPSessionManager(
            app=self.mcp.server,
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            max_request_body_size=settings.max_body_bytes,
            json_response=True,
        )
        self.app = StreamableHTTPASGIApp(self.manager)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        authorization = next(
            (v.decode("latin-1") for k, v in scope.get("headers", ()) if k.lower() == b"authorization"), None
        )
        try:
            check_bearer(self.settings, authorization)
        except ApiError as exc:
            answer = http_error(exc)
            body = json.dumps(answer.to_json(), ensure_ascii=False).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            headers += [(k.lower().encode(), v.encode()) for k, v in (answer.headers or {}).items()]
            await send({"type": "http.response.start", "status": answer.status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with self.manager.run(), anyio.create_task_group() as tasks:
            tasks.start_soon(self.mcp.changes.watch)
            yield
            tasks.cancel_scope.cancel()
