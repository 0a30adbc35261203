import pytest

from bot.answer.compose import contract_note
from bot.answer.gate import asks_for_a_figure, states_a_figure

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how much does spotify pay per stream", True),
        ("what's the max file size i can upload", True),
        ("how many strikes before termination", True),
        ("can soundcloud train ai on my music", False),
    ],
)
def test_figure_questions(question: str, expected: bool) -> None:
    assert asks_for_a_figure(question) is expected


def test_figures_in_excerpts() -> None:
    assert states_a_figure("Bandcamp's revenue share is 15%")
    assert states_a_figure("no longer than thirty days")
    assert not states_a_figure("We may pay you for your content from time to time.")


def test_contract_pointer() -> None:
    assert contract_note("does my label deal let them upload my album?")
    assert not contract_note("can bandcamp train ai on my music?")
