"""Stage 4, plan: what kind of answer the question wants — plain (the deciding clauses, led by policybot's
note on the topic when one holds), comparison (a row per platform) or change (old and new wording) — and
which clauses it will quote."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ..retrieve.searcher import Searcher
from ..retrieve.topics import Topic, asks_for_comparison
from ..settings import Settings
from ..types import Hit, Question
from .changes import asks_about_change, change_lead, change_topic, find_changes, pick_document
from .compare import NoteUse, Row, compare, comparison_services, use_note
from .data import change_search_words
from .notes import load_notes
from .recorded import recorded_changes
from .retrieve import Evidence

PlanKind = Literal["plain", "comparison", "change"]


@dataclass(frozen=True, slots=True)
class Plan:
    kind: PlanKind
    topic: Topic | None
    hits: tuple[Hit, ...]
    """What to quote, in order (plain and change answers)."""
    candidates: tuple[Hit, ...]
    """Everything a generative composer may cite: the quoted clauses and the other retrieved ones."""
    lead: str = ""
    """A first line before the quotes (change answers)."""
    notes: tuple[str, ...] = ()
    """Remarks for after the answer (a stale note, a document held in one version)."""
    uses: tuple[NoteUse, ...] = ()
    """policybot's notes that lead the answer, with the clauses they rest on."""
    rows: tuple[Row, ...] = field(default=())
    """Comparison rows, one per platform (and region)."""


def plan(
    q: Question, evidence: Evidence, searcher: Searcher, settings: Settings, timings: dict[str, float]
) -> Plan:
    asked = q.standalone or q.text
    topic = evidence.reading.topic if evidence.reading is not None else None
    if asks_about_change(asked):  # dated or not, from the changes recorded with the index when it has them
        recorded = recorded_changes(q, topic, searcher, evidence.hits)
        if recorded is not None:
            lead, quoted, remarks = recorded
            candidates = (*evidence.hits, *(h for h in quoted if h not in evidence.hits))
            return Plan("change", topic, tuple(quoted), candidates, lead=lead, notes=tuple(remarks))
    change = asks_about_change(asked) and q.as_of is None
    if topic is not None and not change and asks_for_comparison(q.text, len(q.services), q.categories):
        return plan_comparison(q, topic, evidence, searcher, settings)
    if evidence.best_probability is not None:
        chosen = choose_ranked(evidence.hits, q.services, settings.max_citations)
    else:
        chosen = choose_hits(evidence.hits, q.services, settings.max_citations, settings.min_similarity)
    chosen = [*evidence.pinned, *(h for h in chosen if h not in evidence.pinned)][
        : max(len(chosen), len(evidence.pinned))
    ]
    if change:
        return plan_change(q, topic, evidence, chosen, searcher, settings, timings)
    if topic is None:
        return Plan("plain", None, tuple(chosen), evidence.hits)
    return plan_noted(q, topic, evidence, chosen, searcher, settings)


def plan_noted(
    q: Question, topic: Topic, evidence: Evidence, chosen: list[Hit], searcher: Searcher, settings: Settings
) -> Plan:
    """A plain answer on a taxonomy topic: each platform's fresh note leads, its anchored clause quoted first."""
    notes_db = load_notes(settings.notes_dir)
    candidates = list(evidence.hits)
    uses: list[NoteUse] = []
    remarks: list[str] = []
    for service in q.services or [chosen[0].provenance.service]:
        used = use_note(notes_db, searcher, service, topic.id, q.as_of, q.region)
        if used is None:
            continue
        if used.stale:
            remarks.append(
                f"policybot's summary of {service}'s position on {_lower_first(topic.label)} does not match the "
                "version quoted here (the phrase it summarises is not in it), so here are the platform's "
                "words alone."
            )
            continue
        # The note leads only when retrieval, on its own, chose the clause the note rests on: otherwise it
        # would speak of a neighbouring question with the confidence of a summary.
        if used.hit is not None and any(_same_place(used.hit, h) for h in chosen):
            uses.append(used)
    # The clauses the leading notes rest on are quoted first, in the notes' order.
    anchored = [h for u in uses for h in chosen if u.hit is not None and _same_place(u.hit, h)]
    chosen = [*dict.fromkeys(anchored), *(h for h in chosen if h not in anchored)]
    return Plan("plain", topic, tuple(chosen), tuple(candidates), notes=tuple(remarks), uses=tuple(uses))


