"""The one `ask()` and `search()` that the command line, the chat page, the HTTP API and the evaluation call."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from .answer import (
    abstain,
    asks_for_a_figure,
    choose_hits,
    citation_notes,
    compose_text,
    contract_note,
    services_sentence,
    states_a_figure,
    summaries_text,
)
from .citations import make_citation
from .compare import NoteUse, compare, comparison_services, table_text, use_note
from .dates import human_date
from .domain import domain_margin
from .errors import BadQuestion, UnverifiedExcerpt
from .glossary import glossary_for
from .history import CHANGE_WORDS, asks_about_change, change_lead, change_topic, find_changes, pick_document
from .lexical import expand_query
from .notes import Note, load_notes
from .question import Question, clean_question, read_question
from .retrieval import Searcher, open_searcher
from .settings import Settings
from .topics import Topic, asks_for_comparison, find_topic
from .types import Answer, Citation, ComparisonRow, Hit, Summary

log = logging.getLogger(__name__)


def _today() -> date:
    return date.today()


def _resolve_services(searcher: Searcher, names: Sequence[str]) -> tuple[str, ...]:
    """Canonical platform names for `--service` values (any case, any alias)."""
    from .services import find_services

    resolved: list[str] = []
    for name in names:
        known, _ = find_services(name, searcher.services)
        exact = [s for s in searcher.services if s.casefold() == name.strip().casefold()]
        match = exact[0] if exact else (known[0].name if known else None)
        if match is None:
            raise_unknown_service(name, searcher.services)
        assert match is not None
        resolved.append(match)
    return tuple(dict.fromkeys(resolved))


def raise_unknown_service(name: str, services: Sequence[str]) -> None:
    raise BadQuestion(f"unknown platform {name!r}; the index has {services_sentence(list(services))}")


def prepare_question(
    question: str,
    settings: Settings,
    searcher: Searcher,
    *,
    service: Sequence[str] | str | None = None,
    as_of: date | None = None,
    history: Sequence[str] = (),
) -> Question:
    """Clean and read a question (with the conversation so far), then apply the caller's platform and date."""
    text = clean_question(question, settings.max_question_chars)
    earlier = [h for h in (_clean_history(h, settings) for h in history) if h]
    q = read_question(text, searcher.services, today=_today(), history=earlier)
    if earlier and settings.composer == "llm" and not (q.instruction or q.task):
        from .llm import condense_question  # a language model rewrites the follow-up; None when it fails

        rewritten = condense_question(text, earlier, settings)
        if rewritten:
            standalone = read_question(rewritten, searcher.services, today=_today())
            q = replace(standalone, text=text, standalone=rewritten)
    forced = _resolve_services(searcher, [service] if isinstance(service, str) else list(service or ()))
    if forced:
        q = _with(q, services=forced, unknown_services=())
    if as_of is not None:
        q = _with(q, as_of=as_of)
    return q


def _clean_history(entry: object, settings: Settings) -> str:
    try:
        return clean_question(entry, settings.max_question_chars)
    except BadQuestion:
        return ""


def ask(
    question: str,
    settings: Settings | None = None,
    *,
    service: Sequence[str] | str | None = None,
    as_of: date | None = None,
    history: Sequence[str] = (),
    searcher: Searcher | None = None,
) -> Answer:
    """Answer `question` from the indexed terms, quoting verified excerpts, or abstain and say why.

    `history` holds the user's earlier questions in this conversation, oldest first: a follow-up such as
    "and Bandcamp?" is read against them. `service` and `as_of` override what the question says.
    """
    began = time.perf_counter()
    settings = settings or Settings()
    searcher = searcher or open_searcher(settings)
    q = prepare_question(question, settings, searcher, service=service, as_of=as_of, history=history)
    timings: dict[str, float] = {}
    draft = draft_answer(q, searcher, settings, timings)
    answer = draft.answer
    if settings.composer == "llm" and not answer.abstained:
        from .llm import compose_with_llm  # verified against the clauses; falls back to `draft.answer`

        answer = compose_with_llm(draft, searcher, settings, timings)
    return _finish(answer, q, began, timings)


