"""Why the bot does not answer, and what it says instead: every abstention's reason and message, in one place.

A stage that decides not to answer returns an `Abstention` made here; `abstained()` turns it into the
`Answer` every interface shows (no citations, `abstained: true`, the reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from ..types import AbstainReason, Abstention, Answer, Question

Case = Literal[
    "instruction",
    "task",
    "unknown_service",
    "no_version",
    "off_topic",
    "nothing_found",
    "not_stated",
    "unverified",
    "figure",
]
"""The situations a stage can stop in; several share a reason (a task and an off-topic question are both
`off_topic`), each has its own message."""

_MESSAGES: dict[Case, tuple[AbstainReason, str]] = {
    "instruction": (
        "instruction",
        "I only quote what platforms' terms say, and I don't follow instructions given in a question. "
        "Ask about a platform's terms, e.g. “Can SoundCloud train AI on my tracks?”",
    ),
    "task": (
        "off_topic",
        "I answer questions about platforms' terms by quoting them; I can't do other tasks. "
        "I have the terms of {have}.",
    ),
    "unknown_service": ("unknown_service", "I don't have {missing} terms; I have {have}."),
    "no_version": (
        "no_version",
        "I have no version of {services}'s documents in force on {when}; the earliest I have is dated {earliest}.",
    ),
    "off_topic": (
        "off_topic",
        "That doesn't look like a question about a platform's terms, so I won't guess. "
        "I answer questions about the terms of {have}.",
    ),
    "nothing_found": (
        "no_evidence",
        "I couldn't find anything that answers this{scope}, so I won't guess. I answer from the terms of {have}.",
    ),
    "not_stated": (
        "not_addressed",
        "As far as I can tell, {scope} don't say: the closest clauses are about something else, so I won't guess "
        "or quote them as if they answered.",
    ),
    "unverified": ("no_evidence", "I found passages but could not verify them against the stored terms."),
    "figure": (
        "not_addressed",
        "That asks for a figure, and {scope} don't state one: the closest clauses give no number. "
        "Platforms often publish rates and limits in help pages or dashboards rather than in their terms.",
    ),
}


def abstention(case: Case, reason: AbstainReason | None = None, **facts: str) -> Abstention:
    """The abstention for `case`, its message filled with `facts`; `reason` overrides the case's reason."""
    default, template = _MESSAGES[case]
    return Abstention(reason=reason or default, message=template.format(**facts))


def abstained(stop: Abstention, q: Question) -> Answer:
    return Answer(
        question=q.text,
        text=stop.message,
        abstained=True,
        reason=stop.reason,
        services=q.services,
        as_of=q.as_of,
    )


def services_sentence(services: Sequence[str]) -> str:
    """ "SoundCloud", "SoundCloud and Bandcamp", "A, B and C"; what to run when there are none."""
    if not services:
        return "no platforms yet (run `policybot index`)"
    if len(services) == 1:
        return services[0]
    return ", ".join(services[:-1]) + " and " + services[-1]


def possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"
