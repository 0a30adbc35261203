import itertools
import math
from datetime import date

import numpy as np
import pytest

from bot.evaluation.gold import GoldPhrase, GoldQuestion
from bot.evaluation.metrics import (
    Evidence,
    Outcome,
    abstention_scores,
    evidence_matches,
    first_hit_rank,
    hit_at,
    hit_at_3_by,
    mean_reciprocal_rank,
    multilabel_f1,
    ndcg_at,
    normalise_stance,
    percentile,
    random_expectation,
    recall_at,
    stance_accuracy,
    summarise,
)

pytestmark = pytest.mark.unit

CLAUSE = "We will not use your content to train generative AI models that aim to replicate\u00a0or synthesize your voice."
GOLD = GoldPhrase(
    "SoundCloud", "Terms of Service", "train generative AI models that aim to replicate or synthesize", None
)
DATED = GoldPhrase("SoundCloud", "Terms of Service", "train generative AI", date(2025, 5, 21))


def ev(
    text: str = CLAUSE,
    service: str = "SoundCloud",
    document: str = "Terms of Service",
    day: date | None = date(2026, 8, 17),
    excerpt: str = "",
) -> Evidence:
    return Evidence(service, document, day, text, excerpt)


@pytest.mark.parametrize(
    ("evidence", "gold", "expected"),
    [
        (ev(), GOLD, True),  # a non-breaking space in the clause still matches a plain space
        (ev(text=CLAUSE.replace(" ", "\n  ")), GOLD, True),  # line breaks and runs of spaces too
        (ev(service="soundcloud"), GOLD, True),  # platform names compare case-insensitively
        (ev(service="Bandcamp"), GOLD, False),  # the right words on another platform are not evidence
        (ev(document="Privacy Policy"), GOLD, False),  # nor in another document of the same platform
        (ev(text="We will not use your content."), GOLD, False),  # the phrase must be there
        (ev(text="We will not use your content.", excerpt=CLAUSE), GOLD, True),  # in the excerpt counts
        (ev(text=CLAUSE.upper()), GOLD, False),  # case matters: gold phrases are verbatim
        (ev(day=date(2025, 5, 21)), DATED, True),  # a dated gold needs that version
        (ev(day=date(2026, 8, 17)), DATED, False),
        (ev(day=None), DATED, False),
    ],
)
def test_evidence_matches(evidence: Evidence, gold: GoldPhrase, expected: bool) -> None:
    assert evidence_matches(evidence, gold) is expected


def test_first_hit_rank_is_the_first_matching_evidence_within_the_depth() -> None:
    miss = ev(text="Something else entirely.")
    assert first_hit_rank([miss, ev(), ev()], [GOLD]) == 2
    assert first_hit_rank([ev()], [DATED, GOLD]) == 1  # any gold phrase of the question counts
    assert first_hit_rank([miss, miss, miss, ev()], [GOLD]) is None  # rank 4 is beyond what is cited
    assert first_hit_rank([miss, miss, miss, ev()], [GOLD], depth=4) == 4
    assert first_hit_rank([], [GOLD]) is None


@pytest.mark.parametrize(
    ("ranks", "k", "hit", "mrr"),
    [
        ([1, 2, None, 3], 1, 0.25, (1 + 0.5 + 1 / 3) / 4),
        ([1, 2, None, 3], 3, 0.75, (1 + 0.5 + 1 / 3) / 4),
        ([None, None], 3, 0.0, 0.0),
        ([1], 1, 1.0, 1.0),
        ([], 3, None, None),
    ],
)
def test_hit_at_and_mrr(ranks: list[int | None], k: int, hit: float | None, mrr: float | None) -> None:
    assert hit_at(ranks, k) == hit
    assert mean_reciprocal_rank(ranks) == (None if mrr is None else pytest.approx(mrr))


@pytest.mark.parametrize(
    ("expected", "abstained", "precision", "recall"),
    [
        ([True, True, False, False], [True, False, True, False], 0.5, 0.5),
        ([True, False], [False, False], None, 0.0),  # never abstains: precision undefined, recall 0
        ([False, False], [True, False], 0.0, None),  # nothing to abstain on: recall undefined
        ([True, True], [True, True], 1.0, 1.0),
    ],
)
def test_abstention_scores(
    expected: list[bool], abstained: list[bool], precision: float | None, recall: float | None
) -> None:
    assert abstention_scores(expected, abstained) == (precision, recall)


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([("opt-in only", None), ("allowed", None)], None),  # no stance stated anywhere: not measured
        ([("opt-in only", "Opt_in  only"), ("allowed", None)], 0.5),  # a missing stance counts as wrong
        ([("prohibited", "allowed")], 0.0),
        ([], None),
    ],
)
def test_stance_accuracy(pairs: list[tuple[str, str | None]], expected: float | None) -> None:
    assert stance_accuracy(pairs) == expected
    assert normalise_stance(" Opt-In_only ") == "opt in only"


