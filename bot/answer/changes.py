"""Answers about how terms changed: "What changed in SoundCloud's AI terms?", "When did Bandcamp add its AI
clause?" — the old and the new wording, each quoted from its own dated version."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..ingest.dates import human_date
from ..ingest.markdown import clean_inline
from ..parse.sentences import split_sentences
from ..retrieve.documents import DocumentEntry, VersionEntry
from ..retrieve.lexical import expand_query, tokenize
from ..retrieve.searcher import Searcher
from ..types import Hit
from .data import pattern


def asks_about_change(text: str) -> bool:
    return bool(pattern("change").search(text))


def change_topic(topic: str) -> str:
    """The subject of a change question: "what changed in the AI terms" → "AI"."""
    rest = " ".join(pattern("change_words").sub(" ", topic).replace("?", " ").split())
    return rest if re.search(r"\w{2,}", rest) else topic


@dataclass(frozen=True, slots=True)
class Sentence:
    hit: Hit
    score: int
    key: str


@dataclass(frozen=True, slots=True)
class ChangePoint:
    before: VersionEntry
    after: VersionEntry
    removed: tuple[Sentence, ...]
    added: tuple[Sentence, ...]

    @property
    def weight(self) -> int:
        return max((s.score for s in (*self.removed, *self.added)), default=0)


def _relevant_sentences(
    searcher: Searcher, version: VersionEntry, stems: set[str], need: int
) -> dict[str, Sentence]:
    """The sentences of a version that speak to the topic, keyed by their normalised words: comparing these
    sets ignores paragraphs merged or split between versions."""
    found: dict[str, Sentence] = {}
    for clause in searcher.clauses(version.version_id):
        for start, end in split_sentences(clause.text, max_chars=len(clause.text) + 1):
            text = clause.text[start:end]
            score = len(stems.intersection(tokenize(text)))
            if score < need:
                continue
            key = " ".join(clean_inline(text).casefold().split())
            hit = clause.hit(start, end, float(score))
            found.setdefault(key, Sentence(hit, score, key))
    return found


def find_changes(searcher: Searcher, topic: str, document: DocumentEntry) -> list[ChangePoint]:
    """Every version where the sentences about `topic` changed, oldest first."""
    stems = set(expand_query(topic))
    need = 2 if len(stems) >= 4 else 1
    # One version per date: of two copies of the same date the fuller one is later in the list.
    by_date: dict[object, VersionEntry] = {}
    for version in document.versions:
        by_date[version.provenance.version_date] = version
    versions = list(by_date.values())
    points: list[ChangePoint] = []
    previous = _relevant_sentences(searcher, versions[0], stems, need)
    for before, after in itertools.pairwise(versions):
        current = _relevant_sentences(searcher, after, stems, need)
        removed = [previous[k] for k in previous.keys() - current.keys()]
        added = [current[k] for k in current.keys() - previous.keys()]
        if removed or added:
            order = lambda s: (-s.score, s.hit.start)  # noqa: E731 - best match first, then document order
            points.append(
                ChangePoint(before, after, tuple(sorted(removed, key=order)), tuple(sorted(added, key=order)))
            )
        previous = current
    return points


def change_lead(document: DocumentEntry, point: ChangePoint | None, others: Sequence[ChangePoint]) -> str:
    if point is None:
        first, last = document.versions[0].provenance, document.versions[-1].provenance
        return (
            f"I found no change on this in the versions of {document.service}'s {document.title} I hold "
            f"({first.date_label} to {last.date_label}). The current wording:"
        )
    when = point.after.provenance
    lead = (
        f"{document.service}'s {document.title} changed on this in the version of {human_date(when.version_date)} "
        f"({when.date_label}); before it, the version of {human_date(point.before.provenance.version_date)}."
    )
    if others:
        dates = ", ".join(human_date(o.after.provenance.version_date) for o in others)
        lead += f" It also changed on this in the versions of {dates}."
    return lead + " The old and the new wording:"


def pick_document(hits: Sequence[Hit], searcher: Searcher) -> DocumentEntry | None:
    """The document a change question is about: that of the best binding hit with more than one version,
    else the platform's user agreement among the hits (its change log, where it has one, dates changes),
    else that of the best hit."""
    documents = [searcher.document_of(h.provenance.version_id) for h in hits]
    for hit, doc in zip(hits, documents, strict=True):
        if hit.provenance.kind == "terms" and len(doc.versions) > 1:
            return doc
    agreement = next((d for d in documents if d.kind == "terms"), None)
    return agreement or (documents[0] if documents else None)
