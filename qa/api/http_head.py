"""Request heads too large to parse: 414 for a request line (URL) too long, 431 for headers, in the API's error shape.

uvicorn's h11 parser refuses a request head larger than
``h11_max_incomplete_event_size`` (16 KiB) and uvicorn then answered a plain
text 400 and closed at once, while the client was still sending: the unread
bytes made the kernel reset the connection, so clients saw a reset instead of
an answer. This protocol answers 414 or 431 with the JSON error shape and the
security headers, half-closes, and reads and drops what the client still sends
for a moment before closing, so the answer arrives. Other unparsable heads get
a JSON 400. It is passed to uvicorn by ``qa serve`` (``uvicorn_options``).
"""

from __future__ import annotations

from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import (
    DEFAULT_MAX_INCOMPLETE_EVENT_SIZE,
    H11Protocol,
)  # h11 16 KiB, re-exported by uvicorn

from qa.api.http_guard import error_body, security_headers

DRAIN_S = 2.0  # how long the refused client's remaining bytes are read and dropped before closing
PHRASES = {400: b"Bad Request", 414: b"URI Too Long", 431: b"Request Header Fields Too Large"}


class HeadLimitProtocol(H11Protocol):
    """uvicorn's h11 protocol, with honest answers to heads it cannot or will not parse."""

    def __init__(self, config: Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.head_limit = config.h11_max_incomplete_event_size or DEFAULT_MAX_INCOMPLETE_EVENT_SIZE
        self._head = bytearray()  # the current request head as received, up to just past the limit
        self._draining = False

    def data_received(self, data: bytes) -> None:
        """Counts the head's bytes however they arrive: h11 alone lets a large head through when it comes in one read."""
        if self._draining:
            return
        if self.conn.their_state is not h11.IDLE or b"\r\n\r\n" in self._head:
            self._head.clear()  # a body, or the start of the next request on this connection
        if self.conn.their_state is h11.IDLE:
            self._head += data[: self.head_limit + 4 - len(self._head)]
            end = self._head.find(b"\r\n\r\n")
            if end > self.head_limit or (end == -1 and len(self._head) > self.head_limit):
                self._refuse_head()
                return
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        """Called by uvicorn when h11 cannot parse the head."""
        self._refuse_head()

    def _refuse_head(self) -> None:
        head, limit = bytes(self._head), self.head_limit
        status, code, message = 400, "invalid_http", "the request could not be parsed as HTTP/1.1"
        if len(head) > limit or head.find(b"\r\n\r\n") > limit:
            line_end = head.find(b"\r\n")
            if line_end == -1 or line_end > limit:
                status, code = 414, "uri_too_long"
                message = f"the request line (method and URL) is longer than {limit} bytes; send long input in a body"
            else:
                status, code = 431, "headers_too_large"
                message = f"the request's headers total more than {limit} bytes"
        target = head.split(b" ", 2)[1][:64].decode("latin-1") if head.count(b" ") >= 2 else ""
        body = error_body(status, code, message, target)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            *security_headers(target),
        ]
        response = h11.Response(status_code=status, headers=headers, reason=PHRASES[status])
        try:
            self.transport.write(
                self.conn.send(response)
                + self.conn.send(h11.Data(data=body))
                + self.conn.send(h11.EndOfMessage())
            )
        except h11.LocalProtocolError:  # h11 will not answer on this connection: write the answer as bytes
            self.transport.write(_raw(response, body))
        self._draining = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(DRAIN_S, self.transport.close)


def _raw(response: h11.Response, body: bytes) -> bytes:
    lines = [b"HTTP/1.1 %d %s" % (response.status_code, response.reason)]
    lines += [name + b": " + value for name, value in response.headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def uvicorn_options() -> dict[str, Any]:
    """What ``qa serve`` (and the tests' server) pass to uvicorn besides the app, host and port."""
    return {"http": HeadLimitProtocol}
