"""Who may talk to the server: the host a request names (against DNS rebinding) and the origin of the page that
sent it (against other sites using the bot, or the chat page's internals, through their visitors' browsers)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from .asgi import ASGIApp, Receive, Scope, Send, header, send_error, shorten

API_PREFIX = "/api/"
API_PREFIXES = (API_PREFIX, "/v1/")
"""The JSON APIs: policybot's own and the OpenAI-compatible one; pages on the CORS allow-list may use both."""
ANY_ORIGIN_PATHS = frozenset({"/widget.js"})
"""Any site may load the widget script; what it may then ask is decided by the CORS allow-list."""
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_HOST = re.compile(r"(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(:[0-9]{1,5})?")


def host_name(host: str) -> str | None:
    """The name in a Host header (no port, no brackets, lower case), or None when it is not a host at all."""
    match = _HOST.fullmatch(host.strip())
    if match is None or len(host) > 300:
        return None
    return match.group(1).strip("[]").casefold().rstrip(".")


def request_host(scope: Scope) -> str | None:
    """The host the client asked for: the trusted proxy's X-Forwarded-Host (the only kind left by then), else Host."""
    return header(scope, b"x-forwarded-host") or header(scope, b"host")


def same_origin(origin: str, host: str | None) -> bool:
    """Whether a browser's Origin header names the server it is talking to."""
    if not host:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.casefold() == host.casefold()


class HostGuard:
    """421 for a request naming a host this server is not: localhost, the address the request came in on, and
    the allowed hosts are. A DNS-rebinding page reaches the server under its own name, and is refused here."""

    def __init__(self, app: ASGIApp, allowed: Sequence[str] = ()) -> None:
        self.app = app
        self.any_host = "*" in allowed
        self.names = LOCAL_NAMES | {h for h in allowed if not h.startswith("*.")}
        self.suffixes = tuple(h[1:] for h in allowed if h.startswith("*."))

    def allows(self, host: str, server: str | None) -> bool:
        name = host_name(host)
        if name is None:
            return False
        if self.any_host or name in self.names or (self.suffixes and name.endswith(self.suffixes)):
            return True
        return server is not None and name == server.strip("[]").casefold()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            server = scope.get("server")
            for name in (b"host", b"x-forwarded-host"):
                host = header(scope, name)
                # No Host at all is HTTP/1.0 from a script, never a browser (browsers always send one).
                if host is not None and not self.allows(host, str(server[0]) if server else None):
                    await self._refuse(scope, send, host)
                    return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, send: Send, host: str) -> None:
        if scope["type"] != "http":
            return  # a refused WebSocket handshake: closing without accepting is the refusal
        message = (
            f"this server does not answer to the host {shorten(host)!r}; the operator can allow it with "
            "`policybot serve --allowed-host NAME` or POLICYBOT_ALLOWED_HOSTS"
        )
        await send_error(send, 421, message)


class OriginGuard:
    """403 for a request sent by a page on another origin that may not use that route: the API serves the
    CORS allow-list and the page's own origin, the chat page's routes serve their own origin only, the widget
    script serves anyone.

    CORS alone only stops a page reading the answer; this stops the server doing the work (a form posted to
    an upload route needs no preflight). Requests without an Origin header (curl, servers, the load script, a
    browser following a link) are not browsers' cross-origin calls.
    """

    def __init__(self, app: ASGIApp, allowed: Sequence[str] = ()) -> None:
        self.app = app
        self.any_origin = "*" in allowed
        self.allowed = {a.casefold() for a in allowed}

    def allows(self, path: str, origin: str | None, host: str | None) -> bool:
        if origin is None or path in ANY_ORIGIN_PATHS or same_origin(origin, host):
            return True
        return path.startswith(API_PREFIXES) and (self.any_origin or origin.casefold() in self.allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            origin, path = header(scope, b"origin"), scope["path"]
            if not self.allows(path, origin, request_host(scope)):
                await send_error(send, 403, self._refusal(path, shorten(str(origin))))
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _refusal(path: str, origin: str) -> str:
        if path.startswith(API_PREFIXES):
            return (
                f"pages on {origin} may not use this API; the operator can allow it with "
                "POLICYBOT_CORS_ORIGINS or `policybot serve --cors-origin`"
            )
        return f"pages on {origin} may not use the chat page; only the page itself, at this server's address, may"
