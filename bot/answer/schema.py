"""Answers and hits as JSON: the stable contract that evaluation scripts, the command line and the HTTP API
share, defined once as pydantic models. The API uses the models as its response models (and so its OpenAPI
spec); `answer_json` / `search_json` are what `policybot ask --json` / `search --json` print.

Keys are never renamed or removed; new keys may be added (see the README's JSON contract).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..ingest.markdown import clean_inline
from ..types import Answer, Citation, Hit
from .citations import text_fragment_url


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class CitationOut(_Out):
    """One verified excerpt: exactly `stored_text[start:end]` of the version it names."""

    n: int = Field(description="The number the answer text cites it by, [n].")
    service: str
    document: str = Field(description="The document type as Open Terms Archive names it.")
    region: str
    section: str = Field(description='Where in the document: "Grant of license › ¶4".')
    version_date: str = Field(description="YYYY-MM-DD: the date the version states for itself.")
    excerpt: str = Field(description="The verbatim excerpt.")
    url: str = Field(
        description="The source, with a text fragment pointing at the excerpt ('' when unknown)."
    )
    title: str = Field(description="The document's own title.")
    kind: str = Field(description="terms | guidelines | policy | monetisation | statement | help | note.")
    binding: bool = Field(description="Whether the document is the platform's binding terms.")
    date_statement: str
    version_id: str
    text_sha256: str
    start: int
    end: int
    clause: str = Field(description="The whole clause the excerpt sits in.")
    clause_start: int
    clause_end: int
    newer_version: str | None = Field(description="A newer version's date label, when this one is older.")
    source_url: str
    text: str = Field(
        description="The excerpt as a person reads it (Markdown removed); `excerpt` is the exact span."
    )
    language: str = Field(description='The language the excerpt is written in ("en", "fr").')

    @classmethod
    def of(cls, c: Citation) -> CitationOut:
        p = c.provenance
        return cls(
            n=c.n,
            service=p.service,
            document=p.document,
            region=p.region,
            section=c.section_path,
            version_date=p.version_date.isoformat(),
            excerpt=c.excerpt,
            url=c.url,
            title=p.title,
            kind=p.kind,
            binding=p.binding,
            date_statement=p.date_statement,
            version_id=p.version_id,
            text_sha256=p.text_sha256,
            start=c.start,
            end=c.end,
            clause=c.clause_text,
            clause_start=c.clause_start,
            clause_end=c.clause_end,
            newer_version=c.newer_version or None,
            source_url=p.source_url,
            text=clean_inline(c.excerpt),
            language=p.language,
        )


class SummaryOut(_Out):
    """policybot's own note on a platform's position, shown before the platform's words."""

    service: str
    topic: str
    stance: str
    note: str
    citation: int | None = Field(description="The `n` of the citation the note rests on.")


class ComparisonRowOut(_Out):
    service: str
    stance: str | None
    note: str
    citation: int | None


class GlossaryOut(_Out):
    term: str
    meaning: str


class AnswerOut(_Out):
    """Exactly what `policybot ask --json` prints and `/api/ask` returns."""

    question: str
    answer: str
    abstained: bool
    citations: list[CitationOut]
    timings_ms: dict[str, float]
    reason: str | None = Field(description="Why the bot abstained, when it did.")
    services: list[str]
    as_of: str | None
    notes: list[str]
    standalone_question: str | None
    topic: str | None
    stance: str | None
    summary: list[SummaryOut]
    comparison: list[ComparisonRowOut]
    glossary: list[GlossaryOut]
    disclaimer: str

    @classmethod
    def of(cls, a: Answer) -> AnswerOut:
        return cls(
            question=a.question,
            answer=a.text,
            abstained=a.abstained,
            citations=[CitationOut.of(c) for c in a.citations],
            timings_ms=a.timings_ms,
            reason=a.reason or None,
            services=list(a.services),
            as_of=a.as_of.isoformat() if a.as_of else None,
            notes=list(a.notes),
            standalone_question=a.standalone or None,
            topic=a.topic or None,
            stance=a.summaries[0].stance if len(a.summaries) == 1 else None,
            summary=[
                SummaryOut(
                    service=s.service, topic=s.topic, stance=s.stance, note=s.text, citation=s.citation
                )
                for s in a.summaries
            ],
            comparison=[
                ComparisonRowOut(service=r.service, stance=r.stance, note=r.note, citation=r.citation)
                for r in a.comparison
            ],
            glossary=[GlossaryOut(term=term, meaning=meaning) for term, meaning in a.glossary],
            disclaimer=a.disclaimer,
        )


class HitOut(_Out):
    rank: int
    score: float
    service: str
    document: str
    region: str
    section: str
    version_date: str
    excerpt: str
    url: str
    similarity: float
    dense_rank: int | None
    bm25_rank: int | None
    title: str
    kind: str
    date_statement: str
    version_id: str
    start: int
    end: int
    chunk_id: str

    @classmethod
    def of(cls, rank: int, h: Hit) -> HitOut:
        p = h.provenance
        return cls(
            rank=rank,
            score=round(h.score, 6),
            service=p.service,
            document=p.document,
            region=p.region,
            section=h.section_path,
            version_date=p.version_date.isoformat(),
            excerpt=h.text,
            url=text_fragment_url(p.source_url, h.text),
            similarity=round(h.similarity, 4),
            dense_rank=h.dense_rank,
            bm25_rank=h.bm25_rank,
            title=p.title,
            kind=p.kind,
            date_statement=p.date_statement,
            version_id=p.version_id,
            start=h.start,
            end=h.end,
            chunk_id=h.chunk_id,
        )


class SearchOut(_Out):
    """Exactly what `policybot search --json` prints and `/api/search` returns."""

    query: str
    hits: list[HitOut]


def answer_json(a: Answer) -> dict[str, Any]:
    return AnswerOut.of(a).model_dump(mode="json")


def citation_json(c: Citation) -> dict[str, Any]:
    return CitationOut.of(c).model_dump(mode="json")


def search_json(query: str, hits: Sequence[Hit]) -> dict[str, Any]:
    return SearchOut(query=query, hits=[HitOut.of(i, h) for i, h in enumerate(hits, start=1)]).model_dump(
        mode="json"
    )
