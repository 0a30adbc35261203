"""An OpenAI-compatible chat API under /v1, so chat clients built on the openai SDK (Open WebUI, LibreChat, LM
Studio, any app) can ask policybot: the last user message is the question, earlier user messages its history, and
the reply is `ask()`'s answer with its Sources; the verified citations travel as an extra field of the message.

A thin edge over `ask()` / `ask_stream()`: it reads OpenAI's request shape and writes OpenAI's reply, chunk and
error shapes, and nothing else. Mounted by `create_app` (`router`; `OpenAIErrors` gives the guard's refusals on
/v1 OpenAI's error shape).
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match

from ..errors import BadQuestion, PolicybotError
from ..settings import Settings
from ..types import Answer
from .asgi import ASGIApp, Message, Receive, Scope, Send, shorten
from .bodies import encodable
from .errors import SafeJSONResponse, error_status, public_message
from .limits import retry_after

log = logging.getLogger(__name__)

PREFIX = "/v1/"
MODEL = "policybot"
CREATED = int(time.time())
"""When this server started offering the model: what GET /v1/models reports as `created`."""
_MAX_ERROR_BODY = 65_536

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


class OpenAIError(Exception):
    """A refusal in OpenAI's error shape: `{"error": {"message", "type", "param", "code"}}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers or {}

    def response(self) -> Response:
        return SafeJSONResponse(
            error_json(self.status, self.message, param=self.param, code=self.code),
            status_code=self.status,
            headers=self.headers,
        )


_TYPES = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}
_CODES = {
    401: "invalid_api_key",
    403: "origin_not_allowed",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "request_too_large",
    421: "misdirected_request",
    429: "rate_limit_exceeded",
    503: "index_unavailable",
}


def error_json(
    status: int, message: str, *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code or _CODES.get(status)}}


def bearer_key(authorization: str | None) -> str:
    """The key of an `Authorization: Bearer KEY` header ("" when there is none)."""
    scheme, _, given = (authorization or "").partition(" ")
    return given.strip() if scheme.casefold() == "bearer" else ""


def key_accepted(given: str, keys: Sequence[SecretStr]) -> bool:
    """Whether `given` is one of `keys`: each compared in constant time, all of them, so the time taken does
    not tell which one was close."""
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given.encode(), key.get_secret_value().encode())
    return matched


def key_refusal(given: str) -> str:
    if not given:
        return (
            "a bearer key is required: send `Authorization: Bearer KEY` (the openai client's api_key) with a key "
            "the operator set in POLICYBOT_API_KEYS"
        )
    return "this API key is not one of the server's (POLICYBOT_API_KEYS)"


def authorize(request: Request, settings: Settings) -> None:
    """The bearer key, when POLICYBOT_API_KEYS lists any."""
    if not settings.api_keys:
        return
    given = bearer_key(request.headers.get("authorization"))
    if not key_accepted(given, settings.api_keys):
        raise OpenAIError(401, key_refusal(given), headers={"WWW-Authenticate": "Bearer"})


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


def policybot_error(exc: PolicybotError) -> OpenAIError:
    status = error_status(exc)
    if isinstance(exc, BadQuestion):
        return OpenAIError(400, str(exc), param="messages")
    log.log(logging.ERROR if status == 500 else logging.WARNING, "/v1: %s", shorten(str(exc), 500))
    return OpenAIError(status, public_message(exc))


# --- replies ----------------------------------------------------------------------------------------------


def sources_text(a: Answer) -> str:
    """What follows the answer text in a reply: its notes, then the Sources, one Markdown list item per verified
    excerpt (platform, document, section, version date, link; the excerpt too when the text does not quote it)."""
    from ..ingest.markdown import clean_inline

    parts = []
    if a.notes:
        parts.append("\n".join(f"Note: {note}" for note in a.notes))
    if a.citations:
        items = []
        for c in a.citations:
            p = c.provenance
            excerpt = clean_inline(c.excerpt)
            where = [
                p.service,
                p.title,
                *([p.region] if p.region not in ("", "global") else []),
                c.section_path,
            ]
            item = f"- [{c.n}] {' · '.join(where)} · {p.date_label}{'' if p.binding else f' ({p.kind})'}"
            if excerpt[:40] not in a.text:
                item += f": “{excerpt}”"
            items.append(item + (f" — {c.url}" if c.url else ""))
        parts.append("Sources:\n\n" + "\n".join(items))
    if a.disclaimer:
        parts.append(a.disclaimer)
    return "".join(f"\n\n{part}" for part in parts)


def reply_text(a: Answer) -> str:
    return a.text + sources_text(a)


