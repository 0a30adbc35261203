"""Metrics as pure functions: evidence matching, hit@k, MRR, abstention, stance, latency percentiles,
ranking metrics for the public benchmarks. No I/O, so each is tested with a table of plain values."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .gold import GoldPhrase, GoldQuestion, normalise

DEPTH = 3
"""Every system is scored on its first three pieces of evidence: policybot cites at most three clauses."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """One piece of evidence a system returned, in rank order: a citation, a retrieved chunk."""

    service: str
    document: str
    version_date: date | None
    text: str
    """What the hit rule reads: the whole clause of a citation (so a trimmed excerpt still counts), or a
    retrieved chunk as it is."""
    excerpt: str = ""
    """The quoted excerpt, when the system quotes one."""
    section: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one system did with one question."""

    question_id: str
    evidence: tuple[Evidence, ...]
    abstained: bool
    latency_ms: float
    reason: str = ""
    """Why the system abstained, in its own words."""
    stance: str | None = None
    """The stance the answer states, when it states one."""
    checked: int = 0
    """Excerpts re-checked against their stored version."""
    verified: int = 0
    """Of those, the ones found verbatim at their offsets."""
    labelled: int = 0
    """Of those, the ones whose service, document and version date match the corpus file holding the text."""
    services: tuple[str, ...] = ()
    """Platforms the system read in the question."""
    diagnosis: str = ""
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    lead_topic: str | None = None
    """The topic of the answer's first summary (its lead); None when it opens without one."""
    lead_evidence: int | None = None
    """Where in `evidence` the citation the lead rests on is (0-based); None when it names none."""
    excerpt_faults: tuple[frozenset[str], ...] = ()
    """Per citation, in order, what makes its excerpt not a citable clause (bot/evaluation/hygiene.py)."""
    raw_markdown: bool = False
    """The answer text shows Markdown markup (`**`, `__`, `](`) instead of rendering it."""
    not_addressed: tuple[str, ...] = ()
    """Platforms of the comparison rows whose note says "not addressed"."""


def evidence_matches(evidence: Evidence, gold: GoldPhrase) -> bool:
    """The hit rule: same platform and document type (case-insensitive), the same version when the gold
    names one, and the gold phrase inside the clause or excerpt after whitespace normalisation."""
    if evidence.service.casefold() != gold.service.casefold():
        return False
    if evidence.document.casefold() != gold.document.casefold():
        return False
    if gold.version_date is not None and evidence.version_date != gold.version_date:
        return False
    phrase = normalise(gold.phrase)
    return phrase in normalise(evidence.text) or phrase in normalise(evidence.excerpt)


def first_hit_rank(
    evidence: Sequence[Evidence], gold: Sequence[GoldPhrase], depth: int = DEPTH
) -> int | None:
    """1-based rank of the first evidence that matches any gold phrase, within `depth`; None when none does."""
    for rank, item in enumerate(evidence[:depth], start=1):
        if any(evidence_matches(item, g) for g in gold):
            return rank
    return None


