"""report.json: every figure of every set, and every question with what each system did with it. The
top-level keys describe the first set, as they did when there was only one; "sets" holds them all."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..answers import lead_is_right
from ..gold import GoldQuestion
from ..metrics import Outcome, first_hit_rank
from ..run import BASELINES, EvalResult, SetResult
from .contract import CONTRACT, DEFINITIONS, targets


def _system(metrics: dict[str, Any]) -> dict[str, Any]:
    ordered = {key: metrics.get(key) for key in CONTRACT}
    ordered.update({k: v for k, v in metrics.items() if k not in ordered})
    return ordered


def _evidence_row(outcome: Outcome, question: GoldQuestion) -> dict[str, Any]:
    return {
        "rank": first_hit_rank(outcome.evidence, question.gold),
        "abstained": outcome.abstained,
        "latency_ms": round(outcome.latency_ms, 2),
        "top": [
            f"{e.service} · {e.document} · {e.version_date} · {e.section}".rstrip(" ·")
            for e in outcome.evidence
        ],
    }


def _project_row(project: Outcome, q: GoldQuestion) -> dict[str, Any]:
    return {
        **_evidence_row(project, q),
        "reason": project.reason or None,
        "services_read": list(project.services),
        "stance": project.stance,
        "excerpts_verbatim": f"{project.verified}/{project.checked}",
        "failure": project.extra.get("failure") or None,
        "diagnosis": project.diagnosis or None,
        "retrieved_rank": project.extra.get("retrieved_rank"),
        "excerpts": [e.excerpt for e in project.evidence],
        "error": project.error or None,
        "lead": None
        if project.lead_topic is None
        else {
            "topic": project.lead_topic,
            "citation_rank": None if project.lead_evidence is None else project.lead_evidence + 1,
            "right": lead_is_right(q, project),
        },
        "excerpt_faults": [sorted(faults) for faults in project.excerpt_faults],
        "raw_markdown": project.raw_markdown,
        "not_addressed": list(project.not_addressed),
    }


def question_rows(result: SetResult) -> list[dict[str, Any]]:
    rows = []
    for q in result.questions:
        row: dict[str, Any] = {
            "id": q.id,
            "question": q.question,
            "history": list(q.history),
            "style": q.style,
            "expect": q.expect,
            "abstain_reason": q.abstain_reason or None,
            "gold": [
                {
                    "service": g.service,
                    "document": g.document,
                    "phrase": g.phrase,
                    "version_date": g.version_date.isoformat() if g.version_date else None,
                }
                for g in q.gold
            ],
            "gold_stance": q.stance,
            "kinds": list(q.kinds),
            "language": q.language or None,
            "today": q.today.isoformat() if q.today else None,
            "project": _project_row(result.outcomes["project"][q.id], q),
        }
        for name in BASELINES:
            if name in result.outcomes:
                row[name] = _evidence_row(result.outcomes[name][q.id], q)
        rows.append(row)
    return rows


def set_json(result: SetResult) -> dict[str, Any]:
    """One set's figures, targets, breakdowns, failures and questions."""
    return {
        "file": result.path or None,
        "project": _system(result.metrics["project"]),
        "baselines": {name: _system(result.metrics[name]) for name in BASELINES if name in result.metrics},
        "targets": targets(result.metrics),
        "breakdown": result.breakdown,
        "failures": dict(
            Counter(
                str(o.extra.get("failure"))
                for o in result.outcomes["project"].values()
                if o.extra.get("failure")
            )
        ),
        "questions": question_rows(result),
    }


def report_json(result: EvalResult) -> dict[str, Any]:
    sets = {s.name: set_json(s) for s in result.sets}
    first = sets[result.sets[0].name]
    return {
        "project": first["project"],
        "baselines": first["baselines"],
        "benchmarks": result.benchmarks,
        "meta": result.meta,
        "definitions": DEFINITIONS,
        "targets": first["targets"],
        "breakdown": first["breakdown"],
        "failures": first["failures"],
        "questions": first["questions"],
        "sets": sets,
    }
