"""What a change is: one clause of one document added, removed or reworded between two consecutive versions,
with the old and the new wording as verbatim, dated spans of the stored versions.

Frozen dataclasses with no I/O; `to_json` / `from_json` are the one record format the store, the command
line, the HTTP API and the feed share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from ..ingest.dates import human_date
from ..types import section_path

ChangeKind = Literal["added", "removed", "reworded"]
Rating = Literal["substantive", "editorial"]
Reason = Literal["right", "permission", "duty", "figure", "rewritten"]
"""Why a change is substantive: a right, a permission or a duty changed, a figure changed (a period, an
amount, an age), or most of a clause was rewritten."""


@dataclass(frozen=True, slots=True)
class VersionRef:
    """One dated version of a document, as a change names it."""

    version_id: str
    version_date: date
    date_label: str
    """The text's own words for its date ("Last Amended: May 21, 2025"), else "version of 2025-05-21"."""
    text_sha256: str
    """The key of the stored version text every excerpt of this side is checked against."""
    source_url: str
    recorded: date | None = None

    @property
    def human_date(self) -> str:
        return human_date(self.version_date)


@dataclass(frozen=True, slots=True)
class Excerpt:
    """A verbatim span of a stored version: exactly `stored_text[start:end]`."""

    start: int
    end: int
    text: str
    url: str = ""
    """The source address with a text fragment on the excerpt (empty when the document has no address)."""


@dataclass(frozen=True, slots=True)
class Wording:
    """One side of a change: the clause in one version, the sentences the change touches, the changed words."""

    version: VersionRef
    section: tuple[str, ...]
    label: str
    clause_start: int
    clause_end: int
    clause_text: str
    """Exactly `stored_text[clause_start:clause_end]`: the side-by-side view shows it whole."""
    excerpts: tuple[Excerpt, ...]
    """The sentences that hold the changed words (or, for a pure insertion, the sentence beside it)."""
    marks: tuple[tuple[int, int], ...]
    """The changed words (removed on the old side, added on the new), as offsets in the stored version."""

    @property
    def section_path(self) -> str:
        return section_path(self.section, self.label)

    @property
    def quote(self) -> str:
        """The excerpts as one quotation, " … " between them."""
        return " … ".join(e.text for e in self.excerpts)

    @property
    def changed_words(self) -> tuple[str, ...]:
        """The marked spans' text."""
        return tuple(self.clause_text[s - self.clause_start : e - self.clause_start] for s, e in self.marks)


@dataclass(frozen=True, slots=True)
class Change:
    """One clause of one document that changed between two consecutive versions."""

    id: str
    """Stable: a hash of the document key, both version ids and the clause's lineage id."""
    doc_key: str
    service: str
    document: str
    """The document type ("Terms of Service"), as Open Terms Archive names it."""
    title: str
    """The document's own title ("Terms of Use")."""
    region: str
    kind: str
    """The document's kind (bot.types.KINDS): only "terms" bind."""
    change: ChangeKind
    lineage: str
    """The clause's id across versions (bot.ingest.lineage): the same clause in every version it is in."""
    before: VersionRef
    after: VersionRef
    old: Wording | None
    """The clause as it was (None when the clause was added)."""
    new: Wording | None
    """The clause as it is (None when it was removed)."""
    topics: tuple[str, ...]
    """Taxonomy topic ids (bot/data/topics.toml) whose evidence the changed sentences carry, most important first."""
    rating: Rating
    reasons: tuple[Reason, ...]
    binds: str = ""
    """For a document that does not bind (a statement, a policy): the platform's binding document, named."""
    detected: str = ""
    """When policybot first recorded this change (ISO 8601, UTC); kept across re-indexes."""

    @property
    def binding(self) -> bool:
        return self.kind == "terms"

    @property
    def date(self) -> date:
        """When the change took effect: the date of the version that carries it."""
        return self.after.version_date

    @property
    def substantive(self) -> bool:
        return self.rating == "substantive"

    @property
    def section_path(self) -> str:
        side = self.new or self.old
        return side.section_path if side is not None else ""


