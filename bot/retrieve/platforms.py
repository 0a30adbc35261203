"""Spotting platforms in a question: names, aliases, one-typo spellings, and platforms the corpus lacks."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
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
    everyday_names: frozenset[str]
    """Names that are also everyday words: read as the platform only when capitalised or beside a cue."""
    cues_before: frozenset[str]
    cues_after: frozenset[str]
    not_after_aux: frozenset[str]


def _platforms() -> _Platforms:
    return load("platforms.toml", _Platforms)


_WORD = re.compile(r"[a-z0-9][a-z0-9.+&'-]*[a-z0-9+]|[a-z0-9]", re.I)
_AUXILIARIES = frozenset({"does", "did", "will", "would", "could", "can", "may", "is", "has"})


@dataclass(frozen=True, slots=True)
class _Word:
    folded: str
    """Lower case, a possessive "'s" removed: what names are matched against."""
    written: str
    """As the question writes it."""
    possessive: bool


def _words(text: str) -> list[_Word]:
    words = []
    for raw in _WORD.findall(text.replace("’", "'")):
        folded = raw.casefold()
        possessive = folded.endswith("'s") and len(folded) > 2
        words.append(
            _Word(folded[:-2] if possessive else folded, raw[:-2] if possessive else raw, possessive)
        )
    return words


def _reads_as_platform(words: Sequence[_Word], position: int, size: int, name: str) -> bool:
    """Whether a one-word mention that is also an everyday word ("kick", "threads", "x") names the platform:
    capitalised as the name is and not opening the question, possessive, or beside a cue word."""
    data = _platforms()
    word = words[position]
    if size > 1 or word.folded not in data.everyday_names:
        return True
    if word.possessive or (position > 0 and word.written[:1].isupper() and word.written[:1] == name[:1]):
        return True
    after = words[position + 1].folded if position + 1 < len(words) else ""
    before = words[position - 1].folded if position > 0 else ""
    if after in data.cues_after:
        return True
    if before in _AUXILIARIES:
        return bool(after) and after not in data.not_after_aux
    return before in data.cues_before


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


_Candidate = tuple[str, set[str], bool, bool]
"""(name, spellings, in corpus, typos tolerated)."""


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
        (i, size, " ".join(w.folded for w in words[i : i + size]))
        for size in (3, 2, 1)
        for i in range(len(words) - size + 1)
    ]
    candidates = _candidates(available, catalog)
    covered: set[int] = set()
    found: dict[str, tuple[int, ServiceMention, bool]] = {}
    for position, size, gram in grams:
        if covered.intersection(range(position, position + size)):
            continue
        for name, forms, in_corpus, _ in candidates:
            if name not in found and gram in forms and _reads_as_platform(words, position, size, name):
                found[name] = (position, ServiceMention(name, gram), in_corpus)
                covered.update(range(position, position + size))
                break
    _match_typos(grams, candidates, covered, found)
    ordered = sorted(found.values(), key=lambda item: item[0])
    known = [mention for _, mention, in_corpus in ordered if in_corpus]
    unknown = [mention for _, mention, in_corpus in ordered if not in_corpus]
    return known, unknown


_made: dict[tuple[int, tuple[str, ...]], tuple[Catalog, list[_Candidate]]] = {}


def _candidates(available: Iterable[str], catalog: Catalog) -> list[_Candidate]:
    """Every platform a question may name: only the catalog's platforms are matched with a typo, so that
    everyday words ("artists") are never read as a lesser-known platform ("Artlist"). Made once per catalog
    and list of indexed platforms (the same for every question a generation answers)."""
    key = (id(catalog), tuple(available))
    held = _made.get(key)
    if held is not None and held[0] is catalog:
        return held[1]
    made = _make_candidates(key[1], catalog)
    if len(_made) > 16:
        _made.clear()
    _made[key] = (catalog, made)
    return made


def _make_candidates(available: Iterable[str], catalog: Catalog) -> list[_Candidate]:
    available_names = list(dict.fromkeys(catalog.canonical_name(n) for n in available))
    candidates: list[_Candidate] = []
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
        if fold(other.name) not in taken:
            # Only the listed spellings: some of these names are everyday words ("kick", "believe", "genius").
            candidates.append((other.name, {fold(a) for a in other.spellings}, False, False))
    return candidates


def _match_typos(
    grams: list[tuple[int, int, str]],
    candidates: list[_Candidate],
    covered: set[int],
    found: dict[str, tuple[int, ServiceMention, bool]],
) -> None:
    """Adds the platforms named with one typo, in words no exact mention took."""
    for position, size, gram in grams:
        if (
            size > 2
            or covered.intersection(range(position, position + size))
            or gram in _platforms().common_words
            or gram in _platforms().everyday_names
        ):
            continue
        for name, forms, in_corpus, typos in candidates:
            if name in found or not typos:
                continue
            if any(_close(gram, f) for f in forms if (" " in f) == (size == 2)):
                found[name] = (position, ServiceMention(name, gram), in_corpus)
                covered.update(range(position, position + size))
                break


def _close(word: str, form: str) -> bool:
    """One typo away: "soundclod", "spotfy", "twich", "qubuz", "amazon musik". Short names need their
    first and last letters right, so that everyday words stay words."""
    if len(form) < 5 or len(word) < 5 or abs(len(word) - len(form)) > 2 or word[0] != form[0]:
        return False
    ratio = difflib.SequenceMatcher(None, word, form).ratio()
    if len(form) < 7:
        return word[-1] == form[-1] and ratio >= 0.8
    return ratio >= 0.84
