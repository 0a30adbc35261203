"""The few ASGI pieces the guard's middlewares share: message types, header lookup, the client's address and
the one error shape every refusal is sent in, `{"error": "..."}`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header `name` (lower case), or None."""
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def client_host(scope: Scope) -> str:
    """The client's address as the guard established it (the proxy's word only when the proxy is trusted)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def error_body(message: str) -> bytes:
    # ensure_ascii: a message quoting what the client sent can never fail to encode.
    return json.dumps({"error": message}, ensure_ascii=True).encode("ascii")


async def send_error(send: Send, status: int, message: str, headers: Sequence[tuple[str, str]] = ()) -> None:
    """Answer `status` with `{"error": message}`."""
    data = error_body(message)
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        *((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands on `body`, already read whole, then waits on the real one (for a disconnect)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def shorten(text: str, limit: int = 80) -> str:
    """`text` cut to `limit` characters for a message or a log line: what a client sent is never echoed whole."""
    text = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return text if len(text) <= limit else text[: limit - 1] + "…"
