"""The guard's pieces as plain objects (no server): forwarded headers, hosts, the chat page's routes and event
bodies, closing after a refusal, the last-line exception shield, public error messages, bounded logs and the
offline API reference."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from typing import Any

import pytest

from bot.errors import IndexMissing, StoreUnavailable
from bot.web.chat_routes import ChatRoutes, Event, EventBodies, event_problem, page_events
from bot.web.docs import reference_page
from bot.web.errors import SafeJSONResponse, public_message
from bot.web.guard import CloseUnread, Shield, request_limiter
from bot.web.limits import RateLimiter, RequestRate
from bot.web.logs import MAX_LINE, MAX_RECORD, BoundedStream, bounded
from bot.web.origins import HostGuard, host_name
from bot.web.proxy import ForwardedHeaders

pytestmark = pytest.mark.unit

Headers = list[tuple[bytes, bytes]]


def _run(
    app: Any,
    path: str = "/",
    headers: Headers | None = None,
    *,
    method: str = "GET",
    body: bytes = b"",
    client: str = "127.0.0.1",
    server: str = "127.0.0.1",
) -> tuple[int, dict[str, str], Any, dict[str, Any]]:
    """Drive `app` with one request: status, response headers, JSON body (or None), the scope it saw."""
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "path": path,
        "method": method,
        "headers": list(headers or []),
        "client": (client, 50000),
        "server": (server, 7860),
        "scheme": "http",
    }

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    data = b"".join(m.get("body", b"") for m in sent[1:])
    response_headers = {bytes(k).decode().lower(): bytes(v).decode() for k, v in start.get("headers", [])}
    return start["status"], response_headers, json.loads(data) if data else None, scope


async def _seen(scope: Any, receive: Any, send: Any) -> None:
    """Answers 200 with what it was handed: the client, the scheme, the headers and the body."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    data = json.dumps(
        {
            "client": scope["client"][0],
            "scheme": scope["scheme"],
            "headers": {bytes(k).decode(): bytes(v).decode() for k, v in scope["headers"]},
            "body": body.decode("latin-1"),
        }
    ).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": data})


# --- forwarded headers -----------------------------------------------------------------------------------

FORWARDED: Headers = [
    (b"x-forwarded-for", b"6.6.6.6, 203.0.113.7"),
    (b"x-forwarded-proto", b"https"),
    (b"x-forwarded-host", b"bot.example.com"),
    (b"x-real-ip", b"6.6.6.6"),
    (b"forwarded", b"for=6.6.6.6"),
]


def test_forwarded_headers_from_an_untrusted_peer_are_removed_unread() -> None:
    for trusted in ((), ("10.0.0.0/8",)):
        _, _, seen, _ = _run(ForwardedHeaders(_seen, trusted), headers=[(b"host", b"x"), *FORWARDED])
        assert seen["client"] == "127.0.0.1" and seen["scheme"] == "http"
        assert set(seen["headers"]) == {"host"}


def test_forwarded_headers_from_a_trusted_proxy_are_believed() -> None:
    app = ForwardedHeaders(_seen, ("127.0.0.1",))
    _, _, seen, scope = _run(app, headers=FORWARDED)
    assert (
        seen["client"] == "203.0.113.7"
    )  # the right-most entry not a proxy: the left one is the client's word
    assert scope["client"] == ("203.0.113.7", 0)  # in place: uvicorn's access log shows it too
    assert seen["scheme"] == "https"
    assert seen["headers"] == {"x-forwarded-proto": "https", "x-forwarded-host": "bot.example.com"}


@pytest.mark.parametrize(
    ("chain", "client"),
    [
        (b"203.0.113.7", "203.0.113.7"),
        (b"203.0.113.7, 10.0.0.2", "203.0.113.7"),  # 10.0.0.2: a second trusted proxy
        (b"10.0.0.3", "10.0.0.3"),  # only proxies: the first one
        (b"not-an-address", "127.0.0.1"),
        (b"9" * 5000, "127.0.0.1"),
        (b"203.0.113.7, garbage", "127.0.0.1"),
        (b"[2001:db8::1]", "2001:db8::1"),
    ],
)
def test_the_forwarded_client_is_an_address_or_nothing(chain: bytes, client: str) -> None:
    app = ForwardedHeaders(_seen, ("127.0.0.1", "10.0.0.0/24"))
    assert _run(app, headers=[(b"x-forwarded-for", chain)])[2]["client"] == client


def test_forwarded_host_and_proto_must_be_well_formed() -> None:
    app = ForwardedHeaders(_seen, ("*",))
    bad = [(b"x-forwarded-proto", b"javascript"), (b"x-forwarded-host", b"evil.example/<script>")]
    _, _, seen, _ = _run(app, headers=bad)
    assert seen["scheme"] == "http" and seen["headers"] == {}


