"""Finding what changed between consecutive versions of one document: the clause lineage that `corpus diff`
builds (bot/ingest/lineage.py) says which clause is which; a word-level diff over the clauses that differ
says which words changed (bot/changes/compared.py says which words are compared).

The changed clauses of both versions are compared as one run of words, in lineage order, so text moved
between paragraphs (a paragraph split in two, two merged) matches itself and is not a change either.

Pure functions, no I/O: `document_changes` takes a document's versions and their clauses.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..ingest.lineage import match_clauses
from ..types import Clause, short_hash
from .compared import Side, Token, VersionClauses, change_sequence, lineage_id, side
from .rate import Edit, rate, tag_topics
from .types import Change, ChangeKind
from .wording import marked_sentences, side_wording

__all__ = ["ALGORITHM", "VersionClauses", "change_id", "change_sequence", "diff_document", "document_changes"]

ALGORITHM = "1"
"""Bump when what counts as a change, its excerpts or its rating change: stored changes are then recomputed."""
MOVED_WORDS = 3
"""Runs of at least this many words removed in one place and added unchanged in another are moved, not changed."""
CONTEXT_CHARS = 40


@dataclass(slots=True)
class _Unit:
    """The edits of one clause lineage between two versions, as they are gathered."""

    old: int | None
    new: int | None
    old_marks: list[Token] = field(default_factory=list)
    new_marks: list[Token] = field(default_factory=list)
    old_context: list[Token] = field(default_factory=list)
    new_context: list[Token] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)


def change_id(doc_key: str, before: str, after: str, lineage: str) -> str:
    """Stable across re-indexes: the same two versions and the same clause always give the same id."""
    return short_hash(doc_key, before, after, lineage, length=24)


def document_changes(
    versions: Sequence[VersionClauses], known: dict[tuple[str, str], list[Change]] | None = None
) -> list[Change]:
    """Every change between consecutive versions of one document, oldest pair first (see `diff_document`)."""
    return diff_document(versions, known)[0]


def diff_document(
    versions: Sequence[VersionClauses], known: dict[tuple[str, str], list[Change]] | None = None
) -> tuple[list[Change], list[tuple[str, str]]]:
    """Every change between consecutive versions of one document, oldest pair first, and the pairs of version
    ids compared.

    `known`: changes already computed, by (old version id, new version id), reused as they are (a pair of
    versions never changes under its ids); only the other pairs are diffed.
    """
    sequence = change_sequence(versions)
    if len(sequence) < 2:
        return [], []
    keys = [(a.provenance.version_id, b.provenance.version_id) for a, b in itertools.pairwise(sequence)]
    if known is not None and all(k in known for k in keys):  # nothing new: no need to follow the clauses
        return [c for k in keys for c in known[k]], keys
    sides = [side(v) for v in sequence]
    ids = [lineage_id(c) for c in sides[0].clauses]
    changes: list[Change] = []
    compared: list[tuple[str, str]] = []
    for old, new in itertools.pairwise(sides):
        pairs = replacements(match_clauses(old.clauses, new.clauses), old.clauses, new.clauses)
        new_ids = [""] * len(new.clauses)
        for i, j in pairs:
            if j is not None:
                new_ids[j] = ids[i] if i is not None else lineage_id(new.clauses[j])
        key = (old.ref.version_id, new.ref.version_id)
        held = (known or {}).get(key)
        changes.extend(held if held is not None else _pair_changes(old, new, pairs, ids, new_ids))
        compared.append(key)
        ids = new_ids
    return changes, compared


def replacements(
    pairs: Sequence[tuple[int | None, int | None]], old: Sequence[Clause], new: Sequence[Clause]
) -> list[tuple[int | None, int | None]]:
    """The lineage pairs, with a clause removed and a clause added in its place (next to each other, under the
    same heading) paired as one clause reworded: a sentence rewritten beyond recognition is still the clause
    that stood there, and its old and new wording belong in one change."""
    result = list(pairs)
    n = 0
    while n < len(result):
        # A run of removals and additions with no kept clause between them.
        end = n
        while end < len(result) and None in result[end]:
            end += 1
        if end == n:
            n += 1
            continue
        removed = [i for i, j in result[n:end] if i is not None and j is None]
        added = [j for i, j in result[n:end] if j is not None and i is None]
        merged: list[tuple[int | None, int | None]] = []
        for i in removed:
            partner = next((j for j in added if new[j].section == old[i].section), None)
            if partner is not None:
                added.remove(partner)
                merged.append((i, partner))
            else:
                merged.append((i, None))
        merged.extend((None, j) for j in added)
        result[n:end] = merged  # the changes' order is the new version's (see `_units`)
        n += len(merged)
    return result


def _pair_changes(
    old: Side,
    new: Side,
    pairs: Sequence[tuple[int | None, int | None]],
    old_ids: Sequence[str],
    new_ids: Sequence[str],
) -> list[Change]:
    units = _units(old, new, pairs)
    changes = []
    for unit in units:
        change = _change(old, new, unit, old_ids, new_ids)
        if change is not None:
            changes.append(change)
    return changes


def _units(old: Side, new: Side, pairs: Sequence[tuple[int | None, int | None]]) -> list[_Unit]:
    """The edits between the two versions, gathered per clause lineage, in the new version's order."""
    old_run: list[Token] = []
    new_run: list[Token] = []
    units: dict[tuple[int | None, int | None], _Unit] = {}
    unit_of_old: dict[int, _Unit] = {}
    unit_of_new: dict[int, _Unit] = {}
    for i, j in pairs:
        if i is not None and j is not None and _words(old.tokens[i]) == _words(new.tokens[j]):
            continue  # the same words: at most punctuation, case or spacing differ
        unit = units.setdefault((i, j), _Unit(i, j))
        if i is not None:
            unit_of_old[i] = unit
            old_run.extend(old.tokens[i])
        if j is not None:
            unit_of_new[j] = unit
            new_run.extend(new.tokens[j])
    a, b = _words(old_run), _words(new_run)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    opcodes = _without_moves([op for op in matcher.get_opcodes() if op[0] != "equal"], a, b)
    for _tag, i1, i2, j1, j2 in opcodes:
        touched: dict[int, _Unit] = {}
        for k in range(i1, i2):
            unit = unit_of_old[old_run[k].clause]
            unit.old_marks.append(old_run[k])
            touched[id(unit)] = unit
        for k in range(j1, j2):
            unit = unit_of_new[new_run[k].clause]
            unit.new_marks.append(new_run[k])
            touched[id(unit)] = unit
        if i1 == i2:  # a pure insertion: the old wording around the place it went in
            beside = _beside(old_run, unit_of_old, i1, new_run, unit_of_new, j1)
            if beside is not None:
                beside[0].old_context.append(beside[1])
        if j1 == j2:  # a pure deletion: the new wording around the place it was
            beside = _beside(new_run, unit_of_new, j1, old_run, unit_of_old, i1)
            if beside is not None:
                beside[0].new_context.append(beside[1])
        for unit in touched.values():
            unit.edits.append(_edit(old, new, old_run, new_run, unit, i1, i2, j1, j2))
    ordered = sorted(
        (u for u in units.values() if u.old_marks or u.new_marks),
        key=lambda u: (
            (u.new if u.new is not None else _removed_place(u.old or 0, pairs)),
            u.old if u.old is not None else -1,
        ),
    )
    return ordered


