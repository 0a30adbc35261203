"""Kinds of platform a question names ("AI image generators", "streaming services"), from
bot/data/categories.toml, so that a comparison covers only the platforms of that kind."""

from __future__ import annotations

import re
from functools import cache

from pydantic import field_validator

from ..data import Data, load


class _Category(Data):
    phrases: tuple[str, ...]

    @field_validator("phrases")
    @classmethod
    def _some(cls, phrases: tuple[str, ...]) -> tuple[str, ...]:
        if not phrases or any(not p.strip() for p in phrases):
            raise ValueError("each category needs at least one non-empty phrase")
        return tuple(p.strip().casefold() for p in phrases)


class _Categories(Data):
    categories: dict[str, _Category]


_ASKING = (
    r"\b(?:which|what|any|all|every|quelles?|quels?)\s+(?:(?:of\s+)?the\s+|des\s+|les\s+)?(?:[\w-]+\s+){0,2}?"
)


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    data = load("categories.toml", _Categories)
    found = []
    for name, entry in data.categories.items():
        # Longest phrases first, so "ai music generators" is read before "music generators".
        phrases = sorted(entry.phrases, key=len, reverse=True)
        alternatives = "|".join(map(re.escape, phrases))
        # Only as what the question ranges over: "which AI image generators …", "do any streaming services …",
        # not "can I share my SoundCloud track on social media?".
        found.append((name, re.compile(_ASKING + r"(?:" + alternatives + r")(?!\w)", re.I)))
    return tuple(found)


def category_ids() -> tuple[str, ...]:
    return tuple(name for name, _ in _patterns())


def named_categories(text: str) -> tuple[str, ...]:
    """The kinds of platform `text` asks across ("which AI image generators …"), in the file's order; ()
    when it asks across none."""
    return tuple(name for name, pattern in _patterns() if pattern.search(text))