def _finish(answer: Answer, q: Question, began: float, timings: dict[str, float]) -> Answer:
    timings["total_ms"] = (time.perf_counter() - began) * 1000
    return replace(
        answer,
        question=q.text,
        services=q.services,
        as_of=q.as_of,
        standalone=q.standalone if q.standalone != q.text else "",
        timings_ms={k: round(v, 2) for k, v in timings.items()},
    )


@dataclass(frozen=True, slots=True)
class Draft:
    """What retrieval found and the extractive answer built from it: the input of every composer."""

    question: Question
    hits: tuple[Hit, ...]
    """Retrieved chunks, best first: all a generative composer may cite."""
    answer: Answer
    """The extractive, verified answer (or abstention): the default, and the fallback of other composers."""


def draft_answer(q: Question, searcher: Searcher, settings: Settings, timings: dict[str, float]) -> Draft:
    hits: list[Hit] = []
    answer = _answer(q, searcher, settings, timings, hits)
    return Draft(question=q, hits=tuple(hits), answer=answer)


def ask_stream(
    question: str,
    settings: Settings | None = None,
    **options: Any,
) -> Iterator[str | Answer]:
    """`ask()` for interfaces that show the answer as it comes: text pieces, then the final Answer.

    The extractive answer is complete at once, so it arrives line by line; the pieces joined are exactly
    `Answer.text`. A generative composer streams its own pieces through the same interface.
    """
    settings = settings or Settings()
    if settings.composer == "llm":
        began = time.perf_counter()
        searcher = options.pop("searcher", None) or open_searcher(settings)
        history = options.pop("history", ())
        q = prepare_question(question, settings, searcher, history=history, **options)
        timings: dict[str, float] = {}
        draft = draft_answer(q, searcher, settings, timings)
        if not draft.answer.abstained:
            from .llm import stream_with_llm

            for piece in stream_with_llm(draft, searcher, settings, timings):
                yield piece if isinstance(piece, str) else _finish(piece, q, began, timings)
            return
        answer = _finish(draft.answer, q, began, timings)
    else:
        answer = ask(question, settings, **options)
    lines = answer.text.split("\n")
    for i, line in enumerate(lines):
        yield line + ("\n" if i < len(lines) - 1 else "")
    yield answer


def _with(q: Question, **changes: Any) -> Question:
    return replace(q, **changes)


