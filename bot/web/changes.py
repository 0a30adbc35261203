"""What changed, on the web: `GET /feeds/changes.atom` (an Atom feed), `GET /api/changes` (the same as JSON,
what `policybot changes --json` prints) and `GET /api/changes/{id}`, and the chat page's "What changed" view
(the latest changes per platform, filterable by topic, each opening the old and the new wording side by side
with the changed words marked). Every request is a lookup in the changes recorded with the index.

Routes read the settings from `app.state.settings`, like the rest of the API; errors are raised as policybot
errors and become status codes in `bot.web.errors` (unknown platform or topic, bad date: 422; no index: 503).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ..errors import BadQuestion
from ..types import short_hash
from .errors import SafeJSONResponse

if TYPE_CHECKING:
    from ..changes.types import Change, Wording
    from ..settings import Settings

FEED_PATH = "/feeds/changes.atom"
FEED_LIMIT = 50
"""Entries in a feed: the newest."""
PER_PLATFORM = 5
"""Changes per platform in the "What changed" view."""
CLAUSE_CHARS = 1400
"""Clause text shown on each side of the view; longer clauses are cut around the changed words."""

changes_router = APIRouter(default_response_class=SafeJSONResponse)


def _day(value: str | None, name: str) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise BadQuestion(
            f"{name}: {value[:40]!r} is not a date; write YYYY-MM-DD, e.g. 2024-01-01"
        ) from None


def _query(
    request: Request,
    service: Sequence[str],
    document: Sequence[str],
    topic: str | None,
    since: str | None,
    until: str | None,
    include_editorial: bool,
) -> Any:
    from ..changes.query import make_query

    names = [part for value in service for part in value.split(",")]
    return make_query(
        request.app.state.settings,
        services=names,
        documents=document,
        topic=topic,
        since=_day(since, "since"),
        until=_day(until, "until"),
        include_editorial=include_editorial,
    )


SERVICE_QUERY = Query(
    default=[], description="Only this platform (repeatable, or comma-separated; any case)."
)
DOCUMENT_QUERY = Query(default=[], description="Only this document, by type or title (repeatable).")
TOPIC_QUERY = Query(default=None, description="Only changes touching this topic (ai_training, licence, …).")
SINCE_QUERY = Query(default=None, description="Only versions dated on or after this day (YYYY-MM-DD).")
UNTIL_QUERY = Query(default=None, description="Only versions dated on or before this day (YYYY-MM-DD).")
ALL_QUERY = Query(default=False, description="Editorial changes too (default: substantive only).")


@changes_router.get("/api/changes", summary="What changed in the terms, newest first (filters as the feed)")
def api_changes(
    request: Request,
    service: list[str] = SERVICE_QUERY,
    document: list[str] = DOCUMENT_QUERY,
    topic: str | None = TOPIC_QUERY,
    since: str | None = SINCE_QUERY,
    until: str | None = UNTIL_QUERY,
    all: bool = ALL_QUERY,
    limit: int = Query(default=100, ge=1, le=1000, description="At most this many changes (the newest)."),
) -> Response:
    from ..changes.query import record_for, select
    from ..changes.types import changes_json

    query = _query(request, service, document, topic, since, until, all)
    record = record_for(request.app.state.settings)
    return SafeJSONResponse(changes_json(record.generation, query.as_json(), select(record, query, limit)))


@changes_router.get("/api/changes/{change_id}", summary="One recorded change, by its id")
def api_change(request: Request, change_id: str) -> Response:
    from ..changes.query import change_by_id
    from ..changes.types import to_json

    change = change_by_id(request.app.state.settings, change_id) if len(change_id) <= 64 else None
    if change is None:
        return SafeJSONResponse({"error": f"no recorded change {change_id[:64]!r}"}, status_code=404)
    return SafeJSONResponse(to_json(change))


@changes_router.get(
    FEED_PATH,
    summary="What changed in the terms, as an Atom feed (one entry per change)",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}},
)
def changes_feed(
    request: Request,
    service: list[str] = SERVICE_QUERY,
    document: list[str] = DOCUMENT_QUERY,
    topic: str | None = TOPIC_QUERY,
    since: str | None = SINCE_QUERY,
    until: str | None = UNTIL_QUERY,
    all: bool = ALL_QUERY,
) -> Response:
    from ..changes.feed import atom_feed
    from ..changes.query import record_for, select

    query = _query(request, service, document, topic, since, until, all)
    record = record_for(request.app.state.settings)
    # The feed changes only with a new index generation: a reader asking again gets 304 until then.
    etag = f'"{short_hash(record.generation, str(request.url.query), length=24)}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
    if etag in (request.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers)
    base = str(request.base_url).rstrip("/")
    body = atom_feed(
        select(record, query, FEED_LIMIT),
        query=query,
        self_url=str(request.url),
        site_url=base + "/",
        api_url=base + "/api/changes",
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8", headers=headers)


# --- the chat page's "What changed" view -------------------------------------------------------------------

ALL_TOPICS = "all"
ALL_PLATFORMS = "all"

CHANGES_CSS = """
.pb-changes { font-size: 0.95rem; line-height: 1.45; }
.pb-changes h4 { margin: 0.9rem 0 0.3rem; }
.pb-changes .pb-empty { color: var(--body-text-color-subdued); padding: 0.5rem 0; }
.pb-change { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.4rem 0.7rem;
             margin-bottom: 0.5rem; }
