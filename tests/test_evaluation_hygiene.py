"""Excerpt hygiene detectors: headings, metadata lines, tables of contents, scraps, mid-sentence starts."""

import pytest

from bot.evaluation.hygiene import (
    begins_mid_sentence,
    excerpt_faults,
    is_heading_line,
    is_metadata_line,
    is_toc_line,
    not_citable,
    stored_lines,
    strip_markdown,
    word_count,
)

pytestmark = pytest.mark.unit

CLAUSE = "You keep ownership of the music you upload to the service."


@pytest.mark.parametrize(
    ("line", "following", "expected"),
    [
        ("# Terms of Use", "", True),
        ("### 4. Your content", "", True),
        ("   ## Indented up to three spaces", "", True),
        ("#hashtag in a sentence", "", False),  # no space after the marks: not a heading
        ("Your content", "============", True),  # setext heading, level 1
        ("Your content", "------", True),  # setext heading, level 2
        ("Your content", "You keep ownership.", False),
        ("**4. Your content**", "", True),  # wholly bold
        ("__Your content:__", "", True),
        ("**Note:** you keep ownership of your music.", "", False),  # bold lead-in, then text
        ("**Changing**\u00a0**this Agreement**  ", "", True),  # several bold runs, nothing else
        ("    ### 1.3 Changes", "", True),  # a page indented as a whole: its headings too
        ("=====", "", False),  # the underline itself is not the heading
        ("", "=====", False),
        (CLAUSE, "", False),
    ],
)
def test_is_heading_line(line: str, following: str, expected: bool) -> None:
    assert is_heading_line(line, following) is expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Last updated: May 5, 2024", True),
        ("**Last Amended:** August 17, 2026", True),
        ("Last modified on 2024-05-05", True),
        ("Last revised 5 May 2024.", True),
        ("Effective date: 21/05/2024", True),
        ("Effective as of January 1st, 2025", True),
        ("Updated March 2024", True),
        ("Version: 12 March 2024", True),
        ("Date: 2023-10-16", True),
        ("_Dernière mise à jour : 1er mars 2024_", True),
        ("Mis à jour le 12 mars 2024", True),
        ("Effective May 5, 2024 (version 3)", True),
        ("Effective May 5, 2024, we no longer train AI on your uploads.", False),  # a clause with a date
        ("Last updated versions of the app may collect usage data.", False),  # no date
        ("Version 2.1", False),  # a version number is not a date
        (CLAUSE, False),
    ],
)
def test_is_metadata_line(line: str, expected: bool) -> None:
    assert is_metadata_line(line) is expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("- [Your content](#your-content)", True),
        ("1. [Licence](#licence) 2. [Payouts](#payouts)", True),
        ("- [Licence](#licence) page 3", True),  # anchor links with a few words beside them
        (
            "The provisions survive termination, including the sections [Your Content](#your-content) and "
            "[Grant of Licence](#grant-of-licence).",
            False,
        ),  # a sentence that refers to other sections through anchors (whole sections on one stored line)
        ("[Privacy Policy](https://example.com/privacy) | [Cookies](https://example.com/cookies)", True),
        ("Read the [Privacy Policy](https://example.com/privacy) before uploading.", False),
        (CLAUSE, False),
    ],
)
def test_is_toc_line(line: str, expected: bool) -> None:
    assert is_toc_line(line) is expected


@pytest.mark.parametrize(
    ("text", "plain", "words"),
    [
        ("**Bold** and _italic_ and `code`", "Bold and italic and code", 5),
        ("## [Your content](#content)", "Your content", 2),
        ("- item one\n- item two", "item one item two", 4),
        ("| a | b |", "a b", 2),
        ("don't snake_case U.S. 2024-05-21", "don't snake_case U.S. 2024-05-21", 5),
        ("**Termination.**", "Termination.", 1),
        ("=====", "=====", 0),
    ],
)
def test_strip_markdown_and_word_count(text: str, plain: str, words: int) -> None:
    assert strip_markdown(text) == plain
    assert word_count(text) == words


