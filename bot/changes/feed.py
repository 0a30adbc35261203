"""The changes as an Atom feed (RFC 4287): one entry per change, its title saying who changed what and when, its
content quoting the old and the new wording verbatim with their version dates, links to both versions'
sources, a stable id (a feed reader never shows a change twice) and, as `updated`, the date of the version
that carries the change.

Built with ElementTree, so the XML is always well formed; everything from a document is HTML-escaped inside
the escaped HTML content, so a `<script>` in a document reaches a feed reader as text, never as markup.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, date, datetime

from ..types import short_hash
from .describe import binding_note, entry_title, rating_text, side_heading, topic_label, topic_phrase
from .query import ChangeQuery
from .types import Change, Wording

ATOM = "http://www.w3.org/2005/Atom"
ENTRY_ID = "urn:policybot:change:"
FEED_ID = "urn:policybot:changes:"


def _time(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def safe_url(url: str) -> str:
    """`url` when it is an http(s) address, else "": a document's front matter must not plant a javascript: link."""
    url = (url or "").strip()
    return url if url.casefold().startswith(("http://", "https://")) else ""


def marked_html(wording: Wording, old: bool) -> str:
    """The excerpts of one side as escaped HTML, the changed words in <del> (old) or <ins> (new)."""
    tag = "del" if old else "ins"
    quotes = []
    for excerpt in wording.excerpts:
        out, at = [], excerpt.start
        for start, end in wording.marks:
            start, end = max(start, excerpt.start), min(end, excerpt.end)
            if start >= end:
                continue
            out.append(_e(excerpt.text[at - excerpt.start : start - excerpt.start]))
            out.append(f"<{tag}>{_e(excerpt.text[start - excerpt.start : end - excerpt.start])}</{tag}>")
            at = end
        out.append(_e(excerpt.text[at - excerpt.start :]))
        quotes.append("".join(out))
    return " … ".join(quotes)


def entry_html(change: Change, permalink: str = "") -> str:
    """The entry's content: escaped HTML that quotes both wordings with their dates and links the sources."""
    side = change.new or change.old
    where = side.section_path if side is not None else ""
    parts = [
        f"<p><strong>{_e(change.service)} · {_e(change.title)}</strong> ({_e(change.region)}) — "
        f"{_e(where)} — {_e(change.change)}; {_e(rating_text(change))}.</p>"
    ]
    note = binding_note(change)
    if note:
        parts.append(f"<p><em>{_e(note)}</em></p>")
    if change.old is not None:
        parts.append(f"<p>{_e(side_heading(change.old, old=True))}:</p>")
        parts.append(f"<blockquote>{marked_html(change.old, old=True)}</blockquote>")
    else:
        parts.append(
            f"<p>Not in the version of {_e(change.before.human_date)} ({_e(change.before.date_label)}).</p>"
        )
    if change.new is not None:
        parts.append(f"<p>{_e(side_heading(change.new, old=False))}:</p>")
        parts.append(f"<blockquote>{marked_html(change.new, old=False)}</blockquote>")
    else:
        parts.append(
            f"<p>Gone from the version of {_e(change.after.human_date)} ({_e(change.after.date_label)}).</p>"
        )
    if change.topics:
        parts.append(f"<p>Topics: {_e(', '.join(topic_label(t) for t in change.topics))}.</p>")
    links = []
    for label, version, wording in (
        ("version of " + change.before.human_date, change.before, change.old),
        ("version of " + change.after.human_date, change.after, change.new),
    ):
        url = safe_url(
            wording.excerpts[0].url if wording is not None and wording.excerpts else ""
        ) or safe_url(version.source_url)
        links.append(f'<a href="{_e(url)}">{_e(label)}</a>' if url else _e(label) + " (no public address)")
    parts.append(f"<p>Sources: {' · '.join(links)}.</p>")
    if permalink:
        parts.append(f'<p><a href="{_e(permalink)}">This change as JSON</a>.</p>')
    return "".join(parts)


def atom_feed(
    changes: Sequence[Change],
    *,
    query: ChangeQuery,
    self_url: str,
    site_url: str,
    api_url: str,
    fallback_updated: date | None = None,
) -> bytes:
    """The feed of `changes` (already filtered and ordered). `self_url`: the feed's own address; `site_url`:
    the chat page; `api_url`: where one change is served as JSON (`{api_url}/{id}`)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    filters = "|".join(
        [",".join(query.services), ",".join(query.documents), query.topic, str(query.include_editorial)]
    )
    ET.SubElement(feed, f"{{{ATOM}}}id").text = FEED_ID + short_hash(filters, length=16)
    ET.SubElement(feed, f"{{{ATOM}}}title").text = feed_title(query)
    newest = max((c.date for c in changes), default=fallback_updated or date(2000, 1, 1))
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _time(newest)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", type="application/atom+xml", href=self_url)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=site_url)
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "policybot"
    ET.SubElement(feed, f"{{{ATOM}}}generator").text = "policybot"
    ET.SubElement(feed, f"{{{ATOM}}}subtitle").text = (
        "What changed in the platforms' terms, clause by clause, quoted verbatim with the dates of both "
        "versions. Not legal advice."
    )
    for change in changes:
        feed.append(_entry(change, query, api_url))
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


def feed_title(query: ChangeQuery) -> str:
    who = " and ".join(query.services) + "'s" if query.services else "the platforms'"
    what = f" on {topic_phrase(query.topic)}" if query.topic else ""
    kind = "Changes" if query.include_editorial else "Substantive changes"
    return f"policybot: {kind} to {who} terms{what}"


def _entry(change: Change, query: ChangeQuery, api_url: str) -> ET.Element:
    entry = ET.Element(f"{{{ATOM}}}entry")
    ET.SubElement(entry, f"{{{ATOM}}}id").text = ENTRY_ID + change.id
    ET.SubElement(entry, f"{{{ATOM}}}title").text = entry_title(change, query.topic)
    ET.SubElement(entry, f"{{{ATOM}}}updated").text = _time(change.after.version_date)
    ET.SubElement(entry, f"{{{ATOM}}}published").text = _time(change.after.version_date)
    permalink = f"{api_url.rstrip('/')}/{change.id}"
    new_url = safe_url(change.new.excerpts[0].url) if change.new and change.new.excerpts else ""
    alternate = new_url or safe_url(change.after.source_url) or permalink
    ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=alternate)
    old_url = safe_url(change.old.excerpts[0].url) if change.old and change.old.excerpts else ""
    before = old_url or safe_url(change.before.source_url)
    if before and before != alternate:
        ET.SubElement(
            entry,
            f"{{{ATOM}}}link",
            rel="related",
            type="text/html",
            href=before,
            title=f"version of {change.before.human_date}",
        )
    if permalink != alternate:
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="related", type="application/json", href=permalink)
    for topic in change.topics:
        ET.SubElement(entry, f"{{{ATOM}}}category", term=topic, label=topic_label(topic))
    ET.SubElement(entry, f"{{{ATOM}}}summary").text = _summary(change)
    content = ET.SubElement(entry, f"{{{ATOM}}}content", type="html")
    content.text = entry_html(change, permalink)
    return entry


def _summary(change: Change) -> str:
    side = change.new or change.old
    return f"{change.service} {change.title}, {side.section_path if side else ''}: {change.change} ({rating_text(change)})."
