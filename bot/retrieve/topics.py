"""The questions that matter most to artists, as a small taxonomy (bot/data/topics.toml): what each topic is,
how a question names it, and which stances a note on it may take."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from pydantic import field_validator

from ..data import Data, Pattern, load


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    label: str
    """How a comparison table titles it."""
    question: str
    """A plain search for the topic, used when a comparison has to look the topic up in a platform's terms."""
    pattern: re.Pattern[str]
    """Words in a question that name this topic."""
    stances: tuple[str, ...]
    """The stances a note may take; "not addressed" is always allowed."""
    evidence: re.Pattern[str] = re.compile(r"")
    """Words a clause must contain to address the topic at all (checked before a table says it does)."""
    core: bool = False
    """One of the topics every music platform's notes cover."""
    categories: tuple[str, ...] = ()
    """The kinds of platform the topic concerns; empty: every platform."""
    examples: tuple[str, ...] = ()
    """Questions written for the topic: a question is about the topic whose examples it is nearest to."""
    aliases: tuple[str, ...] = ()
    """Other names of the topic (older labels), read as this one."""


class _TopicEntry(Data):
    id: str
    label: str
    question: str
    pattern: Pattern = ""
    evidence: Pattern
    stances: tuple[str, ...]
    core: bool = False
    categories: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @field_validator("stances")
    @classmethod
    def _allows_not_addressed(cls, stances: tuple[str, ...]) -> tuple[str, ...]:
        if "not addressed" not in stances:
            raise ValueError('every topic allows the stance "not addressed"')
        return stances


class _Topics(Data):
    comparison: Pattern
    topics: tuple[_TopicEntry, ...]

    @field_validator("topics")
    @classmethod
    def _unique(cls, topics: tuple[_TopicEntry, ...]) -> tuple[_TopicEntry, ...]:
        ids = [t.id for t in topics]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"topic ids must be unique; repeated: {repeated}")
        return topics


@cache
def _data() -> _Topics:
    return load("topics.toml", _Topics)


def evidence_pattern(pattern: str) -> re.Pattern[str]:
    """A topic's evidence pattern, compiled case-insensitive with `.` matching newlines. One made only of
    lookaheads ("(?=.*A)(?=.*B)": A and B both somewhere in the text) finds a match at some position exactly
    when it finds one at the start, so it is anchored there: unanchored, `search` tries every position and
    each rescans the rest of the text, which is quadratic in the text's length."""
    flags = re.I | re.S
    return re.compile(rf"\A(?:{pattern})" if _only_lookaheads(pattern, flags) else pattern, flags)


def _only_lookaheads(pattern: str, flags: int) -> bool:
    try:
        from re import _constants, _parser  # type: ignore[attr-defined]  # the standard library's parser
    except ImportError:  # another Python: leave the pattern as written
        return False
    parsed = _parser.parse(pattern, flags)
    return len(parsed) > 0 and all(op is _constants.ASSERT and av[0] == 1 for op, av in parsed)


def _topic(entry: _TopicEntry) -> Topic:
    return Topic(
        id=entry.id,
        label=entry.label,
        question=entry.question,
        pattern=re.compile(entry.pattern or r"(?!)", re.I),
        stances=entry.stances,
        evidence=evidence_pattern(entry.evidence),
        core=entry.core,
        categories=entry.categories,
        examples=entry.examples,
        aliases=entry.aliases,
    )


TOPICS: tuple[Topic, ...] = tuple(_topic(t) for t in _data().topics)
"""In order of importance: a question naming several topics is about the first."""
BY_ID = {t.id: t for t in TOPICS}
_COMPARISON = re.compile(_data().comparison, re.I)


def named_topics(text: str) -> list[Topic]:
    """The topics a question names in the taxonomy's own words (their `pattern`), in the taxonomy's order."""
    return [t for t in TOPICS if t.pattern.search(text)]


def asks_for_comparison(text: str, services_named: int, categories: Sequence[str] = ()) -> bool:
    """ "Compare SoundCloud and Bandcamp on …", "Which platforms let me …", "Who can delete my account …",
    "Which AI image generators let me …" (`categories`: the kinds of platform the question asks across)."""
    return services_named >= 2 or bool(categories) or bool(_COMPARISON.search(text))


def canonical_topic(label: str) -> str:
    """A topic id for `label`: the id itself, or the id of the topic it is an alias of ("" when unknown)."""
    if label in BY_ID:
        return label
    return next((t.id for t in TOPICS if label in t.aliases), "")
