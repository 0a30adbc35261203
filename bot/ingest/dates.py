"""Dates in documents ("Last Amended: August 17, 2026"), in file names and in questions ("in March 2024")."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

_MONTHS = {
    **{name.casefold(): i for i, name in enumerate(calendar.month_name) if name},
    **{name.casefold(): i for i, name in enumerate(calendar.month_abbr) if name},
    "sept": 9,
    # French, for the French collections.
    "janvier": 1,
    "février": 2,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "août": 8,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "décembre": 12,
    "decembre": 12,
}
_MONTH = r"(?P<month>" + "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th|er)?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"

_DATE_FORMS = [
    rf"{_MONTH}\s+{_DAY},?\s+{_YEAR}",  # August 17, 2026
    rf"{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}",  # 17 August 2026, 1er janvier 2025
    r"(?P<iy>(?:19|20)\d{2})-(?P<im>\d{2})-(?P<id>\d{2})",  # 2026-08-17
    r"(?P<um>\d{1,2})/(?P<ud>\d{1,2})/(?P<uy>(?:19|20)\d{2})",  # 03/26/2024 (US order)
    rf"{_MONTH}\s+{_YEAR}",  # July 2026
]
_FORM_RES = [re.compile(form, re.I) for form in _DATE_FORMS]


@dataclass(frozen=True, slots=True)
class FoundDate:
    value: date
    text: str
    """The date as written, e.g. "August 17, 2026"."""
    start: int
    end: int
    precision: str
    """day | month"""


def _to_date(match: re.Match[str]) -> tuple[date, str] | None:
    groups = match.groupdict()
    try:
        if groups.get("iy"):
            return date(int(groups["iy"]), int(groups["im"]), int(groups["id"])), "day"
        if groups.get("uy"):
            return date(int(groups["uy"]), int(groups["um"]), int(groups["ud"])), "day"
        month = _MONTHS.get((groups.get("month") or "").casefold().rstrip("."))
        if month is None:
            return None
        year = int(groups["year"])
        if groups.get("day"):
            return date(year, month, int(groups["day"])), "day"
        return date(year, month, 1), "month"
    except ValueError:  # 31 February and the like
        return None


def parse_date(text: str) -> date | None:
    """The first date written in `text`, or None: "August 17, 2026", "17 Aug 2026", "2026-08-17", "03/26/2024"."""
    found = find_dates(text)
    return found[0].value if found else None


def find_dates(text: str) -> list[FoundDate]:
    """Every date written in `text`, in order, the longest reading at each place."""
    spans: list[FoundDate] = []
    for form in _FORM_RES:
        for match in form.finditer(text):
            parsed = _to_date(match)
            if parsed is None:
                continue
            value, precision = parsed
            spans.append(FoundDate(value, match.group(0), match.start(), match.end(), precision))
    spans.sort(key=lambda f: (f.start, -(f.end - f.start)))
    result: list[FoundDate] = []
    for found in spans:
        if result and found.start < result[-1].end:
            continue
        result.append(found)
    return result


# A date label at the start of a line, after any Markdown decoration ("**Last Amended:** [September 10, 2025](…)").
_LABEL_STRONG = (
    r"last\s+(?:amended|updated|modified|revised)(?:\s+on)?|updated(?:\s+on)?|date\s+of\s+last\s+revision"
)
_LABEL_WEAK = (
    r"effective\s+date|effective\s+as\s+of|effective(?:\s+from)?|as\s+of|dated|"
    r"date\s+de\s+(?:derni[èe]re\s+)?mise\s+[àa]\s+jour|derni[èe]re\s+mise\s+[àa]\s+jour|mis\s+[àa]\s+jour\s+le|"
    r"en\s+vigueur\s+(?:[àa]\s+compter\s+)?du"
)
_DECOR = r"[ \t>#*_`|\-]*(?:\[\]\([^)]*\)[ \t*_]*)?"
_LABEL_LINE = re.compile(
    rf"^{_DECOR}(?P<label>{_LABEL_STRONG}|{_LABEL_WEAK})\b[ \t]*[:：]?[ \t*_]*(?:on[ \t]+)?[\[(]?",
    re.I | re.M,
)
_STRONG = re.compile(_LABEL_STRONG, re.I)
_BARE_DATE_LINE = re.compile(r"^[ \t*_#>]*(?P<date>[^\n]{6,40}?)[ \t*_]*$", re.M)


_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def _as_written(text: str) -> str:
    """A date statement as the document writes it, without Markdown: "Last Amended: September 10, 2025"."""
    text = _LINK.sub(r"\1", text)
    text = re.sub(r"[*_`\[\]]", "", text)
    return " ".join(text.split())


def find_version_date(text: str, *, not_after: date | None = None) -> tuple[date, str] | None:
    """The date a document states for its own version, and how it says it.

    Looks for a labelled date at the start of a line ("Last Amended:", "Last updated", "Effective Date:",
    "Updated", "As of", "Dated:"). A document's own label stands near its top: a label further down belongs
    to a page the capture appended (a sharing policy, a feature's own terms), so labels in the head win, and
    among them "last amended/updated" beats "effective/as of", then the earlier line. A head label may name a
    date after `not_after` (the day the archive recorded the text): that text comes into force then. Further
    down, such dates announce a change rather than date this text, and are ignored. When there is no label, a
    line holding nothing but a date near the top counts.
    """
    best: tuple[int, int, int, date, str] | None = None
    head_end = max(HEAD_CHARS, len(text) // 10)
    for match in _LABEL_LINE.finditer(text):
        tail = text[match.end() : match.end() + 60].split("\n", 1)[0]
        dates = find_dates(tail)
        if not dates or dates[0].start > 3:
            continue
        found = dates[0]
        head = match.start() < head_end
        if not _plausible(found.value, None if head else not_after):
            continue
        rank = 0 if _STRONG.fullmatch(match.group("label").strip()) else 1
        written = text[match.start("label") : match.end() + found.end]
        candidate = (0 if head else 1, rank, match.start(), found.value, _as_written(written))
        if best is None or candidate[:3] < best[:3]:
            best = candidate
    if best is not None:
        return best[3], best[4]
    head_text = text[:1500]
    for match in _BARE_DATE_LINE.finditer(head_text):
        dates = find_dates(match.group("date"))
        whole = len(dates) == 1 and dates[0].text.strip() == match.group("date").strip()
        if whole and _plausible(dates[0].value, not_after):
            return dates[0].value, dates[0].text
    return None


HEAD_CHARS = 4000
"""How far from the top a document's own date label may stand, at least (captured pages open with navigation
and summaries); a tenth of the text for longer documents."""


def _plausible(value: date, not_after: date | None) -> bool:
    if value.year < 1995:
        return False
    return not_after is None or value <= not_after


_FILE_DATE = re.compile(r"((?:19|20)\d{2})-(\d{2})-(\d{2})")


def parse_file_date(name: str) -> date | None:
    """The ISO date at the start of an archive file name: "2024-02-07 (Last Amended).md" → 2024-02-07."""
    match = _FILE_DATE.search(name)
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def human_date(value: date) -> str:
    """August 17, 2026 — how the answers write a date."""
    return f"{calendar.month_name[value.month]} {value.day}, {value.year}"


def end_of_period(value: date, precision: str) -> date:
    """The last day of the month (or of the year) a date names: what was in force "in March 2024"."""
    if precision == "year":
        return date(value.year, 12, 31)
    if precision == "month":
        return date(value.year, value.month, calendar.monthrange(value.year, value.month)[1])
    return value
