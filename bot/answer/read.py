"""Stage 1, read: the question as policybot understands it (platforms, date, region, topic, follow-up context),
with the caller's platform and date applied."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from ..errors import BadQuestion
from ..retrieve.question import clean_question, read_question
from ..retrieve.searcher import Searcher
from ..settings import Settings
from ..types import Question
from .abstain import services_sentence


def read(
    question: str,
    settings: Settings,
    searcher: Searcher,
    *,
    service: Sequence[str] | str | None = None,
    as_of: date | None = None,
    history: Sequence[str] = (),
    today: date | None = None,
) -> Question:
    """Clean and read a question (with the conversation so far), then apply the caller's platform and date.

    `today` is what relative dates ("last year") count from: the real date unless a caller (the evaluation,
    replaying questions written on a given day) says otherwise. Raises BadQuestion for a question that
    cannot be read (empty, too long, not text) or an unknown `service`.
    """
    today = today or date.today()
    text = clean_question(question, settings.max_question_chars)
    earlier = [h for h in (_clean_history(h, settings) for h in history) if h]
    q = read_question(text, searcher.services, today=today, history=earlier)
    if earlier and settings.composer == "llm" and not (q.instruction or q.task):
        from .llm import condense_question  # a language model rewrites the follow-up; None when it fails

        rewritten = condense_question(text, earlier, settings)
        if rewritten:
            standalone = read_question(rewritten, searcher.services, today=today)
            q = replace(standalone, text=text, standalone=rewritten)
    forced = resolve_services(searcher, [service] if isinstance(service, str) else list(service or ()))
    if forced:
        q = replace(q, services=forced, unknown_services=())
    if as_of is not None:
        q = replace(q, as_of=as_of, then_and_now=False, earliest=False)
    elif q.earliest and q.services:
        q = replace(q, as_of=_earliest(searcher, q.services))
    return q


def _earliest(searcher: Searcher, services: Sequence[str]) -> date | None:
    """The date of the oldest version held of the named platforms' binding terms (else of any document)."""
    docs = [d for d in searcher.documents if d.service in services]
    binding = [d for d in docs if d.kind == "terms"] or docs
    return min((d.versions[0].provenance.version_date for d in binding), default=None)


def resolve_services(searcher: Searcher, names: Sequence[str]) -> tuple[str, ...]:
    """Canonical platform names for `--service` values (any case, any alias); BadQuestion for an unknown one."""
    from ..retrieve.platforms import find_services

    resolved: list[str] = []
    for name in names:
        known, _ = find_services(name, searcher.services)
        exact = [s for s in searcher.services if s.casefold() == name.strip().casefold()]
        match = exact[0] if exact else (known[0].name if known else None)
        if match is None:
            raise BadQuestion(
                f"unknown platform {name!r}; the index has {services_sentence(list(searcher.services))}"
            )
        resolved.append(match)
    return tuple(dict.fromkeys(resolved))


def _clean_history(entry: object, settings: Settings) -> str:
    try:
        return clean_question(entry, settings.max_question_chars)
    except BadQuestion:
        return ""