def test_stored_lines_are_the_whole_lines_an_excerpt_lies_on() -> None:
    stored = "# Title\nFirst line of text.\nSecond line.\n-----\nLast"
    start = stored.index("line of")
    assert stored_lines(stored, start, start + 7) == (["First line of text."], "Second line.")
    start = stored.index("Second")
    assert stored_lines(stored, start, start + len("Second line.\n")) == (["Second line."], "-----")
    start = stored.index("text")
    assert stored_lines(stored, start, stored.index("line.") + 3) == (
        ["First line of text.", "Second line."],
        "-----",
    )
    assert stored_lines(stored, stored.index("Last"), len(stored)) == (["Last"], "")


@pytest.mark.parametrize(
    ("stored", "excerpt", "expected"),
    [
        ("We may. the next words", "the next words", False),  # after a full stop
        ("We may close it; the next words", "the next words", True),  # after a semicolon
        ("We may close it and the next words", "the next words", True),
        ('He said "stop." then it ended', "then it ended", False),  # a full stop inside closing quotes
        ("(see above) the rest", "the rest", True),
        ("Heading\nthe first line", "the first line", False),  # after a line break
        ("- **the** bold start", "**the** bold start", True),  # emphasis marks skipped
        ("the start of the text", "the start of the text", False),  # nothing before it
        ("And The Capital", "The Capital", False),  # capitalised: not counted
        ("and (a) first", "(a) first", False),  # the first character is not a letter
    ],
)
def test_begins_mid_sentence(stored: str, excerpt: str, expected: bool) -> None:
    assert begins_mid_sentence(excerpt, stored, stored.index(excerpt)) is expected


def test_begins_mid_sentence_is_unknown_without_the_stored_text() -> None:
    assert begins_mid_sentence("the next words", None, None) is False


STORED = (
    "# Terms of Use for Artists\n"
    "Last updated: May 5, 2024\n"
    "- [Your content](#your-content)\n"
    "\n"
    "Your content\n"
    "------------\n"
    f"{CLAUSE} We may remove it, and we will tell you why.\n"
    "**Payouts**\n"
    "We pay you every month.\n"
)


@pytest.mark.parametrize(
    ("excerpt", "expected"),
    [
        ("# Terms of Use for Artists", {"heading"}),
        ("Terms of Use for Artists", {"heading"}),  # the text of a heading, without its marks
        ("Last updated: May 5, 2024", {"metadata"}),
        ("- [Your content](#your-content)", {"toc", "short"}),
        ("Your content\n------------", {"heading", "short"}),
        ("# Terms of Use for Artists\nLast updated: May 5, 2024", {"heading", "metadata"}),
        ("**Payouts**", {"heading", "short"}),
        ("pay you every month.", {"mid_sentence"}),
        ("every month.", {"short", "mid_sentence"}),
        (CLAUSE, set()),
        ("we will tell you why.", {"mid_sentence"}),  # after a comma: starts mid-sentence, still citable
        ("**Payouts**\nWe pay you every month.", set()),  # a heading with its text is a clause
    ],
)
def test_excerpt_faults_in_the_stored_text(excerpt: str, expected: set[str]) -> None:
    faults = excerpt_faults(excerpt, STORED, STORED.index(excerpt))
    assert faults == expected
    assert not_citable(faults) is bool(expected - {"mid_sentence"})


def test_excerpt_faults_without_the_stored_text_judge_the_excerpt_alone() -> None:
    assert excerpt_faults("# Terms of Use for Artists") == {"heading"}
    assert excerpt_faults("Terms of Use for Artists") == set()  # no stored line shows it is a heading
    assert excerpt_faults("the rest of a clause that runs on") == set()  # mid-sentence unknown
    assert excerpt_faults(CLAUSE, STORED, 0) == set()  # offsets that do not hold it: the excerpt alone
