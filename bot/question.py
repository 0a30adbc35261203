"""Reading a question before retrieval: which platforms it names, which date it means, and whether it is
an instruction rather than a question."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from .dates import end_of_period, find_dates
from .errors import BadQuestion
from .services import Catalog, find_services


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    """The question, cleaned of control characters and extra whitespace."""
    services: tuple[str, ...]
    """Platforms it names that the corpus holds."""
    unknown_services: tuple[str, ...]
    """Platforms it names that the corpus lacks."""
    as_of: date | None
    """The date whose versions answer it ("in March 2024" → 2024-03-31), None for the latest."""
    date_phrase: str
    instruction: bool
    """It tries to instruct the bot (prompt injection) instead of asking about terms."""
    task: bool
    """It asks for something other than information from terms (write a poem, translate, …)."""
    topic: str
    """What to search for: the question without the platform names, the date and talk about "the terms"."""


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


_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.?!]{0,60}?\b(?:instructions?|prompts?|rules|guidelines|"
    r"above|previous|prior|earlier|system|context|everything|constraints|the\s+(?:documents?|terms|clauses?))\b"
    r"|\bsystem\s+prompt\b|\bdeveloper\s+mode\b|\bjailbreak|\bdo\s+anything\s+now\b"
    r"|\byou\s+are\s+(?:now|no\s+longer)\b|\bfrom\s+now\s+on\b|\bpretend\s+(?:to\s+be|you|that)\b"
    r"|(?:^|[.!]\s*|\b(?:you|please|now)\s+)act\s+as\b|\brole-?\s?play\b|\bnew\s+instructions?\b"
    r"|\b(?:reveal|print|show|repeat|output|leak)\b[^.?!]{0,40}\b(?:prompt|instructions|configuration)\b"
    r"|</?\s*(?:system|assistant|instructions?|im_start|im_end)\s*>|\[/?INST\]"
    r"|\b(?:answer|reply|respond|say)\s+(?:only\s+)?(?:with\s+)?[\"“']?(?:yes|no)[\"”']?\s+(?:to\s+everything|no\s+matter)",
    re.I,
)
_TASK = re.compile(
    r"^\s*(?:please\s+|can\s+you\s+|could\s+you\s+)?(?:write|compose|generate|draft|translate|summari[sz]e\s+this"
    r"|tell\s+me\s+a\s+(?:joke|story)|sing|rap|code|calculate|solve)\b(?!\s+(?:to|down)\b)",
    re.I,
)


def looks_like_instruction(text: str) -> bool:
    return bool(_INSTRUCTION.search(text))


_YEAR_PHRASE = re.compile(
    r"\b(?P<prep>before|prior\s+to|until|till|up\s+to|by|in|during|back\s+in|as\s+of|around|at\s+the\s+(?:start|end)\s+of"
    r"|early|late|mid|since|after|from)\s+(?:early\s+|late\s+|mid-?\s*)?(?P<year>(?:19|20)\d{2})\b(?!\s*-\d)",
    re.I,
)
_RELATIVE = re.compile(r"\b(?P<which>last|this)\s+year\b", re.I)
_BEFORE = re.compile(r"\b(?:before|prior\s+to)\s*$", re.I)
_AFTER = re.compile(r"\b(?:since|after|from)\s*$", re.I)


def find_question_date(text: str, today: date) -> tuple[date | None, str]:
    """The date a question asks about, and the words that said it.

    "in March 2024" → 2024-03-31 (what was in force then), "in 2024" → 2024-12-31, "before 2025" →
    2024-12-31, "on 1 June 2025" → that day. "since"/"after" a date asks about the newest terms: None.
    """
    for found in find_dates(text):
        lead = text[max(0, found.start - 12) : found.start]
        if _AFTER.search(lead):
            return None, ""
        if _BEFORE.search(lead):
            start = found.value if found.precision == "day" else found.value.replace(day=1)
            return start - timedelta(days=1), text[found.start - len(lead.lstrip()) : found.end].strip()
        value = end_of_period(found.value, found.precision)
        return min(value, today), found.text
    match = _YEAR_PHRASE.search(text)
    if match:
        year = int(match.group("year"))
        prep = " ".join(match.group("prep").casefold().split())
        if prep in ("since", "after", "from"):
            return None, ""
        if prep in ("before", "prior to"):
            return date(year - 1, 12, 31), match.group(0)
        if prep == "early":
            return date(year, 3, 31), match.group(0)
        if prep == "mid":
            return date(year, 6, 30), match.group(0)
        if year > today.year:
            return None, ""
        return min(end_of_period(date(year, 1, 1), "year"), today), match.group(0)
    relative = _RELATIVE.search(text)
    if relative and relative.group("which").casefold() == "last":
        return date(today.year - 1, 12, 31), relative.group(0)
    return None, ""


_META = re.compile(
    r"\b(?:what|how)\s+(?:do|does|did|is|are|was|were)\b[^?]{0,40}?\b(?:terms(?:\s+of\s+(?:service|use))?|tos|t&cs|"
    r"policy|policies|rules|agreement|contract|clauses?)\b(?:\s+(?:say|said|state|stated|mention|mentioned|cover|covered))?"
    r"(?:\s+(?:about|on|regarding|re))?"
    r"|\baccording\s+to\b[^?,]{0,40}?\b(?:terms(?:\s+of\s+(?:service|use))?|tos|policy)\b"
    r"|\b(?:in|under|by)\s+(?:the|their|its|these)\s+(?:terms(?:\s+of\s+(?:service|use))?|tos|t&cs|user\s+agreement)\b"
    r"|\b(?:terms\s+of\s+(?:service|use)|tos|t&cs)\b"
    r"|'s\b|’s\b",
    re.I,
)


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
        topic = re.sub(rf"(?<!\w){re.escape(mention)}(?:'s|’s)?(?!\w)", " ", topic, flags=re.I)
    topic = _META.sub(" ", topic)
    topic = " ".join(topic.split()).strip(" ,;:-")
    return topic if len(re.findall(r"\w{2,}", topic)) >= 1 else text


def read_question(
    text: str,
    available_services: Iterable[str],
    *,
    today: date,
    catalog: Catalog | None = None,
) -> Question:
    known, unknown = find_services(text, available_services, catalog)
    as_of, phrase = find_question_date(text, today)
    mentions = [m.text for m in (*known, *unknown)]
    return Question(
        text=text,
        services=tuple(m.name for m in known),
        unknown_services=tuple(m.name for m in unknown),
        as_of=as_of,
        date_phrase=phrase,
        instruction=looks_like_instruction(text),
        task=bool(_TASK.search(text)),
        topic=topic_text(text, mentions, phrase),
    )
