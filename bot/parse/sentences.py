"""Sentence boundaries inside a clause, as character offsets, so excerpts stay exact substrings."""

from __future__ import annotations

import re

from .data import abbreviations

# A sentence ends at . ! ? (after any closing quotes, brackets or emphasis) followed by space and a capital,
# digit, opening quote or bracket; and at every line break.
_END = re.compile(r"([.!?…]+[\"'”’)\]*_]*)(\s+)(?=[\"'“‘(\[*_]*[A-Z0-9À-ÖØ-Þ•])|(\n+)")
_MARKER_ONLY = re.compile(r"\s*(?:\d{1,3}(?:\.\d{1,3})*|[a-z]|[ivxlc]{1,5}|§\s?\d+(?:\.\d+)*)\.$", re.I)
_SOFT_SPLIT = re.compile(r"[;:]\s+|,\s+(?=(?:and|or|but|including|provided|unless|except)\b)")


def split_sentences(text: str, max_chars: int = 600) -> list[tuple[int, int]]:
    """Offsets (start, end) of the sentences of `text`, whitespace excluded; none longer than `max_chars`.

    Over-long sentences are cut at semicolons or colons, then at commas before a conjunction, then at a
    space, so that a 5 MB paragraph still splits in linear time.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(text):
        if match.group(3):  # line break
            if _wraps(text, match.start(3), match.end(3)):
                continue
            end = match.start(3)
            nxt = match.end(3)
        else:
            end = match.end(1)
            nxt = match.end(2)
            word = _word_before(text, match.start(1))
            if word.casefold() in abbreviations() or (len(word) == 1 and word.isalpha()):
                continue
            if _MARKER_ONLY.match(text, start, end):  # "4." of "4.  **Earnings:** …" is not a sentence
                continue
        _add(spans, text, start, end, max_chars)
        start = nxt
    _add(spans, text, start, len(text), max_chars)
    return spans


def _wraps(text: str, start: int, end: int) -> bool:
    """A single line break inside a sentence (the text was wrapped): the next line goes on in lower case and
    the line before does not end a sentence or a lead-in."""
    if end - start > 1 or end >= len(text) or not text[end].islower():
        return False
    before = text[:start].rstrip()
    return bool(before) and before[-1] not in ".!?:;…"


def _word_before(text: str, position: int) -> str:
    begin = position
    while begin > 0 and (text[begin - 1].isalnum() or text[begin - 1] == "."):
        begin -= 1
    return text[begin:position].strip(".")


def _add(spans: list[tuple[int, int]], text: str, start: int, end: int, max_chars: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return
    while end - start > max_chars:
        cut = _cut_point(text, start, start + max_chars)
        spans.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        spans.append((start, end))


def _cut_point(text: str, start: int, limit: int) -> int:
    """Where to cut an over-long sentence: the last soft boundary before `limit`, else the last space."""
    floor = start + (limit - start) // 3
    best = -1
    for match in _SOFT_SPLIT.finditer(text, floor, limit):
        best = match.start() + 1  # keep the ";" or "," with the text before it
    if best > floor:
        return best
    space = text.rfind(" ", floor, limit)
    return space if space > floor else limit
