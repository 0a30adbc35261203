"""The web application: the HTTP API under `/api`, the widget script at `/widget.js` and the chat page at `/`,
in one FastAPI app. Errors become status codes here, at the edge, and nowhere else."""

from __future__ import annotations

import logging
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import BadQuestion, IndexBusy, IndexMissing, PolicybotError, StoreUnavailable
from ..settings import Settings
from .feedback import FeedbackStore, open_feedback
from .limits import BodyLimit, NoSniff, OriginGuard, RateLimiter, retry_after

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
API_PREFIX = "/api/"


class AskRequest(BaseModel):
    """A question, with the conversation so far."""

    question: str = Field(
        description="The artist's question.", examples=["Can SoundCloud train AI on my tracks?"]
    )
    history: list[str] = Field(
        default_factory=list,
        description="The user's earlier questions in this conversation, oldest first; a follow-up such as "
        "“and Bandcamp?” is read against them. Only the last `max_history` are read.",
    )
    service: str | list[str] | None = Field(
        default=None,
        description="Only these platforms (any case). Default: the platforms the question names.",
    )
    as_of: date | None = Field(
        default=None,
        description="Answer from the versions in force on this date (YYYY-MM-DD). Default: latest.",
    )


class SearchRequest(BaseModel):
    """A retrieval-only query."""

    query: str = Field(description="What to look for.", examples=["opt out of AI training"])
    k: int | None = Field(default=None, ge=1, le=50, description="How many clauses (default 5).")
    service: str | list[str] | None = None
    as_of: date | None = None


class FeedbackRequest(BaseModel):
    """A thumbs up or down on one answer, with an optional comment."""

    model_config = ConfigDict(str_max_length=20_000)

    rating: Literal["up", "down"]
    question: str = Field(min_length=1, max_length=4000, description="The question that was answered.")
    answer: str = Field(default="", description="The answer text that was rated.")
    comment: str = Field(default="", max_length=2000)
    citations: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="What the answer cited, e.g. `version_id:start-end` per citation.",
    )
    source: Literal["chat", "widget", "api"] = "api"


class CitationOut(BaseModel):
    """One verified excerpt (more keys may follow; see the README's JSON contract)."""

    model_config = ConfigDict(extra="allow")

    n: int
    service: str
    document: str
    region: str
    section: str
    version_date: str
    excerpt: str
    url: str
    clause: str | None = None
    clause_start: int | None = None
    start: int | None = None
    end: int | None = None


class AnswerOut(BaseModel):
    """Exactly what `policybot ask --json` prints."""

    model_config = ConfigDict(extra="allow")

    question: str
    answer: str
    abstained: bool
    citations: list[CitationOut]
    timings_ms: dict[str, float]
    reason: str | None = None


class ErrorOut(BaseModel):
    error: str


class RateLimited(Exception):
    def __init__(self, client: str, wait: float) -> None:
        super().__init__(client)
        self.client = client
        self.wait = wait


def _version() -> str:
    try:
        return version("policybot")
    except PackageNotFoundError:  # pragma: no cover - a checkout that was never installed
        return "unknown"


def _validation_message(errors: list[Any]) -> str:
    parts = []
    for e in errors:
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
        if not where:  # the body as a whole: not an object, or sent as a form
            parts.append(
                'the request body must be a JSON object, e.g. {"question": "Can SoundCloud train AI?"}'
            )
        else:
            parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(parts)


