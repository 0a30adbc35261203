"""Answers and hits as JSON (the stable contract evaluation scripts read) and as text for a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .citations import text_fragment_url
from .types import Answer, Citation, Hit, IndexReport


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


def report_json(r: IndexReport) -> dict[str, Any]:
    return {
        "documents": r.documents,
        "versions": r.versions,
        "clauses": r.clauses,
        "chunks": r.chunks,
        "embedded": r.embedded,
        "seconds": round(r.seconds, 2),
        "generation": r.generation,
        "unchanged": r.unchanged,
        "problems": [{"path": p.path, "line": p.line, "reason": p.reason} for p in r.problems],
    }


def answer_text(a: Answer) -> str:
    lines = [a.text]
    if a.citations and not all(
        f"[{c.n}]" in a.text and " ".join(c.excerpt.split())[:40] in a.text for c in a.citations
    ):
        # A composed (generative) answer cites [n] without quoting: show each excerpt under the answer.
        lines.append("")
        lines.extend(f"[{c.n}] “{' '.join(c.excerpt.split())}”" for c in a.citations)
    if a.notes:
        lines.append("")
        lines.extend(f"Note: {note}" for note in a.notes)
    if a.glossary:
        lines.append("")
        lines.extend(f"“{term}”: {meaning}" for term, meaning in a.glossary)
    if a.citations:
        lines.append("")
        lines.append("Sources:")
        for c in a.citations:
            p = c.provenance
            kind = "" if p.kind == "terms" else f" [{p.kind}, not binding]"
            region = "" if p.region in ("global", "") else f" · {p.region}"
            lines.append(f"[{c.n}] {p.service} · {p.title}{region} · {c.section_path} · {p.date_label}{kind}")
            if c.url:
                lines.append(f"    {c.url}")
    if a.disclaimer:
        lines.append("")
        lines.append(a.disclaimer)
    return "\n".join(lines)


def hits_text(hits: Sequence[Hit]) -> str:
    if not hits:
        return "No matching clauses."
    lines = []
    for rank, h in enumerate(hits, start=1):
        p = h.provenance
        lines.append(
            f"{rank}. {p.service} · {p.title} · {h.section_path} · {p.date_label}  (score {h.score:.4f})"
        )
        lines.append("   " + " ".join(h.text.split()))
    return "\n".join(lines)


def report_text(r: IndexReport) -> str:
    state = "unchanged, nothing to do" if r.unchanged else f"generation {r.generation}"
    text = (
        f"Indexed {r.documents} documents, {r.versions} versions, {r.clauses} clauses, {r.chunks} chunks; "
        f"embedded {r.embedded} chunks in {r.seconds:.1f} s ({state})."
    )
    if r.problems:
        text += f"\nSkipped {len(r.problems)} file(s):\n" + "\n".join(f"  {p}" for p in r.problems)
    return text
