"""The guard in front of every route (chat page, Gradio's internals, API, widget, docs): one stack of plain ASGI
middlewares, so the chat page's event streams pass through untouched, and one error shape, `{"error": ...}`."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from ..settings import Settings
from .asgi import ASGIApp, Message, Receive, Scope, Send, header, send_error, shorten
from .chat_routes import ChatRoutes, Event, EventBodies
from .limits import BodyLimit, RateLimiter, RequestRate
from .origins import HostGuard, OriginGuard
from .proxy import ForwardedHeaders

log = logging.getLogger(__name__)


class Shield:
    """The last line: an exception anywhere behind it becomes a JSON 500 without a traceback (or, once a
    response has started, a closed stream), and one bounded line in the log saying where, never the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            log.error("%s %s failed: %s", scope.get("method"), shorten(scope.get("path", "")), describe(exc))
            if not started:
                await send_error(send, 500, "the server failed on this request; its log says why")


def describe(exc: BaseException) -> str:
    """One line for the log: the error, where it was raised, and what caused it; never the request itself."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    cause = exc.__cause__ or exc.__context__
    because = f" (from {type(cause).__name__}: {shorten(str(cause), 200)})" if cause is not None else ""
    return f"{type(exc).__name__}: {shorten(str(exc), 300)}{where}{because}"


class CloseUnread:
    """`Connection: close` on a response sent before the request's body was read (a refusal: too large, wrong
    route, wrong origin, too many): otherwise the server would go on reading, and dropping, the rest of it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (
            header(scope, b"content-length") or header(scope, b"transfer-encoding")
        ):
            await self.app(scope, receive, send)
            return
        read = False

        async def reading() -> Message:
            nonlocal read
            message = await receive()
            read = read or message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start" and not read:
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, reading, closing)


class NoSniff:
    """`X-Content-Type-Options: nosniff` on every response, so no answer is ever read as a script or a page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(bytes(k).lower() == b"x-content-type-options" for k, _ in headers):
                    headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, labelled)


def request_limiter(settings: Settings) -> RateLimiter:
    """The limit on requests of any kind; off with the question limit, so `rate_limit_per_minute=0` is
    "no rate limits" (the load script, the tests)."""
    per_minute = settings.request_rate_per_minute if settings.rate_limit_per_minute else 0
    return RateLimiter(per_minute, settings.request_burst)


def install_guard(app: FastAPI, settings: Settings, events: Mapping[int, Event] | None) -> None:
    """Put the guard in front of `app`. `events`: the chat page's events when it is mounted (None: no page).

    Outermost first: catch what fails; close a connection whose body a refusal left unread; label; believe
    forwarded headers from trusted proxies only; refuse unknown hosts; CORS (answers preflights and labels every
    response after it, refusals included, so an allowed page can read why and when to retry); the rate of
    requests; the origin; the routes Gradio may serve; the body's size and time; the chat page's event bodies;
    then the application.
    """
    cors = {
        "allow_origins": list(settings.cors_origins),
        "allow_methods": ["GET", "POST"],
        "allow_headers": ["Content-Type", "Authorization"],  # Authorization: the /v1 API's bearer key
        "expose_headers": ["Retry-After"],
        "allow_credentials": False,
        "max_age": 600,
    }
    layers: list[tuple[Any, dict[str, Any]]] = [
        (Shield, {}),
        (CloseUnread, {}),
        (NoSniff, {}),
        (ForwardedHeaders, {"trusted": settings.forwarded_allow_ips}),
        (HostGuard, {"allowed": settings.allowed_hosts}),
        (CORSMiddleware, cors),
        (RequestRate, {"limiter": request_limiter(settings)}),
        (OriginGuard, {"allowed": settings.cors_origins}),
        (BodyLimit, {"max_bytes": settings.max_request_bytes, "timeout": settings.client_timeout}),
    ]
    if events is not None:
        layers.insert(-1, (ChatRoutes, {}))  # before the body limit: a refused route is not even read
        layers.append((EventBodies, {"events": events}))
    for middleware, options in reversed(layers):  # add_middleware puts each outside the ones before
        app.add_middleware(middleware, **options)
