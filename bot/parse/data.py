"""What parsing knows about documents, from bot/data/parse.toml: abbreviations that do not end a sentence,
and the opening words of what a captured web page adds around the terms."""

from __future__ import annotations

import re
from functools import cache

from ..data import Data, Pattern, load


class _Parsing(Data):
    abbreviations: frozenset[str]
    page_chrome: Pattern


@cache
def abbreviations() -> frozenset[str]:
    """Words after which a full stop does not end a sentence ("e.g", "inc", "u.s"), lower-case, no final dot."""
    return load("parse.toml", _Parsing).abbreviations


@cache
def page_chrome() -> re.Pattern[str]:
    """The start of a block a captured web page adds ("JavaScript is disabled", cookie banners): not a clause."""
    return re.compile(load("parse.toml", _Parsing).page_chrome, re.I)
