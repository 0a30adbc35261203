"""Citations: choosing the sentences of a chunk that answer, checking them verbatim against the stored
version, and linking to the exact place in the source with a text fragment."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from urllib.parse import quote

from ..errors import UnverifiedExcerpt
from ..ingest.markdown import clean_inline
from ..parse.sentences import split_sentences
from ..retrieve.lexical import tokenize
from ..types import Citation, Hit

TextLookup = Callable[[str], "str | None"]
"""Returns the stored version text for a SHA-256, or None."""


def select_excerpt(
    text: str, query_stems: Sequence[str], max_chars: int, language: str = "en"
) -> tuple[int, int]:
    """Offsets, within `text`, of the sentences that answer: from the first to the last sentence that shares
    words with the question, kept under `max_chars`; the whole text when no sentence shares a word."""
    # Whole sentences only: a chunk holds at most one over-long sentence, and quoting half of one misleads.
    spans = split_sentences(text, max_chars=len(text) + 1)
    if not spans:
        return 0, len(text)
    if len(spans) == 1:
        return spans[0]
    wanted = set(query_stems)
    scores = [len(wanted.intersection(tokenize(text[s:e], language))) for s, e in spans]
    best = max(range(len(spans)), key=lambda i: (scores[i], -i))
    if scores[best] == 0:
        first, last = 0, 0
        while last + 1 < len(spans) and spans[last + 1][1] - spans[first][0] <= max_chars:
            last += 1
        return spans[first][0], spans[last][1]
    first = last = best
    # Grow over neighbours that answer nearly as well, within the size limit.
    enough = max(1, (scores[best] + 1) // 2)
    while first > 0 and scores[first - 1] >= enough and spans[last][1] - spans[first - 1][0] <= max_chars:
        first -= 1
    while (
        last + 1 < len(spans)
        and scores[last + 1] >= enough
        and spans[last + 1][1] - spans[first][0] <= max_chars
    ):
        last += 1
    # A very short sentence rarely stands alone ("This is not the case."): add the one after it.
    short = spans[last][1] - spans[first][0] < 120
    if short and last + 1 < len(spans) and spans[last + 1][1] - spans[first][0] <= max_chars:
        last += 1
    return spans[first][0], spans[last][1]


def verify_excerpt(lookup: TextLookup, text_sha256: str, start: int, end: int, excerpt: str) -> None:
    """Raise UnverifiedExcerpt unless `excerpt` is exactly the stored version's text at [start, end)."""
    stored = lookup(text_sha256)
    if stored is None:
        raise UnverifiedExcerpt(
            f"stored version {text_sha256[:12]}… is missing or altered; re-run `policybot index`"
        )
    if not excerpt or start < 0 or end > len(stored) or stored[start:end] != excerpt:
        raise UnverifiedExcerpt(
            f"excerpt {excerpt[:40]!r}… is not verbatim at [{start}:{end}] of version {text_sha256[:12]}…"
        )


_FRAGMENT_UNSAFE = re.compile(r"[-,&]")


def _fragment_part(words: Sequence[str]) -> str:
    encoded = quote(" ".join(words), safe="")
    return _FRAGMENT_UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", encoded)


def text_fragment_url(url: str, excerpt: str, edge_words: int = 5) -> str:
    """`url#:~:text=start,end`, so a browser scrolls to and highlights the excerpt on the live page."""
    if not url:
        return ""
    words = clean_inline(excerpt).split()
    if not words:
        return url
    base = url.split("#", 1)[0]
    if len(words) <= edge_words * 2:
        return f"{base}#:~:text={_fragment_part(words)}"
    return f"{base}#:~:text={_fragment_part(words[:edge_words])},{_fragment_part(words[-edge_words:])}"


def make_citation(
    n: int,
    hit: Hit,
    query_stems: Sequence[str],
    lookup: TextLookup,
    *,
    max_chars: int,
    newer_version: str = "",
) -> Citation:
    """The citation for a hit: trimmed to the sentences that answer, verified verbatim, linked."""
    rel_start, rel_end = select_excerpt(hit.text, query_stems, max_chars, hit.provenance.language)
    start, end = hit.start + rel_start, hit.start + rel_end
    excerpt = hit.text[rel_start:rel_end]
    verify_excerpt(lookup, hit.provenance.text_sha256, start, end, excerpt)
    stored = lookup(hit.provenance.text_sha256) or ""
    return Citation(
        n=n,
        provenance=hit.provenance,
        section=hit.section,
        label=hit.label,
        start=start,
        end=end,
        excerpt=excerpt,
        url=text_fragment_url(hit.provenance.source_url, excerpt),
        clause_start=hit.clause_start,
        clause_end=hit.clause_end,
        clause_text=stored[hit.clause_start : hit.clause_end],
        newer_version=newer_version,
    )
