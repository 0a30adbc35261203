"""Change questions answered from the recorded changes: the period a question names, and on the project's test
corpus (Loudwave's terms change on July 1, 2025) the old and the new wording quoted verbatim with their dates."""

from __future__ import annotations

from datetime import date

import pytest

from bot.answer.ask import ask
from bot.answer.recorded import Period, change_period
from bot.index.store import open_store
from bot.settings import Settings


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "as_of", "expected"),
    [
        (
            "What changed in SoundCloud's AI terms in May 2025?",
            None,
            Period(date(2025, 5, 1), date(2025, 5, 31)),
        ),
        ("what did Bandcamp change since 2024?", None, Period(date(2024, 1, 1), None)),
        ("what changed after 2024?", None, Period(date(2025, 1, 1), None)),
        ("what changed before 2025?", None, Period(None, date(2024, 12, 31))),
        ("what changed after 1 June 2025?", None, Period(date(2025, 6, 2), None)),
        ("what changed in 2025?", None, Period(date(2025, 1, 1), date(2025, 12, 31))),
        (
            "what changed between March 2024 and June 2025?",
            None,
            Period(date(2024, 3, 1), date(2025, 6, 30)),
        ),
        ("what was added last year?", date(2025, 12, 31), Period(date(2025, 1, 1), date(2025, 12, 31))),
        ("what changed last month?", date(2026, 11, 30), Period(date(2026, 11, 1), date(2026, 11, 30))),
        (
            "what changed in the summer of 2023?",
            date(2023, 8, 31),
            Period(date(2023, 1, 1), date(2023, 8, 31)),
        ),
        ("what changed in the winter?", date(2026, 2, 28), Period(None, date(2026, 2, 28))),
        ("What changed in SoundCloud's AI terms?", None, Period()),
    ],
)
def test_the_period_a_change_question_names(text: str, as_of: date | None, expected: Period) -> None:
    assert change_period(text, as_of) == expected


@pytest.mark.unit
def test_the_period_in_words() -> None:
    assert Period(date(2025, 5, 1), date(2025, 5, 31)).phrase() == "between May 1, 2025 and May 31, 2025"
    assert Period(date(2024, 1, 1)).phrase() == "since January 1, 2024"
    assert not Period().named and Period().phrase() == ""


def assert_verbatim(settings: Settings, answer) -> None:  # type: ignore[no-untyped-def]
    store = open_store(settings)
    for c in answer.citations:
        assert store.text(c.provenance.text_sha256)[c.start : c.end] == c.excerpt  # type: ignore[index]


@pytest.mark.integration
def test_a_dated_change_question_quotes_the_old_and_the_new_wording(test_index: Settings) -> None:
    answer = ask("What changed in Loudwave's AI terms in July 2025?", test_index, today=date(2026, 12, 1))
    assert not answer.abstained and answer.as_of == date(2025, 7, 31)
    old, new = answer.citations[:2]
    assert old.provenance.version_date == date(2024, 3, 1) and "may be used to train" in old.excerpt
    assert new.provenance.version_date == date(2025, 7, 1) and "unless you opt in" in new.excerpt
    assert "between July 1, 2025 and July 31, 2025" in answer.text
    assert "(Last Amended: March 1, 2024)" in answer.text and "(Last Amended: July 1, 2025)" in answer.text
    # The old wording is not called "the version in force" at the end of the period: it is the one before.
    assert not any("in force on" in note for note in answer.notes)
    assert_verbatim(test_index, answer)


@pytest.mark.integration
def test_the_period_decides_which_changes_count(test_index: Settings) -> None:
    since = ask("What did Loudwave change since 2024?", test_index, today=date(2026, 12, 1))
    assert not since.abstained and "since January 1, 2024" in since.text
    assert {c.provenance.version_date for c in since.citations} == {date(2024, 3, 1), date(2025, 7, 1)}
    termination = ask(
        "What changed in Loudwave's termination terms between 2024 and 2025?",
        test_index,
        today=date(2026, 12, 1),
    )
    assert any("30 days' notice" in c.excerpt for c in termination.citations)
    later = ask("What did Loudwave change since 2026?", test_index, today=date(2026, 12, 1))
    assert not later.abstained
    assert later.text.startswith(
        "I found no substantive change to Loudwave's documents since January 1, 2026"
    )
    assert_verbatim(test_index, later)