def _beside(
    run: Sequence[Token],
    units: dict[int, _Unit],
    at: int,
    other_run: Sequence[Token],
    other_units: dict[int, _Unit],
    other_at: int,
) -> tuple[_Unit, Token] | None:
    """The word next to position `at` of one side whose clause is also where the edit sits on the other side:
    the wording an insertion (or a deletion) is quoted with."""
    for k in (at - 1, at):
        if 0 <= k < len(run) and run[k].clause in units:
            unit = units[run[k].clause]
            if other_at < len(other_run) and other_units.get(other_run[other_at].clause) is unit:
                return unit, run[k]
    return None


def _removed_place(old: int, pairs: Sequence[tuple[int | None, int | None]]) -> float:
    for n, (i, _j) in enumerate(pairs):
        if i == old:
            earlier = [j for _i, j in pairs[:n] if j is not None]
            return (max(earlier) if earlier else -1) + 0.5
    return float("inf")


def _words(tokens: Iterable[Token]) -> list[str]:
    return [t.word for t in tokens]


def _without_moves(
    opcodes: Sequence[tuple[str, int, int, int, int]], a: Sequence[str], b: Sequence[str]
) -> list[tuple[str, int, int, int, int]]:
    """The opcodes with text moved elsewhere unchanged left out: a run of words removed here and added there."""
    inserted: dict[tuple[str, ...], list[int]] = {}
    for n, (_tag, _i1, _i2, j1, j2) in enumerate(opcodes):
        if j2 - j1 >= MOVED_WORDS:
            inserted.setdefault(tuple(b[j1:j2]), []).append(n)
    cancel_old: set[int] = set()
    cancel_new: set[int] = set()
    for n, (_tag, i1, i2, _j1, _j2) in enumerate(opcodes):
        if i2 - i1 < MOVED_WORDS:
            continue
        for m in inserted.get(tuple(a[i1:i2]), []):
            if m not in cancel_new and m != n:
                cancel_old.add(n)
                cancel_new.add(m)
                break
    result = []
    for n, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if n in cancel_old:
            i2 = i1
        if n in cancel_new:
            j2 = j1
        if i1 != i2 or j1 != j2:
            result.append((tag, i1, i2, j1, j2))
    return result


