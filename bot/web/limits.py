"""Limits on what one client may cost the server: a per-client rate limit (questions, and requests of any kind)
and a body-size and body-time limit, both in front of every route."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .asgi import ASGIApp, Receive, Scope, Send, client_host, header, replaying, send_error


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


class BodyLimit:
    """413 for a body over `max_bytes`, declared or streamed, and 408 for one that takes longer than
    `timeout` seconds to arrive, on every route. The body is read here, at most `max_bytes` of it, and handed on
    whole, so nothing behind (Gradio included) ever buffers more."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float = 10.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    def _too_large(self, size: str) -> str:
        return (
            f"the request body is {size}; the limit is {self.max_bytes:,} bytes: "
            "send one question of a few sentences"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await send_error(send, 413, self._too_large(f"{int(declared):,} bytes"))
            return
        body = bytearray()
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    message = await receive()
                    if message["type"] != "http.request":
                        return  # the client went away
                    body.extend(message.get("body", b""))
                    if len(body) > self.max_bytes:
                        await send_error(send, 413, self._too_large(f"over {self.max_bytes:,} bytes"))
                        return
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            late = f"the request body did not arrive within {self.timeout:g} s; send it whole, at once"
            await send_error(send, 408, late, [("Connection", "close")])
            return
        await self.app(scope, replaying(bytes(body), receive), send)


class RequestRate:
    """429 for a client sending more requests of any kind than `limiter` allows: a page's assets, the chat
    page's events, 404s. Questions have their own, tighter limit on top (the routes and the chat page)."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.limiter.enabled:
            client = client_host(scope)
            wait = self.limiter.acquire(client)
            if wait:
                after = retry_after(wait)
                message = f"too many requests from {client}; try again in {after} s"
                await send_error(send, 429, message, [("Retry-After", after)])
                return
        await self.app(scope, receive, send)
