"""The project's own plain summaries ("notes") of what each platform's terms say on each topic, each anchored
to a verbatim phrase of the clause it summarises, so it can be checked against every new version.

A note whose anchor is no longer in the version being answered from is stale: answers then quote the clause
alone, and `policybot corpus check` lists it (as ToS;DR marks points pending when a document changes).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import CorpusError
from ..parse.sentences import split_sentences
from ..retrieve.topics import BY_ID
from ..settings import bundled_corpus_dir
from ..types import Clause, DocumentVersion, Hit

NOTE_KEYS = frozenset({"topic", "document", "stance", "summary", "anchor", "region"})


@dataclass(frozen=True, slots=True)
class Note:
    service: str
    document: str
    """The document type it summarises ("Terms of Service")."""
    topic: str
    stance: str
    summary: str
    """One or two plain sentences, written by the project (never shown as the platform's words)."""
    anchor: str
    """A verbatim phrase of the clause the note summarises ("" for "not addressed" notes)."""
    path: str
    region: str | None = None


def notes_dir() -> Path:
    return bundled_corpus_dir() / "notes"


@lru_cache(maxsize=4)
def load_notes(folder: Path | None = None) -> tuple[Note, ...]:
    """Every note under `folder` (corpus/notes by default); a malformed file is a CorpusError naming it."""
    folder = folder or notes_dir()
    notes: list[Note] = []
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise CorpusError(f"{path}: not valid TOML ({exc})") from None
        service = data.get("service")
        if not isinstance(service, str) or not service:
            raise CorpusError(f'{path}: needs a top-level service = "…"')
        for n, entry in enumerate(data.get("notes", []), start=1):
            notes.append(_note(path, n, service, entry))
    return tuple(notes)


def _note(path: Path, n: int, service: str, entry: dict[str, object]) -> Note:
    where = f"{path} (note {n})"
    unknown = set(entry) - NOTE_KEYS
    if unknown:
        raise CorpusError(f"{where}: unknown keys {sorted(unknown)}; known: {sorted(NOTE_KEYS)}")
    topic = str(entry.get("topic", ""))
    if topic not in BY_ID:
        raise CorpusError(f"{where}: topic {topic!r} is not one of {sorted(BY_ID)}")
    stance = str(entry.get("stance", ""))
    if stance not in BY_ID[topic].stances:
        raise CorpusError(
            f"{where}: stance {stance!r} is not one of {list(BY_ID[topic].stances)} for {topic}"
        )
    summary, anchor = str(entry.get("summary", "")).strip(), str(entry.get("anchor", "")).strip()
    if not summary:
        raise CorpusError(f"{where}: summary is empty")
    if stance != "not addressed" and not anchor:
        raise CorpusError(f"{where}: a note with a stance needs the anchor phrase it summarises")
    region = entry.get("region")
    return Note(
        service=service,
        document=str(entry.get("document", "Terms of Service")),
        topic=topic,
        stance=stance,
        summary=summary,
        anchor=anchor,
        path=str(path),
        region=str(region) if region else None,
    )


def find_note(notes: tuple[Note, ...], service: str, topic: str, region: str | None = None) -> Note | None:
    matching = [n for n in notes if n.service.casefold() == service.casefold() and n.topic == topic]
    if region:
        regional = [n for n in matching if (n.region or "").casefold() == region.casefold()]
        matching = regional or matching
    return matching[0] if matching else None


def _anchor_pattern(anchor: str) -> re.Pattern[str]:
    # Words in order, any whitespace (including non-breaking spaces and line breaks) between them.
    words = anchor.split()
    return re.compile(r"[\s\u00a0]+".join(re.escape(w) for w in words))


def locate_anchor(anchor: str, text: str) -> tuple[int, int] | None:
    """Offsets of the anchor phrase in a version's text, or None when the version no longer says it."""
    if not anchor:
        return None
    match = _anchor_pattern(anchor).search(text)
    return (match.start(), match.end()) if match else None


def is_fresh(note: Note, version: DocumentVersion) -> bool:
    """A note holds for a version when the phrase it summarises is still in it ("not addressed" notes hold
    as long as nothing says otherwise: they are checked by hand when the document changes)."""
    return note.stance == "not addressed" or locate_anchor(note.anchor, version.text) is not None


def anchor_hit(note: Note, version: DocumentVersion, clauses: Sequence[Clause]) -> Hit | None:
    """The sentences of `version` (whose clauses are `clauses`) that hold the note's anchor, as a citable hit."""
    span = locate_anchor(note.anchor, version.text)
    if span is None:
        return None
    for clause in clauses:
        if clause.start <= span[0] < clause.end:
            sentences = split_sentences(clause.text, max_chars=len(clause.text) + 1)
            rel_start, rel_end = span[0] - clause.start, min(span[1], clause.end) - clause.start
            covering = [(s, e) for s, e in sentences if s < rel_end and e > rel_start] or sentences
            start, end = covering[0][0], covering[-1][1]
            return clause.hit(start, end, score=1.0, similarity=1.0)
    return None
