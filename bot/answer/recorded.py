"""Change questions answered from the changes recorded with the index: the same changes the feed and
`policybot changes` show, the old and the new wording quoted from their own dated versions, and the period
the question names ("in May 2025", "since 2024", "between 2023 and 2024") deciding which changes count."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from ..changes.cite import change_hits
from ..changes.describe import topic_phrase
from ..changes.query import changes_for
from ..changes.types import Change
from ..ingest.dates import end_of_period, find_dates, human_date
from ..retrieve.lexical import expand_query, tokenize
from ..retrieve.searcher import Searcher
from ..retrieve.topics import Topic
from ..types import Hit, Question
from .changes import change_topic

MAX_CHANGES = 2
"""Changes quoted in one answer (each as its old and its new wording); the lead counts the others."""

_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_LEAD_SINCE = re.compile(r"\b(?:since|from|after|starting)\s+(?:the\s+)?(?:start\s+of\s+)?$", re.I)
_LEAD_AFTER = re.compile(r"\bafter\s+(?:the\s+)?$", re.I)
_LEAD_BEFORE = re.compile(r"\b(?:before|until|till|prior\s+to|up\s+to)\s+(?:the\s+)?$", re.I)
_BETWEEN = re.compile(r"\b(?:between|from)\b", re.I)
_RELATIVE = re.compile(r"\b(?P<which>last|this|past)\s+(?P<unit>year|month)\b", re.I)


@dataclass(frozen=True, slots=True)
class Period:
    """Which changes count: those in versions dated from `since` to `until` (inclusive; None: open)."""

    since: date | None = None
    until: date | None = None

    @property
    def named(self) -> bool:
        return self.since is not None or self.until is not None

    def phrase(self) -> str:
        """The period in words: "between May 1, 2025 and May 31, 2025", "since January 1, 2024"."""
        if self.since and self.until:
            return f"between {human_date(self.since)} and {human_date(self.until)}"
        if self.since:
            return f"since {human_date(self.since)}"
        return f"up to {human_date(self.until)}" if self.until else ""


@dataclass(frozen=True, slots=True)
class _Mark:
    start: int
    first: date
    last: date


def _marks(text: str) -> list[_Mark]:
    """The dates a question writes ("May 2025", "1 June 2025") and bare years ("2024"), in order."""
    marks = [_Mark(f.start, f.value, end_of_period(f.value, f.precision)) for f in find_dates(text)]
    taken = [(f.start, f.end) for f in find_dates(text)]
    for m in _YEAR.finditer(text):
        if not any(s <= m.start() < e for s, e in taken):
            year = int(m.group())
            marks.append(_Mark(m.start(), date(year, 1, 1), date(year, 12, 31)))
    return sorted(marks, key=lambda m: m.start)


def change_period(text: str, as_of: date | None) -> Period:
    """The period a change question names: "in May 2025" → that month, "since 2024" → from its first day,
    "before 2025" → up to its eve, "between 2023 and 2024", "last year" (from `as_of`, the end of the period
    the question was read as); no date → no bounds."""
    marks = _marks(text)
    if len(marks) >= 2 and _BETWEEN.search(text[: marks[0].start]):
        return Period(marks[0].first, marks[1].last)
    if marks:
        mark = marks[0]
        lead = text[max(0, mark.start - 24) : mark.start]
        if _LEAD_AFTER.search(lead):
            return Period(mark.last + timedelta(days=1), None)
        if _LEAD_SINCE.search(lead):
            return Period(mark.first, None)
        if _LEAD_BEFORE.search(lead):
            return Period(None, mark.first - timedelta(days=1))
        if as_of is not None and mark.first <= as_of < mark.last:  # a part of it ("the summer of 2023")
            return Period(mark.first, as_of)
        return Period(mark.first, mark.last)
    relative = _RELATIVE.search(text)
    if relative is not None and as_of is not None:
        if relative.group("unit").casefold() == "month":
            return Period(as_of.replace(day=1), as_of)
        return Period(date(as_of.year, 1, 1), as_of)
    # A season or a part of a year ("the summer of 2023"): the reading's end of it bounds the changes.
    return Period(None, as_of) if as_of is not None else Period()


def _shared(change: Change, stems: set[str]) -> int:
    """How many of the question's words the changed sentences of `change` (old and new) hold."""
    sides = (change.old, change.new)
    return len(stems.intersection(w for s in sides if s is not None for w in tokenize(s.quote)))