# --- hosts -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("localhost:7860", "localhost"),
        ("Bot.Example.com.", "bot.example.com"),
        ("[::1]:7860", "::1"),
        ("10.0.0.5", "10.0.0.5"),
        ("evil.example/x", None),
        ("a b", None),
        ("", None),
    ],
)
def test_host_name(host: str, name: str | None) -> None:
    assert host_name(host) == name


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("localhost:7860", True),
        ("127.0.0.1:7860", True),
        ("[::1]:7860", True),
        ("10.0.0.5:7860", True),  # the address the request came in on
        ("bot.example.com", True),
        ("help.bots.example.org", True),
        ("bots.example.org", False),  # *.example.org is its subdomains
        ("rebind.evil:7860", False),
        ("10.0.0.6", False),
        ("bad host", False),
    ],
)
def test_host_guard(host: str, allowed: bool) -> None:
    app = HostGuard(_seen, ("bot.example.com", "*.bots.example.org"))
    status, _, body, _ = _run(app, headers=[(b"host", host.encode())], server="10.0.0.5")
    assert (status == 200) is allowed
    if not allowed:
        assert status == 421 and "--allowed-host" in body["error"]


def test_host_guard_checks_the_forwarded_host_and_allows_any_with_a_star() -> None:
    app = HostGuard(_seen, ())
    headers = [(b"host", b"localhost"), (b"x-forwarded-host", b"evil.example")]
    assert _run(app, headers=headers)[0] == 421
    assert _run(HostGuard(_seen, ("*",)), headers=headers)[0] == 200
    assert _run(app, headers=[])[0] == 200  # HTTP/1.0 without Host: a script, never a browser


# --- the chat page's routes and events ---------------------------------------------------------------------

EVENTS = {0: Event(inputs=3, queued=True), 1: Event(inputs=0, queued=False)}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("HEAD", "/", 200),
        ("GET", "/assets/index-abc.js", 200),
        ("GET", "/static/fonts/IBMPlexMono/IBMPlexMono-Regular.woff2", 200),
        ("GET", "/gradio_api/heartbeat/abc123", 200),
        ("POST", "/gradio_api/queue/join", 200),
        ("GET", "/api/anything", 200),  # the API's own routing answers these
        ("GET", "/widget.js", 200),
        ("POST", "/", 405),
        ("GET", "/gradio_api/queue/join", 405),
        ("POST", "/gradio_api/upload", 404),
        ("GET", "/gradio_api/file=https://example.com/x", 404),
        ("GET", "/gradio_api/proxy=https://example.com/x", 404),
        ("GET", "/file=/etc/passwd", 404),
        ("GET", "/static/../../etc/passwd", 404),
        ("GET", "/gradio_api/heartbeat/../../x", 404),
        ("GET", "/monitoring", 404),
        ("POST", "/gradio_api/api/respond", 404),
        ("POST", "/gradio_api/call/respond", 404),
    ],
)
def test_chat_routes_serve_what_the_page_uses_only(method: str, path: str, status: int) -> None:
    result, headers, body, _ = _run(ChatRoutes(_seen), path, method=method)
    assert result == status
    if status != 200:
        assert body["error"]
    if status == 405:
        assert headers["allow"]


def _event(**changes: Any) -> bytes:
    return json.dumps(
        {"data": ["q", "All platforms", None], "fn_index": 0, "session_hash": "abc12", **changes}
    ).encode()


@pytest.mark.parametrize(
    ("body", "queued", "problem"),
    [
        (_event(), True, None),
        (_event(fn_index=1, data=[]), False, None),
        (b"{", True, "not JSON"),
        (b"[1]", True, "JSON object"),
        (_event(fn_index=7), True, "no such event"),
        (_event(fn_index=True), True, "no such event"),
        (_event(), False, "no such event"),  # a queued event sent to run/predict
        (_event(session_hash="../x"), True, "session_hash"),
        (_event(session_hash=None), True, "session_hash"),
        (_event(data=["q"]), True, "list of 3"),
        (_event(data="q"), True, "list of 3"),
        (_event(data=[{"a": 1}, None, None]), True, "text, a number"),
        (_event(data=["\ud800", None, None]), True, "not a character"),
        (_event(event_data="x"), True, "event_data"),
        (_event(trigger_id="x"), True, "trigger_id"),
        (json.dumps({"fn_index": 0, "session_hash": "abc", "event_id": "e1"}).encode(), None, None),
        (json.dumps({"fn_index": 0, "session_hash": "abc", "event_id": "../"}).encode(), None, "event_id"),
    ],
)
def test_event_problem(body: bytes, queued: bool | None, problem: str | None) -> None:
    found = event_problem(body, EVENTS, queued)
    assert (found is None) if problem is None else (found is not None and problem in found), found


def test_event_bodies_refuse_a_malformed_event_and_hand_on_a_good_one() -> None:
    app = EventBodies(_seen, EVENTS)
    status, _, body, _ = _run(app, "/gradio_api/queue/join", method="POST", body=b"{nope")
    assert status == 422 and "reload the chat page" in body["error"]
    status, _, seen, _ = _run(app, "/gradio_api/queue/join", method="POST", body=_event())
    assert status == 200 and json.loads(seen["body"])["session_hash"] == "abc12"