# --- the record format ----------------------------------------------------------------------------------------


def _version_json(v: VersionRef) -> dict[str, Any]:
    return {
        "version_id": v.version_id,
        "date": v.version_date.isoformat(),
        "date_label": v.date_label,
        "text_sha256": v.text_sha256,
        "url": v.source_url or None,
        "recorded": v.recorded.isoformat() if v.recorded else None,
    }


def _version_from(data: dict[str, Any]) -> VersionRef:
    return VersionRef(
        version_id=data["version_id"],
        version_date=date.fromisoformat(data["date"]),
        date_label=data["date_label"],
        text_sha256=data["text_sha256"],
        source_url=data.get("url") or "",
        recorded=date.fromisoformat(data["recorded"]) if data.get("recorded") else None,
    )


def _wording_json(w: Wording | None) -> dict[str, Any] | None:
    if w is None:
        return None
    return {
        "version_id": w.version.version_id,
        "version_date": w.version.version_date.isoformat(),
        "date_label": w.version.date_label,
        "section": w.section_path,
        "headings": list(w.section),
        "label": w.label,
        "excerpt": w.quote,
        "excerpts": [
            {"start": e.start, "end": e.end, "text": e.text, "url": e.url or None} for e in w.excerpts
        ],
        "changed": [{"start": s, "end": e} for s, e in w.marks],
        "clause": {"start": w.clause_start, "end": w.clause_end, "text": w.clause_text},
    }


def _wording_from(data: dict[str, Any] | None, version: VersionRef) -> Wording | None:
    if data is None:
        return None
    clause = data["clause"]
    return Wording(
        version=version,
        section=tuple(data["headings"]),
        label=data["label"],
        clause_start=int(clause["start"]),
        clause_end=int(clause["end"]),
        clause_text=clause["text"],
        excerpts=tuple(
            Excerpt(int(e["start"]), int(e["end"]), e["text"], e.get("url") or "") for e in data["excerpts"]
        ),
        marks=tuple((int(m["start"]), int(m["end"])) for m in data["changed"]),
    )


def to_json(c: Change) -> dict[str, Any]:
    """The change as JSON: what `policybot changes --json` and `GET /api/changes` print, one object each."""
    return {
        "id": c.id,
        "service": c.service,
        "document": c.document,
        "title": c.title,
        "region": c.region,
        "kind": c.kind,
        "binding": c.binding,
        "binds": c.binds or None,
        "date": c.date.isoformat(),
        "change": c.change,
        "section": c.section_path,
        "topics": list(c.topics),
        "rating": c.rating,
        "reasons": list(c.reasons),
        "lineage": c.lineage,
        "from": _version_json(c.before),
        "to": _version_json(c.after),
        "old": _wording_json(c.old),
        "new": _wording_json(c.new),
        "detected": c.detected or None,
        "doc_key": c.doc_key,
    }


def from_json(data: dict[str, Any]) -> Change:
    before, after = _version_from(data["from"]), _version_from(data["to"])
    return Change(
        id=data["id"],
        doc_key=data["doc_key"],
        service=data["service"],
        document=data["document"],
        title=data["title"],
        region=data["region"],
        kind=data["kind"],
        change=data["change"],
        lineage=data["lineage"],
        before=before,
        after=after,
        old=_wording_from(data.get("old"), before),
        new=_wording_from(data.get("new"), after),
        topics=tuple(data["topics"]),
        rating=data["rating"],
        reasons=tuple(data["reasons"]),
        binds=data.get("binds") or "",
        detected=data.get("detected") or "",
    )


def changes_json(generation: str, filters: dict[str, Any], changes: list[Change]) -> dict[str, Any]:
    """The JSON of `policybot changes --json` and `GET /api/changes`: the generation the changes were
    recorded with, the filters applied, and the changes, newest first."""
    return {
        "generation": generation,
        "filters": filters,
        "count": len(changes),
        "changes": [to_json(c) for c in changes],
    }
