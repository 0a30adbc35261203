"""The evaluation report: `report.json` (the figures, per question too), `report.md` (the same, to read) and
`metrics.png` (a chart, drawn with matplotlib's Agg backend, no display and no fonts fetched)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .gold import GoldQuestion
from .metrics import Outcome, first_hit_rank
from .run import BASELINES, FAILURES, SYSTEMS, EvalResult

CONTRACT = (
    "hit@1",
    "hit@3",
    "mrr",
    "faithfulness",
    "abstention_precision",
    "abstention_recall",
    "stance_accuracy",
    "latency_ms_p50",
    "latency_ms_p95",
)
"""The keys every system's figures carry in report.json (issue 6); more keys follow them."""

LABELS = {
    "project": "policybot",
    "bm25": "BM25 only",
    "dense": "dense only",
    "langchain_recipe": "LangChain recipe",
}

TARGETS = {"hit@3": 0.95, "abstention_precision": 0.95, "abstention_recall": 0.95, "faithfulness": 1.0}
"""The issue's "done when" figures for policybot on its own gold set."""

DEFINITIONS = {
    "hit": "evidence hits a gold phrase when it is from the same platform and document type, from the same "
    "version when the gold names a version date, and the gold phrase (whitespace normalised, non-breaking "
    "spaces included) is inside the citation's whole clause or its excerpt; for the recipe and the "
    "ablations, inside the retrieved chunk's clause (ablations) or the chunk itself (recipe)",
    "hit@k": "share of answerable questions with a hit among the first k citations (k ≤ 3: policybot cites at "
    "most three); an abstention on an answerable question is a miss",
    "mrr": "mean of 1/rank of the first hit within the first 3, 0 without one, over answerable questions",
    "faithfulness": "share of returned excerpts that are exactly the stored version's text at their offsets, "
    "re-read through bot.store.open_store(settings).text(sha) and re-hashed here",
    "abstention_precision": "of the questions a system abstained on, the share the gold says to abstain on; "
    "null when it never abstains",
    "abstention_recall": "of the questions the gold says to abstain on, the share the system abstained on",
    "stance_accuracy": "share of questions with a gold stance whose answer states the same stance "
    "(answer_json['stance'] or a comparison row); null while no answer states any stance",
    "latency": "wall time per question: ask() for policybot; the retrieval call for the baselines",
}


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


def question_rows(result: EvalResult) -> list[dict[str, Any]]:
    rows = []
    for q in result.questions:
        project = result.outcomes["project"][q.id]
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
            "project": {
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
            },
        }
        for name in BASELINES:
            if name in result.outcomes:
                row[name] = _evidence_row(result.outcomes[name][q.id], q)
        rows.append(row)
    return rows


def report_json(result: EvalResult) -> dict[str, Any]:
    return {
        "project": _system(result.metrics["project"]),
        "baselines": {name: _system(result.metrics[name]) for name in BASELINES if name in result.metrics},
        "benchmarks": result.benchmarks,
        "meta": result.meta,
        "definitions": DEFINITIONS,
        "targets": {
            key: {"target": value, "met": _met(result.metrics["project"].get(key), value)}
            for key, value in TARGETS.items()
        }
        | {"ahead_of_every_baseline_on_hit@3": {"met": ahead_on_hit3(result)}},
        "breakdown": result.by_style,
        "failures": dict(
            Counter(
                str(o.extra.get("failure"))
                for o in result.outcomes["project"].values()
                if o.extra.get("failure")
            )
        ),
        "questions": question_rows(result),
    }


def _met(value: float | None, target: float) -> bool:
    return value is not None and value >= target


def ahead_on_hit3(result: EvalResult) -> bool:
    ours = result.metrics["project"].get("hit@3") or 0.0
    return all(
        ours > (result.metrics[name].get("hit@3") or 0.0) for name in BASELINES if name in result.metrics
    )


# --- markdown ---------------------------------------------------------------------------------------------------


def _cell(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)
    return lines


