from datetime import date

import pytest

from bot.answer.ask import ask
from bot.answer.changes import asks_about_change, change_topic

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What changed in SoundCloud's AI terms?", True),
        ("When did Bandcamp add its AI clause?", True),
        ("did soundcloud walk back the ai clause", True),
        ("Can SoundCloud train AI on my tracks?", False),
    ],
)
def test_change_questions_are_recognised(text: str, expected: bool) -> None:
    assert asks_about_change(text) is expected


def test_change_topic() -> None:
    assert change_topic("What changed in AI terms?") == "in AI"


def test_what_changed_cites_old_and_new_wording_with_dates(shared_index) -> None:  # type: ignore[no-untyped-def]
    answer = ask("What changed in SoundCloud's AI terms?", shared_index)
    assert not answer.abstained
    old, new = answer.citations[:2]
    assert old.provenance.version_date == date(2024, 2, 7) and "inform, train, develop" in old.excerpt
    assert new.provenance.version_date == date(2025, 5, 21) and "opt-in mechanism" in new.excerpt
    assert "May 21, 2025" in answer.text and "February 7, 2024" in answer.text
    assert any("newer version exists" in note for note in answer.notes)


def test_a_document_held_in_one_version_says_so_and_quotes_its_change_log(shared_index) -> None:  # type: ignore[no-untyped-def]
    answer = ask("When did Bandcamp add its promise not to train AI on our music?", shared_index)
    assert any("only one version" in note for note in answer.notes)
    assert any(
        "Updated terms to include a statement that Bandcamp will not use your music" in c.excerpt
        for c in answer.citations
    )


def test_a_dated_change_question_answers_from_the_recorded_change(shared_index) -> None:  # type: ignore[no-untyped-def]
    # Read as "the version in force then", this got the notice-of-changes clause; now the month decides which
    # recorded changes count, and the answer quotes both wordings with their dates.
    answer = ask("What changed in SoundCloud's AI terms in May 2025?", shared_index)
    assert not answer.abstained
    old, new = answer.citations[:2]
    assert old.provenance.version_date == date(2024, 2, 7) and "inform, train, develop" in old.excerpt
    assert new.provenance.version_date == date(2025, 5, 21) and "opt-in mechanism" in new.excerpt
    assert "between May 1, 2025 and May 31, 2025" in answer.text
    assert "(Last Amended: February 7, 2024)" in answer.text and "(Last Amended: May 21, 2025)" in answer.text
