"""What the answers look like: leads, excerpt hygiene, raw Markdown, "not addressed" rows, figures by kind."""

from datetime import date
from typing import Any

import pytest

from bot.evaluation.answers import (
    answer_figures,
    excerpt_figures,
    lead_figures,
    lead_is_right,
    markdown_figures,
    not_addressed_figures,
    not_addressed_rows,
    read_lead,
    shows_raw_markdown,
)
from bot.evaluation.gold import GoldPhrase, GoldQuestion
from bot.evaluation.metrics import Evidence, Outcome, abstention_recall_by_kind, hit_at_3_by_kind
from bot.evaluation.outcomes import project_outcome
from bot.types import text_sha256

pytestmark = pytest.mark.unit

CLAUSE = "We will not use your content to train generative AI models without your consent."
GOLD = GoldPhrase("SoundCloud", "Terms of Service", "train generative AI models", None)
BANDCAMP = GoldPhrase("Bandcamp", "Terms of Use", "not to use your music to train AI", None)
HIT = Evidence("SoundCloud", "Terms of Service", date(2026, 8, 17), CLAUSE, CLAUSE)
MISS = Evidence("SoundCloud", "Terms of Service", date(2026, 8, 17), "Something else.", "Something else.")


def question(
    qid: str,
    expect: str = "answer",
    topic: str = "ai_training",
    kinds: tuple[str, ...] = (),
    gold: tuple[GoldPhrase, ...] = (GOLD,),
) -> GoldQuestion:
    return GoldQuestion(qid, "?", expect, gold if expect == "answer" else (), topic=topic, kinds=kinds)


def outcome(qid: str, evidence: tuple[Evidence, ...] = (), abstained: bool = False, **fields: Any) -> Outcome:
    return Outcome(qid, evidence, abstained, 1.0, **fields)


# --- reading the answer JSON ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"summary": [], "citations": []}, (None, None)),  # no lead
        ({}, (None, None)),
        (
            {"summary": [{"topic": "ai_training", "citation": 2}], "citations": [{"n": 1}, {"n": 2}]},
            ("ai_training", 1),
        ),
        (
            {"summary": [{"topic": "ai_training", "citation": None}], "citations": [{"n": 1}]},
            ("ai_training", None),
        ),
        (
            {"summary": [{"topic": "payouts", "citation": 3}], "citations": [{"n": 1}]},
            ("payouts", None),
        ),  # unknown n
        (
            {
                "summary": [{"topic": "payouts", "citation": 1}, {"topic": "ai_training", "citation": 2}],
                "citations": [{"n": 1}, {"n": 2}],
            },
            ("payouts", 0),
        ),  # the first summary is the lead
    ],
)
def test_read_lead(answer: dict[str, object], expected: tuple[str | None, int | None]) -> None:
    assert read_lead(answer) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SoundCloud's Terms of Use say: “We will not…” [1]", False),
        ("This is **important**.", True),
        ("See __this__.", True),
        ("[the terms](https://example.com)", True),
        ("snake_case and a * star", False),
    ],
)
def test_shows_raw_markdown(text: str, expected: bool) -> None:
    assert shows_raw_markdown(text) is expected


def test_not_addressed_rows_are_read_from_the_note() -> None:
    answer = {
        "comparison": [
            {"service": "SoundCloud", "stance": "opt-in only", "note": "Opt-in needed.", "citation": 1},
            {
                "service": "Bandcamp",
                "stance": "not addressed",
                "note": "Not addressed in Terms of Use (2025)",
            },
            {"service": "Spotify", "stance": None, "note": "not addressed in Platform Rules"},
        ]
    }
    assert not_addressed_rows(answer) == ("Bandcamp", "Spotify")
    assert not_addressed_rows({"comparison": []}) == ()


