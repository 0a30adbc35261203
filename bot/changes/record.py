"""Computing and recording the changes of an index generation, once, when it is built (or, for an index built
before changes were recorded, the first time they are asked for).

Pairs of versions already compared in the previous generation's record are not diffed again (a version never
changes under its id), so a sync that brings one new version diffs one pair; and a change keeps the time it
was first recorded (`detected`), so a re-index does not make old changes new.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from ..index.generation import Generation
from ..index.store import IndexStore, open_store
from ..parse.clauses import parse_clauses
from ..retrieve.documents import documents_from_manifest
from ..settings import Settings
from ..types import Clause, DocumentVersion, Provenance
from .detect import ALGORITHM, VersionClauses, diff_document
from .log import ChangeLog, ChangeRecord
from .types import Change

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
TextLookup = Callable[[str], "str | None"]

_logs: weakref.WeakKeyDictionary[IndexStore, ChangeLog] = weakref.WeakKeyDictionary()
_logs_lock = threading.Lock()
_computing: dict[tuple[int, str], threading.Lock] = {}


def change_log(store: IndexStore) -> ChangeLog:
    """The change records of `store`, one reader per store and process (it caches what it read)."""
    with _logs_lock:
        held = _logs.get(store)
        if held is None:
            held = _logs[store] = ChangeLog(store)
        return held


def algorithm(parser_version: str) -> str:
    """What a record's changes depend on besides the texts: the rules of bot/changes and the clause parser's
    version (bot.index.fingerprint.PARSER_VERSION, as the generation's manifest names it)."""
    return f"{ALGORITHM}.{parser_version}"


def _parser_version(store: IndexStore, generation: Generation) -> str:
    return str(store.manifest(generation).get("parser_version", ""))


def _nothing(stage: str, done: int, total: int) -> None:
    return None


def _now() -> str:
    # To the microsecond: a change is new in the record whose time it carries (`ChangeRecord.new`), and two
    # syncs a second apart must not share one.
    return datetime.now(UTC).isoformat(timespec="microseconds")


def compute_changes(
    versions: Iterable[VersionClauses],
    *,
    known: dict[tuple[str, str], list[Change]] | None = None,
    lookup: TextLookup | None = None,
    progress: Progress | None = None,
) -> tuple[list[Change], list[tuple[str, str]]]:
    """Every change of every document among `versions` (all versions of all documents), and the pairs of
    versions compared. With `lookup` (version text by SHA-256), every excerpt is checked verbatim against it
    and a change whose excerpt is not is left out (and logged)."""
    report = progress or _nothing
    by_doc: dict[str, list[VersionClauses]] = {}
    for version in versions:
        by_doc.setdefault(version.provenance.doc_key, []).append(version)
    binding = _binding_documents(v.provenance for vs in by_doc.values() for v in vs)
    documents = sorted(by_doc)
    changes: list[Change] = []
    pairs: list[tuple[str, str]] = []
    for n, doc_key in enumerate(documents):
        report("changes", n, len(documents))
        found, compared = diff_document(by_doc[doc_key], known)
        pairs.extend(compared)
        for change in found:
            if lookup is not None and not verified(change, lookup):
                log.warning(
                    "change %s of %s left out: an excerpt is not verbatim in its version", change.id, doc_key
                )
                continue
            binds = "" if change.binding else binding.get((change.service, change.region), "")
            changes.append(replace(change, binds=binds) if binds != change.binds else change)
    report("changes", len(documents), len(documents))
    return changes, pairs


def verified(change: Change, lookup: TextLookup) -> bool:
    """Whether every excerpt and clause of `change` is exactly the stored text of its version at its offsets."""
    for side in (change.old, change.new):
        if side is None:
            continue
        text = lookup(side.version.text_sha256)
        if text is None or text[side.clause_start : side.clause_end] != side.clause_text:
            return False
        if any(text[e.start : e.end] != e.text or not e.text for e in side.excerpts):
            return False
        if any(not (side.clause_start <= s < t <= side.clause_end) for s, t in side.marks):
            return False
    return True


def _binding_documents(provenances: Iterable[Provenance]) -> dict[tuple[str, str], str]:
    """For each (platform, region), how to name the document that binds it: "SoundCloud's Terms of Use"."""
    terms: dict[str, list[Provenance]] = {}
    regions: set[tuple[str, str]] = set()
    for p in provenances:
        regions.add((p.service, p.region))
        if p.kind == "terms":
            terms.setdefault(p.service, []).append(p)
    named: dict[tuple[str, str], str] = {}
    for service, region in regions:
        docs = terms.get(service, [])
        if not docs:
            continue
        best = sorted(
            docs, key=lambda p: (p.region.casefold() != region.casefold(), p.region != "global", p.document)
        )[0]
        named[(service, region)] = f"{service}'s {best.title}"
    return named


def record_changes(
    store: IndexStore,
    generation: Generation,
    versions: Iterable[VersionClauses],
    *,
    previous: Generation | None = None,
    lookup: TextLookup | None = None,
    progress: Progress | None = None,
    parser_version: str | None = None,
) -> ChangeRecord:
    """Compute the changes of `generation` from `versions` and store them as its record (one upsert).
    `parser_version`: the one its clauses were parsed with (default: its manifest's).

    The record of `previous` (else the newest other record) supplies the pairs already compared and the time
    each known change was first recorded. Records of generations that are gone are removed.
    """
    changes_log = change_log(store)
    earlier = changes_log.read(previous.name) if previous is not None else None
    if earlier is None:
        earlier = changes_log.latest(exclude=[generation.name])
    current = algorithm(parser_version if parser_version is not None else _parser_version(store, generation))
    known = earlier.by_pair() if earlier is not None and earlier.algorithm == current else None
    first_seen = {c.id: c.detected for c in earlier.changes} if earlier is not None else {}
    changes, pairs = compute_changes(versions, known=known, lookup=lookup, progress=progress)
    computed = _now()
    changes = [replace(c, detected=first_seen.get(c.id) or computed) for c in changes]
    record = ChangeRecord(generation.name, computed, current, tuple(pairs), tuple(changes))
    changes_log.write(record)
    changes_log.prune(keep=[generation.name, previous.name if previous else ""])
    return record


def versions_of_corpus(
    versions: Sequence[DocumentVersion], clauses: Sequence[Clause]
) -> list[VersionClauses]:
    """The versions being indexed, with the clauses the indexer parsed (grouped by version)."""
    by_version: dict[str, list[Clause]] = {}
    for clause in clauses:
        by_version.setdefault(clause.provenance.version_id, []).append(clause)
    return [
        VersionClauses(v.provenance, tuple(by_version.get(v.provenance.version_id, ()))) for v in versions
    ]


def record_build_changes(
    store: IndexStore,
    generation: Generation,
    versions: Sequence[DocumentVersion],
    clauses: Sequence[Clause],
    *,
    previous: Generation | None = None,
    progress: Progress | None = None,
    parser_version: str | None = None,
) -> ChangeRecord:
    """The hook for `build_index`: the changes of the generation just written, recorded before it is published
    (so the pointer never names a generation without them). `previous` is the generation serving until now;
    `parser_version` the clause parser's (bot.index.build passes its own: the manifest is not written yet)."""
    texts = {v.provenance.text_sha256: v.text for v in versions}
    return record_changes(
        store,
        generation,
        versions_of_corpus(versions, clauses),
        previous=previous,
        lookup=texts.get,
        progress=progress,
        parser_version=parser_version,
    )


def stored_versions(store: IndexStore, generation: Generation) -> list[VersionClauses]:
    """The versions a generation holds, read back from the store: clauses for documents with several
    versions, none for the rest (they only name the binding documents)."""
    versions = []
    for doc in documents_from_manifest(store.manifest(generation)):
        for entry in doc.versions:
            clauses: tuple[Clause, ...] = ()
            if len(doc.versions) > 1:
                text = store.text(entry.provenance.text_sha256)
                if text is None:
                    from ..errors import IndexMissing

                    raise IndexMissing(
                        f"the stored text of {doc.service} {doc.document} ({entry.provenance.date_label}) is "
                        "missing or altered; run `policybot index`"
                    )
                version = DocumentVersion(entry.provenance, text, f"stored:{entry.provenance.text_sha256}")
                clauses = tuple(parse_clauses(version))
            versions.append(VersionClauses(entry.provenance, clauses))
    return versions


def current_record(
    settings_or_store: Settings | IndexStore, generation: Generation | None = None
) -> ChangeRecord:
    """The record of the serving generation (or of `generation`); computed from the stored versions and
    recorded when the generation has none (an index built before changes were recorded)."""
    store = settings_or_store if isinstance(settings_or_store, IndexStore) else open_store(settings_or_store)
    generation = generation or store.require_current()
    changes_log = change_log(store)
    current = algorithm(_parser_version(store, generation))
    record = changes_log.read(generation.name)
    if record is not None and record.algorithm == current:
        return record
    with _logs_lock:
        lock = _computing.setdefault((id(store), generation.name), threading.Lock())
    with lock:  # one computation per process: the others wait for it and read what it wrote
        record = changes_log.read(generation.name)
        if record is not None and record.algorithm == current:
            return record
        log.info("recording the changes of index generation %s (once)", generation.name)
        return record_changes(store, generation, stored_versions(store, generation), lookup=store.text)
