"""The rate limit, the body-size limit and the origin check, as plain objects (no server)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.web.limits import BodyLimit, RateLimiter, retry_after
from bot.web.origins import OriginGuard, same_origin

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_at_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=6, burst=3, clock=clock)  # one token every 10 s
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a") == pytest.approx(10.0)
    assert limiter.acquire("b") == 0.0  # per client
    clock.now += 5
    assert limiter.acquire("a") == pytest.approx(5.0)
    clock.now += 5
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") == pytest.approx(10.0)
    clock.now += 3600
    assert [limiter.acquire("a") for _ in range(4)][-1] > 0  # refills to the burst, not beyond


def test_zero_rate_disables_the_limit() -> None:
    limiter = RateLimiter(per_minute=0, burst=1)
    assert not limiter.enabled
    assert all(limiter.acquire("a") == 0.0 for _ in range(100))


def test_client_table_stays_bounded() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=2, clock=clock, max_clients=10)
    for i in range(50):
        limiter.acquire(f"client-{i}")
        clock.now += 0.01
    assert len(limiter._buckets) <= 10


@pytest.mark.parametrize(("seconds", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (59.9, "60")])
def test_retry_after_is_whole_seconds(seconds: float, header: str) -> None:
    assert retry_after(seconds) == header


@pytest.mark.parametrize(
    ("origin", "host", "same"),
    [
        ("http://127.0.0.1:7860", "127.0.0.1:7860", True),
        ("https://Bot.Example.com", "bot.example.com", True),
        ("http://127.0.0.1:7861", "127.0.0.1:7860", False),
        ("http://localhost:7860", "127.0.0.1:7860", False),
        ("null", "127.0.0.1:7860", False),
        ("http://127.0.0.1:7860", None, False),
    ],
)
def test_same_origin(origin: str, host: str | None, same: bool) -> None:
    assert same_origin(origin, host) is same


# --- the two ASGI middlewares, driven by hand -------------------------------------------------------------


def _run(app: Any, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[int, Any]:
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "path": path, "headers": headers, "method": "POST"}
    asyncio.run(app(scope, receive, send))
    status = sent[0]["status"]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return status, json.loads(body) if body else None


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    """An app that answers 200 with the length of the body it read."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    data = json.dumps({"read": len(body)}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": data})


def test_body_limit_passes_small_bodies_whole() -> None:
    app = BodyLimit(_echo, max_bytes=10)
    assert _run(app, "/api/ask", [], [b"12345", b"67890"]) == (200, {"read": 10})


def test_body_limit_refuses_declared_and_streamed_excess() -> None:
    app = BodyLimit(_echo, max_bytes=10)
    status, body = _run(app, "/api/ask", [(b"content-length", b"11")], [b"x" * 11])
    assert status == 413 and "11 bytes" in body["error"]
    status, body = _run(app, "/api/ask", [], [b"x" * 6, b"x" * 6])
    assert status == 413 and "over 10 bytes" in body["error"]


def test_body_limit_holds_on_every_path() -> None:
    app = BodyLimit(_echo, max_bytes=10)
    for path in ("/gradio_api/upload", "/gradio_api/queue/join", "/", "/widget.js"):
        assert _run(app, path, [], [b"x" * 50])[0] == 413


def test_origin_guard() -> None:
    app = OriginGuard(_echo, allowed=["https://help.example.com"])
    ok = [(b"host", b"bot.example.com")]
    assert _run(app, "/api/ask", ok, [b""])[0] == 200  # no Origin: not a browser's cross-origin call
    assert _run(app, "/api/ask", [*ok, (b"origin", b"https://help.example.com")], [b""])[0] == 200
    assert _run(app, "/api/ask", [*ok, (b"origin", b"https://bot.example.com")], [b""])[0] == 200
    status, body = _run(app, "/api/ask", [*ok, (b"origin", b"https://evil.example")], [b""])
    assert status == 403 and "https://evil.example" in body["error"]
    anyone = OriginGuard(_echo, allowed=["*"])
    assert _run(anyone, "/api/ask", [*ok, (b"origin", b"https://evil.example")], [b""])[0] == 200


@pytest.mark.parametrize("path", ["/", "/gradio_api/upload", "/gradio_api/queue/join", "/config"])
def test_origin_guard_keeps_the_chat_page_to_its_own_origin(path: str) -> None:
    """A form on another site posting to Gradio's routes needs no preflight; the allow-list (and even "*")
    is for the API, not for the chat page's internals."""
    ok = [(b"host", b"bot.example.com")]
    for allowed in (["https://help.example.com"], ["*"]):
        app = OriginGuard(_echo, allowed=allowed)
        for origin in (b"https://help.example.com", b"https://evil.example", b"null"):
            status, body = _run(app, path, [*ok, (b"origin", origin)], [b""])
            assert status == 403 and "chat page" in body["error"]
        assert _run(app, path, [*ok, (b"origin", b"https://bot.example.com")], [b""])[0] == 200
        assert _run(app, path, ok, [b""])[0] == 200  # a link followed, a script fetched: no Origin


def test_origin_guard_lets_any_page_load_the_widget() -> None:
    app = OriginGuard(_echo, allowed=[])
    headers = [(b"host", b"bot.example.com"), (b"origin", b"https://anyone.example")]
    assert _run(app, "/widget.js", headers, [b""])[0] == 200