# --- the figures ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "o", "right"),
    [
        (question("a"), outcome("a", (HIT,), lead_topic="ai_training", lead_evidence=0), True),
        (question("a"), outcome("a", (MISS, HIT), lead_topic="ai_training", lead_evidence=1), True),
        (
            question("a"),
            outcome("a", (HIT, MISS), lead_topic="ai_training", lead_evidence=1),
            False,
        ),  # wrong clause
        (question("a"), outcome("a", (HIT,), lead_topic="payouts", lead_evidence=0), False),  # wrong topic
        (question("a"), outcome("a", (HIT,), lead_topic="ai_training"), False),  # rests on no citation
        (question("a"), outcome("a", (HIT,)), False),  # no lead at all
        (
            question("a", topic=""),
            outcome("a", (HIT,), lead_topic="", lead_evidence=0),
            False,
        ),  # no gold topic
        (question("x", "abstain"), outcome("x", (HIT,), lead_topic="ai_training", lead_evidence=0), False),
    ],
)
def test_lead_is_right(q: GoldQuestion, o: Outcome, right: bool) -> None:
    assert lead_is_right(q, o) is right


def test_lead_accuracy_is_over_leads_and_coverage_over_answerable_questions() -> None:
    questions = [question("a"), question("b"), question("c"), question("d"), question("x", "abstain")]
    outcomes = {
        "a": outcome("a", (HIT,), lead_topic="ai_training", lead_evidence=0),  # right
        "b": outcome("b", (MISS,), lead_topic="ai_training", lead_evidence=0),  # wrong clause
        "c": outcome("c", (HIT,)),  # no lead: not in accuracy, lowers coverage
        "d": outcome("d", abstained=True),
        "x": outcome("x", (MISS,), lead_topic="ai_training", lead_evidence=0),  # a lead where none was due
    }
    figures = lead_figures(questions, outcomes)
    assert figures == {
        "lead_accuracy": pytest.approx(1 / 3, abs=1e-4),
        "lead_coverage": 0.5,
        "leads": 3,
        "leads_right": 1,
    }
    never = {qid: outcome(qid) for qid in outcomes}
    assert lead_figures(questions, never) == {
        "lead_accuracy": None,
        "lead_coverage": 0.0,
        "leads": 0,
        "leads_right": 0,
    }


def test_excerpt_figures_count_each_fault_and_mid_sentence_apart() -> None:
    questions = [question("a"), question("b"), question("x", "abstain")]
    outcomes = {
        "a": outcome(
            "a", excerpt_faults=(frozenset(), frozenset({"heading", "short"}), frozenset({"mid_sentence"}))
        ),
        "b": outcome("b", excerpt_faults=(frozenset({"metadata"}),)),
        "x": outcome("x", abstained=True),
    }
    figures = excerpt_figures(questions, outcomes)
    assert figures == {
        "excerpts_not_citable_share": 0.5,  # 2 of 4: the heading (also short) and the metadata line
        "excerpts_mid_sentence_share": 0.25,  # starting mid-sentence alone is still a citable clause
        "excerpts_judged": 4,
        "excerpts_not_citable": 2,
        "excerpts_heading": 1,
        "excerpts_metadata": 1,
        "excerpts_toc": 0,
        "excerpts_short": 1,
        "excerpts_mid_sentence": 1,
    }
    assert excerpt_figures(questions[2:], outcomes)["excerpts_not_citable_share"] is None  # no excerpts


def test_raw_markdown_is_a_share_of_every_answer() -> None:
    questions = [question("a"), question("b"), question("c"), question("x", "abstain")]
    outcomes = {
        "a": outcome("a", raw_markdown=True),
        "b": outcome("b"),
        "c": outcome("c"),
        "x": outcome("x", abstained=True),
    }
    assert markdown_figures(questions, outcomes) == {"raw_markdown": 0.25, "raw_markdown_answers": 1}


