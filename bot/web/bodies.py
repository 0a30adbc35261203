"""The JSON bodies the API accepts, and the limits they share with the chat page. (What it answers is
`bot.answer.schema`: AnswerOut, SearchOut.)"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_FEEDBACK_QUESTION = 4000
MAX_FEEDBACK_ANSWER = 20_000
MAX_COMMENT = 2000
MAX_CITATIONS = 20
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def encodable(text: str) -> bool:
    """Whether `text` can be sent as UTF-8: JSON lets a client write a lone surrogate (`"\\ud800"`), which is
    not a character, and would fail later, in the middle of the answer."""
    return _SURROGATE.search(text) is None


def _check_text(value: Any) -> Any:
    texts = value if isinstance(value, list) else [value]
    for text in texts:
        if isinstance(text, str) and not encodable(text):
            code = ord(_SURROGATE.search(text).group())  # type: ignore[union-attr]
            raise ValueError(
                f"the text holds \\u{code:04x}, half of a UTF-16 pair, which is not a character; send UTF-8 text"
            )
    return value


class _Body(BaseModel):
    @field_validator("*", mode="after")
    @classmethod
    def _text_only(cls, value: Any) -> Any:
        return _check_text(value)


class AskRequest(_Body):
    """A question, with the conversation so far."""

    question: str = Field(
        description="The artist's question.", examples=["Can SoundCloud train AI on my tracks?"]
    )
    history: list[str] = Field(
        default_factory=list,
        description="The user's earlier questions in this conversation, oldest first; a follow-up such as "
        "“and Bandcamp?” is read against them. Only the last `max_history` are read.",
    )
    service: str | list[str] | None = Field(
        default=None,
        description="Only these platforms (any case). Default: the platforms the question names.",
    )
    as_of: date | None = Field(
        default=None,
        description="Answer from the versions in force on this date (YYYY-MM-DD). Default: latest.",
    )


class SearchRequest(_Body):
    """A retrieval-only query."""

    query: str = Field(description="What to look for.", examples=["opt out of AI training"])
    k: int | None = Field(default=None, ge=1, le=50, description="How many clauses (default 5).")
    service: str | list[str] | None = None
    as_of: date | None = None


class FeedbackRequest(_Body):
    """A thumbs up or down on one answer, with an optional comment."""

    model_config = ConfigDict(str_max_length=MAX_FEEDBACK_ANSWER)

    rating: Literal["up", "down"]
    question: str = Field(
        min_length=1, max_length=MAX_FEEDBACK_QUESTION, description="The question that was answered."
    )
    answer: str = Field(default="", description="The answer text that was rated.")
    comment: str = Field(default="", max_length=MAX_COMMENT)
    citations: list[str] = Field(
        default_factory=list,
        max_length=MAX_CITATIONS,
        description="What the answer cited, e.g. `version_id:start-end` per citation.",
    )
    source: Literal["chat", "widget", "api"] = "api"


class ErrorOut(BaseModel):
    error: str = Field(description="What was wrong and what to do.")
