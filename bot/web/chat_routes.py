"""The chat page's routes: the few of Gradio's that the page uses, and none of the others (uploads, remote
files and proxies, its own API, monitoring, MCP); each event's body checked before Gradio reads it, so a
malformed one is a 422 here rather than an exception (and a traceback quoting it) inside Gradio."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .asgi import ASGIApp, Receive, Scope, Send, replaying, send_error, shorten
from .bodies import encodable
from .origins import ANY_ORIGIN_PATHS, API_PREFIXES

_SESSION = r"[A-Za-z0-9_-]{1,64}"
_READ = ("GET", "HEAD")
# What the page asks for, as recorded from Chromium on load, question, thumbs, comment and reload.
_ROUTES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern), methods)
    for pattern, methods in (
        (r"/|/config|/theme\.css|/favicon\.ico|/robots\.txt|/manifest\.json", _READ),
        (r"/(assets|static)/(?!.*\.\.)[A-Za-z0-9_./@-]{1,200}", _READ),
        (r"/gradio_api/queue/join|/gradio_api/run/predict|/gradio_api/cancel", ("POST",)),
        (r"/gradio_api/queue/data", _READ),
        (rf"/gradio_api/heartbeat/{_SESSION}", _READ),
    )
)
_EVENT_PATHS = {"/gradio_api/queue/join": True, "/gradio_api/run/predict": False, "/gradio_api/cancel": None}
"""Event routes and whether the events they take are queued ones (None: a cancellation of either)."""
_SCALAR = (str, int, float, bool, type(None))


@dataclass(frozen=True, slots=True)
class Event:
    """One event handler of the page, as its config describes it to the browser."""

    inputs: int
    queued: bool


def page_events(config: Mapping[str, Any]) -> dict[int, Event]:
    """The page's events by fn_index, from a Blocks config (`Blocks.get_config_file()`)."""
    return {
        int(d["id"]): Event(inputs=len(d.get("inputs", [])), queued=bool(d.get("queue", True)))
        for d in config.get("dependencies", [])
    }


def event_problem(body: bytes, events: Mapping[int, Event], queued: bool | None) -> str | None:
    """What is wrong with an event's body, or None: a JSON object naming one of the page's events of the
    route's kind, with one plain value per input and a session id (a cancellation: the event and session)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "the event is not JSON"
    if not isinstance(data, dict):
        return "the event must be a JSON object"
    fn_index, session = data.get("fn_index"), data.get("session_hash")
    event = events.get(fn_index) if isinstance(fn_index, int) and not isinstance(fn_index, bool) else None
    if event is None or queued not in (None, event.queued):
        return f"the page has no such event: fn_index {shorten(repr(fn_index), 20)}"
    if not isinstance(session, str) or not re.fullmatch(_SESSION, session):
        return "session_hash must be 1 to 64 letters, digits, _ or -"
    if queued is None:
        event_id = data.get("event_id")
        ok = event_id is None or (isinstance(event_id, str) and re.fullmatch(_SESSION, event_id))
        return None if ok else "event_id must be 1 to 64 letters, digits, _ or -"
    inputs = data.get("data")
    if not isinstance(inputs, list) or len(inputs) != event.inputs:
        return f"data must be a list of {event.inputs} values"
    if not all(isinstance(v, _SCALAR) for v in inputs):
        return "each value in data must be text, a number, true/false or null"
    if not all(encodable(v) for v in inputs if isinstance(v, str)):
        return "the text holds half of a UTF-16 pair (a lone surrogate), which is not a character"
    extra = data.get("event_data")
    if extra is not None and not isinstance(extra, dict):
        return "event_data must be an object or null"
    if not isinstance(data.get("trigger_id"), int | None):
        return "trigger_id must be a number or null"
    return None


def _chat_path(scope: Scope) -> str | None:
    """The path, when the request is for the chat page (everything but the APIs and the widget)."""
    path = str(scope.get("path", ""))
    if scope["type"] != "http" or path.startswith(API_PREFIXES) or path in ANY_ORIGIN_PATHS:
        return None
    return path


class ChatRoutes:
    """404 for every path of Gradio's the page doesn't use, 405 for a wrong method; before the body limit, so
    a refused upload is not even read. The API and the widget pass untouched (FastAPI answers those)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = _chat_path(scope)
        if path is not None:
            methods = next((m for pattern, m in _ROUTES if pattern.fullmatch(path)), None)
            if methods is None:
                await send_error(send, 404, f"no such page: {shorten(path)}; the chat page is at /")
                return
            if scope["method"] not in methods:
                allow = ", ".join(methods)
                refusal = f"{scope['method']} is not allowed here; use {allow}"
                await send_error(send, 405, refusal, [("Allow", allow)])
                return
        await self.app(scope, receive, send)


class EventBodies:
    """422 for a malformed chat page event, before Gradio parses it. Behind the body limit: bodies are whole."""

    def __init__(self, app: ASGIApp, events: Mapping[int, Event]) -> None:
        self.app = app
        self.events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = _chat_path(scope)
        if path in _EVENT_PATHS and scope["method"] == "POST":
            message = await receive()
            body = message.get("body", b"")
            problem = event_problem(body, self.events, queued=_EVENT_PATHS[path])
            if problem:
                await send_error(send, 422, f"{problem}; reload the chat page")
                return
            receive = replaying(body, receive)
        await self.app(scope, receive, send)
