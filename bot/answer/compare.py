"""Plain answers first: policybot's notes leading an answer, and comparison tables across platforms.

Every row of a table either carries a verified excerpt of the deciding clause or says which document was
checked and found silent ("not addressed in Terms of Use (Last Amended: August 17, 2026)").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ..errors import BadQuestion
from ..ingest.catalog import load_catalog
from ..retrieve.documents import DocumentEntry
from ..retrieve.searcher import Searcher
from ..retrieve.topics import Topic
from ..settings import Settings
from ..types import Hit
from .notes import Note, anchor_hit, find_note, is_fresh

ADDRESSED_SIMILARITY = 0.2
"""Without a note, a platform's terms "address" a topic when a clause among the best matches uses the topic's
own words (Topic.evidence) and matches at least this well."""


@dataclass(frozen=True, slots=True)
class Row:
    service: str
    stance: str | None
    note: str
    hit: Hit | None


@dataclass(frozen=True, slots=True)
class NoteUse:
    """A note that holds for the version being answered from, with the sentences it rests on."""

    note: Note
    hit: Hit | None
    stale: bool


def _document(searcher: Searcher, service: str, document: str, region: str | None) -> DocumentEntry | None:
    try:
        return searcher.find_document(service, document, region)
    except BadQuestion:
        if region is None:
            return None
        try:
            return searcher.find_document(service, document, None)
        except BadQuestion:
            return None


def use_note(
    notes: tuple[Note, ...],
    searcher: Searcher,
    service: str,
    topic: str,
    as_of: date | None,
    region: str | None,
) -> NoteUse | None:
    """The note on `topic` for `service`, checked against the version in force: fresh with its anchor
    sentences, or stale (its anchor is no longer in that version)."""
    note = find_note(notes, service, topic, region)
    if note is None:
        return None
    document = _document(searcher, service, note.document, note.region or region)
    version = document.in_force(as_of) if document else None
    if version is None:
        return None
    text = searcher.version_document(version.version_id)
    if not is_fresh(note, text):
        return NoteUse(note, None, stale=True)
    hit = anchor_hit(note, text, searcher.clauses(version.version_id)) if note.anchor else None
    return NoteUse(note, hit, stale=False)


def comparison_services(
    searcher: Searcher, named: Sequence[str], categories: Sequence[str] = ()
) -> list[str]:
    """The platforms a comparison covers: those named, else every platform whose terms are in the index, or
    only those of the kinds the question asks across ("which AI image generators …")."""
    if len(named) >= 2:
        return list(named)
    services = sorted({d.service for d in searcher.documents if d.kind == "terms"}, key=str.casefold)
    if not categories:
        return services
    catalog = load_catalog()

    def of_kind(service: str) -> bool:
        info = catalog.service(service)
        return info is not None and bool(set(info.categories) & set(categories))

    return [s for s in services if of_kind(s)] or services


def _regions(searcher: Searcher, service: str, region: str | None) -> list[str | None]:
    """Which regions' terms a row covers: the one asked for, else the global terms, else each region's."""
    if region:
        return [region]
    regions = sorted({d.region for d in searcher.documents if d.service == service and d.kind == "terms"})
    if not regions or "global" in regions:
        return [None]
    return list(regions)


def compare(
    topic: Topic,
    services: Sequence[str],
    searcher: Searcher,
    settings: Settings,
    notes: tuple[Note, ...],
    *,
    as_of: date | None = None,
    region: str | None = None,
) -> list[Row]:
    rows: list[Row] = []
    for service in services:
        regions = _regions(searcher, service, region)
        for where in regions:
            label = service if len(regions) == 1 else f"{service} ({where})"
            rows.append(_row(topic, service, label, searcher, notes, as_of, where))
    return group_by_stance(rows, topic.stances)


def group_by_stance(rows: Sequence[Row], stances: Sequence[str]) -> list[Row]:
    """Rows grouped by stance: the platforms that take a position first, in the topic's order of stances
    (topics.toml), then those with only a quote, then "not addressed", then those with no terms held.
    Within a group the order is the platforms' (alphabetical)."""

    def group(row: Row) -> tuple[int, int, str]:
        if row.stance is None:
            return (1 if row.hit is not None else 3, 0, "")
        if row.stance == "not addressed":
            return (2, 0, "")
        return (0, stances.index(row.stance) if row.stance in stances else len(stances), row.stance)

    return sorted(rows, key=group)


def _row(
    topic: Topic,
    service: str,
    label: str,
    searcher: Searcher,
    notes: tuple[Note, ...],
    as_of: date | None,
    region: str | None,
) -> Row:
    used = use_note(notes, searcher, service, topic.id, as_of, region)
    if used is not None and not used.stale:
        return Row(label, used.note.stance, used.note.summary, used.hit)
    document = searcher.binding_document(service, region)
    version = document.in_force(as_of) if document else None
    if document is None or version is None:
        when = f" in force on {as_of.isoformat()}" if as_of else ""
        return Row(label, None, f"no terms{when} in the index", None)
    hits = searcher.retrieve(topic.question, versions=[version.version_id], k=8)
    stale = " (policybot's note does not match this version)" if used is not None else ""
    # The best clause that speaks of the topic in its own words, not merely the nearest one.
    speaking = [h for h in hits if topic.evidence.search(h.text) and h.similarity >= ADDRESSED_SIMILARITY]
    if speaking:
        return Row(label, None, f"no current policybot summary{stale}; see the quote", speaking[0])
    checked = f"not addressed in {document.title} ({version.provenance.date_label}){stale}"
    return Row(label, "not addressed", checked, None)


def table_text(topic: Topic, rows: Sequence[Row], numbers: Sequence[int | None]) -> str:
    """The comparison as a Markdown table (it reads as plain text in a terminal too)."""
    lines = [
        f"{topic.label}, platform by platform (summaries are policybot's; the quotes are the platforms' words):",
        "",
        "| Platform | Stance | Summary | Quote |",
        "|---|---|---|---|",
    ]
    for row, n in zip(rows, numbers, strict=True):
        stance = row.stance or "see quote"
        quote = f"[{n}]" if n is not None else "–"
        lines.append(f"| {row.service} | {stance} | {row.note.replace('|', '/')} | {quote} |")
    return "\n".join(lines)
