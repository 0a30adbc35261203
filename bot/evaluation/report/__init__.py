"""The evaluation report: `report.json` (every figure, per set and per question), `report.md` (the same, to
read), `metrics.png` (a chart) and the summary `policybot eval` prints; one module each."""

from __future__ import annotations

import json
from pathlib import Path

from ..run import EvalResult
from .chart import draw_chart
from .json_report import report_json
from .markdown_report import report_markdown


def write_report(result: EvalResult, directory: Path) -> dict[str, Path]:
    """report.json, report.md and metrics.png in `directory` (created); returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": directory / "report.json",
        "markdown": directory / "report.md",
        "chart": directory / "metrics.png",
    }
    data = report_json(result)
    paths["json"].write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    draw_chart(result, paths["chart"])
    paths["markdown"].write_text(report_markdown(result, data, paths["chart"].name), encoding="utf-8")
    return paths