def _md_escape(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def report_markdown(result: EvalResult, data: dict[str, Any], chart: str | None) -> str:
    systems = [name for name in SYSTEMS if name in result.metrics]
    meta = result.meta
    p = result.metrics["project"]
    lines = ["# policybot evaluation", ""]
    lines.append(
        f"{p['questions']} questions ({p['answerable']} answerable, {p['to_abstain']} to abstain on) from "
        f"`{meta.get('questions_file', '?')}`, run {meta.get('finished', '')} on commit "
        f"`{meta.get('commit', '?')}`; corpus: {', '.join(f'`{c}`' for c in meta.get('corpora', []))}."
    )
    if meta.get("load_average") is not None:
        lines.append(
            f"Machine: {meta.get('cpus', '?')} CPUs, load average {meta['load_average']} at the start "
            "(latency figures depend on it)."
        )
    lines += ["", "## Every metric, side by side", ""]
    metric_rows: list[list[Any]] = [
        ["hit@1", *[result.metrics[s].get("hit@1") for s in systems]],
        ["hit@3", *[result.metrics[s].get("hit@3") for s in systems]],
        ["MRR", *[result.metrics[s].get("mrr") for s in systems]],
        ["faithfulness", *[result.metrics[s].get("faithfulness") for s in systems]],
        ["abstention precision", *[result.metrics[s].get("abstention_precision") for s in systems]],
        ["abstention recall", *[result.metrics[s].get("abstention_recall") for s in systems]],
        ["stance accuracy", *[result.metrics[s].get("stance_accuracy") for s in systems]],
        ["latency p50 (ms)", *[result.metrics[s].get("latency_ms_p50") for s in systems]],
        ["latency p95 (ms)", *[result.metrics[s].get("latency_ms_p95") for s in systems]],
        ["answerable questions hit at 3", *[result.metrics[s].get("hits_at_3") for s in systems]],
        [
            "answerable questions abstained on",
            *[result.metrics[s].get("answerable_abstained") for s in systems],
        ],
        [
            "abstentions (right / all)",
            *[
                f"{result.metrics[s]['abstained_correctly']} / {result.metrics[s]['abstained']}"
                for s in systems
            ],
        ],
        [
            "excerpts verbatim / checked",
            *[
                f"{result.metrics[s]['excerpts_verbatim']} / {result.metrics[s]['excerpts_checked']}"
                for s in systems
            ],
        ],
        [
            "citation labels match the corpus file",
            *[result.metrics[s].get("citation_labels_correct") for s in systems],
        ],
    ]
    lines += _table(["metric", *[LABELS[s] for s in systems]], metric_rows)
    if chart:
        lines += ["", f"![metrics]({chart})"]
    lines += [
        "",
        "- **policybot**: `bot.ask.ask(question, settings, history=...)`, exactly as every interface calls it; "
        "the citations' `clause` is what the hit rule reads.",
        "- **BM25 only / dense only**: policybot's own chunks and its reading of the question (platforms, date, "
        "region, follow-ups), but one retriever and no fusion, no terms prior, no abstention; the first three "
        "chunks, one per clause.",
        "- **LangChain recipe**: " + _recipe_sentence(meta.get("recipe")),
        "- Baselines never abstain, so their abstention precision is n/a and recall 0. The question's `as_of` in "
        "the gold file is not passed to any system: the date is in the question's words.",
        _stance_sentence(p),
        "",
        "## Against the issue's targets",
        "",
    ]
    target_rows = [
        [key, TARGETS[key], p.get(key), "met" if _met(p.get(key), TARGETS[key]) else "**not met**"]
        for key in TARGETS
    ]
    best_baseline = max(
        ((result.metrics[s].get("hit@3") or 0.0, LABELS[s]) for s in systems if s != "project"),
        default=(0.0, "-"),
    )
    target_rows.append(
        [
            "hit@3 ahead of every baseline",
            f"> {best_baseline[0]:.3f} ({best_baseline[1]})",
            p.get("hit@3"),
            "met" if ahead_on_hit3(result) else "**not met**",
        ]
    )
    lines += _table(["figure", "target", "policybot", ""], target_rows)
    lines += ["", "## hit@3 by question style", ""]
    styles = sorted(result.by_style["project"]["style"])
    lines += _table(
        ["style", "n", *[LABELS[s] for s in systems]],
        [
            [
                style,
                result.by_style["project"]["style"][style]["n"],
                *[result.by_style[s]["style"][style]["hit@3"] for s in systems],
            ]
            for style in styles
        ],
    )
    lines += _failures(result)
    lines += _benchmarks(result.benchmarks)
    lines += ["", "## Definitions", ""]
    lines += [f"- **{key}**: {text}" for key, text in DEFINITIONS.items()]
    lines.append("")
    return "\n".join(lines)


def _stance_sentence(p: dict[str, Any]) -> str:
    if p.get("stance_accuracy") is None:
        return (
            "- **Stance accuracy** is n/a: no answer states a stance. The evaluation reads "
            '`answer_json(...)["stance"]` or comparison rows, so it is measured as soon as answers carry one.'
        )
    return (
        f"- **Stance accuracy**: over the {p['with_gold_stance']} questions with a gold stance; the answer stated "
        f'one on {p["stances_stated"]} of them (`answer_json(...)["stance"]`, else the comparison row of the '
        "question's platform). A question whose answer states no stance counts as wrong."
    )


def _recipe_sentence(recipe: dict[str, Any] | None) -> str:
    if not recipe:
        return "not run."
    return (
        f"{recipe['splitter']} over every stored version ({recipe['documents']} versions → {recipe['chunks']} chunks), "
        f"{recipe['store']} in its own directory, {recipe['embedding']}; `similarity_search(question, k={recipe['k']})`; "
        "no platform or date filter, no abstention, no answer step (the tutorial's is a language model). A follow-up "
        "is searched as the earlier questions and the follow-up joined."
    )


def _failures(result: EvalResult) -> list[str]:
    outcomes = result.outcomes["project"]
    kinds = Counter(str(o.extra.get("failure")) for o in outcomes.values() if o.extra.get("failure"))
    lines = ["", "## Where policybot fails, and why", ""]
    lines.append(
        "Each miss is traced through the pipeline: the same reading of the question and the same retrieval "
        "`ask()` runs (its 9 candidate chunks) are re-run to see whether the gold clause was found at all."
    )
    lines.append("")
    lines += _table(
        ["kind", "questions", "meaning"],
        [[kind, kinds.get(kind, 0), text] for kind, text in FAILURES.items()],
    )
    for kind in ("abstained", "not_retrieved", "not_cited", "answered", "late"):
        missed = [q for q in result.questions if outcomes[q.id].extra.get("failure") == kind]
        if not missed:
            continue
        lines += ["", f"### {FAILURES[kind]} ({len(missed)})", ""]
        lines += _table(
            ["id", "style", "question", "why"],
            [
                [
                    q.id,
                    q.style,
                    _md_escape((" → ".join([*q.history, q.question]))[:160]),
                    _md_escape(outcomes[q.id].diagnosis),
                ]
                for q in missed
            ],
        )
    return lines


def _benchmarks(bench: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    tosdr = bench.get("tosdr_points")
    if tosdr:
        lines += ["", "## ToS;DR points", ""]
        if "skipped" in tosdr:
            lines.append(f"Skipped: {tosdr['skipped']}.")
        else:
            sample = tosdr["sample"]
            lines.append(
                f"{tosdr['protocol']}. Sample: {sample['services']} of {sample['eligible_services']} services "
                f"({sample['rule']}), {sample['queries']} questions, {sample['candidates_mean']} candidate quotes "
                f"on average. {tosdr['published_note']} A random ranking of the same candidates is the floor."
            )
            lines.append("")
            lines += _table(
                ["ranker", "hit@1", "hit@3", "MRR"],
                [
                    [name, tosdr[key]["hit@1"], tosdr[key]["hit@3"], tosdr[key]["mrr"]]
                    for name, key in (
                        ("policybot (dense + BM25, fused)", "policybot"),
                        ("dense only", "dense"),
                        ("BM25 only", "bm25"),
                        ("random (expected)", "random"),
                    )
                ],
            )
    unfair = bench.get("unfair_tos")
    if unfair:
        lines += ["", "## UNFAIR-ToS (LexGLUE test split)", ""]
        if "skipped" in unfair:
            lines.append(f"Skipped: {unfair['skipped']}.")
        else:
            lines.append(
                f"{unfair['protocol']}: {unfair['pairs']} pairs over {unfair['documents']} documents "
                f"({unfair['sentences']} sentences). Questions, one per category, written before the run:"
            )
            lines.append("")
            lines += [f"- {code}: “{question}”" for code, question in unfair["questions"].items()]
            lines.append("")
            lines += _table(
                ["ranker", "recall@1", "recall@3", "recall@5", "recall@10", "nDCG@10", "MRR"],
                [
                    [
                        name,
                        unfair[key].get("recall@1"),
                        unfair[key].get("recall@3"),
                        unfair[key].get("recall@5"),
                        unfair[key].get("recall@10"),
                        unfair[key].get("ndcg@10"),
                        unfair[key].get("mrr"),
                    ]
                    for name, key in (
                        ("policybot (dense + BM25, fused)", "policybot"),
                        ("dense only", "dense"),
                        ("BM25 only", "bm25"),
                        ("random (expected)", "random"),
                    )
                ],
            )
            lines += ["", "By category (policybot):", ""]
            lines += _table(
                ["category", "pairs", "recall@3", "nDCG@10"],
                [
                    [name, v["pairs"], v["recall@3"], v["ndcg@10"]]
                    for name, v in unfair["by_category"].items()
                ],
            )
            c = unfair["classification"]
            lines += [
                "",
                f"Against the published figures (micro-/macro-F1, LexGLUE's scoring). Rule: {c['rule']}. "
                f"{c['published_note']}",
                "",
            ]
            rows = [
                [
                    "policybot, zero-shot (this run)",
                    c["policybot_zero_shot"]["micro_f1"],
                    c["policybot_zero_shot"]["macro_f1"],
                ],
                ["no label anywhere (this run)", c["all_none"]["micro_f1"], c["all_none"]["macro_f1"]],
            ]
            rows += [
                [f"{name} (published)", v["micro_f1"], v["macro_f1"]] for name, v in c["published"].items()
            ]
            lines += _table(
                ["system", "micro-F1", "macro-F1"], [[n, f"{a:.1f}", f"{b:.1f}"] for n, a, b in rows]
            )
    policyqa = bench.get("policyqa")
    if policyqa and "skipped" in policyqa:
        lines += ["", "## PolicyQA", "", f"{policyqa['skipped'][0].upper()}{policyqa['skipped'][1:]}."]
    return lines


# --- chart ------------------------------------------------------------------------------------------------------


def draw_chart(result: EvalResult, path: Path) -> None:
    """Quality metrics and latency of every system, side by side; an n/a figure is drawn as a labelled gap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = [name for name in SYSTEMS if name in result.metrics]
    quality = [
        ("hit@1", "hit@1"),
        ("hit@3", "hit@3"),
        ("MRR", "mrr"),
        ("faithful", "faithfulness"),
        ("abst. P", "abstention_precision"),
        ("abst. R", "abstention_recall"),
        ("stance", "stance_accuracy"),
    ]
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [3, 1]})
    width = 0.8 / len(systems)
    for i, system in enumerate(systems):
        xs = [j + (i - (len(systems) - 1) / 2) * width for j in range(len(quality))]
        values = [result.metrics[system].get(key) for _, key in quality]
        left.bar(xs, [v or 0.0 for v in values], width, label=LABELS[system])
        for x, v in zip(xs, values, strict=True):
            if v is None:
                left.text(x, 0.01, "n/a", rotation=90, ha="center", va="bottom", fontsize=7)
    left.set_xticks(range(len(quality)), [label for label, _ in quality])
    left.set_ylim(0, 1.05)
    left.axhline(0.95, color="grey", linestyle=":", linewidth=1)
    left.set_title(f"Gold questions (n={result.metrics['project']['questions']}); dotted = target 0.95")
    left.legend(fontsize=8, loc="upper right")
    p50 = [result.metrics[s].get("latency_ms_p50") or 0.0 for s in systems]
    p95 = [result.metrics[s].get("latency_ms_p95") or 0.0 for s in systems]
    xs = list(range(len(systems)))
    right.bar([x - 0.2 for x in xs], p50, 0.4, label="p50")
    right.bar([x + 0.2 for x in xs], p95, 0.4, label="p95")
    right.set_xticks(xs, [LABELS[s] for s in systems], rotation=30, ha="right", fontsize=8)
    right.set_yscale("log")
    right.set_ylabel("ms per question")
    right.set_title("Latency")
    right.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


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


def summary_text(result: EvalResult, paths: dict[str, Path]) -> str:
    """A few lines for the terminal: the side-by-side figures and where the report is."""
    systems = [name for name in SYSTEMS if name in result.metrics]
    # The contract's figures, less the two that need a wide terminal.
    keys = tuple(k for k in CONTRACT if k not in ("stance_accuracy", "latency_ms_p95"))
    width = max(len(LABELS[s]) for s in systems) + 2
    lines = [" " * width + "  ".join(f"{k:>20}" for k in keys)]
    for s in systems:
        lines.append(
            f"{LABELS[s]:<{width}}" + "  ".join(f"{_cell(result.metrics[s].get(k)):>20}" for k in keys)
        )
    lines.append(f"Report: {paths['markdown']} (also {paths['json'].name}, {paths['chart'].name})")
    return "\n".join(lines)
