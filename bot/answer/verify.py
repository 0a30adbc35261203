"""Checking a generated answer against the clauses it was given: citation markers and quotations.

Pure functions on text, no model and no store, so every rule is tested with plain strings. `bot/llm.py`
reads the stored clause texts and decides what to do with the result.

The rules:
- A marker `[n]` (also `[n, m]`, `[n-m]`, `[clause n]`) must name a supplied clause; unknown numbers are
  removed. Markers are renumbered 1..m in order of first mention.
- A quotation (“…”, "…" or «…») must be verbatim, after normalising whitespace, quote marks, dashes and
  Markdown markup, in a clause cited in the same sentence. A quotation whose sentence cites no (known)
  clause is accepted when it is verbatim in one supplied clause, and that clause's marker is inserted after
  it. A quotation of the user's own question is allowed. Any other quotation is reported in `bad_quotes`,
  and the caller rejects the whole answer: a model that invents a quote is not trusted for the rest of it,
  and cutting a quote out of a sentence leaves a sentence that says something else.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from ..ingest.markdown import clean_inline

MARKER_MAX_CHARS = 80
"""The longest marker recognised; a stream holds back at most this much text while a `[` is open."""

MARKER = re.compile(
    r"(?P<space>[ \t]*)\[(?P<body>(?:clauses?\s*)?\d{1,3}(?:\s*(?:,|;|and|-|–)\s*(?:clause\s*)?\d{1,3}){0,8})\]",
    re.IGNORECASE,
)
_NUMBER_PART = re.compile(r"(\d{1,3})(?:\s*[-–]\s*(?:clause\s*)?(\d{1,3}))?", re.IGNORECASE)
QUOTE = re.compile(r"“(?P<a>[^“”\n]{1,2000})”|\"(?P<b>[^\"\n]{1,2000})\"|«\s?(?P<c>[^«»\n]{1,2000}?)\s?»")
_SENTENCE_END = re.compile(r"[.!?]+[\"”’)]*(?:[ \t]*\[[^\[\]\n]{1,38}\])*(?=\s|$)|\n")
_ELLIPSIS = re.compile(r"\s*(?:\[\s*(?:…|\.\.\.)\s*\]|…|\.\.\.)\s*")
_TRANSLATE = str.maketrans(
    {
        "“": '"',
        "”": '"',
        "„": '"',
        "«": '"',
        "»": '"',
        "‘": "'",
        "’": "'",
        "‚": "'",
        "′": "'",
        "–": "-",
        "—": "-",
        "‐": "-",
        "‑": "-",
    }
)
_THINK_OPEN, _THINK_CLOSE = "<think>", "</think>"


@dataclass(frozen=True, slots=True)
class Verified:
    """A generated answer after the checks."""

    text: str
    """The answer with markers renumbered 1..m in order of first mention and unknown numbers removed."""
    cited: tuple[int, ...]
    """Supplied clause numbers in order of first mention: `cited[i]` is now `[i + 1]`."""
    claims: tuple[str, ...]
    """For each cited clause (same order), the answer's sentences that cite it, joined."""
    unknown: tuple[int, ...] = ()
    """Numbers the model used that name no supplied clause (removed)."""
    bad_quotes: tuple[str, ...] = ()
    """Quotations that are verbatim neither in a clause their sentence cites nor in the question."""
    inserted: tuple[int, ...] = ()
    """Clauses whose marker was added after a quotation the model left uncited."""


def normalise(text: str) -> str:
    """Text as compared for quotations: Markdown markup removed, one kind of quote mark and dash, single
    spaces. Words and their order are left alone."""
    return clean_inline(text.translate(_TRANSLATE))


