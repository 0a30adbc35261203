"""Reading a question before retrieval: which platforms it names, which date it means, and whether it is
an instruction rather than a question."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date

from ..data import Data, Pattern, load
from ..errors import BadQuestion
from ..ingest.catalog import Catalog
from ..types import Question
from .categories import named_categories
from .language import question_language
from .platforms import find_services
from .when import read_when


class _Region(Data):
    region: str
    pattern: Pattern


class _Reading(Data):
    """bot/data/question.toml: the patterns that read a question (all matched case-insensitively)."""

    instruction: Pattern
    task: Pattern
    meta: Pattern
    follow_up: Pattern
    thin_words: frozenset[str]
    regions: tuple[_Region, ...]


_READING = load("question.toml", _Reading)
_INSTRUCTION = re.compile(_READING.instruction, re.I)
_TASK = re.compile(_READING.task, re.I)
# "what do the terms say about", "according to the ToS", "'s": words that carry no topic.
_META = re.compile(_READING.meta, re.I)
_REGIONS = tuple((re.compile(r.pattern, re.I), r.region) for r in _READING.regions)
_FOLLOW_UP = re.compile(_READING.follow_up, re.I)
_THIN_WORDS = _READING.thin_words


def clean_question(raw: object, max_chars: int) -> str:
    """The question as text fit to search, or BadQuestion saying what is wrong with it."""
    if not isinstance(raw, str):
        raise BadQuestion(f"the question must be text, got {type(raw).__name__}")
    text = "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in raw)
    text = " ".join(text.split())
    if not text:
        raise BadQuestion(
            'the question is empty: ask about a platform\'s terms, e.g. "Can SoundCloud train AI on my tracks?"'
        )
    if len(text) > max_chars:
        raise BadQuestion(
            f"the question is {len(text):,} characters; the limit is {max_chars:,}: ask one thing in a few sentences"
        )
    if not re.search(r"\w", text):
        raise BadQuestion("the question has no words: ask about a platform's terms in a sentence")
    return text


def looks_like_instruction(text: str) -> bool:
    return bool(_INSTRUCTION.search(text))


def topic_text(text: str, mentions: Iterable[str], date_phrase: str) -> str:
    """The words that say what the question is about, for the retrievers.

    Platform names are dropped because retrieval is already limited to those platforms, and they pull the
    embedding towards any clause that happens to repeat the name; the date and "what do the terms say
    about" carry no topic either.
    """
    topic = text
    if date_phrase:
        lead = r"(?:\b(?:in|on|during|back\s+in|as\s+of|by|around|until|till|before|prior\s+to|at)\s+)?"
        topic = re.sub(lead + re.escape(date_phrase), " ", topic, flags=re.I)
    for mention in sorted(mentions, key=len, reverse=True):
        topic = re.sub(
            rf"(?:\b(?:in|on|for|from)\s+(?:the\s+)?)?(?<!\w){re.escape(mention)}(?:'s|’s)?(?!\w)",
            " ",
            topic,
            flags=re.I,
        )
    topic = _META.sub(" ", topic)
    topic = " ".join(topic.split()).strip(" ,;:-")
    return topic if len(re.findall(r"\w{2,}", topic)) >= 1 else text


def find_region(text: str) -> tuple[str | None, str]:
    """A region named in the question, as documents label regions, and the words that named it."""
    for pattern, region in _REGIONS:
        for match in pattern.finditer(text):
            # "us" is also a pronoun: count it only when written as a place ("the US", "in the us").
            word = match.group(0)
            if word.casefold() == "us" and not re.search(
                r"\b(?:the|in|for)\s+$", text[: match.start()], re.I
            ):
                continue
            return region, word
    return None, ""


def _thin(topic: str) -> bool:
    """A topic with no words of its own: a follow-up that leans on the previous question."""
    words = [w for w in re.findall(r"[\w']+", topic.casefold()) if w not in _THIN_WORDS]
    return len(words) == 0


def read_question(
    text: str,
    available_services: Iterable[str],
    *,
    today: date,
    catalog: Catalog | None = None,
    history: Sequence[str] = (),
) -> Question:
    """What the question asks. With `history` (earlier questions, oldest first), a follow-up such as
    "and Bandcamp?" or "and before 2025?" takes its topic, platforms and date from the conversation."""
    question = _read_one(text, available_services, today=today, catalog=catalog)
    if not history or question.instruction or question.task:
        return question
    leaning = bool(_FOLLOW_UP.match(text)) or question.back
    thin = _thin(question.topic)
    short = leaning and len(question.topic.split()) <= 4
    # "what about the fan emails I collect?" after a Bandcamp question: a new topic, the same platform.
    carried = leaning and not (question.services or question.unknown_services)
    if not (thin or short or carried):
        return question
    previous: Question | None = None
    for earlier in reversed(history):
        candidate = _read_one(earlier, available_services, today=today, catalog=catalog)
        if not _thin(candidate.topic) and not candidate.instruction:
            previous = candidate
            break
    if previous is None:
        return question
    services = question.services or (() if question.unknown_services else previous.services)
    if thin:
        topic = previous.topic
    elif short:
        topic = f"{previous.topic} {question.topic}"
    else:
        topic = question.topic
    if thin or short:
        standalone = f"{previous.standalone or previous.text} → {text}"
    else:
        standalone = f"{text} (about {', '.join(services)})" if services else text
    return replace(
        question,
        services=services,
        as_of=question.as_of if question.date_phrase else previous.as_of,
        date_phrase=question.date_phrase or previous.date_phrase,
        topic=topic,
        region=question.region or previous.region,
        standalone=standalone,
    )


def _read_one(
    text: str,
    available_services: Iterable[str],
    *,
    today: date,
    catalog: Catalog | None = None,
) -> Question:
    known, unknown = find_services(text, available_services, catalog)
    when = read_when(text, today)
    as_of, phrase = when.as_of, when.phrase
    region, region_words = find_region(text)
    mentions = [m.text for m in (*known, *unknown)]
    if region_words:
        mentions.append(region_words)
    return Question(
        text=text,
        services=tuple(m.name for m in known),
        unknown_services=tuple(m.name for m in unknown),
        as_of=as_of,
        date_phrase=phrase,
        instruction=looks_like_instruction(text),
        task=bool(_TASK.search(text)),
        topic=topic_text(text, mentions, phrase),
        region=region,
        standalone=text,
        then_and_now=when.then_and_now,
        earliest=when.earliest,
        back=when.back,
        language=question_language(text),
        categories=named_categories(text),
    )
