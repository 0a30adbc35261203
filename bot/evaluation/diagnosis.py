"""Why policybot missed a question: the step of the pipeline that lost the gold evidence."""

from __future__ import annotations

from collections.abc import Sequence

from .gold import GoldQuestion
from .metrics import Evidence, Outcome, first_hit_rank

FAILURES = {
    "abstained": "abstained on an answerable question",
    "not_retrieved": "the gold clause was not among the chunks retrieved",
    "not_cited": "the gold clause was retrieved but not cited",
    "late": "the gold clause was cited, but not first",
    "answered": "answered a question it should have abstained on",
}


def diagnose(
    question: GoldQuestion, outcome: Outcome, retrieved: Sequence[Evidence], read_services: Sequence[str]
) -> tuple[str, str]:
    """Why policybot missed a question: (kind, a sentence naming the step that lost the gold evidence);
    ("", "") when it did not miss. Kinds are the keys of FAILURES."""
    if not question.answerable:
        if outcome.abstained:
            return "", ""
        first = outcome.evidence[0] if outcome.evidence else None
        cited = f"; cited {first.service} · {first.document} · {first.section}" if first else ""
        return "answered", f"answered instead of abstaining ({question.abstain_reason or 'abstain'}){cited}"
    rank = first_hit_rank(outcome.evidence, question.gold)
    if rank is not None:
        return ("", "") if rank == 1 else ("late", f"gold cited at rank {rank}")
    found = first_hit_rank(retrieved, question.gold, depth=len(retrieved))
    where = (
        f"the gold clause was retrieved at rank {found} of {len(retrieved)}"
        if found
        else f"the gold clause was not among the {len(retrieved)} retrieved chunks"
    )
    gold_services = {g.service for g in question.gold}
    read = set(read_services)
    platforms = ""
    if read and not gold_services & read:
        platforms = (
            f"read platform(s) {', '.join(sorted(read))}, gold is {', '.join(sorted(gold_services))}; "
        )
    elif not read:
        platforms = "no platform read in the question; "
    if outcome.abstained:
        return "abstained", f"abstained ({outcome.reason}); {platforms}{where}"
    if found:
        return "not_cited", f"{platforms}{where} but not cited"
    return "not_retrieved", f"{platforms}{where}"