def hit_at(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of questions whose first hit is at rank ≤ k; None for no questions."""
    if not ranks:
        return None
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float | None:
    """Mean of 1/rank of the first hit, 0 for a question with no hit; None for no questions."""
    if not ranks:
        return None
    return sum(1.0 / r for r in ranks if r is not None) / len(ranks)


def abstention_scores(
    expected: Sequence[bool], abstained: Sequence[bool]
) -> tuple[float | None, float | None]:
    """(precision, recall) of abstaining: precision is None when the system never abstained, recall None
    when no question should have been abstained on."""
    pairs = list(zip(expected, abstained, strict=True))
    true_positive = sum(1 for e, a in pairs if e and a)
    predicted = sum(1 for _, a in pairs if a)
    actual = sum(1 for e, _ in pairs if e)
    precision = true_positive / predicted if predicted else None
    recall = true_positive / actual if actual else None
    return precision, recall


def normalise_stance(value: str | None) -> str | None:
    if value is None:
        return None
    text = " ".join(value.casefold().replace("_", " ").replace("-", " ").split())
    return text or None


def stance_accuracy(pairs: Sequence[tuple[str, str | None]]) -> float | None:
    """Share of (gold, predicted) stances that agree; None while no answer states a stance at all, so that a
    system without stances reads as "not measured", not as 0."""
    if not pairs or all(predicted is None for _, predicted in pairs):
        return None
    right = sum(1 for gold, predicted in pairs if normalise_stance(gold) == normalise_stance(predicted))
    return right / len(pairs)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between order statistics (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def summarise(questions: Sequence[GoldQuestion], outcomes: Mapping[str, Outcome]) -> dict[str, Any]:
    """The report's metrics for one system over `questions` (outcomes by question id).

    hit@k and MRR are over the answerable questions; an abstention on one of them is a miss. Faithfulness is
    over every excerpt the system returned; None when it returned none.
    """
    answerable = [q for q in questions if q.answerable]
    ranks = [first_hit_rank(outcomes[q.id].evidence, q.gold) for q in answerable]
    expected = [not q.answerable for q in questions]
    abstained = [outcomes[q.id].abstained for q in questions]
    precision, recall = abstention_scores(expected, abstained)
    checked = sum(outcomes[q.id].checked for q in questions)
    verified = sum(outcomes[q.id].verified for q in questions)
    labelled = sum(outcomes[q.id].labelled for q in questions)
    with_stance = [q for q in questions if q.stance]
    latencies = [outcomes[q.id].latency_ms for q in questions]
    return {
        "hit@1": _round(hit_at(ranks, 1)),
        "hit@3": _round(hit_at(ranks, 3)),
        "mrr": _round(mean_reciprocal_rank(ranks)),
        "faithfulness": _round(verified / checked) if checked else None,
        "abstention_precision": _round(precision),
        "abstention_recall": _round(recall),
        "stance_accuracy": _round(
            stance_accuracy([(q.stance or "", outcomes[q.id].stance) for q in with_stance])
        ),
        "latency_ms_p50": _round(percentile(latencies, 50), 2),
        "latency_ms_p95": _round(percentile(latencies, 95), 2),
        # Counts behind the figures, so a reader can check each one.
        "questions": len(questions),
        "answerable": len(answerable),
        "hits_at_3": sum(1 for r in ranks if r is not None and r <= 3),
        "answerable_abstained": sum(1 for q in answerable if outcomes[q.id].abstained),
        "to_abstain": sum(expected),
        "abstained": sum(abstained),
        "abstained_correctly": sum(1 for e, a in zip(expected, abstained, strict=True) if e and a),
        "excerpts_checked": checked,
        "excerpts_verbatim": verified,
        "citation_labels_correct": _round(labelled / checked) if checked else None,
        "with_gold_stance": len(with_stance),
        "stances_stated": sum(1 for q in with_stance if outcomes[q.id].stance is not None),
        "errors": sum(1 for q in questions if outcomes[q.id].error),
    }


def hit_at_3_by(
    questions: Sequence[GoldQuestion], outcomes: Mapping[str, Outcome], key: str
) -> dict[str, Any]:
    """hit@3 of the answerable questions grouped by a question attribute (style, topic), with counts."""
    groups: dict[str, list[int | None]] = {}
    for q in questions:
        if q.answerable:
            groups.setdefault(str(getattr(q, key)) or "-", []).append(
                first_hit_rank(outcomes[q.id].evidence, q.gold)
            )
    return {
        name: {"n": len(ranks), "hit@3": _round(hit_at(ranks, 3))} for name, ranks in sorted(groups.items())
    }


UNTAGGED = "-"
"""The group of questions without a failure-kind tag."""


def hit_at_3_by_kind(questions: Sequence[GoldQuestion], outcomes: Mapping[str, Outcome]) -> dict[str, Any]:
    """hit@3 of the answerable questions by failure kind; a question with several kinds counts in each."""
    groups: dict[str, list[int | None]] = {}
    for q in questions:
        if q.answerable:
            rank = first_hit_rank(outcomes[q.id].evidence, q.gold)
            for kind in q.kinds or (UNTAGGED,):
                groups.setdefault(kind, []).append(rank)
    return {
        kind: {"n": len(ranks), "hit@3": _round(hit_at(ranks, 3))} for kind, ranks in sorted(groups.items())
    }


def abstention_recall_by_kind(
    questions: Sequence[GoldQuestion], outcomes: Mapping[str, Outcome]
) -> dict[str, Any]:
    """Abstention recall of the questions to abstain on, by failure kind (several kinds: counted in each)."""
    groups: dict[str, list[bool]] = {}
    for q in questions:
        if not q.answerable:
            for kind in q.kinds or (UNTAGGED,):
                groups.setdefault(kind, []).append(outcomes[q.id].abstained)
    return {
        kind: {"n": len(done), "abstained": sum(done), "abstention_recall": _round(sum(done) / len(done))}
        for kind, done in sorted(groups.items())
    }


# --- ranking metrics for the public benchmarks -------------------------------------------------------------


def recall_at(ranked: Sequence[int], relevant: Iterable[int], k: int) -> float:
    """Share of the relevant items among the first k ranked."""
    wanted = set(relevant)
    if not wanted:
        raise ValueError("recall@k needs at least one relevant item")
    return len(wanted.intersection(ranked[:k])) / len(wanted)


def ndcg_at(ranked: Sequence[int], relevant: Iterable[int], k: int) -> float:
    """Binary-relevance nDCG@k: DCG of the ranking over the DCG of the ideal one."""
    wanted = set(relevant)
    if not wanted:
        raise ValueError("nDCG@k needs at least one relevant item")
    dcg = sum(1.0 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in wanted)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(wanted))))
    return dcg / ideal


def first_relevant_rank(ranked: Sequence[int], relevant: Iterable[int]) -> int | None:
    wanted = set(relevant)
    for rank, item in enumerate(ranked, start=1):
        if item in wanted:
            return rank
    return None


def random_expectation(candidates: int, relevant: int, k: int) -> tuple[float, float]:
    """(expected hit@k, expected reciprocal rank) of a uniformly random ranking of `candidates` items of
    which `relevant` are relevant: what a ranker must beat to show it reads the text at all."""
    if not 0 < relevant <= candidates:
        raise ValueError(f"need 0 < relevant ≤ candidates, got {relevant} of {candidates}")
    miss = math.comb(candidates - relevant, k) / math.comb(candidates, k) if k <= candidates else 0.0
    # P(first relevant at rank r) = C(n-r, g-1) / C(n, g).
    total = math.comb(candidates, relevant)
    rr = sum(math.comb(candidates - r, relevant - 1) / total / r for r in range(1, candidates - relevant + 2))
    return 1.0 - miss, rr


def multilabel_f1(
    gold: Sequence[set[str]], predicted: Sequence[set[str]], labels: Sequence[str]
) -> tuple[float, float]:
    """(micro-F1, macro-F1) over `labels` plus a "none" column that is set when an item has no label —
    LexGLUE's UNFAIR-ToS scoring (sklearn's f1_score with zero_division=0)."""
    columns = [*labels, "\x00none"]

    def expand(items: set[str]) -> set[str]:
        return items if items else {"\x00none"}

    true_positive = dict.fromkeys(columns, 0)
    false_positive = dict.fromkeys(columns, 0)
    false_negative = dict.fromkeys(columns, 0)
    for g, p in zip(gold, predicted, strict=True):
        g, p = expand(g), expand(p)
        for column in columns:
            if column in g and column in p:
                true_positive[column] += 1
            elif column in p:
                false_positive[column] += 1
            elif column in g:
                false_negative[column] += 1

    def f1(tp: int, fp: int, fn: int) -> float:
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

    micro = f1(sum(true_positive.values()), sum(false_positive.values()), sum(false_negative.values()))
    macro = sum(f1(true_positive[c], false_positive[c], false_negative[c]) for c in columns) / len(columns)
    return micro, macro
