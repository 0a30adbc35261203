"""What the chat page shows of an answer: the citation panel (every excerpt highlighted inside its clause) and
the chat bubble's text. Everything from a document is escaped; no Gradio here, so this is cheap to test."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ..answer.compose import EXPLAIN
from ..ingest.markdown import clean_inline

PANEL_EMPTY = (
    '<div class="pb-panel pb-empty">Sources appear here: every clause an answer quotes, with its platform, '
    "document, section and version date, and a link to the source.</div>"
)
PANEL_WAIT = '<div class="pb-panel pb-empty">Searching the terms…</div>'
PANEL_NONE = '<div class="pb-panel pb-empty">No sources: this answer quotes nothing.</div>'
_CONTEXT_CHARS = 700
"""Clause text shown on each side of an excerpt; longer clauses are cut with “…”."""

# Preferred platforms for the example questions, when the index has them.
_EXAMPLE_PLATFORMS = ("SoundCloud", "Bandcamp", "Spotify", "YouTube", "TikTok")
_EXAMPLES = (
    "Can {} use my tracks to train AI?",
    "Who owns the music I upload to {}?",
    "Can {} close my account without notice?",
)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def safe_link(url: object) -> str:
    """`url` when it is an http(s) address, else "": a document's front matter must not plant a javascript: link."""
    if not isinstance(url, str):
        return ""
    try:
        scheme = urlsplit(url.strip()).scheme.casefold()
    except ValueError:
        return ""
    return url.strip() if scheme in ("http", "https") else ""


def highlighted_clause(citation: dict[str, Any]) -> str:
    """The clause as escaped HTML with the excerpt in <mark>; the excerpt alone when offsets don't line up."""
    excerpt = str(citation.get("excerpt", ""))
    clause = citation.get("clause")
    start, clause_start = citation.get("start"), citation.get("clause_start")
    if isinstance(clause, str) and isinstance(start, int) and isinstance(clause_start, int):
        rel = start - clause_start
        if rel >= 0 and clause[rel : rel + len(excerpt)] == excerpt:
            before, after = clause[:rel], clause[rel + len(excerpt) :]
            if len(before) > _CONTEXT_CHARS:
                before = "…" + before[-_CONTEXT_CHARS:]
            if len(after) > _CONTEXT_CHARS:
                after = after[:_CONTEXT_CHARS] + "…"
            return f"{_e(_shown(before))} <mark>{_e(_shown(excerpt))}</mark> {_e(_shown(after))}".strip()
    return f"<mark>{_e(_shown(excerpt))}</mark>"


def _shown(text: str) -> str:
    """Document text as a person reads it: Markdown markup removed (the excerpt's exact span is what the
    verbatim check compares, not this)."""
    return clean_inline(text)


def citations_html(answer: dict[str, Any]) -> str:
    """The side panel for one answer (the JSON of `bot.answer.schema.answer_json`), all document text escaped."""
    citations = answer.get("citations") or []
    if not citations:
        return PANEL_NONE
    items = []
    for c in citations:
        kind = str(c.get("kind") or "terms")
        badge = (
            ""
            if kind == "terms"
            else f'<span class="pb-kind">{_e(kind)}, not binding</span>'
            if kind in EXPLAIN
            else f'<span class="pb-kind">{_e(kind)}</span>'
        )
        region = c.get("region") or ""
        where = f" · {_e(region)}" if region and region != "global" else ""
        date_label = c.get("date_statement") or f"version of {c.get('version_date', '')}"
        newer = c.get("newer_version")
        note = f'<div class="pb-note">A newer version exists: {_e(newer)}.</div>' if newer else ""
        link = safe_link(c.get("url")) or safe_link(c.get("source_url"))
        source = (
            f'<a class="pb-source" href="{_e(link)}" target="_blank" rel="noopener noreferrer nofollow">'
            "Open the source</a>"
            if link
            else '<span class="pb-source">No public address for this document.</span>'
        )
        items.append(
            f'<li class="pb-cite" data-n="{_e(c.get("n", ""))}">'
            f'<div class="pb-cite-head"><span class="pb-n">[{_e(c.get("n", ""))}]</span>'
            f"{_e(c.get('service', ''))} · {_e(c.get('title') or c.get('document', ''))}{where}{badge}</div>"
            f'<div class="pb-meta">{_e(c.get("section", ""))} · {_e(date_label)} '
            f"({_e(c.get('version_date', ''))})</div>"
            f'<blockquote class="pb-clause">{highlighted_clause(c)}</blockquote>'
            f"{note}<div>{source}</div></li>"
        )
    return f'<div class="pb-panel"><ol>{"".join(items)}</ol></div>'


_MARKDOWN_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:=\"'^])")


def plain(text: str) -> str:
    """`text` for the chat bubble, which renders Markdown: every character shows as itself.

    Markdown punctuation is backslash-escaped and HTML's special characters become entities, so a clause
    with `<script>` or `[link](javascript:…)` in it reads as those characters and does nothing.
    """
    return _MARKDOWN_PUNCT.sub(r"\\\1", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def answer_message(answer: dict[str, Any]) -> str:
    """What the chat bubble says: the answer, how a follow-up was read, and the notes."""
    parts = []
    standalone = answer.get("standalone_question")
    if standalone:
        parts.append(f"(Read as: “{standalone}”)")
    parts.append(str(answer.get("answer", "")))
    parts.extend(f"Note: {n}" for n in answer.get("notes") or [])
    return "\n\n".join(parts)


def example_questions(services: Sequence[str]) -> list[str]:
    preferred = [s for s in _EXAMPLE_PLATFORMS if s in services]
    others = [s for s in services if s not in preferred]
    chosen = (preferred + others)[: len(_EXAMPLES)]
    if not chosen:
        return []
    return [template.format(chosen[i % len(chosen)]) for i, template in enumerate(_EXAMPLES)]
