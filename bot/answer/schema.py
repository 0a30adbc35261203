"""Answers and hits as JSON: the stable contract evaluation scripts, the command line and the HTTP API share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..types import Answer, Citation, Hit
from .citations import text_fragment_url


def citation_json(c: Citation) -> dict[str, Any]:
    p = c.provenance
    return {
        # The contract: these names stay.
        "n": c.n,
        "service": p.service,
        "document": p.document,
        "region": p.region,
        "section": c.section_path,
        "version_date": p.version_date.isoformat(),
        "excerpt": c.excerpt,
        "url": c.url,
        # Extensions.
        "title": p.title,
        "kind": p.kind,
        "binding": p.binding,
        "date_statement": p.date_statement,
        "version_id": p.version_id,
        "text_sha256": p.text_sha256,
        "start": c.start,
        "end": c.end,
        "clause": c.clause_text,
        "clause_start": c.clause_start,
        "clause_end": c.clause_end,
        "newer_version": c.newer_version or None,
        "source_url": p.source_url,
    }


def answer_json(a: Answer) -> dict[str, Any]:
    return {
        "question": a.question,
        "answer": a.text,
        "abstained": a.abstained,
        "citations": [citation_json(c) for c in a.citations],
        "timings_ms": a.timings_ms,
        "reason": a.reason or None,
        "services": list(a.services),
        "as_of": a.as_of.isoformat() if a.as_of else None,
        "notes": list(a.notes),
        "standalone_question": a.standalone or None,
        "topic": a.topic or None,
        "stance": a.summaries[0].stance if len(a.summaries) == 1 else None,
        "summary": [
            {
                "service": s.service,
                "topic": s.topic,
                "stance": s.stance,
                "note": s.text,
                "citation": s.citation,
            }
            for s in a.summaries
        ],
        "comparison": [
            {"service": r.service, "stance": r.stance, "note": r.note, "citation": r.citation}
            for r in a.comparison
        ],
        "glossary": [{"term": term, "meaning": meaning} for term, meaning in a.glossary],
        "disclaimer": a.disclaimer,
    }


def hit_json(rank: int, h: Hit) -> dict[str, Any]:
    p = h.provenance
    return {
        "rank": rank,
        "score": round(h.score, 6),
        "service": p.service,
        "document": p.document,
        "region": p.region,
        "section": h.section_path,
        "version_date": p.version_date.isoformat(),
        "excerpt": h.text,
        "url": text_fragment_url(p.source_url, h.text),
        "similarity": round(h.similarity, 4),
        "dense_rank": h.dense_rank,
        "bm25_rank": h.bm25_rank,
        "title": p.title,
        "kind": p.kind,
        "date_statement": p.date_statement,
        "version_id": p.version_id,
        "start": h.start,
        "end": h.end,
        "chunk_id": h.chunk_id,
    }


def search_json(query: str, hits: Sequence[Hit]) -> dict[str, Any]:
    return {"query": query, "hits": [hit_json(i, h) for i, h in enumerate(hits, start=1)]}
