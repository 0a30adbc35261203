"""The report of several question sets, from hand-made outcomes: report.json keeps its single-set keys for
the first set and holds every set under "sets"; report.md and the summary give every set's figures."""

import json
from datetime import date
from pathlib import Path

import pytest

from bot.evaluation.gold import GoldPhrase, GoldQuestion
from bot.evaluation.metrics import Evidence, Outcome
from bot.evaluation.report import write_report
from bot.evaluation.report.contract import CONTRACT
from bot.evaluation.report.json_report import report_json
from bot.evaluation.report.summary import summary_text
from bot.evaluation.run import EvalResult, score, score_set

pytestmark = pytest.mark.unit

GOLD = GoldPhrase("Loudwave", "Terms of Service", "will not train AI", None)
HIT = Evidence("Loudwave", "Terms of Service", date(2025, 7, 1), "Loudwave will not train AI on it.", "x")
MISS = Evidence("Loudwave", "Terms of Service", date(2025, 7, 1), "Something else.", "y")


def _set(name: str, hit: bool) -> tuple[list[GoldQuestion], dict[str, dict[str, Outcome]]]:
    questions = [
        GoldQuestion(
            f"{name}1", "Can Loudwave train AI?", "answer", (GOLD,), topic="ai_training", kinds=("nickname",)
        ),
        GoldQuestion(f"{name}2", "banana bread?", "abstain", (), kinds=("off_topic",)),
    ]
    first = Outcome(
        f"{name}1",
        (HIT if hit else MISS,),
        False,
        10.0,
        checked=1,
        verified=1,
        labelled=1,
        lead_topic="ai_training",
        lead_evidence=0,
        excerpt_faults=(frozenset({"heading"}),),
        extra={"failure": "" if hit else "not_retrieved"},
        diagnosis="" if hit else "the gold clause was not among the 9 retrieved chunks",
    )
    second = Outcome(f"{name}2", (), True, 5.0, extra={"failure": ""})
    project = {first.question_id: first, second.question_id: second}
    bm25 = {q.id: Outcome(q.id, (MISS,), False, 1.0, checked=1, verified=1) for q in questions}
    return questions, {"project": project, "bm25": bm25}


@pytest.fixture
def result() -> EvalResult:
    sets = [
        score_set(name, *_set(name, hit), path=f"eval/{name}.jsonl")
        for name, hit in (("gold", True), ("held", False))
    ]
    return EvalResult(tuple(sets), meta={"corpora": ["tests/data"], "questions_file": "eval/gold.jsonl"})


def test_report_json_keeps_the_first_sets_keys_and_adds_every_set(result: EvalResult) -> None:
    data = report_json(result)
    assert list(data)[:9] == [
        "project",
        "baselines",
        "benchmarks",
        "meta",
        "definitions",
        "targets",
        "breakdown",
        "failures",
        "questions",
    ]
    assert set(data["sets"]) == {"gold", "held"}
    assert data["project"] == data["sets"]["gold"]["project"] and data["project"]["hit@3"] == 1.0
    assert (
        data["sets"]["held"]["project"]["hit@3"] == 0.0 and data["sets"]["held"]["file"] == "eval/held.jsonl"
    )
    assert list(data["sets"]["held"]["project"])[: len(CONTRACT)] == list(CONTRACT)
    assert data["sets"]["held"]["failures"] == {"not_retrieved": 1}
    project = data["project"]
    assert project["lead_accuracy"] == 1.0 and project["lead_coverage"] == 1.0
    assert project["excerpts_not_citable_share"] == 1.0 and project["excerpts_heading"] == 1
    assert data["sets"]["held"]["project"]["lead_accuracy"] == 0.0  # its lead rests on a miss
    assert data["breakdown"]["project"]["kind"] == {"nickname": {"n": 1, "hit@3": 1.0}}
    assert data["breakdown"]["project"]["abstention_by_kind"]["off_topic"]["abstention_recall"] == 1.0
    row = data["sets"]["held"]["questions"][0]
    assert row["kinds"] == ["nickname"] and row["project"]["lead"] == {
        "topic": "ai_training",
        "citation_rank": 1,
        "right": False,
    }
    assert row["project"]["excerpt_faults"] == [["heading"]]
    assert "lead_accuracy" not in data["baselines"]["bm25"]  # only policybot answers


def test_report_files_and_summary_give_every_set(result: EvalResult, tmp_path: Path) -> None:
    paths = write_report(result, tmp_path / "report")
    assert json.loads(paths["json"].read_text(encoding="utf-8")) == json.loads(
        json.dumps(report_json(result))
    )
    assert paths["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = paths["markdown"].read_text(encoding="utf-8")
    for heading in (
        "## Every set, policybot's headline figures",
        "## Set `gold`",
        "## Set `held`",
        "### hit@3 by failure kind",
        "### Abstention recall by failure kind",
        "### What policybot's answers look like",
    ):
        assert heading in markdown
    assert "| `held` | 2 |" in markdown and "![metrics](metrics.png)" in markdown
    summary = summary_text(result, paths)
    assert "gold (2 questions, eval/gold.jsonl)" in summary and "held (2 questions" in summary
    assert summary.count("lead accuracy") == 2


def test_a_single_set_report_keeps_its_layout(tmp_path: Path) -> None:
    questions, outcomes = _set("gold", True)
    single = score(questions, outcomes)
    assert [s.name for s in single.sets] == ["questions"]
    markdown = (write_report(single, tmp_path)["markdown"]).read_text(encoding="utf-8")
    assert "## Every metric, side by side" in markdown and "## Set `" not in markdown
    assert "## hit@3 by failure kind" in markdown
    assert list(report_json(single)["sets"]) == ["questions"]