def _edit(
    old: Side,
    new: Side,
    old_run: Sequence[Token],
    new_run: Sequence[Token],
    unit: _Unit,
    i1: int,
    i2: int,
    j1: int,
    j2: int,
) -> Edit:
    """One opcode as the rating sees it, limited to the unit's own clauses."""
    removed = [old_run[k] for k in range(i1, i2) if unit.old is not None and old_run[k].clause == unit.old]
    added = [new_run[k] for k in range(j1, j2) if unit.new is not None and new_run[k].clause == unit.new]
    return Edit(
        removed=tuple(t.word for t in removed),
        added=tuple(t.word for t in added),
        removed_context=_context(old, unit.old, removed),
        added_context=_context(new, unit.new, added),
        removed_span=_span_in_context(old, unit.old, removed),
        added_span=_span_in_context(new, unit.new, added),
    )


def _context(side: Side, clause: int | None, tokens: Sequence[Token]) -> str:
    if clause is None or not tokens:
        return ""
    c = side.clauses[clause]
    begin = max(c.start, tokens[0].start - CONTEXT_CHARS)
    end = min(c.end, tokens[-1].end + CONTEXT_CHARS)
    return c.text[begin - c.start : end - c.start]


def _span_in_context(side: Side, clause: int | None, tokens: Sequence[Token]) -> tuple[int, int]:
    if clause is None or not tokens:
        return (0, 0)
    c = side.clauses[clause]
    begin = max(c.start, tokens[0].start - CONTEXT_CHARS)
    return (tokens[0].start - begin, tokens[-1].end - begin)


# --- one change, with its excerpts -------------------------------------------------------------------------


def _change(
    old: Side, new: Side, unit: _Unit, old_ids: Sequence[str], new_ids: Sequence[str]
) -> Change | None:
    p = new.version.provenance
    kind: ChangeKind
    if unit.old is not None and unit.new is not None:
        kind = "reworded"
        lineage = old_ids[unit.old]
    elif unit.new is not None:
        kind = "added"
        lineage = new_ids[unit.new]
    else:
        kind = "removed"
        lineage = old_ids[unit.old or 0]
    old_wording = side_wording(old, unit.old, unit.old_marks, unit.old_context)
    new_wording = side_wording(new, unit.new, unit.new_marks, unit.new_context)
    if (old_wording is None or not old_wording.marks) and (new_wording is None or not new_wording.marks):
        return None
    rating, reasons = rate(unit.edits, kind)
    topics = tag_topics(p.service, marked_sentences(old_wording), marked_sentences(new_wording))
    return Change(
        id=change_id(p.doc_key, old.ref.version_id, new.ref.version_id, lineage),
        doc_key=p.doc_key,
        service=p.service,
        document=p.document,
        title=p.title,
        region=p.region,
        kind=p.kind,
        change=kind,
        lineage=lineage,
        before=old.ref,
        after=new.ref,
        old=old_wording,
        new=new_wording,
        topics=topics,
        rating=rating,
        reasons=reasons,
    )
