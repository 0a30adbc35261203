"""Stage 6, compose: the answer a person reads.

The extractive composer (the default: deterministic, offline, no language model) writes a lead line naming
platform, document and version, then the deciding excerpts quoted verbatim and numbered, led by policybot's
note when one holds; a comparison is a table. A `Composer` turns the stages' `Draft` into the final
`Answer`: the extractive one returns it as it is; the generative one (bot/answer/llm.py) rewords it with a
language model and checks the result against the same clauses.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING

from ..ingest.catalog import load_catalog
from ..ingest.dates import human_date
from ..ingest.markdown import clean_inline
from ..types import Answer, Citation, ComparisonRow, Hit, Question, Summary
from .abstain import possessive, services_sentence
from .compare import NoteUse, table_text
from .data import pattern
from .glossary import glossary_for

if TYPE_CHECKING:
    from .cite import Cited
    from .plan import Plan


def compose(q: Question, plan: Plan, cited: Cited) -> Answer:
    """The extractive answer from the plan and its verified citations."""
    if plan.kind == "comparison":
        return _compose_comparison(q, plan, cited)
    citations = cited.citations
    notes = [*plan.notes, *citation_notes(citations, q.as_of)]
    if q.unknown_services:
        notes.insert(0, f"I don't have {possessive(services_sentence(list(q.unknown_services)))} terms.")
    notes.extend(contract_note(q.standalone or q.text))
    summaries = tuple(_summary(u, citations) for u in plan.uses)
    text = compose_text(citations)
    if summaries:
        text = summaries_text(summaries) + "\n\n" + text
    return Answer(
        question=q.text,
        text=f"{plan.lead}\n{text}" if plan.lead else text,
        abstained=False,
        citations=citations,
        services=q.services,
        as_of=q.as_of,
        notes=tuple(notes),
        topic=plan.topic.id if plan.topic else "",
        summaries=summaries,
        glossary=tuple(glossary_for(c.excerpt for c in citations)),
    )


def _compose_comparison(q: Question, plan: Plan, cited: Cited) -> Answer:
    assert plan.topic is not None
    citations = cited.citations
    table = table_text(plan.topic, plan.rows, cited.numbers)
    text = table + ("\n\n" + compose_text(citations) if citations else "")
    comparison = tuple(
        ComparisonRow(service=r.service, stance=r.stance, note=r.note, citation=n)
        for r, n in zip(plan.rows, cited.numbers, strict=True)
    )
    return Answer(
        question=q.text,
        text=text,
        abstained=False,
        citations=citations,
        services=q.services,
        as_of=q.as_of,
        notes=tuple(citation_notes(citations, q.as_of) + contract_note(q.standalone or q.text)),
        topic=plan.topic.id,
        comparison=comparison,
        glossary=tuple(glossary_for(c.excerpt for c in citations)),
    )


def _summary(used: NoteUse, citations: Sequence[Citation]) -> Summary:
    note, hit = used.note, used.hit
    n = None
    if hit is not None:
        n = next((c.n for c in citations if _overlaps(c, hit)), None)
    return Summary(service=note.service, topic=note.topic, stance=note.stance, text=note.summary, citation=n)


def _overlaps(c: Citation, hit: Hit) -> bool:
    return c.provenance.version_id == hit.provenance.version_id and c.start < hit.end and hit.start < c.end


def _document_phrase(citation: Citation) -> str:
    p = citation.provenance
    kind = {"statement": "statement", "help": "help page", "note": "note"}.get(p.kind, "")
    title = p.title if p.kind == "terms" else f"{p.title} ({kind})" if kind else p.title
    region = f", {p.region} version" if p.region not in ("global", "") else ""
    return f"{p.service}'s {title}{region} ({p.date_label})"


def _plural(title: str) -> bool:
    """Whether a title takes "say" ("Terms of Use say") or "says" ("Privacy Policy says")."""
    return bool(pattern("plural_title").search(title))


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
        lines.append(f"[{citation.n}] “{clean_inline(citation.excerpt)}” ({citation.section_path})")
    return "\n".join(lines)


def citation_notes(citations: Sequence[Citation], as_of: date | None) -> list[str]:
    """Notes on the quotes' versions: older than the newest held, published under a former name, binding or
    not. Quotes from one version share one note ("[1], [2] quote …")."""
    notes: list[str] = []
    when = f"the version in force on {human_date(as_of)}" if as_of else "an older version"
    for numbers, first in _by_version([c for c in citations if c.newer_version]):
        verb = "quotes" if "," not in numbers else "quote"
        notes.append(
            f"{numbers} {verb} {when} ({first.provenance.date_label}); a newer version exists ({first.newer_version})."
        )
    notes.extend(_binding_notes(citations))
    notes.extend(former_name_notes(citations))
    return notes


def former_name_notes(citations: Sequence[Citation]) -> list[str]:
    """A renamed platform answers under its current name; a quote from a version published under the older
    name says so ("[2] is from X's Terms of Service as published under the name Twitter (…)")."""
    catalog = load_catalog()
    renamed = [
        c
        for c in citations
        if (former := catalog.former_name(c.provenance.service, c.provenance.version_date))
        and former.casefold() != c.provenance.service.casefold()
    ]
    notes = []
    for numbers, first in _by_version(renamed):
        p = first.provenance
        former = catalog.former_name(p.service, p.version_date)
        verb = "is" if "," not in numbers else "are"
        notes.append(
            f"{numbers} {verb} from {possessive(p.service)} {p.title} as published under the name {former} "
            f"({p.date_label}); {p.service} is the platform's current name."
        )
    return notes


def _by_version(citations: Sequence[Citation]) -> list[tuple[str, Citation]]:
    """The citations grouped by the document version they quote: ("[1], [3]", first citation) per version."""
    groups: dict[str, list[Citation]] = {}
    for c in citations:
        groups.setdefault(c.provenance.version_id, []).append(c)
    return [(_numbers(c.n for c in group), group[0]) for group in groups.values()]


EXPLAIN = frozenset({"statement", "help", "note"})
"""Kinds of document that explain a platform's position without binding it."""


