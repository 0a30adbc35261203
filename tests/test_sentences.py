import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.parse.sentences import split_sentences

pytestmark = pytest.mark.unit


def texts(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_splits_on_sentence_ends_not_abbreviations() -> None:
    text = (
        "SoundCloud Ltd. is based in Berlin, e.g. near the U.S. embassy. You keep your rights! Really? Yes."
    )
    assert texts(text) == [
        "SoundCloud Ltd. is based in Berlin, e.g. near the U.S. embassy.",
        "You keep your rights!",
        "Really?",
        "Yes.",
    ]


def test_line_breaks_end_sentences() -> None:
    assert texts("* first item\n* second item") == ["* first item", "* second item"]


def test_long_sentence_is_cut_at_a_soft_boundary() -> None:
    text = "word " * 150 + "; and then " + "more " * 150
    spans = split_sentences(text, max_chars=600)
    assert all(e - s <= 600 for s, e in spans)
    assert len(spans) >= 2


def test_five_megabyte_paragraph_splits_quickly() -> None:
    spans = split_sentences("a" * 5_000_000, max_chars=600)
    assert len(spans) == 5_000_000 // 600 + 1


@given(st.text(max_size=400))
def test_spans_are_ordered_trimmed_substrings(text: str) -> None:
    spans = split_sentences(text, max_chars=80)
    last = 0
    for start, end in spans:
        assert last <= start < end <= len(text)
        assert not text[start].isspace() and not text[end - 1].isspace()
        assert end - start <= 80
        last = end
