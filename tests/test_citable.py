import pytest

from bot.parse.citable import is_citable
from bot.parse.sentences import split_sentences

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "citable"),
    [
        # Not quotable alone: headings, date lines, tables of contents, lead-ins.
        ("Apple Music :", False),
        ("R. CONDITIONS SUPPLÉMENTAIRES APPLICABLES À APPLE MUSIC", False),
        ("Reporting Copyright Infringements", False),
        ("**Last Amended:** May 21, 2025", False),
        ("Effective date: 1 June 2024", False),
        ("Dernière mise à jour : 19 décembre 2025", False),
        (
            "* [Assignment to third parties](#assignment-to-third-parties)\n* [Governing law](#governing-law)",
            False,
        ),
        ("You may not use our Services if you:", False),
        # Quotable: sentences, list items, short clauses that say something.
        ("We may terminate your account at any time.", True),
        ("* Hashtags you use", True),
        ("(a) use bots or scrapers;", True),
        ("You keep ownership of your content.", True),
        ("We changed this policy on May 1, 2020 after a review of how fans use downloads.", True),
        ("See [our guidelines](https://example.com/rules) for what you may post.", True),
    ],
)
def test_what_may_be_quoted_alone(text: str, citable: bool) -> None:
    assert is_citable(text) is citable


def test_a_wrapped_line_does_not_start_a_sentence() -> None:
    text = "SoundCloud may use your name, likeness\nand voice (or other biographical information) for promotion. Next one."
    sentences = [text[s:e] for s, e in split_sentences(text)]
    assert sentences[0].startswith("SoundCloud may use") and sentences[0].endswith("for promotion.")
    assert not any(s.startswith("and voice") for s in sentences)


def test_a_line_break_after_a_sentence_or_before_an_item_still_splits() -> None:
    text = "First rule.\nsecond line starts low but follows a full stop.\n* an item"
    assert len(split_sentences(text)) == 3