def _order(changes: Sequence[Change], topic: str, stems: set[str]) -> list[Change]:
    """The changes that say what the question names (at least half as many of its words as the best), binding
    documents first; then those sharing most words with it, those mainly about the topic before those that
    only touch it; newest first."""
    scores = {c.id: _shared(c, stems) for c in changes}
    best = max(scores.values(), default=0)
    if best:  # the question names what changed ("AI"): changes that hardly say it are left out
        changes = [c for c in changes if scores[c.id] * 2 >= best]
    return sorted(
        changes,
        key=lambda c: (
            not c.binding,
            -scores[c.id],
            bool(topic) and c.topics[:1] != (topic,),
            -c.date.toordinal(),
        ),
    )


def _matching(
    q: Question, topic: Topic | None, period: Period, searcher: Searcher, stems: set[str]
) -> tuple[list[Change], Topic | None]:
    """The recorded changes the question asks about, and the topic they were chosen by: those on its topic;
    when the topic it was read as has none, those whose changed sentences hold the question's words (a topic
    read wrongly must not hide the change asked about)."""

    def on(chosen: Topic | None) -> list[Change]:
        return changes_for(
            searcher,
            services=q.services,
            topic=chosen.id if chosen else None,
            since=period.since,
            until=period.until,
        )

    found = on(topic)
    if found or topic is None:
        return found, topic
    return [c for c in on(None) if _shared(c, stems)], None


def _compared(q: Question, searcher: Searcher) -> bool:
    """Whether the index holds some document of the named platforms (of any, when none is named) in versions
    of more than one date: only then can the recorded changes say that nothing changed."""
    return any(
        len({v.provenance.version_date for v in d.versions}) > 1
        for d in searcher.documents
        if not q.services or d.service in q.services
    )


def recorded_changes(
    q: Question, topic: Topic | None, searcher: Searcher, fallback: Sequence[Hit]
) -> tuple[str, list[Hit], list[str]] | None:
    """(lead, the hits to quote: old then new wording of each change, remarks) from the recorded changes of the
    searcher's generation; None when the question names no period and no recorded change answers it (the
    answer then compares the topic's sentences version by version)."""
    period = change_period(q.standalone or q.text, q.as_of)
    stems = set(expand_query(change_topic(q.topic)))
    found, chosen = _matching(q, topic, period, searcher, stems)
    if not found and (not period.named or not _compared(q, searcher)):
        return None
    if not found:
        return _no_change(q, topic, period, fallback)
    ordered = _order(found, chosen.id if chosen else "", stems)
    quoted: list[Hit] = []
    shown: list[Change] = []
    for change in ordered:
        hits = [h for h in change_hits(change, searcher) if h is not None]
        if hits:
            quoted.extend(hits)
            shown.append(change)
        if len(shown) == MAX_CHANGES:
            break
    if not shown:
        return None
    return _lead(ordered, shown, chosen, period), quoted, []


def _scope(q: Question, topic: Topic | None) -> str:
    platforms = " and ".join(f"{s}'s" for s in q.services) if q.services else "the platforms'"
    about = f" on {topic_phrase(topic.id)}" if topic is not None else ""
    return f"{platforms} documents{about}"


def _lead(found: Sequence[Change], shown: Sequence[Change], topic: Topic | None, period: Period) -> str:
    when = f" {period.phrase()}" if period.named else ""
    count = len(found)
    about = f" on {topic_phrase(topic.id)}" if topic is not None else ""
    lines = [
        f"I have {count} substantive change{'s' if count != 1 else ''}{about}{when} in the versions I hold"
        + (f"; here are {len(shown)} (`policybot changes` lists them all):" if count > len(shown) else ":")
    ]
    for change in shown:
        lines.append(
            f"- {change.service}'s {change.title} ({change.section_path}), {change.change} in the version of "
            f"{human_date(change.after.version_date)} ({change.after.date_label}); before it, the version of "
            f"{human_date(change.before.version_date)}."
        )
    lines.append("The old and the new wording:")
    return "\n".join(lines)


def _no_change(
    q: Question, topic: Topic | None, period: Period, fallback: Sequence[Hit]
) -> tuple[str, list[Hit], list[str]]:
    when = f" {period.phrase()}" if period.named else ""
    lead = (
        f"I found no substantive change to {_scope(q, topic)}{when} in the versions I hold. "
        "The wording in force then:"
        if period.until is not None
        else f"I found no substantive change to {_scope(q, topic)}{when} in the versions I hold. The wording now:"
    )
    return lead, list(fallback[:1]), []
