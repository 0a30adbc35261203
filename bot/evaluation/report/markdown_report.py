"""report.md: every figure of every question set, side by side with the baselines, the misses traced, and
the public benchmarks, to read."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..diagnosis import FAILURES
from ..run import SYSTEMS, EvalResult, SetResult
from .benchmarks_markdown import benchmarks_markdown
from .cells import md_escape, table
from .contract import DEFINITIONS, LABELS, TARGETS, ahead_on_hit3, met

SIDE_BY_SIDE = (
    ("hit@1", "hit@1"),
    ("hit@3", "hit@3"),
    ("MRR", "mrr"),
    ("faithfulness", "faithfulness"),
    ("abstention precision", "abstention_precision"),
    ("abstention recall", "abstention_recall"),
    ("stance accuracy", "stance_accuracy"),
    ("latency p50 (ms)", "latency_ms_p50"),
    ("latency p95 (ms)", "latency_ms_p95"),
    ("answerable questions hit at 3", "hits_at_3"),
    ("answerable questions abstained on", "answerable_abstained"),
)
"""Rows of the side-by-side table that are one figure each: (label, key)."""


def report_markdown(result: EvalResult, data: dict[str, Any], chart: str | None) -> str:
    """The whole report.md; `chart` is the chart's file name beside it."""
    single = len(result.sets) == 1
    lines = ["# policybot evaluation", "", *_header(result)]
    if not single:
        lines += ["", "## Every set, policybot's headline figures", "", *_sets_table(result)]
        if chart:
            lines += ["", f"![metrics]({chart})"]
        lines += ["", *_system_notes(result.meta)]
    for s in result.sets:
        lines += _set_markdown(s, result.meta, chart if single else None, "##" if single else "###")
    lines += benchmarks_markdown(result.benchmarks)
    lines += ["", "## Definitions", ""]
    lines += [f"- **{key}**: {text}" for key, text in DEFINITIONS.items()]
    lines.append("")
    return "\n".join(lines)


def _header(result: EvalResult) -> list[str]:
    meta = result.meta
    described = []
    for n, s in enumerate(result.sets):
        p = s.metrics["project"]
        path = s.path or (meta.get("questions_file", "?") if n == 0 else "?")
        described.append(
            f"{p['questions']} questions ({p['answerable']} answerable, {p['to_abstain']} to abstain on) "
            f"from `{path}`"
        )
    lines = [
        f"{'; '.join(described)}, run {meta.get('finished', '')} on commit `{meta.get('commit', '?')}`; "
        f"corpus: {', '.join(f'`{c}`' for c in meta.get('corpora', []))}."
    ]
    if meta.get("load_average") is not None:
        lines.append(
            f"Machine: {meta.get('cpus', '?')} CPUs, load average {meta['load_average']} at the start "
            "(latency figures depend on it)."
        )
    return lines


def _sets_table(result: EvalResult) -> list[str]:
    keys = (
        "hit@1",
        "hit@3",
        "mrr",
        "faithfulness",
        "abstention_precision",
        "abstention_recall",
        "lead_accuracy",
        "lead_coverage",
        "excerpts_not_citable_share",
        "raw_markdown",
    )
    header = ["set", "questions", "hit@1", "hit@3", "MRR", "faithful", "abst. P", "abst. R", "lead acc."]
    header += ["lead cov.", "not citable", "raw Markdown"]
    rows = [
        [f"`{s.name}`", s.metrics["project"]["questions"], *[s.metrics["project"].get(k) for k in keys]]
        for s in result.sets
    ]
    return table(header, rows)


def _system_notes(meta: dict[str, Any]) -> list[str]:
    return [
        "- **policybot**: `bot.answer.ask.ask(question, settings, history=..., today=...)`, exactly as every "
        "interface calls it (`today`: the question's own day, when the file gives one); the citations' "
        "`clause` is what the hit rule reads.",
        "- **BM25 only / dense only**: policybot's own chunks and its reading of the question (platforms, date, "
        "region, follow-ups), but one retriever and no fusion, no terms prior, no abstention; the first three "
        "chunks, one per clause.",
        "- **LangChain recipe**: " + _recipe_sentence(meta.get("recipe")),
        "- Baselines never abstain, so their abstention precision is n/a and recall 0. The question's `as_of` in "
        "the gold file is not passed to any system: the date is in the question's words.",
    ]


def _set_markdown(s: SetResult, meta: dict[str, Any], chart: str | None, level: str) -> list[str]:
    """One set's sections; `level` is the Markdown heading of each section ("##" when it is the only set)."""
    lines: list[str] = []
    if level != "##":
        lines += ["", f"## Set `{s.name}`", ""]
        lines.append(f"{s.metrics['project']['questions']} questions from `{s.path or '?'}`.")
    lines += ["", f"{level} Every metric, side by side", "", *_side_by_side(s)]
    if chart:
        lines += ["", f"![metrics]({chart})"]
    lines.append("")
    if level == "##":
        lines += _system_notes(meta)
    lines.append(_stance_sentence(s.metrics["project"]))
    lines += ["", f"{level} What policybot's answers look like", "", *_answer_figures(s.metrics["project"])]
    lines += ["", f"{level} Against the issue's targets", "", *_targets(s)]
    lines += ["", f"{level} hit@3 by question style", "", *_by(s, "style", "style")]
    lines += ["", f"{level} hit@3 by failure kind", "", *_by(s, "kind", "kind")]
    lines += ["", f"{level} Abstention recall by failure kind", "", *_abstention_by_kind(s)]
    lines += _failures(s, level)
    return lines


