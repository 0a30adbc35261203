"""Generative answers through LangChain chat models, verified against the clauses before anyone relies on them.

`ask()` calls `compose_with_llm` (and `ask_stream()` calls `stream_with_llm`) with the draft the extractive
composer made: the retrieved hits and the verified extractive answer. The model gets only the top hits,
numbered and fenced (`bot/prompts.py`); its answer is checked in code (`bot/verify.py`); whatever fails —
no model installed or configured, a timeout, a refused connection, an unreadable reply, an invented
quotation, no valid citation — gives the extractive answer with a note saying why. The user always gets an
answer, never a traceback.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

from ..errors import PolicybotError, UnverifiedExcerpt
from ..retrieve.lexical import expand_query
from ..types import Answer, Citation, Draft, Hit
from .abstain import possessive, services_sentence
from .citations import make_citation
from .compose import citation_notes, stream_lines
from .prompts import MAX_CLAUSES, Source, answer_inputs, answer_prompt, condense_inputs, condense_prompt
from .verify import StreamRewriter, strip_reasoning, verify_answer

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.runnables import Runnable

    from ..retrieve.searcher import Searcher
    from ..settings import Settings

log = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 6000
"""A reply longer than this is not the few sentences asked for: treated as malformed."""
MAX_HISTORY = 6
"""Earlier questions shown to the model when it rewrites a follow-up."""

NOTE_WORDED = (
    "Written by a language model from the cited clauses: its citations and quotations were checked against "
    "the stored documents, its wording was not. Read the cited clauses."
)
FALLBACK = "so this answer quotes the clauses directly"
NOTE_BAD_QUOTE = f"The language model quoted words that are not in the clause it cited; its answer was set aside, {FALLBACK}."
NOTE_UNCITED = (
    f"The language model's answer cited none of the clauses it was given; it was set aside, {FALLBACK}."
)
NOTE_MALFORMED = f"The language model's reply could not be read, {FALLBACK}."


class LLMUnavailable(PolicybotError):
    """The configured language model cannot be used: its package is missing or a setting is."""


# --- the models and chains ------------------------------------------------------------------------------


def chat_model(settings: Settings) -> BaseChatModel:
    """The LangChain chat model the settings name, at temperature 0."""
    if not settings.llm_model:
        raise LLMUnavailable(
            "no model is set: set POLICYBOT_LLM_MODEL (e.g. llama3.1:8b for Ollama), or POLICYBOT_COMPOSER=extractive"
        )
    try:
        if settings.llm_provider == "ollama":
            from langchain_ollama import ChatOllama

            return ChatOllama(
                model=settings.llm_model,
                base_url=settings.llm_base_url or None,
                temperature=0,
                client_kwargs={"timeout": settings.llm_timeout},
            )
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise LLMUnavailable(
            f"{exc.name or 'the language model client'} is not installed: pip install 'policybot[llm]'"
        ) from exc
    from pydantic import SecretStr

    key = settings.llm_api_key if settings.llm_api_key.get_secret_value() else None
    if key is None and settings.llm_base_url:
        key = SecretStr("unused")  # a local server (llama.cpp, vLLM) ignores it; the client insists on one
    try:
        return ChatOpenAI(
            model=settings.llm_model,
            base_url=settings.llm_base_url or None,
            api_key=key,  # None: the client reads OPENAI_API_KEY
            temperature=0,
            timeout=settings.llm_timeout,
            max_retries=0,  # the extractive answer is the retry: a user should not wait three timeouts
        )
    except Exception as exc:  # the OpenAI client refuses to start without a key
        raise LLMUnavailable(
            f"cannot set up the OpenAI-compatible model {settings.llm_model!r}: {exc}; "
            "set POLICYBOT_LLM_API_KEY, or POLICYBOT_LLM_BASE_URL for a local server"
        ) from exc


@lru_cache(maxsize=8)
def answer_chain(settings: Settings) -> Runnable[dict[str, str], str]:
    """prompt | model | text, built once per settings."""
    from langchain_core.output_parsers import StrOutputParser

    return answer_prompt() | chat_model(settings) | StrOutputParser()


@lru_cache(maxsize=8)
def condense_chain(settings: Settings) -> Runnable[dict[str, str], str]:
    from langchain_core.output_parsers import StrOutputParser

    return condense_prompt() | chat_model(settings) | StrOutputParser()


# --- follow-up questions ----------------------------------------------------------------------------------

_REWRITE_LABEL = re.compile(
    r"^(?:(?:here\s+is\s+)?(?:the\s+)?(?:stand-?\s?alone|rewritten)?\s*question\s*:\s*)", re.IGNORECASE
)
_TAG = re.compile(r"</?\s*questions?\s*>", re.IGNORECASE)


def condense_question(question: str, history: Sequence[str], settings: Settings) -> str | None:
    """A stand-alone rewrite of a follow-up, or None to keep the rule-based reading (also when the model
    fails or replies with something that is not one question)."""
    if not history:
        return None
    try:
        raw = condense_chain(settings).invoke(condense_inputs(question, list(history)[-MAX_HISTORY:]))
    except Exception as exc:  # any failure of the model keeps the rule-based reading
        log.warning("could not rewrite the follow-up (%s: %s); reading it by rule", type(exc).__name__, exc)
        return None
    return clean_rewrite(raw, settings.max_question_chars)


def clean_rewrite(raw: object, max_chars: int) -> str | None:
    """The model's rewritten question: its first line, without a label, tags or wrapping quotes."""
    if not isinstance(raw, str):
        return None
    lines = [line.strip() for line in _TAG.sub("", strip_reasoning(raw)).splitlines() if line.strip()]
    if not lines:
        return None
    text = _REWRITE_LABEL.sub("", lines[0]).strip().strip("\"“”'").strip()
    text = " ".join(text.split())
    if not re.search(r"\w", text) or len(text) > max_chars:
        return None
    return text


