"""What the report's figures are called and mean, and the issue's targets for them: shared by report.json,
report.md, the chart and the terminal summary."""

from __future__ import annotations

from typing import Any

from ..run import BASELINES

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
    "re-read through bot.index.store.open_store(settings).text(sha) and re-hashed here",
    "abstention_precision": "of the questions a system abstained on, the share the gold says to abstain on; "
    "null when it never abstains",
    "abstention_recall": "of the questions the gold says to abstain on, the share the system abstained on",
    "stance_accuracy": "share of questions with a gold stance whose answer states the same stance "
    "(answer_json['stance'] or a comparison row); null while no answer states any stance",
    "latency": "wall time per question: ask() for policybot; the retrieval call for the baselines",
    "lead_accuracy": "of the answers that open with policybot's own summary (answer_json['summary'] not "
    "empty), the share whose first summary has the question's gold topic and rests on a citation that is a "
    "hit; null when no answer leads",
    "lead_coverage": "share of answerable questions whose answer opens with a summary (leads counts every "
    "answer that does, questions to abstain on included)",
    "excerpts_not_citable_share": "share of quoted excerpts that are not a citable clause: a heading alone "
    "(#, a ===/--- underline, a wholly bold line), a metadata line (Last updated/amended/modified/revised, "
    "Effective, Version, Date and a date), a table-of-contents line (only links, or anchor links with fewer "
    "than 4 words beside them), or "
    "fewer than 4 words once Markdown is stripped; judged on the excerpt's whole lines in the stored text, "
    "by bot/evaluation/hygiene.py, not by the bot's parser",
    "excerpts_mid_sentence_share": "share of quoted excerpts whose first letter is lower-case and whose "
    "preceding character in the stored text (spaces skipped) is neither a sentence end nor a line break",
    "raw_markdown": "share of answers (abstentions included) whose text contains **, __ or ](: Markdown shown "
    "as markup",
    "not_addressed_precision": "over questions tagged comparison, of the comparison rows whose note says "
    "'not addressed', the share whose platform has no gold phrase for the question; null without such rows",
    "by_kind": "hit@3 of the answerable questions and abstention recall of the questions to abstain on, by "
    "failure-kind tag (a question with several tags counts in each; '-' is untagged)",
}


def met(value: float | None, target: float) -> bool:
    return value is not None and value >= target


def ahead_on_hit3(metrics: dict[str, dict[str, Any]]) -> bool:
    """Whether policybot's hit@3 beats every baseline's in one set's figures."""
    ours = metrics["project"].get("hit@3") or 0.0
    return all(ours > (metrics[name].get("hit@3") or 0.0) for name in BASELINES if name in metrics)


def targets(metrics: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each target with whether one set's figures meet it."""
    return {
        key: {"target": value, "met": met(metrics["project"].get(key), value)}
        for key, value in TARGETS.items()
    } | {"ahead_of_every_baseline_on_hit@3": {"met": ahead_on_hit3(metrics)}}
