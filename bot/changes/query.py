"""Asking for changes: by platform, document, topic and period, substantive only or all, newest first. The one
function every interface calls (`changes_for`): the command line, the feed, the HTTP API, the chat page's
"What changed" view, watches and answers to change questions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, TypeAlias

from ..errors import BadQuestion
from ..index.generation import Generation
from ..index.store import IndexStore, open_store
from ..ingest.catalog import load_catalog
from ..retrieve.topics import BY_ID, TOPICS, canonical_topic
from ..settings import Settings
from .log import KEPT, ChangeRecord, kept_record, kept_text
from .record import algorithm, current_record
from .types import Change

if TYPE_CHECKING:
    from ..retrieve.searcher import Searcher

    Source: TypeAlias = Settings | IndexStore | Searcher
    """Where changes are read from: settings (the serving generation of their store), a store, or a loaded
    searcher (its generation: the one its answers come from)."""


@dataclass(frozen=True, slots=True)
class ChangeQuery:
    """Which changes to show. Empty `services` / `documents`: all; `topic` "": any."""

    services: tuple[str, ...] = ()
    """Platform names as the index spells them."""
    documents: tuple[str, ...] = ()
    """Document types or titles, any case."""
    topic: str = ""
    """A taxonomy topic id (bot/data/topics.toml)."""
    since: date | None = None
    until: date | None = None
    """Inclusive bounds on the date of the version that carries the change."""
    include_editorial: bool = False
    """Editorial changes too (by default only substantive ones)."""
    binding_only: bool = False
    """Only changes to documents that bind (kind "terms")."""

    def matches(self, change: Change) -> bool:
        if self.services and change.service not in self.services:
            return False
        if self.documents and not {change.document.casefold(), change.title.casefold()} & {
            d.casefold() for d in self.documents
        }:
            return False
        if self.topic and self.topic not in change.topics:
            return False
        if self.since is not None and change.date < self.since:
            return False
        if self.until is not None and change.date > self.until:
            return False
        if self.binding_only and not change.binding:
            return False
        return self.include_editorial or change.substantive

    def as_json(self) -> dict[str, Any]:
        return {
            "services": list(self.services),
            "documents": list(self.documents),
            "topic": self.topic or None,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "include_editorial": self.include_editorial,
        }


def _locate(source: Source) -> tuple[IndexStore, Generation]:
    if isinstance(source, Settings):
        store = open_store(source)
        return store, store.require_current()
    if isinstance(source, IndexStore):
        return source, source.require_current()
    return source.store, source.generation


def record_for(source: Source) -> ChangeRecord:
    """The changes of the generation `source` serves (computed and stored once if it has none yet). A searcher
    reads them from its serving copy, where the indexer keeps them, and opens Chroma only when it has none."""
    if isinstance(source, Settings | IndexStore):
        return current_record(*_locate(source))
    current = algorithm(str(source.manifest.get("parser_version", "")))
    record = kept_record(source.copy.kept(KEPT), source.generation.name, current)
    if record is None:
        record = current_record(source.store, source.generation)
        source.copy.keep(KEPT, kept_text(record))
    return record


def indexed_services(source: Source) -> list[str]:
    """Every platform the index holds (with or without changes), as it spells them."""
    if not isinstance(source, Settings | IndexStore):
        return list(source.services)
    store, generation = _locate(source)
    manifest = store.manifest(generation)
    return sorted({d["service"] for d in manifest["documents"]}, key=str.casefold)


def resolve_services(names: Sequence[str], known: Sequence[str]) -> tuple[str, ...]:
    """Platform names as the index spells them, from any case, an OTA folder name or an alias; BadQuestion
    naming the platforms held for a name that is none of them."""
    by_fold = {k.casefold(): k for k in known}
    catalog = load_catalog()
    resolved = []
    for name in names:
        name = name.strip()
        if not name:
            continue
        found = by_fold.get(name.casefold())
        if found is None:
            info = catalog.service(name)
            found = by_fold.get(info.name.casefold()) if info is not None else None
        if found is None:
            raise BadQuestion(
                f"no platform {name[:80]!r} in the index; it holds: {', '.join(known) or 'nothing yet'}"
            )
        resolved.append(found)
    return tuple(dict.fromkeys(resolved))


def resolve_topic(topic: str | None) -> str:
    """A topic id from an id, an alias or a label, any case; "" for none; BadQuestion listing the ids otherwise."""
    if not topic or not topic.strip():
        return ""
    key = topic.strip()
    found = canonical_topic(key) or canonical_topic(key.casefold().replace(" ", "_").replace("-", "_"))
    if not found:
        found = next((t.id for t in TOPICS if t.label.casefold() == key.casefold()), "")
    if not found:
        raise BadQuestion(f"unknown topic {key[:80]!r}; topics: {', '.join(BY_ID)}")
    return found


def make_query(
    source: Source,
    *,
    services: Sequence[str] = (),
    documents: Sequence[str] = (),
    topic: str | None = None,
    since: date | None = None,
    until: date | None = None,
    include_editorial: bool = False,
    binding_only: bool = False,
) -> ChangeQuery:
    """A query with its platforms and topic checked against the index and the taxonomy (BadQuestion if not)."""
    if since is not None and until is not None and since > until:
        raise BadQuestion(f"since ({since.isoformat()}) is after until ({until.isoformat()})")
    return ChangeQuery(
        services=resolve_services(services, indexed_services(source)) if services else (),
        documents=tuple(d.strip() for d in documents if d.strip()),
        topic=resolve_topic(topic),
        since=since,
        until=until,
        include_editorial=include_editorial,
        binding_only=binding_only,
    )


def newest_first(changes: Sequence[Change]) -> list[Change]:
    """Newest first; within a date by platform and document, and in document order within one."""
    place = {c.id: n for n, c in enumerate(changes)}
    return sorted(
        changes,
        key=lambda c: (-c.date.toordinal(), c.service.casefold(), c.title.casefold(), c.region, place[c.id]),
    )


def select(record: ChangeRecord, query: ChangeQuery, limit: int | None = None) -> list[Change]:
    found = newest_first([c for c in record.changes if query.matches(c)])
    return found[:limit] if limit is not None else found


def changes_for(
    source: Source,
    *,
    services: Sequence[str] = (),
    documents: Sequence[str] = (),
    topic: str | None = None,
    since: date | None = None,
    until: date | None = None,
    include_editorial: bool = False,
    binding_only: bool = False,
    limit: int | None = None,
) -> list[Change]:
    """The recorded changes that match, newest first: a lookup, not a diff.

    `services`: platform names (any case, aliases); `topic`: a taxonomy topic id or alias; `since`/`until`:
    inclusive bounds on the date of the version that carries the change. Substantive changes only unless
    `include_editorial`. BadQuestion for an unknown platform or topic; IndexMissing before the first index.
    """
    query = make_query(
        source,
        services=services,
        documents=documents,
        topic=topic,
        since=since,
        until=until,
        include_editorial=include_editorial,
        binding_only=binding_only,
    )
    return select(record_for(source), query, limit)


def change_by_id(source: Source, change_id: str) -> Change | None:
    """One recorded change by its id (substantive or not), or None."""
    return next((c for c in record_for(source).changes if c.id == change_id), None)


def latest_per_platform(changes: Sequence[Change], per_platform: int) -> dict[str, list[Change]]:
    """The newest `per_platform` changes of each platform, platforms in order of their newest change."""
    grouped: dict[str, list[Change]] = {}
    for change in newest_first(changes):
        held = grouped.setdefault(change.service, [])
        if len(held) < per_platform:
            held.append(change)
    return grouped
