"""An OpenAI-compatible chat API under /v1, so chat clients built on the openai SDK (Open WebUI, LibreChat, LM
Studio, any app) can ask policybot: the last user message is the question, earlier user messages its history, and
the reply is `ask()`'s answer with its Sources; the verified citations travel as an extra field of the message.

A thin edge over `ask()` / `ask_stream()`: this module reads OpenAI's request shape and routes it; the reply and
chunk shapes are in `openai_replies`, the error shape and the bearer keys in `openai_errors`. Mounted by
`create_app` (`router`, with `OpenAIErrors` outermost).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match

from ..errors import PolicybotError
from ..settings import Settings
from .asgi import shorten
from .bodies import encodable
from .errors import SafeJSONResponse
from .limits import retry_after
from .openai_errors import OpenAIError, authorize, policybot_error
from .openai_replies import MODEL, completion_json, next_piece, stream_events

CREATED = int(time.time())
"""When this server started offering the model: what GET /v1/models reports as `created`."""

# --- requests ---------------------------------------------------------------------------------------------


class _Open(BaseModel):
    # OpenAI's request shapes have many fields policybot has no use for (temperature, tools, ...): accepted, unread.
    model_config = ConfigDict(extra="allow")


class ContentPart(_Open):
    type: str
    text: str | None = None


class ChatMessage(_Open):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    @property
    def text(self) -> str:
        """The message's text: a string, or its text parts joined (images and other parts are not read)."""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(p.text for p in self.content or () if p.type in ("text", "input_text") and p.text)


class ChatRequest(_Open):
    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool | None = False
    n: int | None = None
    service: str | list[str] | None = Field(
        default=None, description="policybot's own: only these platforms (what /api/ask calls `service`)."
    )
    as_of: date | None = Field(
        default=None, description="policybot's own: the versions in force on this date."
    )


def limit(request: Request) -> None:
    """The per-client question limit that /api/ask has (`app.state.limiter`, when the app has one)."""
    limiter = getattr(request.app.state, "limiter", None)
    if limiter is None:
        return
    client = request.client.host if request.client else "unknown"
    wait = limiter.acquire(client)
    if wait:
        after = retry_after(wait)
        message = f"too many requests from {client}; try again in {after} s"
        raise OpenAIError(429, message, headers={"Retry-After": after})


async def read_request(request: Request) -> ChatRequest:
    raw = await request.body()
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        detail = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else str(exc)
        raise OpenAIError(400, f"the request body is not JSON ({shorten(detail)})") from None
    try:
        body = ChatRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or None
        message = (
            f"{where}: {first.get('msg', 'invalid')}" if where else "the request body must be a JSON object"
        )
        raise OpenAIError(400, message, param=where) from None
    if body.model != MODEL:
        message = f"the model `{shorten(body.model)}` does not exist; this server has one model, `{MODEL}`"
        raise OpenAIError(404, message, param="model", code="model_not_found")
    if body.n not in (None, 1):
        raise OpenAIError(400, "n: policybot gives one answer per question; send n = 1", param="n")
    return body


def conversation(messages: Sequence[ChatMessage], max_history: int) -> tuple[str, list[str]]:
    """The question (the last message, the user's) and the user's earlier questions, oldest first. System,
    developer and assistant messages are not read: nothing but the user's own words reaches retrieval."""
    if messages[-1].role != "user":
        raise OpenAIError(
            400, "messages: the last message must be the user's question (role `user`)", param="messages"
        )
    texts = [m.text for m in messages if m.role == "user"]
    if not all(encodable(t) for t in texts):
        message = (
            "messages: the text holds half of a UTF-16 pair (a lone surrogate), which is not a character"
        )
        raise OpenAIError(400, message, param="messages")
    history = [t for t in texts[:-1] if t.strip()][-max_history:] if max_history else []
    return texts[-1], history


# --- routes -----------------------------------------------------------------------------------------------

router = APIRouter(include_in_schema=False)


@router.post("/v1/chat/completions")
async def chat_completions(request: Request) -> Response:
    from ..answer.ask import ask, ask_stream

    settings: Settings = request.app.state.settings
    try:
        authorize(request, settings)
        limit(request)
        body = await read_request(request)
        question, history = conversation(body.messages, settings.max_history)
    except OpenAIError as exc:
        return exc.response()
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    options: dict[str, Any] = {"service": body.service, "as_of": body.as_of, "history": history}
    try:
        if not body.stream:
            answer = await run_in_threadpool(ask, question, settings, **options)
            return SafeJSONResponse(completion_json(answer, completion_id, created))
        pieces = ask_stream(question, settings, **options)
        # The first piece before the response starts: a bad question or a missing index is still a status code.
        first = await run_in_threadpool(next_piece, pieces)
    except PolicybotError as exc:
        return policybot_error(exc).response()
    return StreamingResponse(
        stream_events(first, pieces, completion_id, created),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def model_json() -> dict[str, Any]:
    return {"id": MODEL, "object": "model", "created": CREATED, "owned_by": "policybot"}


@router.get("/v1/models")
def list_models(request: Request) -> Response:
    try:
        authorize(request, request.app.state.settings)
    except OpenAIError as exc:
        return exc.response()
    return SafeJSONResponse({"object": "list", "data": [model_json()]})


@router.get("/v1/models/{model}")
def retrieve_model(model: str, request: Request) -> Response:
    try:
        authorize(request, request.app.state.settings)
        if model != MODEL:
            message = f"the model `{shorten(model)}` does not exist; this server has one model, `{MODEL}`"
            raise OpenAIError(404, message, param="model", code="model_not_found")
    except OpenAIError as exc:
        return exc.response()
    return SafeJSONResponse(model_json())


_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@router.api_route("/v1/{rest:path}", methods=_ALL_METHODS)
def fallback(request: Request, rest: str) -> Response:
    """Any other path under /v1: OpenAI's 404, or 405 naming the methods the path takes."""
    allowed = sorted(
        {
            method
            for route in router.routes
            if getattr(route, "endpoint", None) is not fallback
            and route.matches(request.scope)[0] is not Match.NONE
            for method in getattr(route, "methods", None) or ()
        }
    )
    if allowed:
        message = f"{request.method} is not allowed on {request.url.path}; use {', '.join(allowed)}"
        return OpenAIError(405, message, headers={"Allow": ", ".join(allowed)}).response()
    message = (
        f"no such route: {request.method} {shorten(request.url.path)}; "
        "this API has /v1/chat/completions and /v1/models"
    )
    return OpenAIError(404, message).response()
