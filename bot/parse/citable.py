"""Which spans of a document can stand alone as a quote: whole sentences of a real clause, never a heading on
its own, a date line ("Last Amended: May 21, 2025") or a table-of-contents entry ("[Assignment](#assignment)")."""

from __future__ import annotations

import re

from ..ingest.dates import find_dates
from ..ingest.markdown import clean_inline

_ANCHOR_LINK = re.compile(r"\]\(\s*#[^)]*\)")
_LINK = re.compile(r"\[[^\]]*\]\([^)]*\)")
_DATE_LABEL = re.compile(
    r"^\W*(?:last\s+(?:amended|updated|modified|revised)(?:\s+on)?|updated(?:\s+on)?|effective(?:\s+date)?(?:\s+as\s+of)?"
    r"|version(?:\s+date)?|dated?|as\s+of|date\s+de\s+(?:derni[èe]re\s+)?mise\s+[àa]\s+jour|derni[èe]re\s+mise\s+[àa]\s+jour"
    r"|en\s+vigueur(?:\s+[àa]\s+compter)?(?:\s+du)?|mis\s+[àa]\s+jour\s+le)\b",
    re.I,
)
_WORDS = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_ENDS_SENTENCE = re.compile(r"[.!?;…)\]”\"']\s*$")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[*+\-•]|\d{1,3}[.)]|\(?[a-z]{1,3}\))[ \t]+", re.I)


def is_citable(raw: str) -> bool:
    """Whether `raw` (a clause's text, Markdown and all) may be quoted on its own."""
    lines = [line for line in raw.splitlines() if line.strip()]
    if not lines:
        return False
    return not (is_table_of_contents(lines) or is_date_line(raw) or is_heading_alone(raw))


def is_table_of_contents(lines: list[str]) -> bool:
    """Lines that are mostly links to anchors of the same page: a table of contents, not a clause."""
    linked = sum(bool(_ANCHOR_LINK.search(line)) for line in lines)
    if linked == 0:
        return False
    outside = sum(len(_WORDS.findall(_LINK.sub(" ", line))) for line in lines)
    return linked * 2 >= len(lines) and outside <= 3 * len(lines)


def is_date_line(raw: str) -> bool:
    """ "Last Amended: May 21, 2025", "Effective date: 1 June 2024", "Version 3.2 — 2025-01-01": a date and
    at most a label around it."""
    text = clean_inline(raw)
    dates = find_dates(text)
    if not dates:
        return False
    rest = text
    for found in dates:
        rest = rest.replace(found.text, " ")
    words = _WORDS.findall(_DATE_LABEL.sub(" ", rest))
    return len(words) <= 2 and (bool(_DATE_LABEL.match(text)) or len(words) == 0)


def is_heading_alone(raw: str) -> bool:
    """A short line that names a section instead of saying something: "Apple Music :", "R. CONDITIONS
    SUPPLÉMENTAIRES", "Your Content" — no sentence, ends with a colon or is written in capitals or as a
    title."""
    text = clean_inline(raw)
    words = _WORDS.findall(text)
    if "\n" in raw.strip() or not words or len(words) > 12 or _ENDS_SENTENCE.search(text):
        return False
    if text.rstrip().endswith(":"):
        return True  # a heading, or the lead-in of a list whose items are clauses of their own
    if _LIST_ITEM.match(raw):
        return False  # "* Hashtags you use": a short item is still an item
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) >= 4 and sum(ch.isupper() for ch in letters) >= 0.7 * len(letters):
        return True
    long_words = [w for w in words if len(w) > 3]
    return 0 < len(words) <= 6 and bool(long_words) and all(w[0].isupper() for w in long_words)
