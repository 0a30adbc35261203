"""The web application: the HTTP API under `/api`, the OpenAI-compatible API under `/v1`, the widget script at
`/widget.js` and the chat page at `/`, in one FastAPI app, behind one guard (`bot.web.guard`). How it is served: `bot.web.server`."""

from __future__ import annotations

from fastapi import FastAPI

from ..settings import Settings
from .changes import changes_router
from .docs import api_docs
from .errors import SafeJSONResponse, add_error_handlers
from .feedback import FeedbackStore, open_feedback
from .guard import install_guard
from .limits import RateLimiter
from .openai_api import router as openai_router
from .openai_errors import OpenAIErrors
from .routes import FALLBACK, RateLimited, api, api_fallback, package_version, rate_limited

_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(
    settings: Settings | None = None, *, chat: bool = True, feedback: FeedbackStore | None = None
) -> FastAPI:
    """The whole web application for `settings`. `chat=False` leaves out the Gradio page (API only)."""
    settings = settings or Settings()
    app = FastAPI(
        title="policybot",
        version=package_version(),
        description="Answers creators' questions about platform terms by quoting the exact, dated clause. "
        "Every excerpt is checked to be verbatim in a stored version of the document. Not legal advice.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI loads its script from a CDN: `api_docs` is written from the spec instead
        redoc_url=None,
        default_response_class=SafeJSONResponse,
    )
    app.state.settings = settings
    app.state.feedback = feedback or open_feedback(settings.data_dir)
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    add_error_handlers(app)
    app.add_exception_handler(RateLimited, rate_limited)
    app.include_router(api)
    app.include_router(changes_router)  # /api/changes…, /feeds/changes.atom: before the /api fallback
    app.add_api_route("/api/docs", api_docs, methods=["GET", "HEAD"], include_in_schema=False)
    # Last under /api/: any other path there is the API's 404 or 405, never the chat page's.
    app.add_api_route(FALLBACK, api_fallback, methods=_ALL_METHODS, include_in_schema=False)
    # Before the chat page, which is mounted at / and takes every other path.
    app.include_router(openai_router)
    events = None
    if chat:
        from .chat import mount_chat

        events = mount_chat(app, settings, app.state.feedback, app.state.limiter)
    install_guard(app, settings, events)
    app.add_middleware(OpenAIErrors)  # outside the guard: its refusals on /v1 in OpenAI's error shape
    return app
