"""What a system did with one question, as an Outcome: policybot's answer JSON with every excerpt re-checked
against its stored version, or a ranked list of retrieved chunks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from ..types import Hit, text_sha256
from .answers import not_addressed_rows, read_lead, shows_raw_markdown
from .gold import GoldQuestion
from .hygiene import excerpt_faults
from .metrics import Evidence, Outcome
from .versions import CorpusVersions, TextLookup


def verify_citation(citation: Mapping[str, Any], lookup: TextLookup) -> bool:
    """True when the citation's excerpt is exactly the stored version's text at its offsets, and the stored
    text still hashes to the SHA-256 the citation names (checked here again, not trusted from the store)."""
    sha, start, end = citation.get("text_sha256"), citation.get("start"), citation.get("end")
    excerpt = citation.get("excerpt")
    if not sha or not isinstance(start, int) or not isinstance(end, int) or not excerpt:
        return False
    stored = lookup(str(sha))
    return stored is not None and text_sha256(stored) == sha and stored[start:end] == excerpt


def predicted_stance(answer: Mapping[str, Any], services: Sequence[str]) -> str | None:
    """The stance an answer states: `answer["stance"]`, else the comparison row of the question's first
    platform (issue 4 adds stances; until then there is none and stance accuracy is not measured)."""
    stance = answer.get("stance")
    if isinstance(stance, str) and stance.strip():
        return stance
    rows = answer.get("comparison") or answer.get("rows")
    if isinstance(rows, list):
        wanted = {s.casefold() for s in services}
        dict_rows = [r for r in rows if isinstance(r, Mapping) and isinstance(r.get("stance"), str)]
        chosen = [r for r in dict_rows if str(r.get("service", "")).casefold() in wanted] or dict_rows
        if chosen:
            return str(chosen[0]["stance"])
    return None


def citation_evidence(citation: Mapping[str, Any]) -> Evidence:
    return Evidence(
        service=str(citation["service"]),
        document=str(citation["document"]),
        version_date=date.fromisoformat(str(citation["version_date"])),
        text=str(citation.get("clause") or citation["excerpt"]),
        excerpt=str(citation["excerpt"]),
        section=str(citation.get("section", "")),
    )


def citation_faults(citation: Mapping[str, Any], lookup: TextLookup) -> frozenset[str]:
    """What makes a citation's excerpt not a citable clause, judged on its stored text where there is one."""
    sha, start = citation.get("text_sha256"), citation.get("start")
    stored = lookup(str(sha)) if sha else None
    return excerpt_faults(
        str(citation.get("excerpt") or ""), stored, start if isinstance(start, int) else None
    )


def _labelled(citations: Sequence[Mapping[str, Any]], corpus: CorpusVersions | None) -> int:
    if corpus is None:
        return 0
    return sum(
        1
        for c in citations
        if corpus.labels_match(
            str(c.get("text_sha256", "")),
            str(c["service"]),
            str(c["document"]),
            date.fromisoformat(str(c["version_date"])),
        )
    )


def project_outcome(
    question: GoldQuestion,
    answer: Mapping[str, Any],
    latency_ms: float,
    lookup: TextLookup,
    corpus: CorpusVersions | None,
) -> Outcome:
    """Score one `answer_json(...)` dict: evidence in citation order, every excerpt re-verified."""
    citations = list(answer.get("citations") or [])
    lead_topic, lead_evidence = read_lead(answer)
    return Outcome(
        question_id=question.id,
        evidence=tuple(citation_evidence(c) for c in citations),
        abstained=bool(answer.get("abstained")),
        latency_ms=latency_ms,
        reason=str(answer.get("reason") or ""),
        stance=predicted_stance(answer, [g.service for g in question.gold] or list(question.services)),
        checked=len(citations),
        verified=sum(1 for c in citations if verify_citation(c, lookup)),
        labelled=_labelled(citations, corpus),
        services=tuple(answer.get("services") or ()),
        lead_topic=lead_topic,
        lead_evidence=lead_evidence,
        excerpt_faults=tuple(citation_faults(c, lookup) for c in citations),
        raw_markdown=shows_raw_markdown(str(answer.get("answer") or "")),
        not_addressed=not_addressed_rows(answer),
    )


def hit_evidence(hit: Hit, lookup: TextLookup) -> Evidence:
    """A retrieved chunk as evidence, read like a citation: the hit rule looks at its whole clause."""
    stored = lookup(hit.provenance.text_sha256) or ""
    clause = stored[hit.clause_start : hit.clause_end] or hit.text
    p = hit.provenance
    return Evidence(p.service, p.document, p.version_date, clause, hit.text, hit.section_path)


def retrieval_outcome(
    question: GoldQuestion,
    hits: Sequence[Hit],
    latency_ms: float,
    lookup: TextLookup,
    corpus: CorpusVersions | None,
) -> Outcome:
    """A ranked list of chunks as an outcome: never an abstention; each chunk re-checked like an excerpt."""
    verified = 0
    labelled = 0
    for hit in hits:
        stored = lookup(hit.provenance.text_sha256)
        if stored is not None and text_sha256(stored) == hit.provenance.text_sha256:
            verified += stored[hit.start : hit.end] == hit.text
        p = hit.provenance
        if corpus is not None:
            labelled += corpus.labels_match(p.text_sha256, p.service, p.document, p.version_date)
    return Outcome(
        question_id=question.id,
        evidence=tuple(hit_evidence(h, lookup) for h in hits),
        abstained=False,
        latency_ms=latency_ms,
        checked=len(hits),
        verified=verified,
        labelled=labelled,
    )
