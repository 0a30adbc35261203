"""Generative answers through LangChain chat models, verified against the clauses (placeholder).

Until the LLM composer lands, `composer = "llm"` behaves like the extractive composer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .ask import Draft
    from .retrieval import Searcher
    from .settings import Settings
    from .types import Answer


def condense_question(question: str, history: Sequence[str], settings: Settings) -> str | None:
    """A stand-alone rewrite of a follow-up, or None to keep the rule-based reading."""
    return None


def compose_with_llm(
    draft: Draft, searcher: Searcher, settings: Settings, timings: dict[str, float]
) -> Answer:
    return draft.answer


def stream_with_llm(
    draft: Draft, searcher: Searcher, settings: Settings, timings: dict[str, float]
) -> Iterator[str | Answer]:
    yield draft.answer.text
    yield draft.answer