def is_verbatim(quote: str, source: str) -> bool:
    """Whether `quote` is in `source` word for word: an ellipsis may stand for left-out words (the parts
    must then appear in order), a quote may start with a capital where the source has a small letter (or
    the reverse), and punctuation closing the quote ("…,” she said) need not be in the source."""
    haystack = normalise(source)
    parts = [p for p in (normalise(p).rstrip(".,;:!?").strip() for p in _ELLIPSIS.split(quote)) if p]
    if not parts:
        return False
    position = 0
    for part in parts:
        found = _find(haystack, part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


def _find(haystack: str, needle: str, start: int) -> int:
    found = haystack.find(needle, start)
    if found < 0 and needle[:1].isalpha():
        found = haystack.find(needle[0].swapcase() + needle[1:], start)
    return found


def marker_numbers(body: str) -> list[int]:
    """The clause numbers in a marker's body: "1, 3" → [1, 3]; "2-4" → [2, 3, 4] (short ranges only)."""
    numbers: list[int] = []
    for m in _NUMBER_PART.finditer(body):
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else first
        numbers.extend(range(first, last + 1) if 0 <= last - first <= 10 else (first, last))
    return numbers


class Renumberer:
    """Rewrites markers left to right: known clause numbers become 1..m in order of first mention, unknown
    ones are dropped (with the space before them when none is left). The state lets a stream be rewritten
    piece by piece with the same result as the whole text."""

    def __init__(self, known: Collection[int]) -> None:
        self.known = frozenset(known)
        self.order: dict[int, int] = {}
        self.unknown: list[int] = []

    def rewrite(self, text: str) -> str:
        return MARKER.sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        new: list[int] = []
        for n in marker_numbers(match.group("body")):
            if n not in self.known:
                self.unknown.append(n)
                continue
            m = self.order.setdefault(n, len(self.order) + 1)
            if m not in new:
                new.append(m)
        if not new:
            return ""
        return match.group("space") + "".join(f"[{m}]" for m in new)


def strip_reasoning(text: str) -> str:
    """The answer without a leading <think>…</think> block (reasoning models served by Ollama emit one)."""
    stripped = text.lstrip()
    if stripped.startswith(_THINK_OPEN):
        end = stripped.find(_THINK_CLOSE)
        return "" if end < 0 else stripped[end + len(_THINK_CLOSE) :]
    return text


def verify_answer(text: str, clauses: Mapping[int, str], question: str = "") -> Verified:
    """Check `text` against `clauses` (number → the clause's stored text) and renumber its markers."""
    quotes = [
        (m.start(), m.end(), next(g for g in m.groups() if g is not None)) for m in QUOTE.finditer(text)
    ]
    masked = _mask(text, quotes)
    sentences = _sentence_spans(masked)
    bad: list[str] = []
    insertions: list[tuple[int, int]] = []  # (offset, clause number)
    for start, end, quote in quotes:
        s_start, s_end = next(((a, b) for a, b in sentences if a <= start < b), (0, len(text)))
        if question and is_verbatim(quote, question):
            continue
        cited = [
            n
            for m in MARKER.finditer(masked, s_start, s_end)
            for n in marker_numbers(m.group("body"))
            if n in clauses
        ]
        if cited:
            if not any(is_verbatim(quote, clauses[n]) for n in cited):
                bad.append(quote)
            continue
        sources = [n for n, clause in clauses.items() if is_verbatim(quote, clause)]
        if sources:
            insertions.append((end, sources[0]))
        else:
            bad.append(quote)
    for offset, n in sorted(insertions, reverse=True):
        text = f"{text[:offset]} [{n}]{text[offset:]}"
    renumber = Renumberer(clauses)
    final = renumber.rewrite(text)
    cited_in_order = tuple(sorted(renumber.order, key=renumber.order.__getitem__))
    return Verified(
        text=final,
        cited=cited_in_order,
        claims=_claims(final, len(cited_in_order)),
        unknown=tuple(dict.fromkeys(renumber.unknown)),
        bad_quotes=tuple(bad),
        inserted=tuple(n for _, n in insertions),
    )


def _mask(text: str, quotes: list[tuple[int, int, str]]) -> str:
    """The text with the inside of quotations blanked out, so full stops and brackets in a quotation
    neither end a sentence nor count as markers."""
    chars = list(text)
    for start, end, _ in quotes:
        for i in range(start + 1, end - 1):
            chars[i] = "x"
    return "".join(chars)


def _sentence_spans(masked: str) -> list[tuple[int, int]]:
    """Sentence spans; markers after a sentence's full stop ("… account. [2]") belong to that sentence."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(masked):
        if m.end() > start:
            spans.append((start, m.end()))
            start = m.end()
    if start < len(masked):
        spans.append((start, len(masked)))
    return spans


def _claims(text: str, count: int) -> tuple[str, ...]:
    """For clauses 1..count, the sentences of the (renumbered) answer that cite them."""
    quotes = [(m.start(), m.end(), "") for m in QUOTE.finditer(text)]
    claims: list[list[str]] = [[] for _ in range(count)]
    masked = _mask(text, quotes)
    for start, end in _sentence_spans(masked):
        sentence = text[start:end]
        for m in MARKER.finditer(masked, start, end):
            for n in marker_numbers(m.group("body")):
                if 1 <= n <= count and sentence not in claims[n - 1]:
                    claims[n - 1].append(sentence)
    return tuple(" ".join(" ".join(parts).split()) for parts in claims)


class StreamRewriter:
    """Renumbers markers while an answer streams: each piece is passed on at once, except a possible
    unfinished marker (an open `[` in the last MARKER_MAX_CHARS characters) and trailing whitespace, which
    wait for the next piece. A leading <think>…</think> block is held back and dropped.

    The pieces passed on, joined, equal `verify_answer(strip_reasoning(raw).strip(), …).text` whenever
    that check inserts no marker, so an interface only has to replace what it showed when the final text
    differs."""

    def __init__(self, known: Collection[int]) -> None:
        self._renumber = Renumberer(known)
        self._buffer = ""
        self._started = False
        self.raw: list[str] = []

    def feed(self, piece: str) -> str:
        self.raw.append(piece)
        self._buffer += piece
        if not self._started and not self._start():
            return ""
        cut = len(self._buffer)
        open_at = self._buffer.rfind("[")
        if open_at >= 0 and "]" not in self._buffer[open_at:] and cut - open_at <= MARKER_MAX_CHARS:
            cut = open_at
        cut = len(self._buffer[:cut].rstrip())
        ready, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return self._renumber.rewrite(ready)

    def close(self) -> str:
        """The rest, at the end of the stream."""
        if not self._started and not self._start(final=True):
            return ""
        ready, self._buffer = self._buffer.rstrip(), ""
        return self._renumber.rewrite(ready)

    def _start(self, final: bool = False) -> bool:
        """Skip leading whitespace and a reasoning block; False while they may still be arriving."""
        stripped = self._buffer.lstrip()
        if stripped.startswith(_THINK_OPEN):
            end = stripped.find(_THINK_CLOSE)
            if end < 0:
                if final:
                    self._buffer = ""
                return False
            stripped = stripped[end + len(_THINK_CLOSE) :].lstrip()
        elif not final and (not stripped or _THINK_OPEN.startswith(stripped)):
            return False
        if not stripped and not final:
            self._buffer = ""
            return False
        self._buffer = stripped
        self._started = True
        return True
