"""The project's own plain summaries ("notes") of what each platform's terms say on each topic, each anchored
to a verbatim phrase of the clause it summarises, so it can be checked against every new version.

A note whose anchor is no longer in the version being answered from is stale: answers then quote the clause
alone, and `policybot corpus check` lists it (as ToS;DR marks points pending when a document changes).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import StringConstraints, model_validator

from ..data import Data, read_toml
from ..parse.sentences import split_sentences
from ..retrieve.topics import BY_ID
from ..settings import bundled_corpus_dir
from ..types import Clause, DocumentVersion, Hit


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


class _NoteEntry(Data):
    topic: str
    document: str = "Terms of Service"
    stance: str
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    anchor: Annotated[str, StringConstraints(strip_whitespace=True)] = ""
    region: str | None = None

    @model_validator(mode="after")
    def _fits_the_taxonomy(self) -> _NoteEntry:
        topic = BY_ID.get(self.topic)
        if topic is None:
            raise ValueError(f"topic {self.topic!r} is not one of {sorted(BY_ID)}")
        if self.stance not in topic.stances:
            raise ValueError(f"stance {self.stance!r} is not one of {list(topic.stances)} for {self.topic}")
        if self.stance != "not addressed" and not self.anchor:
            raise ValueError("a note with a stance needs the anchor phrase it summarises")
        return self


class _NotesFile(Data):
    service: Annotated[str, StringConstraints(min_length=1)]
    notes: tuple[_NoteEntry, ...] = ()


@lru_cache(maxsize=4)
def load_notes(folder: Path | None = None) -> tuple[Note, ...]:
    """Every note under `folder` (corpus/notes by default); a malformed file is a CorpusError naming the file,
    the note and the field."""
    folder = folder or notes_dir()
    notes: list[Note] = []
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        data = read_toml(path, _NotesFile)
        notes.extend(
            Note(
                service=data.service,
                document=e.document,
                topic=e.topic,
                stance=e.stance,
                summary=e.summary,
                anchor=e.anchor,
                path=str(path),
                region=e.region or None,
            )
            for e in data.notes
        )
    return tuple(notes)


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