# --- answers ------------------------------------------------------------------------------------------------


def compose_with_llm(
    draft: Draft, searcher: Searcher, settings: Settings, timings: dict[str, float]
) -> Answer:
    """The model's answer to the draft's question, verified; the extractive answer, with a note, when the
    model cannot be used or its answer fails a check."""
    sources = supply_sources(draft, searcher)
    if not sources:
        return draft.answer
    began = time.perf_counter()
    try:
        raw = answer_chain(settings).invoke(_inputs(draft, sources))
    except Exception as exc:  # timeouts, refused connections, server errors: the user still gets an answer
        return fall_back(draft, _unavailable_note(exc, settings))
    finally:
        timings["llm_ms"] = (time.perf_counter() - began) * 1000
    return finish(draft, raw, sources, searcher, settings, timings)


def stream_with_llm(
    draft: Draft, searcher: Searcher, settings: Settings, timings: dict[str, float]
) -> Iterator[str | Answer]:
    """Text pieces as the model writes them (markers already renumbered), then the verified Answer.

    The final Answer is authoritative: when verification changed the text (an uncited quotation got its
    marker, or the answer was set aside for the extractive one), its `text` differs from the pieces
    joined, and an interface replaces what it showed with `Answer.text`. When nothing was shown before the
    fallback, the fallback text itself is streamed line by line, as `ask_stream` does."""
    sources = supply_sources(draft, searcher)
    if not sources:
        yield from stream_lines(draft.answer)
        return
    rewriter = StreamRewriter([s.n for s in sources])
    shown: list[str] = []
    began = time.perf_counter()
    answer: Answer | None = None
    try:
        for piece in answer_chain(settings).stream(_inputs(draft, sources)):
            if not isinstance(piece, str):
                raise TypeError(f"the model streamed {type(piece).__name__}, not text")
            out = rewriter.feed(piece)
            if out:
                shown.append(out)
                yield out
        out = rewriter.close()
        if out:
            shown.append(out)
            yield out
    except Exception as exc:  # as in compose_with_llm; what was shown is replaced by the final text
        answer = fall_back(draft, _unavailable_note(exc, settings))
    timings["llm_ms"] = (time.perf_counter() - began) * 1000
    if answer is None:
        answer = finish(draft, "".join(rewriter.raw), sources, searcher, settings, timings)
    if not shown and answer.text:
        yield from stream_lines(answer)
        return
    yield answer


def supply_sources(draft: Draft, searcher: Searcher, limit: int = MAX_CLAUSES) -> list[Source]:
    """The clauses the model is given, numbered 1..n in rank order: those the extractive answer quotes
    (one per platform the question names) first in the choice, then the best other hits. A hit whose text
    is not verbatim in its stored version is left out, so every number the model sees can be cited."""
    quoted = {(c.provenance.version_id, c.clause_start) for c in draft.answer.citations}
    first = [h for h in draft.hits if h.clause_key in quoted]
    chosen = {h.chunk_id for h in (first + [h for h in draft.hits if h.clause_key not in quoted])[:limit]}
    sources: list[Source] = []
    for hit in draft.hits:
        if hit.chunk_id not in chosen:
            continue
        stored = searcher.text(hit.provenance.text_sha256)
        if stored is None or stored[hit.start : hit.end] != hit.text:
            log.warning("left out a clause that is not verbatim in its stored version: %s", hit.chunk_id)
            continue
        sources.append(
            Source(
                n=len(sources) + 1,
                hit=hit,
                clause=stored[hit.clause_start : hit.clause_end],
                newer_version=_newer_version(searcher, hit),
            )
        )
    return sources


def _newer_version(searcher: Searcher, hit: Hit) -> str:
    latest = searcher.document_of(hit.provenance.version_id).latest.provenance
    return latest.date_label if latest.version_id != hit.provenance.version_id else ""


