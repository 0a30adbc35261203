"""The fast subset of `policybot eval` that CI runs: 40 fixed gold questions on the shared corpus.

It fails when an excerpt is not verbatim in its stored version, when a citation's labels disagree with the
corpus file holding its text, or when hit@3 or abstention fall below the floors below.

Floors, from the figures measured on this subset at commit c7ca0e4 (`pytest tests/test_evaluation_ci.py -s`
prints them): hit@3 19/32 = 0.594, abstention precision 6/7 = 0.857, recall 6/8 = 0.750. Each floor
sits a few questions below the measurement: the subset is small, and CI machines without native bfloat16
embed in fp32 (cosine 0.9999 to bf16), which can swap near-tied ranks. Three answerable questions lost
(16/32), two more wrong abstentions (6/9) or two more missed ones (5/8 still passes, 4/8 fails) is a
regression worth a red build, not noise. Raise the floors as the figures improve.
"""

import pytest

from bot.evaluation.gold import load_questions, subset
from bot.evaluation.run import run_questions, score
from bot.evaluation.versions import CorpusVersions
from bot.ingest.load import load_corpus

from .conftest import BUNDLED, OTA, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.integration]

HIT_AT_3_FLOOR = 0.50
# The abstention model (bot/data/ranker.toml) refuses some answerable questions whose clause retrieval would
# miss anyway: it trades precision (0.57 on this subset, 0.56 on the held-out test set) for recall (1.0 here,
# 0.74 on the test set, from 0.39). The floor guards against a further fall, not the target (0.95).
ABSTENTION_PRECISION_FLOOR = 0.50
ABSTENTION_RECALL_FLOOR = 0.60


def ci_questions():  # type: ignore[no-untyped-def]
    """32 answerable and 8 abstain questions, spread evenly over the gold file: always the same 40."""
    questions = load_questions(ROOT / "eval" / "questions.jsonl")
    answerable = [q for q in questions if q.answerable]
    to_abstain = [q for q in questions if not q.answerable]
    return subset(answerable, 32) + subset(to_abstain, 8)


def test_the_ci_subset_is_fixed_and_mixed() -> None:
    chosen = ci_questions()
    assert len(chosen) == 40 and len({q.id for q in chosen}) == 40
    assert {q.abstain_reason for q in chosen if not q.answerable} >= {
        "off_topic",
        "unknown_service",
        "instruction",
    }
    assert any(q.history for q in chosen) and len({q.style for q in chosen}) >= 6


def test_eval_subset_keeps_faithfulness_hit_at_3_and_abstention(shared_index) -> None:  # type: ignore[no-untyped-def]
    questions = ci_questions()
    outcomes = run_questions(questions, shared_index, corpus=CorpusVersions.of(load_corpus([OTA, BUNDLED])))
    result = score(questions, outcomes)
    figures = result.metrics["project"]
    print(
        {key: figures[key] for key in ("hit@1", "hit@3", "mrr", "abstention_precision", "abstention_recall")}
    )
    failures = {
        q.id: outcomes["project"][q.id].diagnosis for q in questions if outcomes["project"][q.id].diagnosis
    }
    assert figures["excerpts_checked"] > 0
    assert figures["faithfulness"] == 1.0, figures
    assert figures["citation_labels_correct"] == 1.0, figures
    assert figures["hit@3"] >= HIT_AT_3_FLOOR, (figures, failures)
    assert figures["abstention_precision"] >= ABSTENTION_PRECISION_FLOOR, (figures, failures)
    assert figures["abstention_recall"] >= ABSTENTION_RECALL_FLOOR, (figures, failures)
