"""Spotting platforms in a question: names, aliases, one-typo spellings, and platforms the corpus lacks."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..data import Data, load
from ..ingest.catalog import Catalog, fold, load_catalog


class _OtherPlatform(Data):
    name: str
    spellings: tuple[str, ...]


class _Platforms(Data):
    common_words: frozenset[str]
    """Words one typo away from a platform name that must never be read as one."""
    other: tuple[_OtherPlatform, ...]
    """Platforms artists ask about that the corpus may not hold: naming one gets "I don't have its terms"."""


def _platforms() -> _Platforms:
    return load("platforms.toml", _Platforms)


_WORD = re.compile(r"[a-z0-9][a-z0-9.+&'-]*[a-z0-9+]|[a-z0-9]")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold().replace("’", "'"))


def _alias_forms(name: str, aliases: Iterable[str]) -> set[str]:
    forms = {fold(name), fold(name).replace(" ", "")}
    for alias in aliases:
        forms.add(fold(alias))
    return {f for f in forms if f}


@dataclass(frozen=True, slots=True)
class ServiceMention:
    name: str
    text: str
    """The words of the question that named it."""


def find_services(
    text: str,
    available: Iterable[str],
    catalog: Catalog | None = None,
) -> tuple[list[ServiceMention], list[ServiceMention]]:
    """Platforms named in `text`: (those in the corpus, those it lacks), in order of mention.

    Matches names and aliases case-insensitively, as one or two words ("sound cloud"), and tolerates a
    typo in names of six letters or more ("soundclod", "spotfy").
    """
    catalog = catalog or load_catalog()
    words = _words(text)
    # Longest phrases first, so "apple music" is one mention, not also "apple".
    grams = [
        (i, size, " ".join(words[i : i + size])) for size in (3, 2, 1) for i in range(len(words) - size + 1)
    ]
    covered: set[int] = set()
    available_names = list(dict.fromkeys(catalog.canonical_name(n) for n in available))
    # (name, spellings, in corpus, typos tolerated): only the catalog's platforms are matched with a typo, so
    # that everyday words ("artists") are never read as a lesser-known platform ("Artlist").
    candidates: list[tuple[str, set[str], bool, bool]] = []
    for name in available_names:
        info = catalog.service(name)
        aliases = (*info.aliases, *info.ota_names) if info else ()
        candidates.append((name, _alias_forms(name, aliases), True, True))
    taken = {fold(n) for n in available_names}
    for info in catalog.services:
        if fold(info.name) not in taken:
            candidates.append(
                (info.name, _alias_forms(info.name, (*info.aliases, *info.ota_names)), False, True)
            )
            taken.add(fold(info.name))
    for other in _platforms().other:
        name, aliases = other.name, other.spellings
        if fold(name) not in taken:
            # Only the listed spellings: some of these names are everyday words ("kick", "believe", "genius").
            candidates.append((name, {fold(a) for a in aliases}, False, False))
    found: dict[str, tuple[int, ServiceMention, bool]] = {}
    for position, size, gram in grams:
        if covered.intersection(range(position, position + size)):
            continue
        for name, forms, in_corpus, _ in candidates:
            if name not in found and gram in forms:
                found[name] = (position, ServiceMention(name, gram), in_corpus)
                covered.update(range(position, position + size))
                break
    for position, size, gram in grams:
        if (
            size > 2
            or covered.intersection(range(position, position + size))
            or gram in _platforms().common_words
        ):
            continue
        for name, forms, in_corpus, typos in candidates:
            if name in found or not typos:
                continue
            if any(_close(gram, f) for f in forms if (" " in f) == (size == 2)):
                found[name] = (position, ServiceMention(name, gram), in_corpus)
                covered.update(range(position, position + size))
                break
    ordered = sorted(found.values(), key=lambda item: item[0])
    known = [mention for _, mention, in_corpus in ordered if in_corpus]
    unknown = [mention for _, mention, in_corpus in ordered if not in_corpus]
    return known, unknown


def _close(word: str, form: str) -> bool:
    """One typo away: "soundclod", "spotfy", "twich", "qubuz", "amazon musik". Short names need their
    first and last letters right, so that everyday words stay words."""
    if len(form) < 5 or len(word) < 5 or abs(len(word) - len(form)) > 2 or word[0] != form[0]:
        return False
    ratio = difflib.SequenceMatcher(None, word, form).ratio()
    if len(form) < 7:
        return word[-1] == form[-1] and ratio >= 0.8
    return ratio >= 0.84
