"""Splitting a document version into clauses along its own structure.

Headings (ATX `#`, setext underlines, the bold `**Heading**` + `----` style Open Terms Archive keeps, bold-only
lines, short numbered lines), then list items, numbered and lettered items ("(xi)", "3.5", "a)"), table rows
and paragraphs. Every clause keeps its character offsets, so `text[start:end] == clause.text` always holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..ingest.markdown import clean_inline
from ..types import Clause, DocumentVersion
from .data import page_chrome

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_=])(?:[ \t]*\1){2,}[ \t]*$")
_BULLET = re.compile(r"^[ \t]*[*+\-•][ \t]+")
_ORDERED = re.compile(r"^[ \t]*(\d{1,3}(?:\\?\.\d{1,3})*)(\\?[.)])[ \t]+")
# An item number written at the start of a paragraph: "(xi)", "(a)", "a)", "3.5", "12.", "§ 4".
_MARKER = re.compile(
    r"^[ \t]*(?:\*\*)?(?P<m>\((?:[ivxlcdm]{1,6}|[a-z]{1,2}|\d{1,3})\)|(?:[a-z]|[ivxlcdm]{1,6})\)|"
    r"\d{1,3}(?:\\?\.\d{1,3})+\.?|\d{1,3}\\?\.(?=[ \t])|§[ \t]?\d+(?:\.\d+)*)"
    r"(?:\*\*)?(?=[ \t]|$)",
    re.I,
)
_TABLE_ROW = re.compile(r"^[ \t]*\|")
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t:|\-]+\|?[ \t]*$")
_BOLD_LINE = re.compile(r"^[ \t]*(?:\[\]\([^)]*\)[ \t]*)?\*\*(?P<t>[^*\n]{1,160})\*\*[ \t]*:?[ \t]*$")
_NUMBERED_HEADING = re.compile(
    r"^[ \t]*(?P<n>(?:article|section|chapter|part|artikel)[ \t]+\d+[a-z]?\b|\d{1,2}(?:\\?\.\d{1,2})*\\?\.?)"
    r"[ \t]*[-–—:.]?[ \t]+\S",
    re.I,
)
_WORDS = re.compile(r"\w+")


@dataclass(slots=True)
class _Block:
    start: int
    end: int
    kind: str  # "para" | "item" | "row"


@dataclass(frozen=True, slots=True)
class _Heading:
    level: int
    text: str
    position: int


def parse_clauses(version: DocumentVersion) -> list[Clause]:
    """The clauses of one document version, in document order."""
    text = version.text
    clauses: list[Clause] = []
    stack: list[_Heading] = []
    counters: dict[tuple[int, ...], int] = {}
    title_dropped = False
    for item in _scan(text):
        if isinstance(item, _Heading):
            if not title_dropped and ((item.level == 1 and not clauses) or _is_title(item.text, version)):
                # The document's own title: every clause is under it, so it adds nothing to a section path.
                title_dropped = True
                continue
            while stack and stack[-1].level >= item.level:
                stack.pop()
            stack.append(item)
            continue
        start, end = _trim(text, item.start, item.end)
        if start >= end or not _has_words(text[start:end]):
            continue
        section = tuple(h.text for h in stack)
        place = tuple(h.position for h in stack)  # two sections may share a name; each counts its own ¶
        counters[place] = counters.get(place, 0) + 1
        marker = _MARKER.match(text[start : min(end, start + 40)])
        label = _marker_label(marker.group("m")) if marker else f"¶{counters[place]}"
        clauses.append(
            Clause(
                provenance=version.provenance,
                section=section,
                label=label,
                start=start,
                end=end,
                text=text[start:end],
            )
        )
    return clauses


def _is_title(heading: str, version: DocumentVersion) -> bool:
    folded = heading.casefold()
    title = version.provenance.title.casefold()
    return title in folded and len(folded) <= len(title) + len(version.provenance.service) + 6


def _marker_label(marker: str) -> str:
    return marker.replace("\\", "").rstrip(".") if not marker.startswith("(") else marker


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t\n":
        start += 1
    while end > start and text[end - 1] in " \t\n":
        end -= 1
    return start, end


def _has_words(block: str) -> bool:
    """A block worth citing: some words outside link targets, not a bare navigation list of links."""
    lines = [line for line in block.split("\n") if line.strip()]
    visible = clean_inline(re.sub(r"\]\([^)]*\)", "]", block))
    if page_chrome().match(visible):
        return False
    if len(_WORDS.findall(visible)) < 2:
        return False
    nav = re.compile(r"^[ \t]*(?:[*+\-]|\d+\\?[.)])?[ \t]*\[[^\]]*\]\([^)]*\)[ \t]*$")
    return not all(nav.match(line) for line in lines)


def _line_spans(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    length = len(text)
    while start < length:
        end = text.find("\n", start)
        if end == -1:
            end = length
        yield start, end
        start = end + 1


def _breaks_after(line: str) -> bool:
    """A line that ends a paragraph even without a blank line: a Markdown hard break, or a long line that
    ends a sentence (documents that put one paragraph per line, as some archived terms do)."""
    if line.endswith("  ") or line.endswith("\\"):
        return True
    stripped = line.rstrip()
    return len(stripped) > 120 and stripped.endswith((".", ":", ";", "!", "?", '"', "”", ")"))


def _scan(text: str) -> Iterator[_Block | _Heading]:
    """Headings and blocks in document order."""
    lines = list(_line_spans(text))
    blocks: list[_Block | _Heading] = []
    current: _Block | None = None
    lines_in_block = 0

    def close() -> None:
        nonlocal current
        if current is not None:
            blocks.append(_classify(text, current, lines_in_block))
            current = None

    i = 0
    while i < len(lines):
        start, end = lines[i]
        line = text[start:end]
        nxt = text[lines[i + 1][0] : lines[i + 1][1]] if i + 1 < len(lines) else ""
        if not line.strip():
            close()
        elif (atx := _ATX.match(line)) and _is_heading_text(clean_inline(atx.group(2))):
            close()
            blocks.append(_Heading(len(atx.group(1)), clean_inline(atx.group(2)), start))
        elif (
            current is None
            and nxt
            and _SETEXT.match(nxt)
            and not _BULLET.match(line)
            and not _TABLE_ROW.match(line)
        ):
            heading = clean_inline(line)
            if heading:
                blocks.append(_Heading(1 if nxt.strip()[0] == "=" else 2, heading, start))
            i += 1
        elif _RULE.match(line) or (_TABLE_ROW.match(line) and _TABLE_RULE.match(line)):
            close()
        elif _TABLE_ROW.match(line):
            close()
            blocks.append(_Block(start, end, "row"))
        else:
            is_item = bool(_BULLET.match(line) or _ORDERED.match(line) or _MARKER.match(line))
            previous = text[lines[i - 1][0] : lines[i - 1][1]] if i else ""
            if current is not None and (is_item or _breaks_after(previous)):
                close()
            if current is None:
                current = _Block(start, end, "item" if is_item else "para")
                lines_in_block = 1
            else:
                current.end = end
                lines_in_block += 1
        i += 1
    close()
    return iter(blocks)


def _is_heading_text(text: str) -> bool:
    """Some pages style whole paragraphs as headings ("### **The services hereunder are offered by …**"):
    those, and fragments starting mid-sentence, are text, not headings."""
    starts_well = text[:1].isupper() or text[:1].isdigit() or text[:1] in "§(\"“'["
    return bool(text) and len(text) <= 120 and starts_well


def _classify(text: str, block: _Block, lines_in_block: int) -> _Block | _Heading:
    """A one-line block that works as a heading becomes one: a bold-only line, or a short numbered title."""
    if lines_in_block != 1 or block.kind == "row":
        return block
    line = text[block.start : block.end]
    bold = _BOLD_LINE.match(line)
    if bold:
        heading = clean_inline(bold.group("t"))
        if heading and not heading.endswith((".", ";", ",")):
            return _Heading(4, heading, block.start)
        return block
    plain = clean_inline(line)
    if "](" in line or not plain or len(plain) > 80 or plain.endswith((".", ";", ",", ":")):
        return block
    numbered = _NUMBERED_HEADING.match(line)
    if numbered and len(plain.split()) <= 10 and not _BULLET.match(line):
        depth = numbered.group("n").replace("\\", "").rstrip(".").count(".")
        return _Heading(2 + min(depth, 2), plain, block.start)
    return block
