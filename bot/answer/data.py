"""What composing an answer knows, from bot/data/answer.toml: which titles take "say", questions about the
artist's own contract, questions only a figure answers and what counts as one, and questions about change."""

from __future__ import annotations

import re
from functools import cache

from ..data import Data, Pattern, load


class _Answering(Data):
    plural_title: Pattern
    contract: Pattern
    figure_question: Pattern
    figure: Pattern
    change: Pattern
    change_words: Pattern
    change_search: str


@cache
def _data() -> _Answering:
    return load("answer.toml", _Answering)


@cache
def pattern(name: str) -> re.Pattern[str]:
    """One of the file's patterns, compiled case-insensitively: plural_title, contract, figure_question,
    figure, change or change_words."""
    value = getattr(_data(), name)
    if name == "change_search" or not isinstance(value, str):
        raise KeyError(name)
    return re.compile(value, re.I)


def change_search_words() -> str:
    """Added to the search for a change question: documents' own change logs use these words."""
    return _data().change_search
