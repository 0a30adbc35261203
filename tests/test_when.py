from datetime import date

import pytest

from bot.retrieve.when import read_when

pytestmark = pytest.mark.unit

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What did SoundCloud's terms say about AI in March 2024?", date(2024, 3, 31)),
        ("when I uploaded in 2024", date(2024, 12, 31)),
        ("and before 2025?", date(2024, 12, 31)),
        ("before March 2025", date(2025, 2, 28)),
        ("as of 2025-06-01", date(2025, 6, 1)),
        ("on 1 June 2025", date(2025, 6, 1)),
        ("what changed since 2024", None),
        ("in 2026", TODAY),  # this year: up to today
        ("in 2031", None),
        ("last year", date(2025, 12, 31)),
        ("Can SoundCloud train AI on my tracks?", None),
        ("I have 2024 tracks", None),  # a number, not a date
        # Dates in words: the end of the period they name.
        ("in the summer of 2023", date(2023, 8, 31)),
        ("during the first half of 2024", date(2024, 6, 30)),
        ("in Q3 2025", date(2025, 9, 30)),
        ("late last year", date(2025, 12, 31)),
        ("early last year", date(2025, 3, 31)),
        ("last summer", date(2026, 8, 31)),
        ("the winter of 2023", date(2024, 2, 29)),  # December to February
        ("two years ago", date(2024, 11, 27)),
        ("before the 2024 update", date(2023, 12, 31)),
        ("what did the 2024 soundcloud ai clause say", date(2024, 12, 31)),
        ("à la fin 2024", date(2024, 12, 31)),
        ("this year", None),
    ],
)
def test_the_date_a_question_asks_about(text: str, expected: date | None) -> None:
    assert read_when(text, TODAY).as_of == expected


def test_then_and_now_earliest_and_back_then() -> None:
    assert read_when("what did bandcamp say in 2023, and what does it say now?", TODAY).then_and_now
    assert not read_when("what did bandcamp say in 2023?", TODAY).then_and_now
    assert not read_when("what does bandcamp say now?", TODAY).then_and_now  # no past date to compare
    earliest = read_when("what did reddit say when the terms were first archived?", TODAY)
    assert earliest.earliest and earliest.as_of is None
    assert read_when("was it allowed back then?", TODAY).back


def test_the_phrase_is_returned_so_it_stays_out_of_the_topic() -> None:
    assert (
        read_when("could midjourney sell my images in the summer of 2023", TODAY).phrase
        == "in the summer of 2023"
    )