def _inputs(draft: Draft, sources: Sequence[Source]) -> dict[str, str]:
    q = draft.question
    return answer_inputs(q.standalone or q.text, sources, as_of=q.as_of, missing=q.unknown_services)


def finish(
    draft: Draft,
    raw: object,
    sources: Sequence[Source],
    searcher: Searcher,
    settings: Settings,
    timings: dict[str, float],
) -> Answer:
    """Verify the model's reply and build the Answer citing only what it cites, renumbered 1..m."""
    began = time.perf_counter()
    try:
        return _verified_answer(draft, raw, sources, searcher, settings)
    finally:
        timings["verify_ms"] = (time.perf_counter() - began) * 1000


def _verified_answer(
    draft: Draft, raw: object, sources: Sequence[Source], searcher: Searcher, settings: Settings
) -> Answer:
    if not isinstance(raw, str):
        log.warning("the model replied with %s, not text", type(raw).__name__)
        return fall_back(draft, NOTE_MALFORMED)
    text = strip_reasoning(raw).strip()
    if not text or len(text) > MAX_ANSWER_CHARS:
        log.warning("the model's reply is empty or too long (%d characters)", len(text))
        return fall_back(draft, NOTE_MALFORMED)
    q = draft.question
    checked = verify_answer(text, {s.n: s.clause for s in sources}, question=q.standalone or q.text)
    if checked.unknown:
        log.info("removed citation numbers that name no clause: %s", checked.unknown)
    if checked.bad_quotes:
        log.warning("the model's answer has quotations not in the clauses: %s", checked.bad_quotes)
        return fall_back(draft, NOTE_BAD_QUOTE)
    if not checked.cited:
        return fall_back(draft, NOTE_UNCITED)
    by_number = {s.n: s for s in sources}
    citations: list[Citation] = []
    for m, (n, claim) in enumerate(zip(checked.cited, checked.claims, strict=True), start=1):
        source = by_number[n]
        try:
            citations.append(
                make_citation(
                    m,
                    source.hit,
                    # The sentences citing the clause pick the excerpt shown, so it is the part they use.
                    list(dict.fromkeys(expand_query(f"{q.topic} {claim}"))),
                    searcher.text,
                    max_chars=settings.max_excerpt_chars,
                    newer_version=source.newer_version,
                )
            )
        except UnverifiedExcerpt as exc:  # the stored text changed since the clauses were supplied
            log.warning("could not verify a cited clause: %s", exc)
            return fall_back(draft, NOTE_UNCITED)
    notes = citation_notes(citations, q.as_of)
    if q.unknown_services:
        notes.insert(0, f"I don't have {possessive(services_sentence(list(q.unknown_services)))} terms.")
    notes.append(NOTE_WORDED)
    return Answer(
        question=q.text,
        text=checked.text,
        abstained=False,
        citations=tuple(citations),
        services=q.services,
        as_of=q.as_of,
        notes=tuple(notes),
    )


def fall_back(draft: Draft, note: str) -> Answer:
    """The extractive answer, with a note saying why the model's answer is not shown."""
    return replace(draft.answer, notes=(note, *draft.answer.notes))


def _unavailable_note(exc: BaseException, settings: Settings) -> str:
    """Why the model could not answer, in words for the user; the details go to the log."""
    names = [cls.__name__ for cls in type(exc).__mro__]
    if isinstance(exc, LLMUnavailable):
        why = "it is not set up"
    elif isinstance(exc, TimeoutError) or any("Timeout" in name for name in names):
        why = f"it did not answer within {settings.llm_timeout:g} s"
    elif isinstance(exc, ConnectionError) or any("Connect" in name for name in names):
        why = "it could not be reached"
    else:
        why = "it failed"
    log.warning(
        "language model %r failed (%s: %s); answering extractively", settings.llm_model, names[0], exc
    )
    return f"The language model could not answer ({why}), {FALLBACK}."


def chains_cache_clear() -> None:
    """Forget the built chains (after settings or the model factory change, e.g. in tests)."""
    answer_chain.cache_clear()
    condense_chain.cache_clear()


class LLMComposer:
    """The answer worded by a language model through LangChain, checked against the clauses it was given;
    an abstention stays as the stages made it (there is nothing to word)."""

    def compose(
        self, draft: Draft, searcher: Searcher, settings: Settings, timings: dict[str, float]
    ) -> Answer:
        if draft.answer.abstained:
            return draft.answer
        return compose_with_llm(draft, searcher, settings, timings)

    def stream(
        self, draft: Draft, searcher: Searcher, settings: Settings, timings: dict[str, float]
    ) -> Iterator[str | Answer]:
        if draft.answer.abstained:
            yield from stream_lines(draft.answer)
            return
        yield from stream_with_llm(draft, searcher, settings, timings)
