"""One side of a change as it is quoted: the clause in its version, the sentences that hold the changed words
(each exactly a span of the stored text) and the changed words themselves."""

from __future__ import annotations

from collections.abc import Sequence

from ..answer.citations import text_fragment_url
from ..ingest.markdown import clean_inline
from ..parse.sentences import split_sentences
from ..types import Clause
from .compared import Side, Token
from .types import Excerpt, Wording


def side_wording(
    side: Side, clause_index: int | None, marks: Sequence[Token], context: Sequence[Token]
) -> Wording | None:
    """The clause on one side, its changed words marked, quoted by the sentences that hold them."""
    if clause_index is None:
        return None
    clause = side.clauses[clause_index]
    marked = sorted((t for t in marks if t.clause == clause_index), key=lambda t: t.start)
    touched = [t.start for t in (*marked, *context) if t.clause == clause_index]
    return Wording(
        version=side.ref,
        section=clause.section,
        label=clause.label,
        clause_start=clause.start,
        clause_end=clause.end,
        clause_text=clause.text,
        excerpts=_excerpts(clause, touched, side.ref.source_url),
        marks=tuple(_merge(marked)),
    )


def _merge(tokens: Sequence[Token]) -> list[tuple[int, int]]:
    """Offsets of runs of consecutive changed words (what is between them is not a word)."""
    spans: list[tuple[int, int]] = []
    previous: Token | None = None
    for token in tokens:
        if previous is not None and token.n == previous.n + 1:
            spans[-1] = (spans[-1][0], token.end)
        else:
            spans.append((token.start, token.end))
        previous = token
    return spans


def _excerpts(clause: Clause, positions: Sequence[int], source_url: str) -> tuple[Excerpt, ...]:
    """The sentences of `clause` that hold any of `positions` (offsets in the stored text), adjacent ones
    joined; each exactly `stored_text[start:end]`."""
    sentences = split_sentences(clause.text) or [(0, len(clause.text))]
    chosen = sorted({n for n, (s, e) in enumerate(sentences) for p in positions if s <= p - clause.start < e})
    groups: list[list[int]] = []
    for n in chosen:
        if groups and n == groups[-1][-1] + 1:
            groups[-1].append(n)
        else:
            groups.append([n])
    excerpts = []
    for group in groups:
        start, end = sentences[group[0]][0], sentences[group[-1]][1]
        text = clause.text[start:end]
        excerpts.append(
            Excerpt(clause.start + start, clause.start + end, text, text_fragment_url(source_url, text))
        )
    return tuple(excerpts)


def marked_sentences(wording: Wording | None) -> list[str]:
    """The excerpts of a side that hold changed words, as a reader sees them (for topic tagging)."""
    if wording is None:
        return []
    return [
        clean_inline(e.text)
        for e in wording.excerpts
        if any(e.start <= s < e.end or s <= e.start < t for s, t in wording.marks)
    ]
