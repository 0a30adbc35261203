"""The extractive answer: a lead line naming platform, document and version, then the deciding excerpts
quoted verbatim and numbered. Deterministic, offline, no language model."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date

from .dates import human_date
from .question import Question
from .types import Answer, Citation, Hit, Summary


def choose_hits(hits: Sequence[Hit], services: Sequence[str], limit: int, min_similarity: float) -> list[Hit]:
    """The hits worth quoting: the best one, then others nearly as good, one per platform named first."""
    if not hits:
        return []
    top = hits[0].score
    good = [h for h in hits if h.score >= top * 0.75 and (h.similarity >= min_similarity or h.bm25_rank == 1)]
    good = good or [hits[0]]
    chosen: list[Hit] = []
    # When a question names several platforms, each gets its best clause before any gets a second one.
    for service in services:
        for hit in hits:
            if hit.provenance.service == service and hit not in chosen:
                chosen.append(hit)
                break
    for hit in good:
        if len(chosen) >= limit:
            break
        if hit not in chosen:
            chosen.append(hit)
    chosen = chosen[: max(limit, len(services))]
    # Binding terms lead; statements and help pages follow, each group in order of relevance.
    return sorted(chosen, key=lambda h: h.provenance.kind != "terms")


def _document_phrase(citation: Citation) -> str:
    p = citation.provenance
    kind = {"statement": "statement", "help": "help page", "note": "note"}.get(p.kind, "")
    title = p.title if p.kind == "terms" else f"{p.title} ({kind})" if kind else p.title
    region = f", {p.region} version" if p.region not in ("global", "") else ""
    return f"{p.service}'s {title}{region} ({p.date_label})"


_PLURAL_TITLE = re.compile(r"^(?:terms|conditions)\b|(?:guidelines|rules|standards)\W*$", re.I)


def _plural(title: str) -> bool:
    """Whether a title takes "say" ("Terms of Use say") or "says" ("Privacy Policy says")."""
    return bool(_PLURAL_TITLE.search(title))


def compose_text(citations: Sequence[Citation]) -> str:
    """The answer as text: for each document, a lead line, then its quoted excerpts with their sections."""
    lines: list[str] = []
    current = ""
    for citation in citations:
        phrase = _document_phrase(citation)
        if phrase != current:
            if lines:
                lines.append("")
            verb = "say" if _plural(citation.provenance.title) else "says"
            lines.append(f"{phrase} {verb}:")
            current = phrase
        excerpt = " ".join(citation.excerpt.split())
        lines.append(f"[{citation.n}] “{excerpt}” ({citation.section_path})")
    return "\n".join(lines)


def citation_notes(citations: Sequence[Citation], as_of: date | None) -> list[str]:
    notes: list[str] = []
    for citation in citations:
        if citation.newer_version:
            when = f"the version in force on {human_date(as_of)}" if as_of else "an older version"
            notes.append(
                f"[{citation.n}] quotes {when} ({citation.provenance.date_label}); "
                f"a newer version exists ({citation.newer_version})."
            )
    kinds = {c.provenance.kind for c in citations}
    if "terms" in kinds and kinds - {"terms"}:
        binding = _numbers(c.n for c in citations if c.provenance.kind == "terms")
        other = _numbers(c.n for c in citations if c.provenance.kind != "terms")
        notes.append(
            f"{binding} {'is' if ',' not in binding else 'are'} from the terms, which bind the platform; "
            f"{other} {'is' if ',' not in other else 'are'} from statements or help pages, which explain "
            "its position but do not bind it."
        )
    elif kinds and "terms" not in kinds:
        notes.append(
            "These quotes are not from binding terms: check the platform's terms for what it may do."
        )
    return notes


def summaries_text(summaries: Sequence[Summary]) -> str:
    """policybot's own summaries, labelled as such, before the platforms' words."""
    lines = []
    for s in summaries:
        source = f"; see [{s.citation}]" if s.citation is not None else ""
        lines.append(f"policybot's summary (not {s.service}'s words): {s.text} (stance: {s.stance}{source})")
    return "\n".join(lines)


_CONTRACT = re.compile(
    r"\b(?:my|our|the)\s+(?:label|record|distribution|distributor|publishing|management|sync|licen[cs]ing|"
    r"production)\s+(?:deal|contract|agreement)\b|\bmy\s+contract\b|\bi\s+signed\b|\brecord\s+deal\b",
    re.I,
)


def contract_note(question: str) -> list[str]:
    """When a question is about the artist's own contract: point to the agreement that governs them."""
    if not _CONTRACT.search(question):
        return []
    return [
        "Your own contract (label, distributor or publishing agreement) governs what it covers, and platform "
        "terms cannot tell you what it says: read that agreement, or ask a music lawyer."
    ]


_FIGURE_QUESTION = re.compile(
    r"\bhow\s+(?:much|many)\b|\bper[- ](?:stream|play|listen|view|1,?000|thousand|million)\b"
    r"|\b(?:payout|royalty|pay|payment|per-stream)\s+rates?\b"
    r"|\bwhat(?:'s|\s+is)\s+the\s+(?:max|maximum|minimum|min|limit|rate|percentage|cut|fee)\b|\bfile\s+size\b",
    re.I,
)
_FIGURE = re.compile(
    r"\d|%|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
    r"fifty|hundred|thousand|million|percent|half|once|twice|unlimited|no\s+limit)\b",
    re.I,
)


def asks_for_a_figure(question: str) -> bool:
    """ "How much does Spotify pay per stream?", "what's the max file size?": only a number answers these."""
    return bool(_FIGURE_QUESTION.search(question))


def states_a_figure(text: str) -> bool:
    return bool(_FIGURE.search(text))


def _numbers(ns: Iterable[int]) -> str:
    return ", ".join(f"[{n}]" for n in ns)


def abstain(question: str, reason: str, text: str, q: Question | None = None) -> Answer:
    return Answer(
        question=question,
        text=text,
        abstained=True,
        reason=reason,
        services=q.services if q else (),
        as_of=q.as_of if q else None,
    )


def services_sentence(services: Sequence[str]) -> str:
    if not services:
        return "no platforms yet (run `policybot index`)"
    if len(services) == 1:
        return services[0]
    return ", ".join(services[:-1]) + " and " + services[-1]
