"""How the app is served: uvicorn with every limit set (header size, a deadline for each request's headers,
open connections, keep-alive, a graceful shutdown that ends), forwarded headers left to the guard, protocol
errors answered in the API's JSON shape, and logs no request can flood."""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..settings import Settings
from .asgi import error_body
from .logs import bound_std_streams, log_config

KEEP_ALIVE_SECONDS = 5


class ServerConfig(uvicorn.Config):
    """uvicorn's config with the two limits its protocol lacks: `client_timeout`, `max_connections`."""

    def __init__(self, app: Any, *, client_timeout: float, max_connections: int, **options: Any) -> None:
        super().__init__(app, **options)
        self.client_timeout = client_timeout
        self.max_connections = max_connections


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, plus: a client has `client_timeout` seconds to send each request's headers
    (uvicorn itself waits forever for a stalled or trickling client); connections over `max_connections` are
    refused at once; and its own refusals (a malformed request, headers over the limit) are JSON."""

    _deadline: asyncio.TimerHandle | None = None
    _waiting_after: object = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limit = getattr(self.config, "max_connections", None)
        if limit is not None and len(self.connections) > limit:
            self._refuse(503, "the server has too many connections open; try again in a few seconds")
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not None and self.cycle is not self._waiting_after:
            self._disarm()  # this request's headers are in

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request on this connection gets its own deadline

    def _arm(self) -> None:
        self._disarm()
        self._waiting_after = self.cycle
        self._deadline = self.loop.call_later(getattr(self.config, "client_timeout", 10.0), self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.cycle is self._waiting_after and not self.transport.is_closing():
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        limit = self.config.h11_max_incomplete_event_size or 16_384  # h11's own default
        if len(self.conn.trailing_data[0]) >= limit:
            self._refuse(431, f"the request's headers are over {limit:,} bytes")
        else:
            self._refuse(400, "the request is not valid HTTP/1.1")

    def _refuse(self, status: int, message: str) -> None:
        # Written as bytes, not through h11: the connection may have no request (too many connections) or a
        # broken one (a protocol error), and h11 sends a response to neither.
        body = error_body(message)
        head = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self._disarm()
        self.transport.write(head.encode("ascii") + body)
        self.transport.close()


def server_config(app: Any, settings: Settings, host: str, port: int, *, logs: bool = True) -> ServerConfig:
    """The uvicorn config `policybot serve` runs `app` with. `logs=False` leaves the process's logging as it
    is (a server inside a test), warnings only."""
    return ServerConfig(
        app,
        host=host,
        port=port,
        http=GuardedH11Protocol,  # h11, not httptools: it is the one that bounds header size
        ws="none",  # nothing here speaks WebSocket
        # The standard event loop: every outbound connection goes through Python's socket module, where an audit
        # hook (and the hostile-client tests) can see it. There should be none.
        loop="asyncio",
        lifespan="on",
        proxy_headers=False,  # the guard reads forwarded headers, from trusted proxies only
        server_header=False,
        h11_max_incomplete_event_size=settings.max_header_bytes,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=settings.shutdown_timeout,
        log_config=log_config() if logs else None,
        log_level=None if logs else "warning",
        client_timeout=settings.client_timeout,
        max_connections=settings.max_connections,
    )


def run(app: Any, settings: Settings, host: str, port: int) -> None:
    """Serve `app` until SIGINT or SIGTERM; open streams get `shutdown_timeout` seconds to end."""
    bound_std_streams()
    uvicorn.Server(server_config(app, settings, host, port)).run()
