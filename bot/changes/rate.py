"""Rating and tagging a change: substantive (a right, a permission, a duty or a figure changed) or editorial,
and the taxonomy topics (bot/data/topics.toml, the ones answers use) whose evidence its changed sentences
carry. The words that decide are data: bot/changes/rating.toml."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..data import Data, Pattern, read_toml
from ..ingest.catalog import load_catalog
from ..retrieve.topics import TOPICS
from .types import ChangeKind, Rating, Reason

RATING_FILE = Path(__file__).resolve().parent / "rating.toml"


class _Reasons(Data):
    duty: Pattern
    permission: Pattern
    right: Pattern


class _Context(Data):
    permission: Pattern
    figure: Pattern


class _Rating(Data):
    rewritten_words: int
    similar_spelling: float
    reasons: _Reasons
    context: _Context


@dataclass(frozen=True, slots=True)
class _Rules:
    rewritten_words: int
    similar_spelling: float
    reasons: tuple[tuple[Reason, re.Pattern[str]], ...]
    context: tuple[tuple[Reason, re.Pattern[str]], ...]


@cache
def rules() -> _Rules:
    data = read_toml(RATING_FILE, _Rating)
    return _Rules(
        rewritten_words=data.rewritten_words,
        similar_spelling=data.similar_spelling,
        reasons=(
            ("right", re.compile(data.reasons.right, re.I)),
            ("permission", re.compile(data.reasons.permission, re.I)),
            ("duty", re.compile(data.reasons.duty, re.I)),
        ),
        context=(
            ("permission", re.compile(data.context.permission, re.I)),
            ("figure", re.compile(data.context.figure, re.I)),
        ),
    )


@dataclass(frozen=True, slots=True)
class Edit:
    """One run of changed words in one clause: what was removed, what was added, and the text around each."""

    removed: tuple[str, ...]
    """The removed words, lower case, without punctuation."""
    added: tuple[str, ...]
    removed_context: str = ""
    """The old clause's text around the removed words (verbatim, a few words either side)."""
    added_context: str = ""
    removed_span: tuple[int, int] = (0, 0)
    """Where the removed words are in `removed_context`."""
    added_span: tuple[int, int] = (0, 0)


def is_spelling(edit: Edit, similar: float | None = None) -> bool:
    """Words replaced one for one by words spelt nearly the same ("licence" → "license"), no number among them."""
    threshold = rules().similar_spelling if similar is None else similar
    if not edit.removed or len(edit.removed) != len(edit.added):
        return False
    return all(
        not (a.isdigit() or b.isdigit()) and difflib.SequenceMatcher(None, a, b).ratio() >= threshold
        for a, b in zip(edit.removed, edit.added, strict=True)
    )


def _overlaps(pattern: re.Pattern[str], context: str, span: tuple[int, int]) -> bool:
    """Whether `pattern` matches the text around the changed words in a span that includes some of them (a
    figure with its unit, "opt in" → "opt out")."""
    start, end = span
    if start >= end:
        return False
    return any(m.start() < end and start < m.end() for m in pattern.finditer(context))


def rate(edits: Sequence[Edit], kind: ChangeKind) -> tuple[Rating, tuple[Reason, ...]]:
    """Substantive, with the reasons, or editorial."""
    found: set[Reason] = set()
    changed = 0
    for edit in edits:
        if is_spelling(edit):
            continue
        changed += len(edit.removed) + len(edit.added)
        words = " ".join((*edit.removed, "|", *edit.added))
        for reason, pattern in rules().reasons:
            if pattern.search(words):
                found.add(reason)
        for reason, pattern in rules().context:
            if _overlaps(pattern, edit.removed_context, edit.removed_span) or _overlaps(
                pattern, edit.added_context, edit.added_span
            ):
                found.add(reason)
    if kind == "reworded" and changed >= rules().rewritten_words and not found:
        found.add("rewritten")
    order: tuple[Reason, ...] = ("right", "permission", "duty", "figure", "rewritten")
    reasons = tuple(r for r in order if r in found)
    return ("substantive" if reasons else "editorial"), reasons


@cache
def _categories(service: str) -> frozenset[str] | None:
    info = load_catalog().service(service)
    return frozenset(info.categories) if info is not None else None


def tag_topics(service: str, *sentence_groups: Sequence[str]) -> tuple[str, ...]:
    """The topics (most important first) whose evidence is in any of the sentences; topics limited to kinds of
    platform (`categories`) only for platforms of those kinds. A topic with no evidence pattern (one that
    matches anything) tags nothing."""
    sentences = [s for group in sentence_groups for s in group]
    if not sentences:
        return ()
    kinds = _categories(service)
    found = []
    for topic in TOPICS:
        if topic.categories and kinds is not None and not kinds.intersection(topic.categories):
            continue
        if topic.evidence.search(""):
            continue
        # A pattern made of lookaheads only (every word anywhere in the text) is tried at the start: the same
        # answer as searching, without retrying the lookaheads at every position of a long sentence.
        test = topic.evidence.match if topic.evidence.pattern.startswith("(?=") else topic.evidence.search
        if any(test(s) for s in sentences):
            found.append(topic.id)
    return tuple(found)
