"""The few lines `policybot eval` prints: each set's figures side by side, policybot's answer figures, and
where the report is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..run import SYSTEMS, EvalResult, SetResult
from .cells import cell
from .contract import CONTRACT, LABELS

KEYS = tuple(k for k in CONTRACT if k not in ("stance_accuracy", "latency_ms_p95"))
"""The contract's figures, less the two that need a wide terminal."""


def summary_text(result: EvalResult, paths: dict[str, Path]) -> str:
    """A few lines for the terminal: the side-by-side figures of every set and where the report is."""
    lines: list[str] = []
    for s in result.sets:
        if len(result.sets) > 1:
            lines.append(f"{s.name} ({s.metrics['project']['questions']} questions, {s.path or '?'})")
        lines += _set_lines(s)
    lines.append(f"Report: {paths['markdown']} (also {paths['json'].name}, {paths['chart'].name})")
    return "\n".join(lines)


def _set_lines(s: SetResult) -> list[str]:
    systems = [name for name in SYSTEMS if name in s.metrics]
    width = max(len(LABELS[x]) for x in systems) + 2
    lines = [" " * width + "  ".join(f"{k:>20}" for k in KEYS)]
    for x in systems:
        lines.append(f"{LABELS[x]:<{width}}" + "  ".join(f"{cell(s.metrics[x].get(k)):>20}" for k in KEYS))
    lines.append(_answers_line(s.metrics["project"]))
    return lines


def _answers_line(p: dict[str, Any]) -> str:
    return (
        f"policybot's answers: lead accuracy {cell(p.get('lead_accuracy'))} "
        f"({p.get('leads_right', 0)}/{p.get('leads', 0)} leads, coverage {cell(p.get('lead_coverage'))}) · "
        f"excerpts not citable {cell(p.get('excerpts_not_citable_share'))} "
        f"({p.get('excerpts_not_citable', 0)}/{p.get('excerpts_judged', 0)}), "
        f"mid-sentence {cell(p.get('excerpts_mid_sentence_share'))} · "
        f"raw Markdown {cell(p.get('raw_markdown'))} · "
        f'"not addressed" precision {cell(p.get("not_addressed_precision"))} '
        f"({p.get('not_addressed_rows', 0)} rows)"
    )
