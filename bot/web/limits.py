"""What keeps the public API safe to embed: a per-client rate limit, a request-size limit and the origin check
that refuses pages not on the CORS allow-list."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per client: `burst` questions at once, then `per_minute` a minute.

    In memory and per process: it protects one server from one noisy client, it is not an accounting system.
    """

    def __init__(
        self,
        per_minute: int,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        self.per_second = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.per_second > 0

    def acquire(self, client: str) -> float:
        """Take one token for `client`: 0.0 when allowed, else the seconds until a token is free."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is None:
                if len(self._buckets) >= self.max_clients:
                    self._forget_idle(now)
                bucket = self._buckets[client] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.per_second)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.per_second

    def _forget_idle(self, now: float) -> None:
        # A bucket that has refilled is indistinguishable from a new one: dropping it loses nothing.
        full_after = self.burst / self.per_second
        for key in [k for k, b in self._buckets.items() if now - b.updated >= full_after]:
            del self._buckets[key]
        if len(self._buckets) >= self.max_clients:  # all busy: drop the oldest half rather than grow
            oldest = sorted(self._buckets, key=lambda k: self._buckets[k].updated)
            for key in oldest[: len(oldest) // 2]:
                del self._buckets[key]


def retry_after(seconds: float) -> str:
    """The Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


async def _send_json(
    send: Send, status: int, body: dict[str, Any], headers: Sequence[tuple[str, str]] = ()
) -> None:
    data = json.dumps(body).encode("utf-8")
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        *((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class BodyLimit:
    """413 for API requests whose body exceeds `max_bytes`, declared or streamed (the body is read here,
    at most `max_bytes` of it, and handed on)."""

    def __init__(self, app: ASGIApp, max_bytes: int, prefix: str = "/api/") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix

    def _too_large(self, size: str) -> dict[str, Any]:
        return {
            "error": f"the request body is {size}; the limit is {self.max_bytes:,} bytes: "
            "send one question of a few sentences"
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _send_json(send, 413, self._too_large(f"{int(declared):,} bytes"))
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body.extend(message.get("body", b""))
            if len(body) > self.max_bytes:
                await _send_json(send, 413, self._too_large(f"over {self.max_bytes:,} bytes"))
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            result: Message = await receive()
            return result

        await self.app(scope, replay, send)


def same_origin(origin: str, host: str | None) -> bool:
    """Whether a browser's Origin header names the server it is talking to."""
    if not host:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.casefold() == host.casefold()


class OriginGuard:
    """403 for API requests sent by a page on another origin that is not on the allow-list.

    CORS alone only stops the page reading the answer; this stops the server doing the work. Requests
    without an Origin header (curl, servers, the load script) are not browsers' cross-origin calls.
    """

    def __init__(self, app: ASGIApp, allowed: Sequence[str], prefix: str = "/api/") -> None:
        self.app = app
        self.any_origin = "*" in allowed
        self.allowed = {a.casefold() for a in allowed}
        self.prefix = prefix

    def allows(self, origin: str | None, host: str | None) -> bool:
        if origin is None or self.any_origin:
            return True
        return origin.casefold() in self.allowed or same_origin(origin, host)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            origin = _header(scope, b"origin")
            if not self.allows(origin, _header(scope, b"host")):
                await _send_json(
                    send,
                    403,
                    {
                        "error": f"pages on {origin} may not use this API; the operator can allow it with "
                        "POLICYBOT_CORS_ORIGINS or `policybot serve --cors-origin`"
                    },
                )
                return
        await self.app(scope, receive, send)


class NoSniff:
    """`X-Content-Type-Options: nosniff` on every response, so no answer is ever read as a script or a page.
    Plain ASGI (not Starlette's BaseHTTPMiddleware), so the chat page's event streams pass untouched."""

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