def _answer(
    q: Question, searcher: Searcher, settings: Settings, timings: dict[str, float], found: list[Hit]
) -> Answer:
    have = services_sentence(searcher.services)
    if q.instruction:
        return abstain(
            q.text,
            "instruction",
            "I only quote what platforms' terms say, and I don't follow instructions given in a question. "
            "Ask about a platform's terms, e.g. “Can SoundCloud train AI on my tracks?”",
            q,
        )
    if q.task:
        return abstain(
            q.text,
            "off_topic",
            "I answer questions about platforms' terms by quoting them; I can't do other tasks. "
            f"I have the terms of {have}.",
            q,
        )
    if q.unknown_services and not q.services:
        missing = services_sentence(list(q.unknown_services))
        return abstain(
            q.text, "unknown_service", f"I don't have {_possessive(missing)} terms; I have {have}.", q
        )
    if q.services and not searcher.versions_in_force(q.as_of, q.services, q.region):
        earliest = min(
            d.versions[0].provenance.version_date for d in searcher.documents if d.service in q.services
        )
        when = human_date(q.as_of) if q.as_of else "that date"
        return abstain(
            q.text,
            "no_version",
            f"I have no version of {services_sentence(list(q.services))}'s documents in force on {when}; "
            f"the earliest I have is dated {human_date(earliest)}.",
            q,
        )
    # The topic (for retrieval) and the whole question (for the domain check) in one pass of the model.
    began = time.perf_counter()
    topic_vector, question_vector = searcher.embedder.encode([q.topic, q.standalone or q.text])
    timings["embed_ms"] = (time.perf_counter() - began) * 1000
    hits = searcher.retrieve(
        q.topic,
        vector=topic_vector,
        services=q.services,
        as_of=q.as_of,
        region=q.region,
        k=max(settings.max_citations * 3, settings.k),
        timings=timings,
    )
    found.extend(hits)
    best = max((h.similarity for h in hits), default=0.0)
    began = time.perf_counter()
    margin = domain_margin(question_vector, searcher.embedder)
    timings["domain_ms"] = (time.perf_counter() - began) * 1000
    named = bool(q.services)
    if margin < (settings.min_domain_margin_named if named else settings.min_domain_margin):
        return abstain(
            q.text,
            "off_topic",
            "That doesn't look like a question about a platform's terms, so I won't guess. "
            f"I answer questions about the terms of {have}.",
            q,
        )
    if not hits or best < (settings.min_similarity_named if named else settings.min_similarity):
        scope = f" in {services_sentence(list(q.services))}'s documents" if named else ""
        return abstain(
            q.text,
            "no_evidence" if named else "off_topic",
            f"I couldn't find anything that answers this{scope}, so I won't guess. "
            f"I answer from the terms of {have}.",
            q,
        )
    began = time.perf_counter()
    asked = q.standalone or q.text
    topic = find_topic(asked)
    change = asks_about_change(asked) and q.as_of is None
    notes_db = load_notes(settings.notes_dir)
    if topic is not None and not change and asks_for_comparison(q.text, len(q.services)):
        answer = _comparison_answer(q, topic, searcher, settings, notes_db, found)
        timings["compose_ms"] = (time.perf_counter() - began) * 1000
        return answer
    lead = ""
    notes: list[str] = []
    chosen = choose_hits(hits, q.services, settings.max_citations, settings.min_similarity)
    uses: list[NoteUse] = []
    if change:
        lead, chosen, notes = _change_answer(q, hits, chosen, searcher, settings, timings)
        found.extend(h for h in chosen if h not in found)
    elif topic is not None:
        for service in q.services or [chosen[0].provenance.service]:
            used = use_note(notes_db, searcher, service, topic.id, q.as_of, q.region)
            if used is None:
                continue
            if used.stale:
                notes.append(
                    f"policybot's summary of {service}'s position on {_lower_first(topic.label)} does not match the "
                    "version quoted here (the phrase it summarises is not in it), so here are the platform's "
                    "words alone."
                )
                continue
            uses.append(used)
            if used.hit is not None and not any(_same_place(used.hit, h) for h in chosen):
                chosen.insert(0, used.hit)
                found.insert(0, used.hit)
    citations = _cite(chosen, q, searcher, settings)
    timings["compose_ms"] = (time.perf_counter() - began) * 1000
    if not citations:
        return abstain(
            q.text, "no_evidence", "I found passages but could not verify them against the stored terms.", q
        )
    if asks_for_a_figure(asked) and not any(states_a_figure(c.excerpt) for c in citations):
        scope = f"{services_sentence(list(q.services))}'s documents" if q.services else "the documents I have"
        return abstain(
            q.text,
            "not_addressed",
            f"That asks for a figure, and {scope} don't state one: the closest clauses give no number. "
            "Platforms often publish rates and limits in help pages or dashboards rather than in their terms.",
            q,
        )
    notes.extend(citation_notes(citations, q.as_of))
    if q.unknown_services:
        notes.insert(0, f"I don't have {_possessive(services_sentence(list(q.unknown_services)))} terms.")
    notes.extend(contract_note(asked))
    summaries = tuple(_summary(u, citations) for u in uses)
    text = compose_text(citations)
    if summaries:
        text = summaries_text(summaries) + "\n\n" + text
    return Answer(
        question=q.text,
        text=f"{lead}\n{text}" if lead else text,
        abstained=False,
        citations=tuple(citations),
        services=q.services,
        as_of=q.as_of,
        notes=tuple(notes),
        topic=topic.id if topic else "",
        summaries=summaries,
        glossary=tuple(glossary_for(c.excerpt for c in citations)),
    )


