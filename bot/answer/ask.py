"""The one `ask()` and `search()` that the command line, the chat page, the HTTP API and the evaluation call.

An answer is a chain of plain stages, each in the module named for it:

    read → gate → retrieve → (gate) → plan → cite → (gate) → compose

`draft()` runs them up to the extractive answer; a `Composer` (extractive, or a language model) turns that
draft into what is shown. `ask()` and `ask_stream()` run the same stages and differ only in how the
composer delivers the text.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date

from ..retrieve.searcher import Searcher, open_searcher
from ..settings import Settings
from ..types import Answer, Draft, Hit, Question
from .abstain import abstained
from .cite import cite
from .compose import compose
from .composers import composer_for
from .gate import gate, gate_citations, gate_evidence
from .plan import plan
from .read import read
from .retrieve import retrieve


def ask(
    question: str,
    settings: Settings | None = None,
    *,
    service: Sequence[str] | str | None = None,
    as_of: date | None = None,
    history: Sequence[str] = (),
    searcher: Searcher | None = None,
    today: date | None = None,
) -> Answer:
    """Answer `question` from the indexed terms, quoting verified excerpts, or abstain and say why.

    `history` holds the user's earlier questions in this conversation, oldest first: a follow-up such as
    "and Bandcamp?" is read against them. `service` and `as_of` override what the question says; `today`
    is the date relative phrases ("late last year") count from (default: the real date).
    """
    began = time.perf_counter()
    settings = settings or Settings()
    searcher = searcher or open_searcher(settings)
    q = read(question, settings, searcher, service=service, as_of=as_of, history=history, today=today)
    timings: dict[str, float] = {}
    answer = composer_for(settings).compose(
        drafted(q, searcher, settings, timings), searcher, settings, timings
    )
    return finish(answer, q, began, timings)


def ask_stream(
    question: str,
    settings: Settings | None = None,
    *,
    service: Sequence[str] | str | None = None,
    as_of: date | None = None,
    history: Sequence[str] = (),
    searcher: Searcher | None = None,
    today: date | None = None,
) -> Iterator[str | Answer]:
    """`ask()` for interfaces that show the answer as it comes: text pieces, then the final Answer.

    The extractive answer is complete at once, so it arrives line by line and the pieces joined are exactly
    `Answer.text`; a generative composer streams its own pieces, and its final `Answer.text` is authoritative.
    """
    began = time.perf_counter()
    settings = settings or Settings()
    searcher = searcher or open_searcher(settings)
    q = read(question, settings, searcher, service=service, as_of=as_of, history=history, today=today)
    timings: dict[str, float] = {}
    stages = drafted(q, searcher, settings, timings)
    for piece in composer_for(settings).stream(stages, searcher, settings, timings):
        yield piece if isinstance(piece, str) else finish(piece, q, began, timings)


def drafted(q: Question, searcher: Searcher, settings: Settings, timings: dict[str, float]) -> Draft:
    """`draft(q)`, or the draft made for the same reading of a question today in this generation (kept in
    `searcher.drafts`, bounded by `Settings.draft_cache`): every stage after reading is a function of the
    question as read, the generation and the date, so a repeated question gets the very same answer."""
    if searcher.drafts is None:
        return draft(q, searcher, settings, timings)
    made: list[bool] = []

    def make() -> Draft:
        made.append(True)
        return draft(q, searcher, settings, timings)

    began = time.perf_counter()
    held = searcher.drafts.get(("draft", q, date.today()), make)
    if not made:
        timings["draft_cached_ms"] = (time.perf_counter() - began) * 1000
    return held


def draft(q: Question, searcher: Searcher, settings: Settings, timings: dict[str, float]) -> Draft:
    """The stages after reading, up to the verified extractive answer (or an abstention)."""
    stop = gate(q, searcher)
    if stop is not None:
        return Draft(q, (), abstained(stop, q))
    evidence = retrieve(q, searcher, settings, timings)
    stop = gate_evidence(q, evidence, searcher, settings)
    if stop is not None:
        return Draft(q, evidence.hits, abstained(stop, q))
    began = time.perf_counter()
    planned = plan(q, evidence, searcher, settings, timings)
    cited = cite(planned, q, searcher, settings)
    timings["compose_ms"] = (time.perf_counter() - began) * 1000
    hits: tuple[Hit, ...] = (
        (*planned.candidates, *cited.quoted) if planned.kind == "comparison" else planned.candidates
    )
    if planned.kind != "comparison":
        stop = gate_citations(q, cited.citations)
        if stop is not None:
            return Draft(q, hits, abstained(stop, q))
    # A change answer quotes older versions on purpose: they are not "the version in force" at the period's end.
    composed = replace(q, as_of=None) if planned.kind == "change" else q
    return Draft(q, hits, compose(composed, planned, cited))


def finish(answer: Answer, q: Question, began: float, timings: dict[str, float]) -> Answer:
    timings["total_ms"] = (time.perf_counter() - began) * 1000
    return replace(
        answer,
        question=q.text,
        services=q.services,
        as_of=q.as_of,
        standalone=q.standalone if q.standalone != q.text else "",
        timings_ms={k: round(v, 2) for k, v in timings.items()},
    )


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
    q = read(query, settings, searcher, service=service, as_of=as_of)
    return searcher.retrieve(
        q.topic, services=q.services, as_of=q.as_of, region=q.region, k=k or settings.k, language=q.language
    )