@pytest.mark.parametrize(
    "values", [[5.0], [3.0, 1.0], [1.0, 2.0, 3.0, 4.0, 100.0], list(map(float, range(37)))]
)
@pytest.mark.parametrize("q", [0, 50, 95, 100])
def test_percentile_agrees_with_numpy(values: list[float], q: float) -> None:
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_of_nothing_is_none() -> None:
    assert percentile([], 50) is None


@pytest.mark.parametrize(
    ("ranked", "relevant", "k", "recall", "ndcg"),
    [
        ([0, 1, 2, 3], [0], 1, 1.0, 1.0),
        ([1, 0, 2, 3], [0], 1, 0.0, 0.0),
        ([1, 0, 2, 3], [0], 3, 1.0, 1 / math.log2(3)),
        ([1, 0, 2, 3], [0, 3], 3, 0.5, (1 / math.log2(3)) / (1 + 1 / math.log2(3))),
        ([3, 0, 1, 2], [0, 3], 2, 1.0, 1.0),
    ],
)
def test_recall_and_ndcg(ranked: list[int], relevant: list[int], k: int, recall: float, ndcg: float) -> None:
    assert recall_at(ranked, relevant, k) == pytest.approx(recall)
    assert ndcg_at(ranked, relevant, k) == pytest.approx(ndcg)


def test_ranking_metrics_refuse_an_empty_gold_set() -> None:
    with pytest.raises(ValueError, match="at least one relevant"):
        recall_at([0, 1], [], 1)


@pytest.mark.parametrize(("n", "g", "k"), [(2, 1, 1), (5, 2, 3), (6, 1, 3), (7, 3, 2), (4, 4, 1)])
def test_random_expectation_matches_every_permutation(n: int, g: int, k: int) -> None:
    hits = []
    reciprocal = []
    for order in itertools.permutations(range(n)):
        first = next(r for r, item in enumerate(order, start=1) if item < g)
        hits.append(first <= k)
        reciprocal.append(1 / first)
    hit, rr = random_expectation(n, g, k)
    assert hit == pytest.approx(sum(hits) / len(hits))
    assert rr == pytest.approx(sum(reciprocal) / len(reciprocal))


def test_multilabel_f1_scores_like_lexglue() -> None:
    gold = [{"A"}, set(), {"B"}, set()]
    predicted = [{"A"}, {"A"}, set(), set()]
    micro, macro = multilabel_f1(gold, predicted, ["A", "B"])
    # Columns A, B, none. A: tp1 fp1 fn0 → 2/3. B: tp0 fn1 → 0. none: tp1 (item 4), fp1 (item 3), fn1 (item 2) → 1/2.
    assert macro == pytest.approx((2 / 3 + 0 + 0.5) / 3)
    # Micro: tp 2, fp 2, fn 2.
    assert micro == pytest.approx(0.5)
    assert multilabel_f1([set()], [set()], ["A"]) == (1.0, 0.5)


def _question(
    qid: str, expect: str = "answer", stance: str | None = None, style: str = "plain"
) -> GoldQuestion:
    gold = (GOLD,) if expect == "answer" else ()
    return GoldQuestion(id=qid, question="?", expect=expect, gold=gold, stance=stance, style=style)


def test_summarise_counts_every_figure_from_outcomes() -> None:
    questions = [
        _question("a", stance="opt-in only"),
        _question("b", style="vague"),
        _question("c", style="vague"),
        _question("x", "abstain"),
        _question("y", "abstain"),
    ]
    miss = ev(text="Nothing relevant.")
    outcomes = {
        "a": Outcome("a", (ev(),), False, 10.0, checked=1, verified=1, labelled=1),
        "b": Outcome("b", (miss, ev()), False, 20.0, checked=2, verified=1, labelled=2),
        "c": Outcome("c", (), True, 30.0),  # abstained on an answerable question: a miss
        "x": Outcome("x", (), True, 40.0),
        "y": Outcome("y", (miss,), False, 50.0, checked=1, verified=1, labelled=1),
    }
    figures = summarise(questions, outcomes)
    assert figures["hit@1"] == pytest.approx(1 / 3, abs=1e-4)
    assert figures["hit@3"] == pytest.approx(2 / 3, abs=1e-4)
    assert figures["mrr"] == pytest.approx(0.5)
    assert figures["faithfulness"] == 0.75
    assert figures["abstention_precision"] == 0.5 and figures["abstention_recall"] == 0.5
    assert figures["stance_accuracy"] is None  # no outcome states a stance
    assert figures["latency_ms_p50"] == 30.0 and figures["latency_ms_p95"] == 48.0
    assert figures["answerable_abstained"] == 1 and figures["hits_at_3"] == 2
    by_style = hit_at_3_by(questions, outcomes, "style")
    assert by_style == {"plain": {"n": 1, "hit@3": 1.0}, "vague": {"n": 2, "hit@3": 0.5}}


def test_summarise_without_excerpts_reports_faithfulness_as_unknown() -> None:
    questions = [_question("x", "abstain")]
    assert summarise(questions, {"x": Outcome("x", (), True, 1.0)})["faithfulness"] is None
