"""Excerpt hygiene: whether a quoted excerpt is a citable clause or a heading, a "Last updated" line, a table
of contents or a scrap of a few words, and whether it starts mid-sentence.

Written from the Markdown as stored, independently of the bot's own parsing (nothing from bot.parse), so
that a fault in the parser is not also a blind spot of the evaluation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

FAULTS = ("heading", "metadata", "toc", "short")
"""What makes an excerpt not a citable clause; `mid_sentence` is counted apart (see `excerpt_faults`)."""
MIN_WORDS = 4
"""An excerpt of fewer words than this, Markdown stripped, says too little to be a clause."""

# Any indentation: some stored pages are indented as a whole, their headings too.
_ATX = re.compile(r"^\s*#{1,6}(?:\s|$)")
_UNDERLINE = re.compile(r"^\s*(?:=+|-{2,})\s*$")
_BOLD = re.compile(r"(\*\*|__)(?:(?!\1).)+?\1")
_WORD = re.compile(r"[^\W_]")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|"
    "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th|er)?"
_DATE = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}"  # 2024-05-21
    r"|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}"  # 21/05/2024, 05.21.24
    rf"|(?:{_MONTHS})\.?\s+(?:{_DAY},?\s+)?\d{{4}}"  # May 21, 2024 · May 2024
    rf"|{_DAY}\s+(?:{_MONTHS})\.?,?\s+\d{{4}})"  # 21 May 2024 · 1er mars 2024
)
_LEAD = (
    r"(?:last\s+(?:updated|amended|modified|revised)|updated|effective(?:\s+date)?(?:\s+as\s+of)?|"
    r"version(?:\s+date)?|date|"
    r"derni[èe]re\s+mise\s+[àa]\s+jour|mis(?:e)?\s+[àa]\s+jour|(?:date\s+d['’]entr[ée]e\s+)?en\s+vigueur)"
)
_METADATA = re.compile(
    rf"^{_LEAD}(?:\s+(?:on|le|du|:))?[\s:,\-–—]*{_DATE}\s*(?:\([^)]*\))?[\s.;,)\]]*$", re.IGNORECASE
)
_SENTENCE_END = ".!?…"
_CLOSERS = "\"'”’»)]"


def strip_markdown(text: str) -> str:
    """The words a reader sees: links and images as their text, without heading marks, list markers,
    emphasis, code marks, quote marks of block quotes or table pipes; whitespace runs as one space."""
    text = _LINK.sub(r"\1", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"^ {0,3}#{1,6}\s*", "", text, flags=re.MULTILINE)
    text = re.sub(r"^\s*>\s?", "", text, flags=re.MULTILINE)
    text = re.sub(r"^\s*(?:[-*+•]|\d+[.)])\s+", "", text, flags=re.MULTILINE)
    text = text.replace("**", "").replace("__", "")
    text = re.sub(r"(?<!\w)[*_`]+|[*_`]+(?!\w)", "", text)
    text = text.replace("|", " ")
    return " ".join(text.split())


def word_count(text: str) -> int:
    """Words of `text` once its Markdown is stripped: runs of letters or digits."""
    return len(re.findall(r"[^\W_]+(?:['’\-.][^\W_]+)*", strip_markdown(text)))


def is_heading_line(line: str, following: str = "") -> bool:
    """A Markdown heading: `# Title`, a line underlined by `===` or `---` (`following` is the next line), or
    a line that is wholly bold (`**Title**`)."""
    stripped = line.strip()
    if not stripped or _UNDERLINE.match(line):
        return False
    wholly_bold = bool(_BOLD.search(stripped)) and not _WORD.search(_BOLD.sub("", stripped))
    return bool(_ATX.match(line) or _UNDERLINE.match(following) or wholly_bold)


def is_metadata_line(line: str) -> bool:
    """ "Last updated: May 5, 2024", "Effective date: 2024-05-05", "Version: 21 May 2024", "Date : 1er mars
    2024"…: the whole line is a lead word and a date."""
    return bool(_METADATA.match(strip_markdown(line)))


def is_toc_line(line: str) -> bool:
    """A table-of-contents line: nothing but links, or links to anchors of the page (`](#…)`) with at most a
    few words beside them (a page number, "see"). A sentence that refers to another section through an
    anchor link is not one: some stored pages hold whole sections on one line, cross-references included."""
    if not _LINK.search(line):
        return False
    rest = _LINK.sub(" ", line)
    return not _WORD.search(rest) or ("](#" in line and word_count(rest) < MIN_WORDS)


def stored_lines(stored: str, start: int, end: int) -> tuple[list[str], str]:
    """The whole lines of `stored` the excerpt at [start, end) lies on, and the line after them."""
    first = stored.rfind("\n", 0, start) + 1
    last = stored.find("\n", max(start, end - 1))
    if last < 0:
        return stored[first:].split("\n"), ""
    after = stored.find("\n", last + 1)
    return stored[first:last].split("\n"), stored[last + 1 : after if after >= 0 else len(stored)]


def _line_faults(lines: Sequence[str], following: str) -> set[str]:
    """The faults of an excerpt's lines when none of them is text: each heading, metadata or table-of-
    contents line found; nothing as soon as one line is ordinary text."""
    faults: set[str] = set()
    for i, line in enumerate(lines):
        after = lines[i + 1] if i + 1 < len(lines) else following
        if not line.strip() or (i > 0 and _UNDERLINE.match(line)):
            continue
        if is_heading_line(line, after):
            faults.add("heading")
        elif is_metadata_line(line):
            faults.add("metadata")
        elif is_toc_line(line):
            faults.add("toc")
        else:
            return set()
    return faults


def begins_mid_sentence(excerpt: str, stored: str | None, start: int | None) -> bool:
    """Whether the excerpt starts inside a sentence: its first letter is lower-case, and the character before
    it in the stored text (spaces and emphasis marks skipped) is neither a sentence end nor a line break.
    Unknown (False) without the stored text."""
    lead = len(excerpt) - len(excerpt.lstrip())
    body = excerpt[lead:]
    first = body.lstrip("*_")
    if not first or not first[0].islower() or stored is None or start is None:
        return False
    i = start + lead + (len(body) - len(first)) - 1
    while i >= 0 and stored[i] in " \t\u00a0*_":
        i -= 1
    if i < 0 or stored[i] in "\r\n":
        return False
    while i >= 0 and stored[i] in _CLOSERS:
        i -= 1
    return i >= 0 and stored[i] not in _SENTENCE_END


def excerpt_faults(excerpt: str, stored: str | None = None, start: int | None = None) -> frozenset[str]:
    """What is wrong with a quoted excerpt, from FAULTS plus `mid_sentence`; empty for a citable clause.

    Headings, metadata and table-of-contents lines are judged on the excerpt's whole stored lines (an
    excerpt may be a heading's text without its `#`), the word count on the excerpt itself. Without the
    stored text (or with offsets that do not hold the excerpt), the excerpt's own lines are judged.
    """
    if stored is not None and start is not None and stored[start : start + len(excerpt)] == excerpt:
        lines, following = stored_lines(stored, start, start + len(excerpt))
    else:
        lines, following, stored = excerpt.split("\n"), "", None
    faults = _line_faults(lines, following)
    if word_count(excerpt) < MIN_WORDS:
        faults.add("short")
    if begins_mid_sentence(excerpt, stored, start):
        faults.add("mid_sentence")
    return frozenset(faults)


def not_citable(faults: frozenset[str]) -> bool:
    """Whether the faults make an excerpt not a citable clause (starting mid-sentence alone does not)."""
    return any(f in faults for f in FAULTS)