_ERRORS: dict[int | str, dict[str, Any]] = {
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


def create_app(
    settings: Settings | None = None, *, chat: bool = True, feedback: FeedbackStore | None = None
) -> FastAPI:
    """The whole web application for `settings`. `chat=False` leaves out the Gradio page (API only)."""
    from ..answer.ask import ask, search
    from ..answer.schema import answer_json, search_json

    settings = settings or Settings()
    store = feedback or open_feedback(settings.data_dir)
    limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    widget_js = (STATIC / "widget.js").read_bytes()

    app = FastAPI(
        title="policybot",
        version=_version(),
        description="Answers creators' questions about platform terms by quoting the exact, dated clause. "
        "Every excerpt is checked to be verbatim in a stored version of the document. Not legal advice.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.feedback = store
    app.state.limiter = limiter

    def limit(request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        wait = limiter.acquire(client)
        if wait:
            raise RateLimited(client, wait)

    @app.exception_handler(RateLimited)
    async def _rate_limited(request: Request, exc: RateLimited) -> JSONResponse:
        after = retry_after(exc.wait)
        return JSONResponse(
            {"error": f"too many requests from {exc.client}; try again in {after} s"},
            status_code=429,
            headers={"Retry-After": after},
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            detail = "; ".join(str(e.get("ctx", {}).get("error", "")) for e in errors).strip("; ")
            message = "the request body is not valid JSON" + (f" ({detail})" if detail else "")
            message += '; send e.g. {"question": "Can SoundCloud train AI on my tracks?"}'
            return JSONResponse({"error": message}, status_code=400)
        return JSONResponse({"error": _validation_message(errors)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # FastAPI's own refusals (a body that is not UTF-8, an unknown path, a wrong method) in the API's
        # {"error": ...} shape too; pages outside the API keep the default.
        if not request.url.path.startswith(API_PREFIX):
            return await http_exception_handler(request, exc)
        message = str(exc.detail)
        if exc.status_code == 400:
            message = f"the request body is not JSON text in UTF-8 ({message.lower()}); "
            message += 'send e.g. {"question": "Can SoundCloud train AI on my tracks?"}'
        return JSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(PolicybotError)
    async def _policybot_error(request: Request, exc: PolicybotError) -> JSONResponse:
        if isinstance(exc, BadQuestion):
            status = 422
        elif isinstance(exc, IndexMissing | StoreUnavailable | IndexBusy):
            status = 503
        else:
            log.error("%s %s: %s", request.method, request.url.path, exc)
            status = 500
        return JSONResponse({"error": str(exc)}, status_code=status)

    @app.post(
        "/api/ask",
        response_model=AnswerOut,
        responses=_ERRORS,
        dependencies=[Depends(limit)],
        summary="Answer a question with verbatim, dated citations",
    )
    def api_ask(body: AskRequest) -> Response:
        history = body.history[-settings.max_history :] if settings.max_history else []
        answer = ask(body.question, settings, service=body.service, as_of=body.as_of, history=history)
        return JSONResponse(answer_json(answer))

    @app.post(
        "/api/search",
        responses=_ERRORS,
        dependencies=[Depends(limit)],
        summary="Retrieval only: the best-matching clauses, ranked",
    )
    def api_search(body: SearchRequest) -> Response:
        hits = search(body.query, settings, k=body.k, service=body.service, as_of=body.as_of)
        return JSONResponse(search_json(body.query, hits))

    @app.post(
        "/api/feedback",
        status_code=201,
        responses={k: v for k, v in _ERRORS.items() if k != 503},
        dependencies=[Depends(limit)],
        summary="Store a thumbs up or down on an answer",
    )
    def api_feedback(body: FeedbackRequest) -> dict[str, Any]:
        feedback_id = store.add(
            rating=body.rating,
            question=body.question,
            answer=body.answer,
            comment=body.comment,
            citations=body.citations,
            source=body.source,
        )
        return {"id": feedback_id, "stored": True}

    @app.get("/api/health", summary="Whether the index is loaded and what it holds")
    def api_health() -> Response:
        from ..retrieve.searcher import open_searcher

        try:
            searcher = open_searcher(settings)
        except PolicybotError as exc:
            return JSONResponse({"status": "unavailable", "error": str(exc)}, status_code=503)
        return JSONResponse(
            {
                "status": "ok",
                "version": _version(),
                "generation": searcher.generation.name,
                "documents": len(searcher.documents),
                "services": list(searcher.services),
            }
        )

    @app.get("/widget.js", include_in_schema=False)
    def widget() -> Response:
        return Response(
            widget_js,
            media_type="text/javascript; charset=utf-8",
            # Any site may load the script; what it may then ask is decided by the CORS allow-list.
            headers={"Cache-Control": "public, max-age=300", "Cross-Origin-Resource-Policy": "cross-origin"},
        )

    # Outermost last: CORS answers preflights and labels every response (errors too, so an allowed page
    # can read why); then the origin check; then the size limit.
    app.add_middleware(NoSniff)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes, prefix=API_PREFIX)
    app.add_middleware(OriginGuard, allowed=settings.cors_origins, prefix=API_PREFIX)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        allow_credentials=False,
        max_age=600,
    )

    if chat:
        _mount_chat(app, settings, store, limiter)
    return app


def _mount_chat(app: FastAPI, settings: Settings, store: FeedbackStore, limiter: RateLimiter) -> None:
    import gradio as gr

    from .chat import CSS, build_chat

    page = build_chat(settings, store, limiter)
    page.queue(default_concurrency_limit=4, max_size=64)
    gr.mount_gradio_app(
        app,
        page,
        path="/",
        footer_links=[],
        run_history=False,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        enable_monitoring=False,
        show_error=False,
        theme=gr.themes.Default(),
        css=CSS,
    )