def plan_comparison(
    q: Question, topic: Topic, evidence: Evidence, searcher: Searcher, settings: Settings
) -> Plan:
    """A row per platform: its stance, policybot's note and the deciding clause, or "not addressed"."""
    services = comparison_services(searcher, q.services, q.categories)
    notes_db = load_notes(settings.notes_dir)
    rows = compare(topic, services, searcher, settings, notes_db, as_of=q.as_of, region=q.region)
    return Plan("comparison", topic, (), evidence.hits, rows=tuple(rows))


def plan_change(
    q: Question,
    topic: Topic | None,
    evidence: Evidence,
    chosen: list[Hit],
    searcher: Searcher,
    settings: Settings,
    timings: dict[str, float],
) -> Plan:
    """For "what changed / when did … add …": the old and the new wording with their dates, when the corpus
    holds several versions; else the document's own change log, saying that only one version is held."""
    lead, quoted, remarks = _change_quotes(q, evidence.hits, chosen, searcher, settings, timings)
    candidates = [*evidence.hits, *(h for h in quoted if h not in evidence.hits)]
    return Plan("change", topic, tuple(quoted), tuple(candidates), lead=lead, notes=tuple(remarks))


def _change_quotes(
    q: Question,
    hits: Sequence[Hit],
    chosen: list[Hit],
    searcher: Searcher,
    settings: Settings,
    timings: dict[str, float],
) -> tuple[str, list[Hit], list[str]]:
    document = pick_document(hits, searcher)
    if document is None:
        return "", chosen, []
    if len({v.provenance.version_date for v in document.versions}) > 1:
        points = find_changes(searcher, change_topic(q.topic), document)
        if not points:
            return change_lead(document, None, []), chosen[:1], []
        main = max(points, key=lambda p: (p.weight, p.after.provenance.version_date))
        cited = [s.hit for s in (*main.removed[:1], *main.added[:1])]
        return change_lead(document, main, [p for p in points if p is not main]), cited, []
    logged = searcher.retrieve(
        f"{q.topic} {change_search_words()}",
        versions=[document.latest.version_id],
        k=settings.max_citations,
        timings=timings,
    )
    only = document.latest.provenance
    note = (
        f"I hold only one version of {document.service}'s {document.title} ({only.date_label}), so I can't compare "
        "its wording over time; the quotes are from that version (a change log, where it has one, dates changes)."
    )
    return "", (logged[:2] or chosen), [note]


RANKED_SHARE = 0.5
"""A ranked hit is quoted after the best one when its probability is at least this share of the best's."""


def choose_ranked(hits: Sequence[Hit], services: Sequence[str], limit: int) -> list[Hit]:
    """The ranker's best hit, then the next ones nearly as likely to decide (their score is a probability),
    one per platform named first; in the ranker's order, which already weighs the kind of document."""
    if not hits:
        return []
    chosen: list[Hit] = [hits[0]]
    for service in services:
        best = next((h for h in hits if h.provenance.service == service), None)
        if best is not None and best not in chosen:
            chosen.append(best)
    for hit in hits[1:]:
        if len(chosen) >= max(limit, len(services)):
            break
        if hit not in chosen and hit.score >= hits[0].score * RANKED_SHARE:
            chosen.append(hit)
    return chosen


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


def _lower_first(label: str) -> str:
    """ "Labels and distributors…" → "labels and distributors…", but "AI training…" stays."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _same_place(a: Hit, b: Hit) -> bool:
    return a.provenance.version_id == b.provenance.version_id and a.start < b.end and b.start < a.end