def _lower_first(label: str) -> str:
    """ "Labels and distributors…" → "labels and distributors…", but "AI training…" stays."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _same_place(a: Hit, b: Hit) -> bool:
    return a.provenance.version_id == b.provenance.version_id and a.start < b.end and b.start < a.end


def _summary(used: NoteUse, citations: Sequence[Citation]) -> Summary:
    note, hit = used.note, used.hit
    n = None
    if hit is not None:
        n = next(
            (
                c.n
                for c in citations
                if c.provenance.version_id == hit.provenance.version_id
                and c.start < hit.end
                and hit.start < c.end
            ),
            None,
        )
    return Summary(service=note.service, topic=note.topic, stance=note.stance, text=note.summary, citation=n)


def _comparison_answer(
    q: Question,
    topic: Topic,
    searcher: Searcher,
    settings: Settings,
    notes_db: tuple[Note, ...],
    found: list[Hit],
) -> Answer:
    """A table, one row per platform: stance, policybot's note, and the verified deciding excerpt."""
    services = comparison_services(searcher, q.services)
    rows = compare(topic, services, searcher, settings, notes_db, as_of=q.as_of, region=q.region)
    citations: list[Citation] = []
    numbers: list[int | None] = []
    stems = list(dict.fromkeys(expand_query(topic.question)))
    for row in rows:
        n = None
        if row.hit is not None:
            citation = _cite_one(row.hit, len(citations) + 1, stems, searcher, settings)
            if citation is not None:
                citations.append(citation)
                found.append(row.hit)
                n = citation.n
        numbers.append(n)
    table = table_text(topic, rows, numbers)
    text = table + ("\n\n" + compose_text(citations) if citations else "")
    comparison = tuple(
        ComparisonRow(service=r.service, stance=r.stance, note=r.note, citation=n)
        for r, n in zip(rows, numbers, strict=True)
    )
    notes = citation_notes(citations, q.as_of) + contract_note(q.standalone or q.text)
    return Answer(
        question=q.text,
        text=text,
        abstained=False,
        citations=tuple(citations),
        services=q.services,
        as_of=q.as_of,
        notes=tuple(notes),
        topic=topic.id,
        comparison=comparison,
        glossary=tuple(glossary_for(c.excerpt for c in citations)),
    )


def _change_answer(
    q: Question,
    hits: Sequence[Hit],
    chosen: list[Hit],
    searcher: Searcher,
    settings: Settings,
    timings: dict[str, float],
) -> tuple[str, list[Hit], list[str]]:
    """For "what changed / when did … add …": the old and the new wording with their dates, when the corpus
    holds several versions; else the document's own change log, saying that only one version is held."""
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
    topic = f"{q.topic} {CHANGE_WORDS}"
    logged = searcher.retrieve(
        topic, versions=[document.latest.version_id], k=settings.max_citations, timings=timings
    )
    only = document.latest.provenance
    note = (
        f"I hold only one version of {document.service}'s {document.title} ({only.date_label}), so I can't compare "
        "its wording over time; the quotes are from that version (a change log, where it has one, dates changes)."
    )
    return "", (logged[:2] or chosen), [note]


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _cite(hits: Sequence[Hit], q: Question, searcher: Searcher, settings: Settings) -> list[Citation]:
    stems = list(dict.fromkeys(expand_query(q.topic)))
    citations: list[Citation] = []
    for hit in hits:
        citation = _cite_one(hit, len(citations) + 1, stems, searcher, settings)
        if citation is not None:
            citations.append(citation)
    return citations


def _cite_one(
    hit: Hit, n: int, stems: Sequence[str], searcher: Searcher, settings: Settings
) -> Citation | None:
    """The verified citation of a hit, or None (logged) when its excerpt is not verbatim in the stored text."""
    doc = searcher.document_of(hit.provenance.version_id)
    latest = doc.latest.provenance
    newer = latest.date_label if latest.version_id != hit.provenance.version_id else ""
    try:
        return make_citation(
            n, hit, stems, searcher.store.text, max_chars=settings.max_excerpt_chars, newer_version=newer
        )
    except UnverifiedExcerpt as exc:
        log.warning("dropped a citation: %s", exc)
        return None


def search(
    query: str,
    settings: Settings | None = None,
    *,
    k: int | None = None,
    service: Sequence[str] | str | None = None,
    as_of: date | None = None,
    searcher: Searcher | None = None,
) -> list[Hit]:
    """Retrieval only: the best chunks for `query`, with scores, restricted like `ask()`."""
    settings = settings or Settings()
    searcher = searcher or open_searcher(settings)
    q = prepare_question(query, settings, searcher, service=service, as_of=as_of)
    return searcher.retrieve(q.topic, services=q.services, as_of=q.as_of, region=q.region, k=k or settings.k)
