"""Following clauses across versions: which clause of a new version is which clause of the old one, and a
clause-level diff (added, removed, changed with the changed words marked) rather than a line diff."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..types import Clause, short_hash
from .markdown import clean_inline

_WORD = re.compile(r"\S+")


def _words(clause: Clause) -> list[str]:
    return _WORD.findall(clean_inline(clause.text))


def _norm(clause: Clause) -> str:
    return " ".join(_words(clause)).casefold()


def similarity(a: Clause, b: Clause) -> float:
    """How alike two clauses read, 0..1 (word-level sequence match)."""
    wa, wb = [w.casefold() for w in _words(a)], [w.casefold() for w in _words(b)]
    if not wa or not wb:
        return 0.0
    # A cheap bound first: clauses sharing few words are not the same clause.
    common = len(set(wa) & set(wb)) / max(len(set(wa)), len(set(wb)))
    if common < 0.3:
        return common / 2
    return difflib.SequenceMatcher(None, wa, wb, autojunk=False).ratio()


SAME_HEADING = 0.5
OTHER_HEADING = 0.75
"""A changed clause keeps its identity above this similarity (same heading), or this one (moved elsewhere)."""


def match_clauses(old: Sequence[Clause], new: Sequence[Clause]) -> list[tuple[int | None, int | None]]:
    """Pairs (old index, new index); None on one side for a clause removed or added."""
    pairs: dict[int, int] = {}
    by_text: dict[str, list[int]] = {}
    for i, clause in enumerate(old):
        by_text.setdefault(_norm(clause), []).append(i)
    unmatched_new: list[int] = []
    for j, clause in enumerate(new):
        same = [i for i in by_text.get(_norm(clause), []) if i not in pairs]
        if same:
            # Identical text: prefer the one under the same heading, then the nearest position.
            best = min(same, key=lambda i: (old[i].section != clause.section, abs(i - j)))
            pairs[best] = j
        else:
            unmatched_new.append(j)
    unmatched_old = [i for i in range(len(old)) if i not in pairs]
    scored: list[tuple[float, int, int]] = []
    for j in unmatched_new:
        for i in unmatched_old:
            score = similarity(old[i], new[j])
            threshold = SAME_HEADING if old[i].heading == new[j].heading else OTHER_HEADING
            if score >= threshold:
                scored.append((score, i, j))
    taken_new: set[int] = set()
    for _score, i, j in sorted(scored, key=lambda s: (-s[0], s[1], s[2])):
        if i in pairs or j in taken_new:
            continue
        pairs[i] = j
        taken_new.add(j)
    result: list[tuple[int | None, int | None]] = [(i, j) for i, j in pairs.items()]
    result += [(None, j) for j in range(len(new)) if j not in pairs.values()]
    # A removed clause is listed where it stood: just after the new place of the old clause before it.
    for i in range(len(old)):
        if i not in pairs:
            result.append((i, None))

    def place(pair: tuple[int | None, int | None]) -> tuple[float, int]:
        i, j = pair
        if j is not None:
            return (float(j), 0)
        earlier = [pairs[k] for k in range(i or 0) if k in pairs]
        return ((max(earlier) if earlier else -1) + 0.5, i or 0)

    return sorted(result, key=place)


def lineage_ids(versions: Sequence[Sequence[Clause]]) -> list[list[str]]:
    """A stable id per clause across a document's versions (oldest first): a clause keeps its id when its text
    changes a little under the same heading, so its history can be followed."""
    ids: list[list[str]] = []
    for n, clauses in enumerate(versions):
        if n == 0:
            ids.append([_new_id(c) for c in clauses])
            continue
        current = [""] * len(clauses)
        for i, j in match_clauses(versions[n - 1], clauses):
            if j is not None:
                current[j] = ids[n - 1][i] if i is not None else _new_id(clauses[j])
        ids.append(current)
    return ids


def _new_id(clause: Clause) -> str:
    return "c" + short_hash(
        clause.provenance.doc_key, clause.provenance.version_id, str(clause.start), length=10
    )


@dataclass(frozen=True, slots=True)
class ClauseChange:
    kind: str
    """added | removed | changed"""
    old: Clause | None
    new: Clause | None
    marked: str
    """The new text with removed words as [-…-] and added words as {+…+}; the plain text when added/removed."""


@dataclass(frozen=True, slots=True)
class VersionDiff:
    changes: tuple[ClauseChange, ...]
    unchanged: int

    def of_kind(self, kind: str) -> list[ClauseChange]:
        return [c for c in self.changes if c.kind == kind]


def mark_words(old: str, new: str) -> str:
    """`new` with the words that differ from `old` marked: [-removed-] {+added+}."""
    a, b = _WORD.findall(old), _WORD.findall(new)
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.extend(a[i1:i2])
            continue
        if i2 > i1:
            out.append("[-" + " ".join(a[i1:i2]) + "-]")
        if j2 > j1:
            out.append("{+" + " ".join(b[j1:j2]) + "+}")
    return " ".join(out)


def diff_clauses(old: Sequence[Clause], new: Sequence[Clause]) -> VersionDiff:
    """Clauses added, removed and changed between two versions; moved but identical clauses are unchanged."""
    changes: list[ClauseChange] = []
    unchanged = 0
    for i, j in match_clauses(old, new):
        if i is None and j is not None:
            changes.append(ClauseChange("added", None, new[j], clean_inline(new[j].text)))
        elif j is None and i is not None:
            changes.append(ClauseChange("removed", old[i], None, clean_inline(old[i].text)))
        elif i is not None and j is not None:
            if _norm(old[i]) == _norm(new[j]):
                unchanged += 1
            else:
                marked = mark_words(clean_inline(old[i].text), clean_inline(new[j].text))
                changes.append(ClauseChange("changed", old[i], new[j], marked))
    return VersionDiff(tuple(changes), unchanged)
