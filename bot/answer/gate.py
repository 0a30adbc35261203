"""Stage 2, gate: the checks that stop a question before it is answered. Each returns an `Abstention`, or
None to let the question through.

`gate` runs before retrieval (instructions, other tasks, platforms the corpus lacks, dates before any
version); `gate_evidence` after it (not about terms at all, nothing close enough); `gate_citations` once the
excerpts are chosen (none could be verified, or the question asks for a figure that none states).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..ingest.dates import human_date
from ..retrieve.rerank import ranker
from ..retrieve.searcher import Searcher
from ..retrieve.topics import asks_for_comparison
from ..settings import Settings
from ..types import Abstention, Citation, Question
from .abstain import abstention, possessive, services_sentence
from .changes import asks_about_change
from .data import pattern
from .retrieve import Evidence


def gate(q: Question, searcher: Searcher) -> Abstention | None:
    """Before retrieval: what can be refused from the question alone."""
    have = services_sentence(searcher.services)
    if q.instruction:
        return abstention("instruction")
    if q.task:
        return abstention("task", have=have)
    if q.unknown_services and not q.services:
        missing = possessive(services_sentence(list(q.unknown_services)))
        return abstention("unknown_service", missing=missing, have=have)
    if q.services and not searcher.versions_in_force(q.as_of, q.services, q.region):
        earliest = min(
            d.versions[0].provenance.version_date for d in searcher.documents if d.service in q.services
        )
        return abstention(
            "no_version",
            services=services_sentence(list(q.services)),
            when=human_date(q.as_of) if q.as_of else "that date",
            earliest=human_date(earliest),
        )
    return None


def gate_evidence(
    q: Question, evidence: Evidence, searcher: Searcher, settings: Settings
) -> Abstention | None:
    """After retrieval: a question that is not about terms, or whose best clause is too far from it."""
    have = services_sentence(searcher.services)
    named = bool(q.services)
    if evidence.domain_margin < (settings.min_domain_margin_named if named else settings.min_domain_margin):
        return abstention("off_topic", have=have)
    floor = settings.min_similarity_named if named else settings.min_similarity
    if not evidence.hits or evidence.best_similarity < floor:
        scope = f" in {services_sentence(list(q.services))}'s documents" if named else ""
        return abstention("nothing_found", "no_evidence" if named else "off_topic", scope=scope, have=have)
    weights = ranker()
    # A comparison is answered platform by platform, and each row says when a platform's terms don't address
    # the topic: the question as a whole is not one to refuse for want of a single answering clause.
    many_answers = evidence.reading is not None and evidence.reading.topic is not None
    many_answers = many_answers and asks_for_comparison(q.text, len(q.services), q.categories)
    # A question about change is answered from the recorded changes, not from one answering clause.
    many_answers = many_answers or asks_about_change(q.standalone or q.text)
    if (
        not many_answers
        and weights is not None
        and evidence.abstain_probability is not None
        and evidence.abstain_probability >= weights.abstain_above
    ):
        scope = f"{services_sentence(list(q.services))}'s documents" if named else "the documents I have"
        return abstention("not_stated", scope=scope)
    return None


def gate_citations(q: Question, citations: Sequence[Citation]) -> Abstention | None:
    """Once excerpts are chosen: none survived verification, or a figure is asked for and none is stated."""
    if not citations:
        return abstention("unverified")
    if asks_for_a_figure(q.standalone or q.text) and not any(states_a_figure(c.excerpt) for c in citations):
        scope = f"{services_sentence(list(q.services))}'s documents" if q.services else "the documents I have"
        return abstention("figure", scope=scope)
    return None


def asks_for_a_figure(question: str) -> bool:
    """ "How much does Spotify pay per stream?", "what's the max file size?": only a number answers these."""
    return bool(pattern("figure_question").search(question))


def states_a_figure(text: str) -> bool:
    return bool(pattern("figure").search(text))
