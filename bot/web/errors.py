"""Errors become status codes here, at the edge, and nowhere else; every one as `{"error": "..."}`, none with a
traceback, and none naming the server's data directory or internal addresses (those go to the log)."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import BadQuestion, IndexBusy, IndexMissing, PolicybotError, StoreUnavailable
from .asgi import shorten

log = logging.getLogger(__name__)

EXAMPLE = '{"question": "Can SoundCloud train AI on my tracks?"}'
_INTERNAL = (
    (re.compile(r"(?:the )?Chroma (?:server|store) at https?://[^\s;,]*[^\s;,:.)]"), "the Chroma server"),
    (re.compile(r"https?://[^\s;,]*[^\s;,:.)]"), "the index server"),
    (re.compile(r"(?:[A-Za-z]:)?(?:[/\\][\w.@+~-]+){2,}[/\\]?"), "the data directory"),
)


class SafeJSONResponse(JSONResponse):
    """JSON that always encodes: text the client sent with a lone surrogate in it comes back escaped
    (`\\ud800`) instead of failing in the middle of the response."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


def public_message(exc: PolicybotError) -> str:
    """`exc`'s message as the public may read it: paths and URLs of the server's own store replaced by what
    they are. What to do (`run policybot index`, `check that chroma run is up`) stays."""
    message = str(exc)
    for pattern, words in _INTERNAL:
        message = pattern.sub(words, message)
    return message


def error_status(exc: PolicybotError) -> int:
    if isinstance(exc, BadQuestion):
        return 422
    if isinstance(exc, IndexMissing | StoreUnavailable | IndexBusy):
        return 503
    return 500


def validation_message(errors: list[Any]) -> str:
    parts = []
    for e in errors:
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
        if not where:  # the body as a whole: not an object, or sent as a form
            parts.append(f"the request body must be a JSON object, e.g. {EXAMPLE}")
        else:
            parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(parts)


async def invalid_body(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        detail = "; ".join(str(e.get("ctx", {}).get("error", "")) for e in errors).strip("; ")
        message = "the request body is not valid JSON" + (f" ({detail})" if detail else "")
        return SafeJSONResponse({"error": f"{message}; send e.g. {EXAMPLE}"}, status_code=400)
    return SafeJSONResponse({"error": validation_message(errors)}, status_code=422)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own refusals (a body that is not UTF-8, an unknown path, a wrong method) in the same shape."""
    assert isinstance(exc, StarletteHTTPException)
    message = str(exc.detail)
    if exc.status_code == 400:
        message = f"the request body is not JSON text in UTF-8 ({message.lower()}); send e.g. {EXAMPLE}"
    elif exc.status_code == 404:
        message = f"no such page: {shorten(request.url.path)}"
    return SafeJSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)


async def policybot_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PolicybotError)
    status = error_status(exc)
    if status >= 500:
        where = f"{request.method} {shorten(request.url.path)}"
        log.log(logging.ERROR if status == 500 else logging.WARNING, "%s: %s", where, shorten(str(exc), 500))
    message = public_message(exc) if status >= 500 else str(exc)
    return SafeJSONResponse({"error": message}, status_code=status)


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, invalid_body)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(PolicybotError, policybot_error)