def _side_by_side(s: SetResult) -> list[str]:
    systems = [name for name in SYSTEMS if name in s.metrics]
    m = s.metrics
    rows: list[list[Any]] = [[label, *[m[x].get(key) for x in systems]] for label, key in SIDE_BY_SIDE]
    rows += [
        [
            "abstentions (right / all)",
            *[f"{m[x]['abstained_correctly']} / {m[x]['abstained']}" for x in systems],
        ],
        [
            "excerpts verbatim / checked",
            *[f"{m[x]['excerpts_verbatim']} / {m[x]['excerpts_checked']}" for x in systems],
        ],
        ["citation labels match the corpus file", *[m[x].get("citation_labels_correct") for x in systems]],
    ]
    return table(["metric", *[LABELS[x] for x in systems]], rows)


def _answer_figures(p: dict[str, Any]) -> list[str]:
    judged = p.get("excerpts_judged", 0)
    faults = ", ".join(
        f"{p.get(f'excerpts_{fault}', 0)} {label}"
        for fault, label in (
            ("heading", "headings"),
            ("metadata", "metadata lines"),
            ("toc", "table-of-contents lines"),
            ("short", "under 4 words"),
        )
    )
    rows = [
        [
            "lead accuracy",
            p.get("lead_accuracy"),
            f"{p.get('leads_right', 0)} right of {p.get('leads', 0)} leads",
        ],
        ["lead coverage", p.get("lead_coverage"), f"of {p.get('answerable', 0)} answerable questions"],
        [
            "excerpts not citable",
            p.get("excerpts_not_citable_share"),
            f"{p.get('excerpts_not_citable', 0)} of {judged} ({faults}; an excerpt can have several faults)",
        ],
        [
            "excerpts beginning mid-sentence",
            p.get("excerpts_mid_sentence_share"),
            f"{p.get('excerpts_mid_sentence', 0)} of {judged}",
        ],
        ["raw Markdown in the answer", p.get("raw_markdown"), f"{p.get('raw_markdown_answers', 0)} answers"],
        [
            '"not addressed" precision (comparisons)',
            p.get("not_addressed_precision"),
            f"{p.get('not_addressed_wrong', 0)} wrong of {p.get('not_addressed_rows', 0)} rows",
        ],
    ]
    return table(["figure", "policybot", "counts"], rows)


def _targets(s: SetResult) -> list[str]:
    p = s.metrics["project"]
    systems = [name for name in SYSTEMS if name in s.metrics]
    rows: list[list[Any]] = [
        [key, TARGETS[key], p.get(key), "met" if met(p.get(key), TARGETS[key]) else "**not met**"]
        for key in TARGETS
    ]
    best = max(
        ((s.metrics[x].get("hit@3") or 0.0, LABELS[x]) for x in systems if x != "project"), default=(0.0, "-")
    )
    rows.append(
        [
            "hit@3 ahead of every baseline",
            f"> {best[0]:.3f} ({best[1]})",
            p.get("hit@3"),
            "met" if ahead_on_hit3(s.metrics) else "**not met**",
        ]
    )
    return table(["figure", "target", "policybot", ""], rows)


def _by(s: SetResult, key: str, label: str) -> list[str]:
    """hit@3 of every system by a breakdown key of the set (style, kind)."""
    systems = [name for name in SYSTEMS if name in s.metrics]
    groups = s.breakdown["project"][key]
    return table(
        [label, "n", *[LABELS[x] for x in systems]],
        [[g, groups[g]["n"], *[s.breakdown[x][key][g]["hit@3"] for x in systems]] for g in sorted(groups)],
    )


def _abstention_by_kind(s: SetResult) -> list[str]:
    groups = s.breakdown["project"]["abstention_by_kind"]
    if not groups:
        return ["No question of this set is to be abstained on."]
    return table(
        ["kind", "n", "abstained on", "policybot recall"],
        [[g, v["n"], v["abstained"], v["abstention_recall"]] for g, v in sorted(groups.items())],
    )


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


def _failures(s: SetResult, level: str) -> list[str]:
    outcomes = s.outcomes["project"]
    kinds = Counter(str(o.extra.get("failure")) for o in outcomes.values() if o.extra.get("failure"))
    lines = ["", f"{level} Where policybot fails, and why", ""]
    lines.append(
        "Each miss is traced through the pipeline: the same reading of the question and the same retrieval "
        "`ask()` runs (the chunks it chooses its citations from) are re-run to see whether the gold clause was "
        "found at all."
    )
    lines.append("")
    lines += table(
        ["kind", "questions", "meaning"],
        [[kind, kinds.get(kind, 0), text] for kind, text in FAILURES.items()],
    )
    for kind in ("abstained", "not_retrieved", "not_cited", "answered", "late"):
        missed = [q for q in s.questions if outcomes[q.id].extra.get("failure") == kind]
        if not missed:
            continue
        lines += ["", f"{level}# {FAILURES[kind]} ({len(missed)})", ""]
        lines += table(
            ["id", "style", "question", "why"],
            [
                [
                    q.id,
                    q.style,
                    md_escape((" → ".join([*q.history, q.question]))[:160]),
                    md_escape(outcomes[q.id].diagnosis),
                ]
                for q in missed
            ],
        )
    return lines
