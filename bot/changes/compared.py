"""What is compared when looking for changes: which versions of a document follow each other, which of their
clauses can matter, and the words of each clause (punctuation, case, whitespace, Markdown link targets, list
numbering and "(i)"-style enumerators left out).

Date lines ("Last updated: …"), tables of contents, headings on their own and captured-page chrome are not
compared. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ..ingest.markdown import clean_inline
from ..parse.citable import is_date_line, is_heading_alone, is_table_of_contents
from ..parse.data import page_chrome
from ..types import Clause, Provenance, short_hash
from .types import VersionRef

_WORD = re.compile(r"[^\W_]+")
# What is not compared: link targets, HTML tags, and enumerators standing alone ("(i)", "(b)", "(2)").
_NOT_WORDS = re.compile(
    r"\]\([^)]*\)|<[^<>\n]{1,200}>|(?<!\S)\((?:[ivxlcdm]{1,6}|[a-z]|\d{1,2})\)(?!\S)", re.IGNORECASE
)
# A clause's own number or bullet at its start ("3.5", "(a)", "2.", "*"): renumbering is not a change.
_LEAD_MARKER = re.compile(
    r"^[ \t]*(?:[*+\-•][ \t]+|(?:\*\*)?(?:\((?:[ivxlcdm]{1,6}|[a-z]{1,2}|\d{1,3})\)|(?:[a-z]|[ivxlcdm]{1,6})\)"
    r"|\d{1,3}(?:\\?\.\d{1,3})*\\?[.)]?|§[ \t]?\d+(?:\.\d+)*)(?:\*\*)?(?=[ \t]))",
    re.IGNORECASE,
)
PARTIAL_SHARE = 0.5
"""A version under this share of the size of a full copy beside it is a partial copy (passages quoted
elsewhere), not a version of its own: comparing it would report every other clause as added."""


@dataclass(frozen=True, slots=True)
class VersionClauses:
    """One stored version of a document and its clauses (as `parse_clauses` gives them)."""

    provenance: Provenance
    clauses: tuple[Clause, ...]

    @property
    def size(self) -> int:
        return sum(len(c.text) for c in self.clauses)


class Token(NamedTuple):
    """One word of a clause (a tuple: documents have tens of thousands)."""

    word: str
    start: int
    end: int
    """Offsets in the stored version text."""
    clause: int
    """Index of the clause in the version's comparable clauses."""
    n: int
    """Position of the word in its clause."""


DATE_LINE_CHARS = 300
"""Longer clauses are not date lines (and looking for dates in them is slow)."""


def comparable(clause: Clause) -> bool:
    """A clause whose change can matter: not a date line, a table of contents, a heading on its own or the
    chrome of a captured page (bot/parse/citable.py's tests, the parser's page chrome)."""
    raw = clause.text
    lines = [line for line in raw.splitlines() if line.strip()]
    if not lines or is_table_of_contents(lines) or is_heading_alone(raw):
        return False
    if len(raw) <= DATE_LINE_CHARS and (is_date_line(raw) or _title_line(raw)):
        return False
    visible = clean_inline(re.sub(r"\]\([^)]*\)", "]", raw))
    return not page_chrome().match(visible)


_TITLE_WORDS = re.compile(r"[^\W\d_]{2,}")
_SENTENCE_END = re.compile(r"[.!?;:…)\]”\"']\s*$")


def _title_line(raw: str) -> bool:
    """A line of up to fourteen words in title case (or all in bold) with no sentence in it ("How You Can't Use
    the Service", "5. **Content Deletion and Deactivating Your Account**"): a heading the capture kept as a
    paragraph, which another version may turn back into a heading."""
    if "\n" in raw.strip():
        return False
    marker = _LEAD_MARKER.match(raw)
    line = raw[marker.end() :].strip() if marker else raw.strip()
    text = clean_inline(line)
    words = _TITLE_WORDS.findall(text)
    if not words or len(words) > 14 or _SENTENCE_END.search(text):
        return False
    if line.startswith("**") and line.rstrip(":").endswith("**") and line.count("**") == 2:
        return True
    long_words = [w for w in words if len(w) > 3]
    return bool(long_words) and all(w[0].isupper() for w in long_words)


def change_sequence(versions: Sequence[VersionClauses]) -> list[VersionClauses]:
    """The versions of one document to compare, oldest first: by stated date, then by when they were recorded.

    A partial copy — under half the size of a full copy of the same date, or an unrecorded copy (quoted
    elsewhere) under half the size of the recording after it — is left out.
    """
    by_date: dict[object, int] = {}
    for v in versions:
        by_date[v.provenance.version_date] = max(by_date.get(v.provenance.version_date, 0), v.size)
    kept = [v for v in versions if v.size >= PARTIAL_SHARE * by_date[v.provenance.version_date]]
    kept.sort(
        key=lambda v: (
            v.provenance.version_date,
            v.provenance.recorded or v.provenance.version_date,
            v.size,
            v.provenance.version_id,
        )
    )
    result = []
    for n, version in enumerate(kept):
        following = kept[n + 1] if n + 1 < len(kept) else None
        if (
            version.provenance.recorded is None
            and following is not None
            and following.provenance.recorded is not None
            and version.size < PARTIAL_SHARE * following.size
        ):
            continue
        result.append(version)
    return result


def clause_tokens(clause: Clause, index: int) -> list[Token]:
    text = _NOT_WORDS.sub(lambda m: " " * len(m.group()), clause.text)
    marker = _LEAD_MARKER.match(text)
    begin = marker.end() if marker else 0
    return [
        Token(m.group().casefold(), clause.start + m.start(), clause.start + m.end(), index, n)
        for n, m in enumerate(_WORD.finditer(text, begin))
    ]


def lineage_id(clause: Clause) -> str:
    """The id a clause gets in the first version it appears in: the same as bot.ingest.lineage.lineage_ids."""
    p = clause.provenance
    return "c" + short_hash(p.doc_key, p.version_id, str(clause.start), length=10)


def change_id(doc_key: str, before: str, after: str, lineage: str) -> str:
    """Stable across re-indexes: the same two versions and the same clause always give the same id."""
    return short_hash(doc_key, before, after, lineage, length=24)


@dataclass(frozen=True, slots=True)
class Side:
    """One version as it is compared: its comparable clauses, their words, and how changes name it."""

    version: VersionClauses
    clauses: list[Clause]
    tokens: list[list[Token]]
    ref: VersionRef


def side(version: VersionClauses) -> Side:
    clauses: list[Clause] = []
    tokens: list[list[Token]] = []
    for clause in version.clauses:
        if comparable(clause):
            words = clause_tokens(clause, len(clauses))
            if words:
                clauses.append(clause)
                tokens.append(words)
    p = version.provenance
    ref = VersionRef(p.version_id, p.version_date, p.date_label, p.text_sha256, p.source_url, p.recorded)
    return Side(version, clauses, tokens, ref)
