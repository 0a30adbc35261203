"""What policybot's answers look like beyond finding the gold clause: whether the summary they open with (the
lead) is right, whether the excerpts they quote are citable clauses, whether Markdown shows as raw markup,
and whether the "not addressed" rows of comparisons are true. Readers of the answer JSON and pure figures
over outcomes, tested like metrics.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..retrieve.topics import canonical_topic
from .gold import GoldQuestion
from .hygiene import FAULTS, not_citable
from .metrics import Outcome, evidence_matches

RAW_MARKDOWN = ("**", "__", "](")
"""Markup that, seen in an answer's text, means Markdown was shown instead of rendered."""
NOT_ADDRESSED = "not addressed"


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _share(count: int, total: int) -> float | None:
    return _round(count / total) if total else None


# --- reading an answer ---------------------------------------------------------------------------------------


def read_lead(answer: Mapping[str, Any]) -> tuple[str | None, int | None]:
    """(topic, position in the citations of the one it rests on) of the answer's first summary; (None,
    None) when the answer opens without one."""
    summaries = answer.get("summary") or []
    if not summaries or not isinstance(summaries[0], Mapping):
        return None, None
    lead = summaries[0]
    number = lead.get("citation")
    citations = list(answer.get("citations") or [])
    where = next((i for i, c in enumerate(citations) if number is not None and c.get("n") == number), None)
    return str(lead.get("topic") or ""), where


def shows_raw_markdown(text: str) -> bool:
    return any(mark in text for mark in RAW_MARKDOWN)


def not_addressed_rows(answer: Mapping[str, Any]) -> tuple[str, ...]:
    """Platforms of the comparison rows whose note says the documents do not address the question."""
    rows = answer.get("comparison") or []
    return tuple(
        str(r.get("service", ""))
        for r in rows
        if isinstance(r, Mapping) and NOT_ADDRESSED in str(r.get("note") or "").casefold()
    )


# --- the figures ---------------------------------------------------------------------------------------------


def lead_is_right(question: GoldQuestion, outcome: Outcome) -> bool:
    """A lead is right when its topic is the question's gold topic and the citation it rests on is a gold
    hit (the hit rule of hit@k)."""
    where = outcome.lead_evidence
    return (
        outcome.lead_topic is not None
        and bool(question.topic)
        and canonical_topic(outcome.lead_topic) == canonical_topic(question.topic)
        and where is not None
        and where < len(outcome.evidence)
        and any(evidence_matches(outcome.evidence[where], g) for g in question.gold)
    )


def lead_figures(questions: Sequence[GoldQuestion], outcomes: Mapping[str, Outcome]) -> dict[str, Any]:
    """Lead accuracy over every answer that opens with a summary, and coverage: the share of answerable
    questions whose answer has one (so that never leading cannot win accuracy)."""
    leads = [q for q in questions if outcomes[q.id].lead_topic is not None]
    right = sum(1 for q in leads if lead_is_right(q, outcomes[q.id]))
    answerable = [q for q in questions if q.answerable]
    led = sum(1 for q in answerable if outcomes[q.id].lead_topic is not None)
    return {
        "lead_accuracy": _share(right, len(leads)),
        "lead_coverage": _share(led, len(answerable)),
        "leads": len(leads),
        "leads_right": right,
    }


def excerpt_figures(questions: Sequence[GoldQuestion], outcomes: Mapping[str, Outcome]) -> dict[str, Any]:
    """How many quoted excerpts are not citable clauses (and why), and how many begin mid-sentence."""
    judged = [faults for q in questions for faults in outcomes[q.id].excerpt_faults]
    bad = sum(1 for faults in judged if not_citable(faults))
    mid = sum(1 for faults in judged if "mid_sentence" in faults)
    return {
        "excerpts_not_citable_share": _share(bad, len(judged)),
        "excerpts_mid_sentence_share": _share(mid, len(judged)),
        "excerpts_judged": len(judged),
        "excerpts_not_citable": bad,
        **{f"excerpts_{fault}": sum(1 for faults in judged if fault in faults) for fault in FAULTS},
        "excerpts_mid_sentence": mid,
    }


def markdown_figures(questions: Sequence[GoldQuestion], outcomes: Mapping[str, Outcome]) -> dict[str, Any]:
    """The share of answers (abstentions included: their text is shown too) with raw Markdown in them."""
    raw = sum(1 for q in questions if outcomes[q.id].raw_markdown)
    return {"raw_markdown": _share(raw, len(questions)), "raw_markdown_answers": raw}


def not_addressed_figures(
    questions: Sequence[GoldQuestion], outcomes: Mapping[str, Outcome]
) -> dict[str, Any]:
    """Precision of the "not addressed" rows of comparison questions: a row is wrong when the question's gold
    has a phrase from that row's platform (the documents do address it)."""
    rows = wrong = 0
    for q in questions:
        if "comparison" not in q.kinds:
            continue
        addressed = {g.service.casefold() for g in q.gold}
        for service in outcomes[q.id].not_addressed:
            rows += 1
            wrong += service.casefold() in addressed
    return {
        "not_addressed_precision": _share(rows - wrong, rows),
        "not_addressed_rows": rows,
        "not_addressed_wrong": wrong,
    }


def answer_figures(questions: Sequence[GoldQuestion], outcomes: Mapping[str, Outcome]) -> dict[str, Any]:
    """Every figure of this module for one system (policybot: the baselines give no answers)."""
    return {
        **lead_figures(questions, outcomes),
        **excerpt_figures(questions, outcomes),
        **markdown_figures(questions, outcomes),
        **not_addressed_figures(questions, outcomes),
    }
