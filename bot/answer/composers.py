"""Who writes the answer shown: the extractive composer (the draft's own verified text) or a language model
(`bot/answer/llm.py`), behind one `Composer` protocol."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from ..types import Answer, Draft
from .compose import stream_lines

if TYPE_CHECKING:
    from ..retrieve.searcher import Searcher
    from ..settings import Settings


class Composer(Protocol):
    """Turns the stages' draft into the answer shown: whole (`compose`) or as it comes (`stream`: text
    pieces, then the final Answer, whose text is authoritative)."""

    def compose(
        self, draft: Draft, searcher: Searcher, settings: Settings, timings: dict[str, float]
    ) -> Answer: ...

    def stream(
        self, draft: Draft, searcher: Searcher, settings: Settings, timings: dict[str, float]
    ) -> Iterator[str | Answer]: ...


class ExtractiveComposer:
    """The draft's own verified answer; streamed line by line, the pieces joined are exactly its text."""

    def compose(
        self, draft: Draft, searcher: Searcher, settings: Settings, timings: dict[str, float]
    ) -> Answer:
        return draft.answer

    def stream(
        self, draft: Draft, searcher: Searcher, settings: Settings, timings: dict[str, float]
    ) -> Iterator[str | Answer]:
        yield from stream_lines(draft.answer)


def composer_for(settings: Settings) -> Composer:
    if settings.composer == "llm":
        from .llm import LLMComposer

        return LLMComposer()
    return ExtractiveComposer()
