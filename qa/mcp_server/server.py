"""The MCP server itself, on the SDK's low-level ``Server``: tool and resource handlers, whatever the transport.

The low-level server rather than ``MCPServer``'s decorators because the tools'
schemas are the HTTP API's own models (built per Settings, with its limits) and
the resources are the corpus's documents, which change while it runs. Every
failure becomes a tool error carrying the HTTP API's error object (status, code,
message), never a protocol error and never a closed session: a model can read
it and try again, as a browser user reads the same message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote

import anyio
import mcp_types as types
from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.models import InitializationOptions
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from qa.api.error_status import HttpError, http_error
from qa.api.reads import Reads
from qa.api.schemas import describe
from qa.errors import ApiError
from qa.mcp_server import text
from qa.mcp_server.changes import CorpusChanges
from qa.mcp_server.tools import Tool, make_tools
from qa.settings import Settings

log = logging.getLogger("wenyuan.mcp")
DOCUMENTS = "wenyuan://documents/"
RESOURCE_NOT_FOUND = -32002  # the MCP specification's code for resources/read of an unknown URI
INTERNAL_ERROR = -32603
INSTRUCTIONS = (
    "问源 wenyuan: a corpus of Chinese documents. Use ask for a quoted, cited answer, search for the passages "
    "themselves, list_documents and read_document to browse. Quote the text as given and keep its [n] citations; "
    "every citation's start–end is a character span of the source file."
)


def document_uri(name: str) -> str:
    return DOCUMENTS + quote(name, safe="/")


def failure(answer: HttpError) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(text=json.dumps(answer.to_json(), ensure_ascii=False))], is_error=True
    )


def listing(tools: Iterable[Tool]) -> types.ListToolsResult:
    return types.ListToolsResult(
        tools=[
            types.Tool(
                name=t.name,
                title=t.title,
                description=t.description,
                input_schema=t.input_schema(),
                output_schema=t.output_schema(),
                annotations=types.ToolAnnotations(
                    read_only_hint=True, open_world_hint=False, idempotent_hint=True
                ),
            )
            for t in tools
        ]
    )


class AnnouncingServer(Server[Any]):
    """Announces ``resources.listChanged`` by default: the streamable HTTP manager asks for the options itself."""

    def create_initialization_options(
        self, notification_options: NotificationOptions | None = None, *args: Any, **kwargs: Any
    ) -> InitializationOptions:
        announced = notification_options or NotificationOptions(resources_changed=True)
        return super().create_initialization_options(announced, *args, **kwargs)


class WenyuanMcp:
    """One MCP server over one server's reads; the transports (qa.mcp_server.stdio, .http) run it."""

    def __init__(self, settings: Settings, reads: Reads) -> None:
        self.reads = reads
        self.tools: dict[str, Tool] = make_tools(settings, reads)
        self.changes = CorpusChanges(reads.build)
        # Built once: the schemas depend on Settings only, and building them costs milliseconds. On the
        # 2026-07-28 protocol the SDK checks every tools/call's Mcp-Param headers against the input schema.
        self.listed = listing(self.tools.values())
        schemas = {t.name: t.input_schema for t in self.listed.tools}
        self.server = AnnouncingServer(
            "wenyuan",
            version="0.1.0",
            title="问源 wenyuan",
            instructions=INSTRUCTIONS,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_list_resources=self._list_resources,
            on_list_resource_templates=self._list_templates,
            on_read_resource=self._read_resource,
            on_subscriptions_listen=self.changes.listen,
            get_tool_input_schema=schemas.get,
        )
        self.server.add_notification_handler(
            "notifications/initialized", types.NotificationParams, self.changes.joined
        )

    def options(self) -> InitializationOptions:
        return self.server.create_initialization_options()

    async def _list_tools(self, ctx: Any, params: Any) -> types.ListToolsResult:
        return self.listed

    async def _call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        tool = self.tools.get(params.name)
        if tool is None:
            names = ", ".join(self.tools)
            return failure(
                HttpError(404, "unknown_tool", f"no tool named {params.name[:100]!r}; the tools are {names}")
            )
        try:
            arguments = tool.arguments.model_validate(params.arguments or {})
        except ValidationError as exc:
            return failure(HttpError(422, "invalid_request", describe(exc.errors()[0])))
        try:
            reply = (
                tool.run(arguments) if tool.in_memory else await anyio.to_thread.run_sync(tool.run, arguments)
            )
        except Exception as exc:
            answer = http_error(exc)
            if answer.code == "internal_error" and not isinstance(exc, ApiError):
                log.exception("the MCP tool %s failed", tool.name)
            return failure(answer)
        return types.CallToolResult(
            content=[types.TextContent(text=reply.text)], structured_content=reply.structured
        )

    async def _list_resources(self, ctx: Any, params: Any) -> types.ListResourcesResult:
        try:
            listed = await anyio.to_thread.run_sync(self.reads.documents)
        except ApiError:
            return types.ListResourcesResult(resources=[])  # nothing served yet: no documents to list
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=document_uri(d["doc"]),
                    name=d["doc"],
                    title=d["titles"][0] if d["titles"] else d["doc"],
                    description="；".join(d["titles"]),
                    mime_type="text/plain",
                )
                for d in listed["documents"]
            ]
        )

    async def _list_templates(self, ctx: Any, params: Any) -> types.ListResourceTemplatesResult:
        template = types.ResourceTemplate(
            uri_template=DOCUMENTS + "{name}",
            name="document",
            title="文档 Document",
            description="one document of the corpus, paragraph by paragraph with citations (name: as list_documents gives it)",
            mime_type="text/plain",
        )
        return types.ListResourceTemplatesResult(resource_templates=[template])

    async def _read_resource(
        self, ctx: Any, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        """The document as text, then as the API's JSON object; errors as MCP errors with the API's message."""
        uri = str(params.uri)
        if not uri.startswith(DOCUMENTS):
            raise MCPError(RESOURCE_NOT_FOUND, f"no resource {uri[:200]!r}: documents are {DOCUMENTS}<name>")
        try:
            detail = await anyio.to_thread.run_sync(self.reads.document, unquote(uri[len(DOCUMENTS) :]))
        except Exception as exc:
            answer = http_error(exc)
            code = RESOURCE_NOT_FOUND if answer.status == 404 else INTERNAL_ERROR
            raise MCPError(code, f"{answer.code}: {answer.message}", answer.to_json()) from None
        return types.ReadResourceResult(
            contents=[
                types.TextResourceContents(uri=uri, mime_type="text/plain", text=text.document(detail)),
                types.TextResourceContents(
                    uri=uri, mime_type="application/json", text=json.dumps(detail, ensure_ascii=False)
                ),
            ]
        )
