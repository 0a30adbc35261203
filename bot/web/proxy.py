"""Forwarded headers, believed only from the proxies the operator names (`--forwarded-allow-ips`): from anyone
else they are removed before anything reads them, so a client can neither pick its own address (and dodge the
rate limit) nor plant a host in the page Gradio renders."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from .asgi import ASGIApp, Receive, Scope, Send, client_host

_HANDLED = (b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host")
_DROPPED = frozenset(
    {b"forwarded", b"x-forwarded-port", b"x-forwarded-prefix", b"x-forwarded-server", b"x-real-ip", *_HANDLED}
)
_HOST = re.compile(r"(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]{1,253})(:[0-9]{1,5})?")
_SCHEMES = {"http": ("http", "https"), "websocket": ("ws", "wss")}


def _address(text: str) -> str | None:
    """`text` as a normalised IP address, or None (a forwarded value that is not one is not believed)."""
    text = text.strip()
    if len(text) > 45:
        return None
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        return None


class ForwardedHeaders:
    """The client's address, scheme and host as a trusted proxy reports them; the headers alone otherwise.

    The address is the right-most X-Forwarded-For entry that is not itself a trusted proxy (entries to its
    left are whatever the client wrote), and only if it is an IP address. Scope is changed in place, so
    uvicorn's access log shows the same, bounded, address.
    """

    def __init__(self, app: ASGIApp, trusted: Sequence[str] = ()) -> None:
        self.app = app
        self.any_peer = "*" in trusted
        self.networks = [ipaddress.ip_network(t, strict=False) for t in trusted if t != "*"]

    def trusts(self, host: str) -> bool:
        if self.any_peer:
            return True
        address = _address(host)
        return address is not None and any(ipaddress.ip_address(address) in n for n in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in _SCHEMES:
            headers = list(scope.get("headers", ()))
            kept = [(k, v) for k, v in headers if bytes(k).lower() not in _DROPPED]
            if self.trusts(client_host(scope)):
                kept.extend(self._believe(scope, headers))
            if len(kept) != len(headers):
                scope["headers"] = kept
        await self.app(scope, receive, send)

    def _believe(self, scope: Scope, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        values: dict[bytes, list[str]] = {name: [] for name in _HANDLED}
        for key, value in headers:
            if bytes(key).lower() in values:
                values[bytes(key).lower()].extend(bytes(value).decode("latin-1").split(","))
        believed: list[tuple[bytes, bytes]] = []
        client = self._client(values[b"x-forwarded-for"])
        if client is not None:
            scope["client"] = (client, 0)
        proto = values[b"x-forwarded-proto"][-1:]
        if proto and proto[0].strip().lower() in _SCHEMES[scope["type"]]:
            scope["scheme"] = proto[0].strip().lower()
            believed.append((b"x-forwarded-proto", scope["scheme"].encode()))
        host = values[b"x-forwarded-host"][-1:]
        if host and _HOST.fullmatch(host[0].strip()):
            believed.append((b"x-forwarded-host", host[0].strip().encode("latin-1")))
        return believed

    def _client(self, chain: list[str]) -> str | None:
        for entry in reversed(chain):
            address = _address(entry)
            if address is None:
                return None
            if not self.trusts(address):
                return address
        return _address(chain[0]) if chain else None
