"""The HTTP API under `/api` and the widget script: plain route functions that read the settings, the feedback
store and the question limiter from `app.state` (set by `create_app`)."""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.routing import Match

from ..answer.schema import AnswerOut, SearchOut
from ..errors import PolicybotError
from .asgi import shorten
from .bodies import AskRequest, ErrorOut, FeedbackRequest, SearchRequest
from .errors import SafeJSONResponse, public_message
from .limits import retry_after

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
WIDGET_JS = (STATIC / "widget.js").read_bytes()
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body is not JSON."},
    403: {"model": ErrorOut, "description": "A page on an origin not on the allow-list sent the request."},
    413: {"model": ErrorOut, "description": "The body is larger than the limit."},
    422: {
        "model": ErrorOut,
        "description": "A field is missing or wrong, or the question is empty or too long.",
    },
    429: {"model": ErrorOut, "description": "Too many requests from this client; see Retry-After."},
    503: {"model": ErrorOut, "description": "No index yet, or the store cannot be reached."},
}


class RateLimited(Exception):
    def __init__(self, client: str, wait: float) -> None:
        super().__init__(client)
        self.client = client
        self.wait = wait


def package_version() -> str:
    try:
        return version("policybot")
    except PackageNotFoundError:  # pragma: no cover - a checkout that was never installed
        return "unknown"


def limit(request: Request) -> None:
    """The per-client question limit (ask, search, feedback), on top of the guard's limit on all requests."""
    client = request.client.host if request.client else "unknown"
    wait = request.app.state.limiter.acquire(client)
    if wait:
        raise RateLimited(client, wait)


async def rate_limited(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RateLimited)
    after = retry_after(exc.wait)
    return SafeJSONResponse(
        {"error": f"too many requests from {exc.client}; try again in {after} s"},
        status_code=429,
        headers={"Retry-After": after},
    )


api = APIRouter(default_response_class=SafeJSONResponse)


@api.post(
    "/api/ask",
    response_model=AnswerOut,
    responses=ERRORS,
    dependencies=[Depends(limit)],
    summary="Answer a question with verbatim, dated citations",
)
def api_ask(body: AskRequest, request: Request) -> Response:
    from ..answer.ask import ask
    from ..answer.schema import answer_json

    settings = request.app.state.settings
    history = body.history[-settings.max_history :] if settings.max_history else []
    answer = ask(body.question, settings, service=body.service, as_of=body.as_of, history=history)
    return SafeJSONResponse(answer_json(answer))


@api.post(
    "/api/search",
    response_model=SearchOut,
    responses=ERRORS,
    dependencies=[Depends(limit)],
    summary="Retrieval only: the best-matching clauses, ranked",
)
def api_search(body: SearchRequest, request: Request) -> Response:
    from ..answer.ask import search
    from ..answer.schema import search_json

    settings = request.app.state.settings
    hits = search(body.query, settings, k=body.k, service=body.service, as_of=body.as_of)
    return SafeJSONResponse(search_json(body.query, hits))


@api.post(
    "/api/feedback",
    status_code=201,
    responses={k: v for k, v in ERRORS.items() if k != 503},
    dependencies=[Depends(limit)],
    summary="Store a thumbs up or down on an answer",
)
def api_feedback(body: FeedbackRequest, request: Request) -> dict[str, Any]:
    feedback_id = request.app.state.feedback.add(
        rating=body.rating,
        question=body.question,
        answer=body.answer,
        comment=body.comment,
        citations=body.citations,
        source=body.source,
    )
    return {"id": feedback_id, "stored": True}


@api.get("/api/health", summary="Whether the index is loaded and what it holds")
def api_health(request: Request) -> Response:
    from ..retrieve.searcher import open_searcher

    try:
        searcher = open_searcher(request.app.state.settings)
    except PolicybotError as exc:
        log.warning("health: %s", shorten(str(exc), 500))
        return SafeJSONResponse({"status": "unavailable", "error": public_message(exc)}, status_code=503)
    return SafeJSONResponse(
        {
            "status": "ok",
            "version": package_version(),
            "generation": searcher.generation.name,
            "documents": len(searcher.documents),
            "services": list(searcher.services),
        }
    )


# HEAD too (a load balancer's check), without a second entry in the spec.
api.add_api_route("/api/health", api_health, methods=["HEAD"], include_in_schema=False)


@api.get("/widget.js", include_in_schema=False)
def widget() -> Response:
    return Response(
        WIDGET_JS,
        media_type="text/javascript; charset=utf-8",
        # Any site may load the script; what it may then ask is decided by the CORS allow-list.
        headers={"Cache-Control": "public, max-age=300", "Cross-Origin-Resource-Policy": "cross-origin"},
    )


FALLBACK = "/api/{rest:path}"


def api_fallback(request: Request, rest: str) -> Response:
    """Any other path under /api/: the API's 404, or 405 naming the methods the path takes."""
    routes = [*api.routes, *request.app.router.routes]
    allowed = sorted(
        {
            method
            for route in routes
            if getattr(route, "path", FALLBACK) != FALLBACK
            and route.matches(request.scope)[0] is not Match.NONE
            for method in getattr(route, "methods", None) or ()
        }
    )
    if allowed:
        message = f"{request.method} is not allowed on {request.url.path}; use {', '.join(allowed)}"
        return SafeJSONResponse({"error": message}, status_code=405, headers={"Allow": ", ".join(allowed)})
    message = f"no such API route: {shorten(request.url.path)}; the API's routes are listed at /api/docs"
    return SafeJSONResponse({"error": message}, status_code=404)
