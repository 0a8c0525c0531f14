"""What every HTTP request passes before the app sees it: Host allow-list, body-size cap, HEAD, security headers.

A pure ASGI layer rather than FastAPI dependencies, because it must act before a
body is read (a 100 MB upload is refused from its Content-Length, or after the
first bytes past the cap when it is chunked) and must reach answers FastAPI
never builds (its own 400/413/500s). Its answers use the API's error shape (OpenAI's on /v1).
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.api.openai_format import error_json, is_openai_path
from qa.settings import Settings

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")

# The chat page loads only its own script, style sheet and API; `data:` is its empty favicon.
APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI and ReDoc (served offline) start from an inline script; ReDoc injects styles and a blob: worker.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "worker-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# pdf.js's worker (its CSP comes with its own response) compiles the image decoders' WebAssembly; nothing else may.
PDFJS_CSP = APP_CSP.replace("script-src 'self';", "script-src 'self' 'wasm-unsafe-eval';")
DOCUMENTS_PREFIX = "/api/documents/"
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the cap; FastAPI lets HTTPExceptions through."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")


def allowed_host_names(settings: Settings) -> frozenset[str] | None:
    """The Host names this server answers to; None when the setting says any (``*``)."""
    extra = {host_name(h) for h in settings.allowed_hosts.split(",") if h.strip()}
    if "*" in extra:
        return None
    return frozenset({*LOOPBACK_NAMES, host_name(settings.host), *extra})


def is_loopback(host: str) -> bool:
    """True when binding ``host`` keeps the server on this machine."""
    name = host_name(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(host: str) -> str:
    """``Host`` header or setting → bare lower-case name: port, IPv6 brackets and trailing dot removed."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def error_body(status: int, code: str, message: str, path: str = "") -> bytes:
    """The API's error shape; on /v1 paths OpenAI's."""
    body = (
        error_json(status, code, message)
        if is_openai_path(path)
        else {"error": {"status": status, "code": code, "message": message}}
    )
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def security_headers(path: str) -> list[tuple[bytes, bytes]]:
    csp = DOCS_CSP if path in DOCS_PATHS else PDFJS_CSP if path.startswith("/pdfjs/") else APP_CSP
    return [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    ]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class HttpGuard:
    """Host allow-list, body cap, HEAD as GET without a body, security headers and a last-resort 500."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_body = settings.max_body_bytes
        self.max_document = settings.document_max_bytes
        self.hosts = allowed_host_names(settings)

    def _cap(self, scope: Scope) -> int:
        """Document uploads may be larger than questions; everything else gets the general cap."""
        if scope["method"] == "PUT" and scope.get("path", "").startswith(DOCUMENTS_PREFIX):
            return self.max_document
        return self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        extra = security_headers(scope.get("path", ""))
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {k.lower() for k, _ in message.get("headers", ())}
                headers = [*message.get("headers", ()), *((k, v) for k, v in extra if k not in present)]
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and head:
                message = {**message, "body": b""}
            await send(message)

        async def refuse(status: int, code: str, text: str) -> None:
            body = error_body(status, code, text, scope.get("path", ""))
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await guarded_send({"type": "http.response.start", "status": status, "headers": headers})
            await guarded_send({"type": "http.response.body", "body": body})

        host = _header(scope, b"host")
        if self.hosts is not None and host_name(host or "") not in self.hosts:
            shown = (host or "")[:100]
            await refuse(
                400,
                "invalid_host",
                f"this server does not answer to the Host {shown!r}; "
                "if clients reach it by that name, add it to WENYUAN_ALLOWED_HOSTS (comma-separated)",
            )
            return
        cap = self._cap(scope)
        length = _header(scope, b"content-length")
        if length is not None and length.strip().isdigit() and int(length) > cap:
            await refuse(413, "payload_too_large", str(BodyTooLarge(cap).detail))
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise BodyTooLarge(cap)
            return message

        inner: dict[str, Any] = {**scope, "method": "GET"} if head else scope
        try:
            await self.app(inner, limited_receive, guarded_send)
        except BodyTooLarge as exc:
            if not started:
                await refuse(413, "payload_too_large", str(exc.detail))
        except Exception:
            if not started:
                await refuse(
                    500, "internal_error", "the server failed to answer this request; see the server log"
                )
            raise
