"""OpenAI's error shape for the /v1 API: `OpenAIError` and its JSON, the bearer keys (POLICYBOT_API_KEYS) it
checks, policybot's own errors mapped to it, and `OpenAIErrors`, which gives the guard's refusals on /v1 the
same shape so OpenAI clients read their message. The bearer check is shared with `policybot mcp --http`."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import SecretStr

from ..errors import BadQuestion, PolicybotError
from ..settings import Settings
from .asgi import ASGIApp, Message, Receive, Scope, Send, shorten
from .errors import SafeJSONResponse, error_status, public_message

log = logging.getLogger(__name__)

PREFIX = "/v1/"
_MAX_ERROR_BODY = 65_536
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

    def json(self) -> dict[str, Any]:
        return error_json(self.status, self.message, param=self.param, code=self.code)

    def response(self) -> Response:
        return SafeJSONResponse(self.json(), status_code=self.status, headers=self.headers)


def error_json(
    status: int, message: str, *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code or _CODES.get(status)}}


def policybot_error(exc: PolicybotError) -> OpenAIError:
    """policybot's error as OpenAI's: a bad question is the client's 400; the server's own are logged, and told
    without the server's paths or addresses."""
    status = error_status(exc)
    if isinstance(exc, BadQuestion):
        return OpenAIError(400, str(exc), param="messages")
    log.log(logging.ERROR if status == 500 else logging.WARNING, "/v1: %s", shorten(str(exc), 500))
    return OpenAIError(status, public_message(exc))


# --- bearer keys ------------------------------------------------------------------------------------------


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
            more = message.get("more_body", False)
            if more and len(body) <= _MAX_ERROR_BODY:
                return
            # A body too long to be one of the guard's refusals goes on as it came.
            data = bytes(body) if more else reshaped(bytes(body), held["status"])
            headers = [(k, v) for k, v in held.get("headers", []) if bytes(k).lower() != b"content-length"]
            if not more:
                headers.append((b"content-length", str(len(data)).encode()))
            await send({**held, "headers": headers})
            await send({"type": "http.response.body", "body": data, "more_body": more})
            held = None

        await self.app(scope, receive, reshaping)
