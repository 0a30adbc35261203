import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from bot.evaluation.gold import (
    GoldFileError,
    GoldPhrase,
    GoldQuestion,
    check_gold,
    load_question_sets,
    load_questions,
    normalise,
    subset,
)
from bot.ingest.load import load_corpus

from .conftest import BUNDLED, DATA, OTA, ROOT, needs_shared

pytestmark = pytest.mark.unit

QUESTIONS = ROOT / "eval" / "questions.jsonl"
DEV = ROOT / "eval" / "dev_questions.jsonl"


def test_the_gold_set_loads_with_its_documented_shape() -> None:
    questions = load_questions(QUESTIONS)
    counts = Counter(q.expect for q in questions)
    assert counts == {"answer": 218, "abstain": 36}
    assert {q.abstain_reason for q in questions if not q.answerable} == {
        "off_topic",
        "unknown_service",
        "not_addressed",
        "instruction",
    }
    follow_ups = [q for q in questions if q.history]
    assert follow_ups and all(isinstance(h, str) for q in follow_ups for h in q.history)


def test_the_gold_and_dev_sets_do_not_share_questions() -> None:
    gold = {normalise(q.question).casefold() for q in load_questions(QUESTIONS)}
    dev = {normalise(q.question).casefold() for q in load_questions(DEV)}
    assert not gold & dev  # thresholds are tuned on dev: an overlap would flatter the gold figures


def test_service_names_are_resolved_to_the_names_policybot_uses() -> None:
    # The gold file says "Apple Media" (Open Terms Archive's folder name); policybot names it as sources.toml does.
    g207 = next(q for q in load_questions(QUESTIONS) if q.id == "g207")
    assert g207.gold[0].service == "Apple Media Services"


@needs_shared()
@pytest.mark.parametrize("path", [QUESTIONS, DEV], ids=["questions", "dev_questions"])
def test_every_gold_phrase_is_in_the_corpus_in_the_version_it_names(path: Path) -> None:
    corpus = load_corpus([OTA, BUNDLED])
    problems = check_gold(load_questions(path), corpus)
    assert not problems, "\n".join(map(str, problems))


def test_check_gold_says_what_is_wrong() -> None:
    corpus = load_corpus([DATA / "ota", DATA / "flat"])

    def question(*phrases: GoldPhrase) -> GoldQuestion:
        return GoldQuestion(id="t1", question="?", expect="answer", gold=phrases)

    good = GoldPhrase("Loudwave", "Terms of Service", "may be used to train,\n develop", date(2024, 3, 1))
    assert check_gold([question(good)], corpus) == []
    wrong_version = GoldPhrase("Loudwave", "Terms of Service", "may be used to train", date(2025, 7, 1))
    missing = GoldPhrase("Loudwave", "Terms of Service", "a sentence nobody wrote", None)
    no_document = GoldPhrase("Loudwave", "Cookie Policy", "cookies", None)
    other_platform = GoldPhrase("Tunebox", "Terms of Service", "may be used to train", None)
    reasons = [
        p.reason for p in check_gold([question(wrong_version, missing, no_document, other_platform)], corpus)
    ]
    assert reasons[0] == "phrase not in the version of 2025-07-01; it is in 2024-03-01"
    assert reasons[1].startswith("phrase not in any version")
    assert reasons[2] == "no such document in the corpus"
    assert reasons[3].startswith("phrase not in any version")


def _write(tmp_path: Path, *objects: object) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text(
        "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objects) + "\n", encoding="utf-8"
    )
    return path


GOOD = {
    "id": "q1",
    "question": "can loudwave train ai",
    "expect": "answer",
    "gold": [
        {"service": "Loudwave", "document": "Terms of Service", "phrase": "train", "version_date": None}
    ],
}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "q.jsonl:2: not JSON"),
        ({**GOOD, "id": "q2", "expect": "maybe"}, "expect must be 'answer' or 'abstain', got 'maybe'"),
        ({"id": "q2", "question": "?"}, "missing expect, gold"),
        ({**GOOD, "id": "q2", "gold": []}, "an answerable question needs at least one gold phrase"),
        ({**GOOD, "id": "q2", "expect": "abstain"}, "a question to abstain on has no gold evidence"),
        (
            {**GOOD, "id": "q2", "gold": [{"service": "Loudwave", "phrase": "x"}]},
            "gold[1] needs non-empty service",
        ),
        ({**GOOD, "id": "q2", "as_of": "March 2024"}, "as_of 'March 2024' is not a date"),
        ({**GOOD, "id": "q2", "history": "and bandcamp?"}, "history must be a list"),
        ({**GOOD, "id": "q2", "kinds": "nickname"}, "kinds must be a list of failure-kind tags"),
        ({**GOOD, "id": "q2", "kinds": ["nickname", ""]}, "kinds must be a list of failure-kind tags"),
        ({**GOOD, "id": "q2", "language": ["en"]}, "language must be a language code"),
        ({**GOOD, "id": "q2", "today": "last week"}, "today 'last week' is not a date"),
        (GOOD, "id 'q1' already used on line 1"),
    ],
)
def test_a_bad_line_is_named_with_its_file_line_and_field(tmp_path: Path, line: object, message: str) -> None:
    path = _write(tmp_path, GOOD, line)
    with pytest.raises(GoldFileError, match=r"q\.jsonl:2") as error:
        load_questions(path)
    assert message in str(error.value)


def test_a_missing_or_empty_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(GoldFileError, match="give --questions FILE"):
        load_questions(tmp_path / "nope.jsonl")
    with pytest.raises(GoldFileError, match="holds no questions"):
        load_questions(_write(tmp_path, ""))


def test_the_held_out_sets_carry_kinds_language_and_today() -> None:
    test = load_questions(ROOT / "eval" / "test_questions.jsonl")
    assert all(q.language in {"en", "fr"} for q in test) and any(q.language == "fr" for q in test)
    assert {"french_document", "comparison", "unknown_platform"} <= {k for q in test for k in q.kinds}
    dated = [q for q in test if q.today]
    assert dated and all(isinstance(q.today, date) for q in dated)
    old = load_questions(QUESTIONS)[0]  # the first gold set predates the keys: they default to nothing
    assert (old.kinds, old.language, old.today) == ((), "", None)


def test_question_sets_are_named_by_their_files(tmp_path: Path) -> None:
    first = _write(tmp_path, GOOD)
    other = tmp_path / "more"
    other.mkdir()
    second = other / "extra.jsonl"
    second.write_text(
        "\n".join(json.dumps({**GOOD, "id": f"e{n}", "kinds": ["nickname"]}) for n in range(4)),
        encoding="utf-8",
    )
    sets = load_question_sets([first, second], limit=2)
    assert [(s.name, s.path, len(s.questions)) for s in sets] == [
        ("q", str(first), 1),
        ("extra", str(second), 2),
    ]
    assert sets[1].questions[0].kinds == ("nickname",)
    with pytest.raises(GoldFileError, match="two question files are named 'q'"):
        load_question_sets([first, first])


def test_normalise_folds_every_kind_of_space() -> None:
    assert normalise("a\u00a0b\u202fc\n\t d  ") == "a b c d"


def test_subset_is_fixed_and_spread_over_the_file() -> None:
    questions = load_questions(QUESTIONS)
    chosen = subset(questions, 40)
    assert len(chosen) == 40 and chosen == subset(questions, 40)
    assert chosen[0] is questions[0] and chosen[-1].id > "g240"  # reaches the abstentions at the end
    assert len({q.style for q in chosen}) >= 6
    assert subset(questions, 1000) == questions and subset(questions, 0) == []