.pb-change summary { cursor: pointer; }
.pb-change .pb-date { font-variant-numeric: tabular-nums; font-weight: 600; margin-right: 0.4rem; }
.pb-change .pb-meta { color: var(--body-text-color-subdued); font-size: 0.85rem; }
.pb-sbs { display: grid; grid-template-columns: 1fr 1fr; gap: 0.8rem; margin-top: 0.5rem; }
.pb-side-head { font-weight: 600; font-size: 0.85rem; margin-bottom: 0.2rem; }
.pb-side .pb-clause { white-space: pre-wrap; margin: 0; padding-left: 0.6rem;
                      border-left: 3px solid var(--border-color-primary); }
.pb-side del { background: #fecaca; color: #7f1d1d; text-decoration: line-through; }
.pb-side ins { background: #bbf7d0; color: #14532d; text-decoration: none; }
.pb-change .pb-note { font-size: 0.85rem; font-style: italic; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _clause_html(wording: Wording, old: bool) -> str:
    """The clause as escaped HTML, the changed words in <del> or <ins>; cut around them when it is long."""
    text, base = wording.clause_text, wording.clause_start
    begin, end = 0, len(text)
    if len(text) > CLAUSE_CHARS and wording.excerpts:
        first, last = wording.excerpts[0].start - base, wording.excerpts[-1].end - base
        spare = max(0, (CLAUSE_CHARS - (last - first)) // 2)
        begin, end = max(0, first - spare), min(len(text), last + spare)
    tag = "del" if old else "ins"
    out = ["…" if begin else ""]
    at = begin
    for start, stop in wording.marks:
        start, stop = max(start - base, begin), min(stop - base, end)
        if start >= stop:
            continue
        out.append(_e(text[at:start]))
        out.append(f"<{tag}>{_e(text[start:stop])}</{tag}>")
        at = stop
    out.append(_e(text[at:end]))
    out.append("…" if end < len(text) else "")
    return "".join(out)


def _side_html(change: Change, old: bool) -> str:
    from ..changes.describe import side_heading
    from .render import safe_link

    wording = change.old if old else change.new
    version = change.before if old else change.after
    css = "pb-old" if old else "pb-new"
    if wording is None:
        gone = "Not in" if old else "Gone from"
        return (
            f'<div class="pb-side {css}"><div class="pb-side-head">{gone} the version of '
            f"{_e(version.human_date)} ({_e(version.date_label)})</div></div>"
        )
    url = safe_link(wording.excerpts[0].url if wording.excerpts else "") or safe_link(version.source_url)
    link = (
        f' · <a class="pb-source" href="{_e(url)}" target="_blank" rel="noopener noreferrer">source</a>'
        if url
        else ""
    )
    return (
        f'<div class="pb-side {css}"><div class="pb-side-head">{_e(side_heading(wording, old))}{link}</div>'
        f'<p class="pb-clause">{_clause_html(wording, old)}</p></div>'
    )


def change_html(change: Change, topic: str = "") -> str:
    """One change: a <details> whose summary says when, what and where, opening on both wordings."""
    from ..changes.describe import binding_note, entry_title, rating_text, topic_label

    topics = ", ".join(topic_label(t) for t in change.topics) or "no topic"
    note = binding_note(change)
    return (
        f'<details class="pb-change" data-change="{_e(change.id)}"><summary>'
        f'<span class="pb-date">{_e(change.date.isoformat())}</span>{_e(entry_title(change, topic))}'
        f'<div class="pb-meta">{_e(change.title)} · {_e(change.section_path)} · {_e(change.change)} · '
        f"{_e(rating_text(change))} · {_e(topics)}</div></summary>"
        + (f'<p class="pb-note">{_e(note)}</p>' if note else "")
        + f'<div class="pb-sbs">{_side_html(change, old=True)}{_side_html(change, old=False)}</div></details>'
    )


def changes_html(grouped: dict[str, list[Change]], topic: str = "", include_editorial: bool = False) -> str:
    """The view's body: per platform, its latest changes."""
    kind = "changes" if include_editorial else "substantive changes"
    if not grouped:
        return f'<div class="pb-changes"><p class="pb-empty">No {kind} recorded for this selection.</p></div>'
    parts = ['<div class="pb-changes">']
    for service, changes in grouped.items():
        parts.append(f"<section><h4>{_e(service)}</h4>")
        parts.extend(change_html(c, topic) for c in changes)
        parts.append("</section>")
    parts.append("</div>")
    return "".join(parts)


def render_changes(settings: Settings, topic: str, platform: str, include_editorial: bool) -> str:
    """The view for one choice of filters (what the page's events call)."""
    from ..changes.query import changes_for, latest_per_platform
    from ..errors import PolicybotError
    from .errors import public_message

    topic = "" if topic in (None, "", ALL_TOPICS) else topic
    services = [] if platform in (None, "", ALL_PLATFORMS) else [platform]
    try:
        found = changes_for(
            settings, services=services, topic=topic, include_editorial=bool(include_editorial)
        )
    except PolicybotError as exc:
        return f'<div class="pb-changes"><p class="pb-empty">{_e(public_message(exc))}</p></div>'
    return changes_html(latest_per_platform(found, PER_PLATFORM), topic, bool(include_editorial))


def topic_choices() -> list[tuple[str, str]]:
    """(label, id) of every topic a change can be tagged with, "All topics" first."""
    from ..retrieve.topics import TOPICS

    return [("All topics", ALL_TOPICS), *((t.label, t.id) for t in TOPICS if not t.evidence.search(""))]


def platform_choices(settings: Settings) -> list[tuple[str, str]]:
    from ..changes.query import record_for
    from ..errors import PolicybotError

    try:
        services = sorted({c.service for c in record_for(settings).changes}, key=str.casefold)
    except PolicybotError:
        services = []
    return [("All platforms", ALL_PLATFORMS), *((s, s) for s in services)]


def changes_view(settings: Settings) -> dict[str, Any]:
    """The "What changed" view, built into the Blocks (or Tab) being defined: filters and the list, wired.

    Call inside `with gr.Blocks():` (e.g. under `with gr.Tab("What changed"):`); returns its components. The
    list is rendered when the page loads and again when a filter changes.
    """
    import gradio as gr

    with gr.Row():
        topic = gr.Dropdown(
            choices=topic_choices(), value=ALL_TOPICS, label="Topic", elem_id="pb-changes-topic", scale=2
        )
        platform = gr.Dropdown(
            choices=platform_choices(settings),
            value=ALL_PLATFORMS,
            label="Platform",
            elem_id="pb-changes-platform",
            scale=2,
        )
        editorial = gr.Checkbox(value=False, label="Editorial changes too", elem_id="pb-changes-all", scale=1)
    listing = gr.HTML(
        lambda: render_changes(settings, ALL_TOPICS, ALL_PLATFORMS, False),
        elem_id="pb-changes",
        css_template=CHANGES_CSS,
        js_on_load=None,
    )

    def rerender(topic_id: str, service: str, include: bool) -> str:
        return render_changes(settings, topic_id, service, include)

    for control in (topic, platform, editorial):
        control.change(rerender, [topic, platform, editorial], listing, queue=False)
    return {"topic": topic, "platform": platform, "editorial": editorial, "listing": listing}
