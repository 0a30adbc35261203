"""Which date a question asks about, in the words people use: "in March 2024", "before 2025", "in the summer of
2023", "the first half of 2024", "late last year", "two years ago", "before the 2024 update", "back then",
"when the terms were first archived", and whether it asks about then *and* now.

The period's words come from bot/data/dates.toml. A period answers with the version in force at its end.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from ..data import Data, load
from ..ingest.dates import end_of_period, find_dates


@dataclass(frozen=True, slots=True)
class When:
    as_of: date | None
    """The date whose versions answer the question (None: the latest)."""
    phrase: str = ""
    """The words that said it, to keep out of the topic."""
    then_and_now: bool = False
    """The question also asks about today's wording ("back in 2023 … and now?")."""
    earliest: bool = False
    """It asks for the oldest version held ("when the terms were first archived")."""
    back: bool = False
    """It points back at the date the conversation was about ("back then")."""


class _Dates(Data):
    seasons: dict[str, tuple[int, int]]
    parts: dict[str, tuple[int, int]]
    now: tuple[str, ...]
    back: tuple[str, ...]
    earliest: tuple[str, ...]
    revisions: tuple[str, ...]
    numbers: dict[str, int]


_YEAR = r"(?P<year>(?:19|20)\d{2})"


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation of `words`, longest first (so "first half" wins over "first")."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@dataclass(frozen=True, slots=True)
class _Patterns:
    period: re.Pattern[str]
    relative: re.Pattern[str]
    ago: re.Pattern[str]
    before_revision: re.Pattern[str]
    year: re.Pattern[str]
    version_year: re.Pattern[str]
    now: re.Pattern[str]
    back: re.Pattern[str]
    earliest: re.Pattern[str]
    lead_before: re.Pattern[str]
    lead_after: re.Pattern[str]


@cache
def _data() -> _Dates:
    return load("dates.toml", _Dates)


@cache
def _patterns() -> _Patterns:
    d = _data()
    names = _alternation([*d.seasons, *d.parts])
    numbers = _alternation(d.numbers)
    return _Patterns(
        # "the summer of 2023", "first half of 2024", "late 2024", "Q3 2025", "fin 2024", "mid-2025"
        period=re.compile(
            rf"\b(?:in\s+|during\s+|by\s+|around\s+|over\s+)?(?:the\s+)?(?P<name>{names})(?:\s*-\s*|\s+)(?:of\s+|de\s+|d'|in\s+)?{_YEAR}\b",
            re.I,
        ),
        # "last year", "late last year", "last summer", "early this year"
        relative=re.compile(
            rf"\b(?:(?:in|during)\s+)?(?:the\s+)?(?:(?P<part>{_alternation(d.parts)})\s+(?:of\s+)?)?"
            rf"(?P<which>last|this)\s+(?P<unit>year|month|{_alternation(d.seasons)})\b",
            re.I,
        ),
        ago=re.compile(rf"\b(?P<n>\d+|{numbers})\s+(?P<unit>years?|months?)\s+ago\b", re.I),
        before_revision=re.compile(
            rf"\b(?:before|prior\s+to|until)\s+(?:the|their|its|that)\s+{_YEAR}\s+(?:{_alternation(d.revisions)})\b",
            re.I,
        ),
        year=re.compile(
            r"\b(?P<prep>before|prior\s+to|until|till|up\s+to|by|in|during|back\s+in|as\s+of|around|since|after|from|en|avant)"
            rf"\s+(?:the\s+(?:year\s+)?)?{_YEAR}\b(?!\s*-\d)",
            re.I,
        ),
        # "the 2024 wording", "soundcloud's 2024 terms", "the 2024 soundcloud ai clause"
        version_year=re.compile(
            rf"\b{_YEAR}(?:'s)?\s+(?:\S+\s+){{0,3}}?(?:version|wording|terms|tos|t&cs|policy|update|rules|agreement|clause|text|edition)\b",
            re.I,
        ),
        now=re.compile(rf"\b(?:{_alternation(d.now)})\b", re.I),
        back=re.compile(rf"(?<!\w)(?:{_alternation(d.back)})(?!\w)", re.I),
        earliest=re.compile(rf"(?<!\w)(?:{_alternation(d.earliest)})(?!\w)", re.I),
        lead_before=re.compile(r"\b(?:before|prior\s+to|avant)\s*(?:the\s+)?$", re.I),
        lead_after=re.compile(r"\b(?:since|after|from|depuis)\s*(?:the\s+)?$", re.I),
    )


