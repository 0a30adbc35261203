"""Comparisons limited to a kind of platform, and comparison rows grouped by stance."""

import pytest

from bot.answer.compare import Row, comparison_services, group_by_stance
from bot.ingest.catalog import load_catalog
from bot.retrieve.categories import category_ids, named_categories
from bot.retrieve.topics import asks_for_comparison

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Which AI image generators let me sell what I make?", ("ai_image_generator",)),
        ("do any music streaming services pay for AI tracks?", ("music_streaming",)),
        ("What social networks train AI on my posts?", ("social",)),
        ("Quels réseaux sociaux entraînent l'IA sur mes posts ?", ("social",)),
        # A kind of platform that is not what the question ranges over is no comparison.
        ("Can I share my SoundCloud track on social media?", ()),
        ("Who owns the images I make with an image generator like Midjourney?", ()),
    ],
)
def test_kinds_of_platform_a_question_asks_across(question: str, expected: tuple[str, ...]) -> None:
    assert named_categories(question) == expected
    if expected:
        assert asks_for_comparison(question, 0, named_categories(question))


def test_every_category_is_one_the_catalog_uses() -> None:
    used = {c for info in load_catalog().services for c in info.categories}
    assert set(category_ids()) <= used, set(category_ids()) - used


class _Docs:
    """A searcher's document list, as far as comparison_services reads it."""

    def __init__(self, services: list[str]) -> None:
        self.documents = [type("Doc", (), {"service": s, "kind": "terms"})() for s in services]


def test_a_comparison_over_one_kind_covers_only_platforms_of_that_kind() -> None:
    searcher = _Docs(["Midjourney", "SoundCloud", "Stability AI", "Bandcamp", "Civitai"])
    assert comparison_services(searcher, (), ("ai_image_generator",)) == [
        "Civitai",
        "Midjourney",
        "Stability AI",
    ]  # type: ignore[arg-type]
    assert len(comparison_services(searcher, (), ())) == 5  # type: ignore[arg-type]
    # Two named platforms win over a kind; a kind no platform in the index has falls back to all of them.
    assert comparison_services(searcher, ("SoundCloud", "Bandcamp"), ("social",)) == [
        "SoundCloud",
        "Bandcamp",
    ]  # type: ignore[arg-type]
    assert len(comparison_services(_Docs(["SoundCloud"]), (), ("ai_image_generator",))) == 1  # type: ignore[arg-type]


def test_rows_are_grouped_by_stance_in_the_topics_order_and_not_addressed_last() -> None:
    hit = object()
    rows = [
        Row("A", "not addressed", "not addressed in Terms", None),
        Row("B", "opt-out", "…", hit),  # type: ignore[arg-type]
        Row("C", "allowed", "…", hit),  # type: ignore[arg-type]
        Row("D", None, "no terms in the index", None),
        Row("E", "allowed", "…", hit),  # type: ignore[arg-type]
        Row("F", None, "no current policybot summary; see the quote", hit),  # type: ignore[arg-type]
    ]
    assert [r.service for r in group_by_stance(rows, ("opt-out", "allowed", "not addressed"))] == [
        "B",
        "C",
        "E",
        "F",
        "A",
        "D",
    ]
    # A stance the topic does not list still comes before the rows that take none.
    assert [r.service for r in group_by_stance(rows, ("allowed",))][:3] == ["C", "E", "B"]


def test_a_comparison_table_reads_as_plain_lines_in_a_terminal() -> None:
    from bot.cli.render import plain_tables

    text = (
        "AI training, platform by platform:\n\n| Platform | Stance | Summary | Quote |\n|---|---|---|---|\n"
        "| Bandcamp | prohibited | Will not train on music. | [1] |\n| Spotify | not addressed | Says nothing. | – |\n\n"
        "Bandcamp's Terms say:"
    )
    shown = plain_tables(text)
    assert "|" not in shown and "---" not in shown
    assert "• Bandcamp (prohibited): Will not train on music. [1]" in shown
    assert "• Spotify (not addressed): Says nothing." in shown and shown.endswith("Bandcamp's Terms say:")
