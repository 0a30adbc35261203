"""metrics.png: every system's quality figures and latency, one row per question set, drawn with
matplotlib's Agg backend (no display, no fonts fetched)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..run import SYSTEMS, EvalResult, SetResult
from .contract import LABELS

QUALITY = (
    ("hit@1", "hit@1"),
    ("hit@3", "hit@3"),
    ("MRR", "mrr"),
    ("faithful", "faithfulness"),
    ("abst. P", "abstention_precision"),
    ("abst. R", "abstention_recall"),
    ("stance", "stance_accuracy"),
)


def draw_chart(result: EvalResult, path: Path) -> None:
    """Quality metrics and latency of every system, side by side; an n/a figure is drawn as a labelled gap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = len(result.sets)
    figure, axes = plt.subplots(
        rows, 2, figsize=(13, 4.8 * rows), gridspec_kw={"width_ratios": [3, 1]}, squeeze=False
    )
    for s, (left, right) in zip(result.sets, axes, strict=True):
        title = "Gold questions" if rows == 1 else s.name
        _quality(left, s, title)
        _latency(right, s)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _quality(axes: Any, s: SetResult, title: str) -> None:
    systems = [name for name in SYSTEMS if name in s.metrics]
    width = 0.8 / len(systems)
    for i, system in enumerate(systems):
        xs = [j + (i - (len(systems) - 1) / 2) * width for j in range(len(QUALITY))]
        values = [s.metrics[system].get(key) for _, key in QUALITY]
        axes.bar(xs, [v or 0.0 for v in values], width, label=LABELS[system])
        for x, v in zip(xs, values, strict=True):
            if v is None:
                axes.text(x, 0.01, "n/a", rotation=90, ha="center", va="bottom", fontsize=7)
    axes.set_xticks(range(len(QUALITY)), [label for label, _ in QUALITY])
    axes.set_ylim(0, 1.05)
    axes.axhline(0.95, color="grey", linestyle=":", linewidth=1)
    axes.set_title(f"{title} (n={s.metrics['project']['questions']}); dotted = target 0.95")
    axes.legend(fontsize=8, loc="upper right")


def _latency(axes: Any, s: SetResult) -> None:
    systems = [name for name in SYSTEMS if name in s.metrics]
    p50 = [s.metrics[x].get("latency_ms_p50") or 0.0 for x in systems]
    p95 = [s.metrics[x].get("latency_ms_p95") or 0.0 for x in systems]
    xs = list(range(len(systems)))
    axes.bar([x - 0.2 for x in xs], p50, 0.4, label="p50")
    axes.bar([x + 0.2 for x in xs], p95, 0.4, label="p95")
    axes.set_xticks(xs, [LABELS[x] for x in systems], rotation=30, ha="right", fontsize=8)
    axes.set_yscale("log")
    axes.set_ylabel("ms per question")
    axes.set_title("Latency")
    axes.legend(fontsize=8)