def read_when(text: str, today: date) -> When:
    """The date `text` asks about (relative phrases counted from `today`), and how it asks."""
    p = _patterns()
    when = _explicit(text, today) or _period(text, today) or _relative(text, today) or _year(text, today)
    if when is None:
        first = p.earliest.search(text)
        if first is not None:
            return When(None, first.group(0), earliest=True)
        back = p.back.search(text)
        return When(None, back.group(0), back=True) if back else When(None)
    if when.as_of is not None and when.as_of < today and p.now.search(_without(text, when.phrase)):
        return When(when.as_of, when.phrase, then_and_now=True)
    return when


def _without(text: str, phrase: str) -> str:
    return text.replace(phrase, " ") if phrase else text


def _explicit(text: str, today: date) -> When | None:
    """A written date: "in March 2024" → 2024-03-31, "on 1 June 2025" → that day, "before May 2025" → the day
    before; "since/after" a date asks about the newest terms."""
    p = _patterns()
    for found in find_dates(text):
        lead = text[max(0, found.start - 16) : found.start]
        if p.lead_after.search(lead):
            return When(None, "")
        if p.lead_before.search(lead):
            start = found.value if found.precision == "day" else found.value.replace(day=1)
            words = text[found.start - len(lead.lstrip()) : found.end].strip()
            return When(start - timedelta(days=1), words)
        return When(min(end_of_period(found.value, found.precision), today), found.text)
    return None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _span_end(year: int, first: int, last: int) -> date:
    """The last day of a period of `year` from month `first` to `last` (a winter runs into the next year)."""
    return _month_end(year + 1 if last < first else year, last)


def _period(text: str, today: date) -> When | None:
    match = _patterns().period.search(text)
    if match is None:
        return None
    d = _data()
    name = " ".join(match.group("name").casefold().split())
    first, last = d.seasons.get(name) or d.parts[name]
    end = _span_end(int(match.group("year")), first, last)
    return When(min(end, today), match.group(0).strip()) if end.year <= today.year + 1 else None


def _relative(text: str, today: date) -> When | None:
    p, d = _patterns(), _data()
    match = p.relative.search(text)
    if match is not None:
        unit = match.group("unit").casefold()
        year = today.year - (1 if match.group("which").casefold() == "last" else 0)
        if unit == "month":
            previous = today.replace(day=1) - timedelta(days=1)
            return When(previous if match.group("which").casefold() == "last" else None, match.group(0))
        part = match.group("part")
        if unit == "year":
            if match.group("which").casefold() == "this" and not part:
                return None
            first, last = d.parts[" ".join(part.casefold().split())] if part else (1, 12)
            return When(min(_span_end(year, first, last), today), match.group(0).strip())
        # "last summer" is the most recent one that has ended; "this summer", this year's.
        first, last = d.seasons[unit]
        end = _span_end(today.year, first, last)
        if match.group("which").casefold() == "last" and end > today:
            end = _span_end(today.year - 1, first, last)
        return When(min(end, today), match.group(0).strip())
    ago = p.ago.search(text)
    if ago is not None:
        n = int(ago.group("n")) if ago.group("n").isdigit() else d.numbers[ago.group("n").casefold()]
        if ago.group("unit").casefold().startswith("year"):
            return When(_years_before(today, n), ago.group(0))
        return When(_months_before(today, n), ago.group(0))
    return None


def _years_before(today: date, n: int) -> date:
    try:
        return today.replace(year=today.year - n)
    except ValueError:  # 29 February
        return today.replace(year=today.year - n, day=28)


def _months_before(today: date, n: int) -> date:
    month = today.month - n
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return min(
        today.replace(year=year, month=month, day=1) + timedelta(days=today.day - 1), _month_end(year, month)
    )


def _year(text: str, today: date) -> When | None:
    """A bare year: "before the 2024 update" / "before 2025" → the end of the year before; "the 2024 wording",
    "in 2024" → the end of that year; "since 2024" → the newest terms."""
    p = _patterns()
    revision = p.before_revision.search(text)
    if revision is not None:
        return When(date(int(revision.group("year")) - 1, 12, 31), revision.group(0))
    version = p.version_year.search(text)
    if version is not None and int(version.group("year")) <= today.year:
        return When(min(date(int(version.group("year")), 12, 31), today), version.group("year"))
    match = p.year.search(text)
    if match is None:
        return None
    year = int(match.group("year"))
    prep = " ".join(match.group("prep").casefold().split())
    if prep in ("since", "after", "from"):
        return When(None, "")
    if prep in ("before", "prior to", "avant"):
        return When(date(year - 1, 12, 31), match.group(0))
    if year > today.year:
        return None
    return When(min(date(year, 12, 31), today), match.group(0))
