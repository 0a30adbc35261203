"""Plain meanings of the legal words that worry artists (bot/data/glossary.toml), attached to answers whose
excerpts use them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from ..data import Data, Pattern, load


class _Term(Data):
    term: str
    meaning: str
    """One plain sentence."""
    form: Pattern
    """How terms write the word ("sub-licensable", "indemnification", "class actions")."""


class _Glossary(Data):
    terms: tuple[_Term, ...]


@cache
def _patterns() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    entries = load("glossary.toml", _Glossary).terms
    return tuple((t.term, t.meaning, re.compile(rf"\b(?:{t.form})\b", re.I)) for t in entries)


def glossary_for(texts: Iterable[str]) -> list[tuple[str, str]]:
    """(term, plain meaning) for each glossary word the texts use, in glossary order."""
    joined = "\n".join(texts)
    return [(term, meaning) for term, meaning, pattern in _patterns() if pattern.search(joined)]
