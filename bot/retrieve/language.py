"""Which language a question is written in, and its words in the other language (bot/data/bilingual.toml), so
that keyword search finds French clauses for an English question and English clauses for a French one."""

from __future__ import annotations

import re
from functools import cache

from ..data import Data, load

LANGUAGES = ("en", "fr")
"""The languages the corpus is written in, each with its own stemmer and stop words."""

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


class _Bilingual(Data):
    markers: dict[str, frozenset[str]]
    """Function words that tell a language."""
    en_fr: dict[str, tuple[str, ...]]


@cache
def _data() -> _Bilingual:
    return load("bilingual.toml", _Bilingual)


def question_language(text: str) -> str:
    """ "fr" when more of the question's function words are French than English, else "en"."""
    words = [w.casefold() for w in _WORD.findall(text.replace("’", "'"))]
    markers = _data().markers
    french = sum(w in markers.get("fr", frozenset()) for w in words)
    english = sum(w in markers.get("en", frozenset()) for w in words)
    return "fr" if french >= 2 and french > english else "en"


@cache
def _fr_en() -> dict[str, tuple[str, ...]]:
    # Only one-word French entries read back: "sans" of "sans perte" is not "lossless".
    reverse: dict[str, list[str]] = {}
    for english, french in _data().en_fr.items():
        for phrase in french:
            words = _WORD.findall(phrase.casefold())
            if len(words) == 1:
                reverse.setdefault(words[0], []).append(english)
    return {k: tuple(dict.fromkeys(v)) for k, v in reverse.items()}


def translate(words: list[str], source: str, target: str) -> list[str]:
    """The glossary's words in `target` for `words` (lower case) written in `source`; [] for the same language."""
    if source == target:
        return []
    table = (
        _data().en_fr
        if (source, target) == ("en", "fr")
        else _fr_en()
        if (source, target) == ("fr", "en")
        else {}
    )
    found: list[str] = []
    for word in words:
        for phrase in table.get(word, ()):
            found.extend(_WORD.findall(phrase.casefold()))
    return found
