"""The stored document versions as MCP resources, `policybot://SERVICE/DOCUMENT/DATE` (each part
percent-encoded; `?region=EEA` where a platform has a document in several regions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from ..errors import BadQuestion
from ..retrieve.documents import DocumentEntry, VersionEntry
from ..retrieve.searcher import Searcher

SCHEME = "policybot"
TEMPLATE = f"{SCHEME}://{{service}}/{{document}}/{{date}}{{?region}}"
LATEST = "latest"


@dataclass(frozen=True, slots=True)
class VersionResource:
    uri: str
    name: str
    title: str
    description: str


def version_uri(doc: DocumentEntry, version: VersionEntry, *, regional: bool) -> str:
    """The address of one version; the region is named only when the platform has this document in several."""
    parts = (doc.service, doc.document, version.provenance.version_date.isoformat())
    uri = f"{SCHEME}://" + "/".join(quote(part, safe="") for part in parts)
    return f"{uri}?region={quote(doc.region, safe='')}" if regional else uri


def version_resources(searcher: Searcher) -> list[VersionResource]:
    """Every stored version of every document, oldest first within a document."""
    regions: dict[tuple[str, str], int] = {}
    for doc in searcher.documents:
        regions[(doc.service, doc.document)] = regions.get((doc.service, doc.document), 0) + 1
    listed = []
    for doc in searcher.documents:
        regional = regions[(doc.service, doc.document)] > 1
        for v in doc.versions:
            p = v.provenance
            region = "" if p.region in ("", "global") else f" · {p.region}"
            listed.append(
                VersionResource(
                    uri=version_uri(doc, v, regional=regional),
                    name=f"{doc.service}/{doc.document}/{p.version_date.isoformat()}",
                    title=f"{doc.service} · {doc.title}{region} · {p.date_label}",
                    description=f"{doc.kind} of {doc.service}, {p.date_label}; source: {doc.url or 'unknown'}",
                )
            )
    return listed


def find_version(
    searcher: Searcher, service: str, document: str, when: str, region: str | None = None
) -> tuple[DocumentEntry, VersionEntry]:
    """The version a resource address names: `when` is a version's date, any date (the version in force
    then) or "latest". LookupError with what there is, otherwise."""
    try:
        doc = searcher.find_document(service, document, region)
    except BadQuestion as exc:
        raise LookupError(str(exc)) from None
    if when.casefold() == LATEST:
        return doc, doc.latest
    try:
        day = date.fromisoformat(when)
    except ValueError:
        raise LookupError(f"{when!r} is not a date: write YYYY-MM-DD or {LATEST}") from None
    version = doc.in_force(day)
    if version is None:
        dates = ", ".join(v.provenance.version_date.isoformat() for v in doc.versions)
        raise LookupError(f"no version of {doc.service}'s {doc.title} was in force on {day}; it has: {dates}")
    return doc, version