def test_page_events_from_a_gradio_config() -> None:
    config = {
        "dependencies": [
            {"id": 0, "inputs": [1, 2, 3], "queue": True},
            {"id": 4, "inputs": [], "queue": False},
        ]
    }
    assert page_events(config) == {0: Event(3, True), 4: Event(0, False)}


# --- closing, the shield, limits --------------------------------------------------------------------------


async def _refuse(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 413, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def test_a_refusal_before_the_body_is_read_closes_the_connection() -> None:
    declared = [(b"content-length", b"5")]
    assert _run(CloseUnread(_refuse), headers=declared, body=b"hello")[1]["connection"] == "close"
    assert "connection" not in _run(CloseUnread(_seen), headers=declared, body=b"hello")[1]
    assert "connection" not in _run(CloseUnread(_refuse))[1]  # no body to leave unread


async def _fail(scope: Any, receive: Any, send: Any) -> None:
    raise ValueError("secret input " + "x" * 10_000)


def test_the_shield_turns_an_exception_into_one_json_500_and_one_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.web.guard"):
        status, headers, body, _ = _run(Shield(_fail), "/api/ask")
    assert status == 500 and headers["content-type"] == "application/json"
    assert "Traceback" not in json.dumps(body) and "secret" not in body["error"]
    (record,) = caplog.records
    assert record.exc_info is None and len(record.getMessage()) < 600
    assert "ValueError" in record.getMessage() and "test_web_guard.py" in record.getMessage()


def test_request_rate_refuses_with_retry_after() -> None:
    app = RequestRate(_seen, RateLimiter(per_minute=60, burst=2))
    assert [_run(app)[0] for _ in range(3)] == [200, 200, 429]
    _, headers, body, _ = _run(app)
    assert int(headers["retry-after"]) >= 1 and "127.0.0.1" in body["error"]


def test_request_limit_is_off_with_the_question_limit(tmp_path: Any) -> None:
    from bot.settings import Settings

    assert not request_limiter(Settings(data_dir=tmp_path, rate_limit_per_minute=0)).enabled
    assert request_limiter(Settings(data_dir=tmp_path)).enabled
    assert not request_limiter(Settings(data_dir=tmp_path, request_rate_per_minute=0)).enabled


# --- public messages, JSON, logs, docs --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "public"),
    [
        (
            "no index in /srv/policybot/data yet: run `policybot index` first",
            "no index in the data directory yet: run `policybot index` first",
        ),
        (
            "no index in http://10.0.0.5:8000 yet: run `policybot index`",
            "no index in the index server yet: run `policybot index`",
        ),
        (
            "cannot reach the Chroma server at http://10.0.0.5:8000 to read the index: ConnectError: refused; "
            "check that `chroma run` is up or unset POLICYBOT_CHROMA_URL",
            "cannot reach the Chroma server to read the index: ConnectError: refused; "
            "check that `chroma run` is up or unset POLICYBOT_CHROMA_URL",
        ),
        (
            "cannot open the Chroma store at http://chroma.internal:8000: down; start it",
            "cannot open the Chroma server: down; start it",
        ),
    ],
)
def test_public_message_names_no_internal_place(message: str, public: str) -> None:
    assert public_message(StoreUnavailable(message)) == public
    assert public_message(IndexMissing(message)) == public


def test_safe_json_response_always_encodes() -> None:
    assert SafeJSONResponse({"q": "AI \ud800"}).body == b'{"q":"AI \\ud800"}'
    assert SafeJSONResponse({"q": "é"}).body == '{"q":"é"}'.encode()


def test_bounded_cuts_long_lines_and_long_records() -> None:
    line = bounded("x" * 50_000)
    assert len(line) < MAX_LINE + 40 and "50,000 characters" in line
    record = bounded("\n".join(["y" * 100] * 1000))
    assert len(record) < MAX_RECORD + 100 and record.startswith("y") and record.endswith("y")


def test_bounded_stream_cuts_lines_across_writes() -> None:
    out = io.StringIO()
    stream = BoundedStream(out)
    stream.write("a" * (MAX_LINE - 10))
    stream.write("b" * 100)
    stream.write("c" * 100 + "\nshort\n")
    lines = out.getvalue().split("\n")
    assert len(lines[0]) < MAX_LINE + 20 and lines[0].endswith("[line cut]") and "cc" not in lines[0]
    assert lines[1] == "short"
    assert stream.encoding == out.encoding  # everything else is the wrapped stream's


def test_reference_page_escapes_the_spec_and_loads_nothing() -> None:
    spec = {
        "info": {"title": "<script>x</script>", "version": "1", "description": "d"},
        "paths": {
            "/api/ask": {
                "post": {
                    "summary": "<img src=x onerror=alert(1)>",
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    page = reference_page(spec)
    assert "<script>" not in page and "<img" not in page and "&lt;script&gt;" in page
    assert "src=" not in page.replace("&lt;img src=x", "")
