"""How the app is served: uvicorn with every limit set (header size, a deadline for each request's headers,
open connections, keep-alive, a graceful shutdown that ends), forwarded headers left to the guard, protocol
errors answered in the API's JSON shape, and logs no request can flood; in one process, or in several worker
processes on one socket, each building the same app from the settings the parent hands over."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import typing
from http import HTTPStatus
from typing import Any

import uvicorn
from pydantic import SecretStr
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..settings import Settings
from .asgi import error_body, shorten
from .logs import bound_std_streams, log_config

KEEP_ALIVE_SECONDS = 5
WORKER_ENV = "POLICYBOT_SERVE_WORKER"
"""Where `policybot serve --workers N` hands its workers the app to build: JSON, see `worker_handover`."""
WORKER_START_SECONDS = 60
"""How long the supervisor waits on a worker's health check. uvicorn's 5 s is too short for a worker that is
loading the model and the index on a busy machine: a restart (SIGHUP) would give up on every new worker."""


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


def server_config(
    app: Any, settings: Settings, host: str, port: int, *, logs: bool = True, **options: Any
) -> ServerConfig:
    """The uvicorn config `policybot serve` runs `app` with. `logs=False` leaves the process's logging as it
    is (a server inside a test), warnings only; `options` are more of uvicorn's (workers, factory)."""
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
        **options,
    )


def run(app: Any, settings: Settings, host: str, port: int) -> None:
    """Serve `app` until SIGINT or SIGTERM; open streams get `shutdown_timeout` seconds to end."""
    bound_std_streams()
    uvicorn.Server(server_config(app, settings, host, port)).run()


def run_workers(settings: Settings, host: str, port: int, workers: int, *, chat: bool) -> int:
    """Serve with `workers` processes sharing one socket (uvicorn's supervisor, which restarts a worker that
    dies) until SIGINT or SIGTERM; each builds its app with `worker_app`. Returns the exit status: 0, or
    uvicorn's start-up failure when a worker could not start (the supervisor then stops them all)."""
    from uvicorn.supervisors import Multiprocess

    os.environ[WORKER_ENV] = worker_handover(settings, chat=chat)  # the workers inherit the environment
    bound_std_streams()
    config = server_config(
        f"{__name__}:worker_app",
        settings,
        host,
        port,
        factory=True,
        workers=workers,
        timeout_worker_healthcheck=WORKER_START_SECONDS,
    )
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    failed = any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes)
    return STARTUP_FAILURE if failed else 0


def _holds_secret(annotation: Any) -> bool:
    return annotation is SecretStr or any(_holds_secret(arg) for arg in typing.get_args(annotation))


def worker_handover(settings: Settings, *, chat: bool) -> str:
    """What a worker needs to build the parent's app, as JSON: every setting as the parent has it (the command
    line's additions included) and the options. Secrets are left out: the worker reads them from the
    environment it inherits, as the parent did, so no key is ever copied into another variable."""
    secrets = {name for name, field in Settings.model_fields.items() if _holds_secret(field.annotation)}
    return json.dumps({"settings": settings.model_dump(mode="json", exclude=secrets), "chat": chat})


def read_handover(raw: str | None) -> tuple[Settings, bool]:
    """The settings and the chat option in `raw` (WORKER_ENV's value), validated like the environment."""
    if not raw:
        raise ValueError(
            f"{WORKER_ENV} is not set: this app factory is for the workers of `policybot serve --workers N`; "
            "start the server with that command"
        )
    try:
        held = json.loads(raw)
        fields, chat = held["settings"], held["chat"]
        if not isinstance(fields, dict) or not isinstance(chat, bool):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise ValueError(
            f"{WORKER_ENV} is not what `policybot serve --workers N` writes (got {shorten(raw)!r}); "
            "start the server with that command instead of setting it by hand"
        ) from None
    unknown = sorted(set(fields) - set(Settings.model_fields))
    if unknown:
        raise ValueError(
            f"{WORKER_ENV} names settings this version does not have: {', '.join(unknown)}; "
            "restart `policybot serve` so that the parent and its workers run the same code"
        )
    return Settings(**fields), chat  # pydantic names any bad value


def worker_app() -> Any:
    """The app factory each worker of `policybot serve --workers N` calls (uvicorn's `factory=True`): the app
    the parent would have built, from WORKER_ENV, with the model and the index loaded before the worker takes
    its first connection. A failure ends the worker with uvicorn's start-up status, so the supervisor stops
    instead of restarting a worker that cannot start."""
    try:
        settings, chat = read_handover(os.environ.get(WORKER_ENV))
        bound_std_streams()
        _preload(settings)
        from .app import create_app

        return create_app(settings, chat=chat)
    except Exception:
        logging.getLogger("uvicorn.error").exception("policybot: this worker could not build the app")
        sys.exit(STARTUP_FAILURE)


def _preload(settings: Settings) -> None:
    from ..answer.ready import get_ready
    from ..errors import PolicybotError

    try:
        get_ready(settings)
    except PolicybotError as exc:  # /api/health answers 503 until it can be opened
        logging.getLogger("uvicorn.error").warning("policybot: worker %d: %s", os.getpid(), exc)