def citations_json(a: Answer) -> list[dict[str, Any]]:
    from ..answer.schema import answer_json

    citations: list[dict[str, Any]] = answer_json(a)["citations"]
    return citations


def extra_json(a: Answer) -> dict[str, Any]:
    """Everything else `/api/ask` says (abstained, reason, notes, comparison, ...), as the reply's `policybot`."""
    from ..answer.schema import answer_json

    return {k: v for k, v in answer_json(a).items() if k != "citations"}


def completion_json(a: Answer, completion_id: str, created: int) -> dict[str, Any]:
    message = {"role": "assistant", "content": reply_text(a), "refusal": None, "citations": citations_json(a)}
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL,
        "system_fingerprint": None,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
        "policybot": extra_json(a),
    }


def chunk_event(
    completion_id: str,
    created: int,
    delta: dict[str, Any],
    finish: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    chunk = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL,
        "system_fingerprint": None,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        **({"policybot": extra} if extra is not None else {}),
    }
    return sse(chunk)


def sse(data: dict[str, Any]) -> str:
    try:
        text = json.dumps(data, ensure_ascii=False)
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate somewhere: escaped, never a failure mid-stream
        text = json.dumps(data, ensure_ascii=True)
    return f"data: {text}\n\n"


def _next(pieces: Iterator[str | Answer]) -> str | Answer | None:
    # run_in_threadpool cannot carry StopIteration out of its thread.
    return next(pieces, None)


async def stream_events(
    first: str | Answer | None, pieces: Iterator[str | Answer], completion_id: str, created: int
) -> AsyncIterator[str]:
    """OpenAI's chunks: the role, each text piece as `ask_stream` yields it, then the Sources (with the
    citations as the delta's `citations`), the finish, and `[DONE]`."""
    yield chunk_event(completion_id, created, {"role": "assistant", "content": ""})
    shown: list[str] = []
    item = first
    try:
        while isinstance(item, str):
            shown.append(item)
            yield chunk_event(completion_id, created, {"content": item})
            item = await run_in_threadpool(_next, pieces)
    except PolicybotError as exc:
        refusal = policybot_error(exc)
        yield sse(error_json(refusal.status, refusal.message, param=refusal.param, code=refusal.code))
        return
    except Exception as exc:  # the response has started: the client can only be told in the stream
        log.error("/v1 stream failed: %s: %s", type(exc).__name__, shorten(str(exc), 300))
        yield sse(error_json(500, "the server failed on this request; its log says why"))
        return
    if item is None:  # pragma: no cover - ask_stream always ends with the Answer
        yield sse(error_json(500, "the answer ended before it was complete"))
        return
    text = "".join(shown)
    # Verification can change a generative answer after it streamed: say so, and give the checked one whole.
    tail = (
        sources_text(item)
        if text == item.text
        else "\n\n---\nThe answer above was changed when it was checked; the checked answer:\n\n"
        + reply_text(item)
    )
    yield chunk_event(completion_id, created, {"content": tail, "citations": citations_json(item)})
    yield chunk_event(completion_id, created, {}, finish="stop", extra=extra_json(item))
    yield "data: [DONE]\n\n"


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
        first = await run_in_threadpool(_next, pieces)
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
    message = f"no such route: {request.method} {shorten(request.url.path)}; this API has /v1/chat/completions and /v1/models"
    return OpenAIError(404, message).response()


# --- the guard's refusals in OpenAI's shape ---------------------------------------------------------------


def reshaped(body: bytes, status: int) -> bytes:
    """`{"error": "..."}` (the guard's shape) as `{"error": {"message": "...", ...}}`; anything else as it was."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not (isinstance(data, dict) and isinstance(data.get("error"), str)):
        return body
    return json.dumps(error_json(status, data["error"]), ensure_ascii=True).encode("ascii")


class OpenAIErrors:
    """For paths under /v1/: an error response in the guard's shape (too large, too many, wrong origin or
    host, a failure) gets OpenAI's error shape, so OpenAI clients read its message. Outermost, so every
    refusal passes through it; event streams and successful replies pass untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        body = bytearray()

        async def reshaping(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and message["status"] >= 400:
                held = message
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body", False) and len(body) <= _MAX_ERROR_BODY:
                return
            data = (
                reshaped(bytes(body), held["status"]) if not message.get("more_body", False) else bytes(body)
            )
            headers = [(k, v) for k, v in held.get("headers", []) if bytes(k).lower() != b"content-length"]
            if not message.get("more_body", False):
                headers.append((b"content-length", str(len(data)).encode()))
            await send({**held, "headers": headers})
            await send(
                {"type": "http.response.body", "body": data, "more_body": message.get("more_body", False)}
            )
            held = None

        await self.app(scope, receive, reshaping)
