"""The public benchmarks' sections of report.md: ToS;DR points, UNFAIR-ToS, and why PolicyQA is not run."""

from __future__ import annotations

from typing import Any

from .cells import table

RANKERS = (
    ("policybot (dense + BM25, fused)", "policybot"),
    ("dense only", "dense"),
    ("BM25 only", "bm25"),
    ("random (expected)", "random"),
)


def benchmarks_markdown(bench: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    tosdr = bench.get("tosdr_points")
    if tosdr:
        lines += ["", "## ToS;DR points", ""]
        lines += [f"Skipped: {tosdr['skipped']}."] if "skipped" in tosdr else _tosdr(tosdr)
    unfair = bench.get("unfair_tos")
    if unfair:
        lines += ["", "## UNFAIR-ToS (LexGLUE test split)", ""]
        lines += [f"Skipped: {unfair['skipped']}."] if "skipped" in unfair else _unfair(unfair)
    policyqa = bench.get("policyqa")
    if policyqa and "skipped" in policyqa:
        lines += ["", "## PolicyQA", "", f"{policyqa['skipped'][0].upper()}{policyqa['skipped'][1:]}."]
    return lines


def _tosdr(tosdr: dict[str, Any]) -> list[str]:
    sample = tosdr["sample"]
    lines = [
        f"{tosdr['protocol']}. Sample: {sample['services']} of {sample['eligible_services']} services "
        f"({sample['rule']}), {sample['queries']} questions, {sample['candidates_mean']} candidate quotes "
        f"on average. {tosdr['published_note']} A random ranking of the same candidates is the floor.",
        "",
    ]
    return lines + table(
        ["ranker", "hit@1", "hit@3", "MRR"],
        [[name, tosdr[key]["hit@1"], tosdr[key]["hit@3"], tosdr[key]["mrr"]] for name, key in RANKERS],
    )


def _unfair(unfair: dict[str, Any]) -> list[str]:
    lines = [
        f"{unfair['protocol']}: {unfair['pairs']} pairs over {unfair['documents']} documents "
        f"({unfair['sentences']} sentences). Questions, one per category, written before the run:",
        "",
    ]
    lines += [f"- {code}: “{question}”" for code, question in unfair["questions"].items()]
    lines.append("")
    metrics = ("recall@1", "recall@3", "recall@5", "recall@10", "ndcg@10", "mrr")
    lines += table(
        ["ranker", "recall@1", "recall@3", "recall@5", "recall@10", "nDCG@10", "MRR"],
        [[name, *[unfair[key].get(m) for m in metrics]] for name, key in RANKERS],
    )
    lines += ["", "By category (policybot):", ""]
    lines += table(
        ["category", "pairs", "recall@3", "nDCG@10"],
        [[name, v["pairs"], v["recall@3"], v["ndcg@10"]] for name, v in unfair["by_category"].items()],
    )
    return lines + _published(unfair["classification"])


def _published(c: dict[str, Any]) -> list[str]:
    lines = [
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
    rows += [[f"{name} (published)", v["micro_f1"], v["macro_f1"]] for name, v in c["published"].items()]
    return lines + table(
        ["system", "micro-F1", "macro-F1"], [[n, f"{a:.1f}", f"{b:.1f}"] for n, a, b in rows]
    )
