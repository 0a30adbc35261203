from datetime import date

import pytest

from bot.ingest.dates import end_of_period, find_version_date, human_date, parse_date, parse_file_date

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("August 17, 2026", date(2026, 8, 17)),
        ("17 August 2026", date(2026, 8, 17)),
        ("Sept. 3, 2025", date(2025, 9, 3)),
        ("2026-08-17", date(2026, 8, 17)),
        ("03/26/2024", date(2024, 3, 26)),
        ("1er janvier 2025", date(2025, 1, 1)),
        ("July 2026", date(2026, 7, 1)),
        ("no date here", None),
        ("February 30, 2024", None),
    ],
)
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "intro\n\n**Last Amended:** August 17, 2026\n",
            (date(2026, 8, 17), "Last Amended: August 17, 2026"),
        ),
        (
            "**Last Amended:** [September 10, 2025](https://soundcloud.com/terms-of-use/09-2025)",
            (date(2025, 9, 10), "Last Amended: September 10, 2025"),
        ),
        (
            "Title\n=====\n\nLast updated January 29, 2025\n",
            (date(2025, 1, 29), "Last updated January 29, 2025"),
        ),
        ("Last modified on 03/26/2024\n\nTerms", (date(2024, 3, 26), "Last modified on 03/26/2024")),
        ("_Last updated: July 2026_\n", (date(2026, 7, 1), "Last updated: July 2026")),
        ("Effective Date: November 11, 2024\n", (date(2024, 11, 11), "Effective Date: November 11, 2024")),
        # A "last updated" label wins over an earlier "effective" one.
        (
            "Effective: May 1, 2020\n\nLast updated: June 2, 2021\n",
            (date(2021, 6, 2), "Last updated: June 2, 2021"),
        ),
        # A date mentioned inside a sentence is not the version's date.
        ("We changed this policy on May 1, 2020 after a review.\n", None),
        # A bare date line near the top counts.
        ("Policy\n======\n\nJune 10, 2026\n\nText.", (date(2026, 6, 10), "June 10, 2026")),
    ],
)
def test_find_version_date(text: str, expected: tuple[date, str] | None) -> None:
    assert find_version_date(text) == expected


def test_a_future_date_at_the_top_dates_a_text_that_comes_into_force_later() -> None:
    # A capture recorded before its terms take effect: the text's own label dates it.
    text = "# Terms\n\nEffective: January 1, 2030\n\nThese terms apply from then.\n"
    assert find_version_date(text, not_after=date(2025, 1, 1)) == (
        date(2030, 1, 1),
        "Effective: January 1, 2030",
    )


def test_a_future_date_far_down_announces_a_change_and_is_ignored() -> None:
    text = (
        "Terms\n\nLast updated: June 1, 2024\n\n" + "Clause text. " * 800 + "\nEffective: January 1, 2030\n"
    )
    assert find_version_date(text, not_after=date(2025, 1, 1)) == (
        date(2024, 6, 1),
        "Last updated: June 1, 2024",
    )


def test_the_documents_own_label_at_the_top_beats_an_appended_pages_label() -> None:
    # A capture that appends another page ("Sharing policy — Updated: July 17, 2025") below the document.
    text = "Effective: January 29, 2025\n\n" + "Policy text. " * 800 + "\nUpdated: July 17, 2025\n"
    assert find_version_date(text)[0] == date(2025, 1, 29)  # type: ignore[index]


def test_parse_file_date() -> None:
    assert parse_file_date("2024-02-07 (Last Amended).md") == date(2024, 2, 7)
    assert parse_file_date("terms.md") is None


def test_human_date_and_periods() -> None:
    assert human_date(date(2026, 8, 17)) == "August 17, 2026"
    assert end_of_period(date(2024, 2, 1), "month") == date(2024, 2, 29)
    assert end_of_period(date(2024, 1, 1), "year") == date(2024, 12, 31)