def test_not_addressed_precision_counts_rows_of_comparison_questions_only() -> None:
    questions = [
        question("a", kinds=("comparison",), gold=(GOLD, BANDCAMP)),
        question("b", kinds=("comparison", "ai_tool"), gold=(GOLD,)),
        question("c", gold=(GOLD,)),  # not a comparison: its rows are not counted
    ]
    outcomes = {
        "a": outcome("a", not_addressed=("bandcamp", "Spotify")),  # Bandcamp's gold exists: wrong
        "b": outcome("b", not_addressed=("Bandcamp",)),  # right
        "c": outcome("c", not_addressed=("SoundCloud",)),
    }
    assert not_addressed_figures(questions, outcomes) == {
        "not_addressed_precision": pytest.approx(2 / 3, abs=1e-4),
        "not_addressed_rows": 3,
        "not_addressed_wrong": 1,
    }
    assert not_addressed_figures(questions[2:], outcomes)["not_addressed_precision"] is None


def test_answer_figures_hold_every_figure() -> None:
    questions = [question("a")]
    figures = answer_figures(questions, {"a": outcome("a")})
    for key in ("lead_accuracy", "lead_coverage", "excerpts_not_citable_share", "raw_markdown"):
        assert key in figures
    assert "not_addressed_precision" in figures


def test_hit_at_3_and_abstention_recall_by_kind() -> None:
    questions = [
        question("a", kinds=("nickname", "date_in_words")),
        question("b", kinds=("nickname",)),
        question("c"),
        question("x", "abstain", kinds=("unknown_platform",)),
        question("y", "abstain", kinds=("unknown_platform", "french_question")),
        question("z", "abstain"),
    ]
    outcomes = {
        "a": outcome("a", (HIT,)),
        "b": outcome("b", (MISS,)),
        "c": outcome("c", (MISS, MISS, HIT)),
        "x": outcome("x", abstained=True),
        "y": outcome("y", (MISS,)),
        "z": outcome("z", abstained=True),
    }
    assert hit_at_3_by_kind(questions, outcomes) == {
        "-": {"n": 1, "hit@3": 1.0},  # untagged
        "date_in_words": {"n": 1, "hit@3": 1.0},
        "nickname": {"n": 2, "hit@3": 0.5},  # a question with two kinds counts in each
    }
    assert abstention_recall_by_kind(questions, outcomes) == {
        "-": {"n": 1, "abstained": 1, "abstention_recall": 1.0},
        "french_question": {"n": 1, "abstained": 0, "abstention_recall": 0.0},
        "unknown_platform": {"n": 2, "abstained": 1, "abstention_recall": 0.5},
    }


# --- an answer JSON scored end to end ---------------------------------------------------------------------


def test_project_outcome_reads_the_lead_the_excerpts_the_markdown_and_the_rows() -> None:
    stored = f"# Terms of Use for Artists\nLast updated: May 5, 2024\n{CLAUSE}\n"
    sha = text_sha256(stored)

    def citation(n: int, excerpt: str) -> dict[str, object]:
        start = stored.index(excerpt)
        return {
            "n": n,
            "service": "SoundCloud",
            "document": "Terms of Service",
            "version_date": "2026-08-17",
            "excerpt": excerpt,
            "clause": excerpt,
            "text_sha256": sha,
            "start": start,
            "end": start + len(excerpt),
        }

    answer = {
        "answer": "SoundCloud's terms say **no**: [1]",
        "abstained": False,
        "citations": [
            citation(1, "Last updated: May 5, 2024"),
            citation(2, CLAUSE),
            citation(3, "train generative AI models without your consent."),
        ],
        "summary": [
            {"service": "SoundCloud", "topic": "ai_training", "stance": "opt-in only", "citation": 2}
        ],
        "comparison": [
            {"service": "Bandcamp", "stance": "not addressed", "note": "not addressed in Terms of Use"}
        ],
    }
    q = question("a", kinds=("comparison",))
    o = project_outcome(q, answer, 5.0, {sha: stored}.get, None)
    assert o.verified == o.checked == 3
    assert (o.lead_topic, o.lead_evidence) == ("ai_training", 1) and lead_is_right(q, o)
    assert o.excerpt_faults == (frozenset({"metadata"}), frozenset(), frozenset({"mid_sentence"}))
    assert o.raw_markdown and o.not_addressed == ("Bandcamp",)
