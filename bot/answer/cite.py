"""Stage 5, cite: each planned clause trimmed to the sentences that answer and checked, in code, to be
verbatim at its offsets in its stored version. What fails the check is dropped (and logged), never shown."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import UnverifiedExcerpt
from ..retrieve.language import LANGUAGES
from ..retrieve.lexical import expand_query
from ..retrieve.searcher import Searcher
from ..settings import Settings
from ..types import Citation, Hit, Question
from .citations import make_citation
from .plan import Plan

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Cited:
    citations: tuple[Citation, ...]
    numbers: tuple[int | None, ...] = ()
    """For a comparison: the `n` of each row's citation, or None where its clause could not be cited."""
    quoted: tuple[Hit, ...] = ()
    """The hits behind the citations (a comparison's rows that were cited)."""


def cite(plan: Plan, q: Question, searcher: Searcher, settings: Settings) -> Cited:
    if plan.kind == "comparison":
        assert plan.topic is not None
        return _cite_rows(plan, searcher, settings)
    stems = list(dict.fromkeys(expand_query(q.topic, q.language, LANGUAGES)))
    citations: list[Citation] = []
    quoted: list[Hit] = []
    for hit in plan.hits:
        citation = cite_one(hit, len(citations) + 1, stems, searcher, settings)
        if citation is not None:
            citations.append(citation)
            quoted.append(hit)
    return Cited(tuple(citations), quoted=tuple(quoted))


def _cite_rows(plan: Plan, searcher: Searcher, settings: Settings) -> Cited:
    assert plan.topic is not None
    stems = list(dict.fromkeys(expand_query(plan.topic.question, "en", LANGUAGES)))
    citations: list[Citation] = []
    numbers: list[int | None] = []
    quoted: list[Hit] = []
    for row in plan.rows:
        n = None
        if row.hit is not None:
            citation = cite_one(row.hit, len(citations) + 1, stems, searcher, settings)
            if citation is not None:
                citations.append(citation)
                quoted.append(row.hit)
                n = citation.n
        numbers.append(n)
    return Cited(tuple(citations), tuple(numbers), tuple(quoted))


def cite_one(
    hit: Hit, n: int, stems: Sequence[str], searcher: Searcher, settings: Settings
) -> Citation | None:
    """The verified citation of a hit, or None (logged) when its excerpt is not verbatim in the stored text."""
    doc = searcher.document_of(hit.provenance.version_id)
    latest = doc.latest.provenance
    newer = latest.date_label if latest.version_id != hit.provenance.version_id else ""
    try:
        return make_citation(
            n, hit, stems, searcher.text, max_chars=settings.max_excerpt_chars, newer_version=newer
        )
    except UnverifiedExcerpt as exc:
        log.warning("dropped a citation: %s", exc)
        return None
