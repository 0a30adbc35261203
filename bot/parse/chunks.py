"""Cutting clauses into the chunks that are embedded and searched: whole sentences, one clause each."""

from __future__ import annotations

from ..ingest.markdown import clean_inline
from ..types import Chunk, Clause
from .citable import is_citable
from .sentences import split_sentences

TARGET_CHARS = 420
MAX_SENTENCE_CHARS = 1000
"""A single sentence longer than this is cut at a semicolon or comma (the model reads ~1,000 characters)."""
"""Chunks grow sentence by sentence up to about this size: small enough to quote, big enough for context."""


def make_chunks(clause: Clause, target: int = TARGET_CHARS) -> list[Chunk]:
    """Windows of consecutive sentences of one clause; a chunk never crosses a clause or a section. A clause
    that cannot be quoted alone (a heading, a date line, a table of contents) gives none."""
    if not is_citable(clause.text):
        return []
    spans = split_sentences(clause.text, max_chars=MAX_SENTENCE_CHARS)
    chunks: list[Chunk] = []
    group_start: int | None = None
    group_end = 0
    for start, end in spans:
        if group_start is not None and end - group_start > target:
            chunks.append(_chunk(clause, group_start, group_end))
            group_start = None
        if group_start is None:
            group_start = start
        group_end = end
    if group_start is not None:
        chunks.append(_chunk(clause, group_start, group_end))
    return chunks


def embed_text(clause: Clause, text: str) -> str:
    """What the retrievers see: the document title and headings (they count for ranking), then the words.

    The platform's name is left out: questions are filtered by platform, and leaving it out lets identical
    text in two platforms' documents share one embedding.
    """
    heading = " › ".join((clause.provenance.title, *clause.section))
    return f"{heading}: {clean_inline(text)}"


def _chunk(clause: Clause, start: int, end: int) -> Chunk:
    text = clause.text[start:end]
    return Chunk(
        clause=clause,
        start=clause.start + start,
        end=clause.start + end,
        text=text,
        embed_text=embed_text(clause, text),
    )