def _binding_notes(citations: Sequence[Citation]) -> list[str]:
    """Which quotes bind the platform: its terms do; its guidelines, policies and programme terms add rules
    (usually made part of the agreement by the terms); statements and help pages only explain."""
    kinds = {c.provenance.kind for c in citations}
    explaining = [c.n for c in citations if c.provenance.kind in EXPLAIN]
    if not explaining:
        if kinds and "terms" not in kinds:
            return ["These quotes are from the platform's guidelines or policies, not its terms of service."]
        return []
    if "terms" in kinds or kinds - EXPLAIN:
        binding = _numbers(c.n for c in citations if c.provenance.kind not in EXPLAIN)
        other = _numbers(explaining)
        return [
            f"{binding} {'is' if ',' not in binding else 'are'} from the terms and rules, which bind the platform; "
            f"{other} {'is' if ',' not in other else 'are'} from statements or help pages, which explain "
            "its position but do not bind it."
        ]
    return ["These quotes are not from binding terms: check the platform's terms for what it may do."]


def summaries_text(summaries: Sequence[Summary]) -> str:
    """policybot's own summaries, labelled as such, before the platforms' words."""
    lines = []
    for s in summaries:
        source = f"; see [{s.citation}]" if s.citation is not None else ""
        lines.append(f"policybot's summary (not {s.service}'s words): {s.text} (stance: {s.stance}{source})")
    return "\n".join(lines)


def contract_note(question: str) -> list[str]:
    """When a question is about the artist's own contract: point to the agreement that governs them."""
    if not pattern("contract").search(question):
        return []
    return [
        "Your own contract (label, distributor or publishing agreement) governs what it covers, and platform "
        "terms cannot tell you what it says: read that agreement, or ask a music lawyer."
    ]


def _numbers(ns: Iterable[int]) -> str:
    return ", ".join(f"[{n}]" for n in ns)


def stream_lines(answer: Answer) -> Iterator[str | Answer]:
    lines = answer.text.split("\n")
    for i, line in enumerate(lines):
        yield line + ("\n" if i < len(lines) - 1 else "")
    yield answer
