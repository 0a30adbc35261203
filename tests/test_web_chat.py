"""What the chat page renders from an answer: the citation panel, the chat bubble text, the examples."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from bot.web.render import (
    PANEL_NONE,
    answer_message,
    citations_html,
    example_questions,
    highlighted_clause,
    plain,
    safe_link,
)

pytestmark = pytest.mark.unit

HOSTILE = "<script>window.__pwned=1</script> <img src=x onerror=\"alert('x')\"> [a](javascript:alert(1))"


def _citation(**changes: Any) -> dict[str, Any]:
    clause = "Loudwave may end the licence. Loudwave will not train AI on your Content. Ask us anything."
    excerpt = "Loudwave will not train AI on your Content."
    base: dict[str, Any] = {
        "n": 1,
        "service": "Loudwave",
        "document": "Terms of Service",
        "title": "Terms of Use",
        "region": "global",
        "section": "Grant of license › ¶2",
        "version_date": "2025-07-01",
        "date_statement": "Last Amended: July 1, 2025",
        "excerpt": excerpt,
        "clause": clause,
        "clause_start": 100,
        "start": 100 + clause.index(excerpt),
        "end": 100 + clause.index(excerpt) + len(excerpt),
        "url": "https://loudwave.example/terms#:~:text=Loudwave%20will%20not",
        "source_url": "https://loudwave.example/terms",
        "kind": "terms",
        "newer_version": None,
    }
    base.update(changes)
    return base


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(markup: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(markup)
    return parser.tags


def test_panel_highlights_the_excerpt_inside_its_clause() -> None:
    markup = citations_html({"citations": [_citation()]})
    assert (
        "Loudwave may end the licence. <mark>Loudwave will not train AI on your Content.</mark> Ask us"
        in markup
    )
    assert "[1]" in markup and "Terms of Use" in markup and "Grant of license › ¶2" in markup
    assert "Last Amended: July 1, 2025" in markup and "2025-07-01" in markup
    links = [attrs for tag, attrs in _tags(markup) if tag == "a"]
    assert links == [
        {
            "class": "pb-source",
            "href": "https://loudwave.example/terms#:~:text=Loudwave%20will%20not",
            "target": "_blank",
            "rel": "noopener noreferrer nofollow",
        }
    ]


def test_panel_labels_statements_and_newer_versions() -> None:
    markup = citations_html(
        {"citations": [_citation(kind="statement", region="US", newer_version="Last Amended: July 1, 2025")]}
    )
    assert "statement, not binding" in markup
    assert " · US" in markup
    assert "A newer version exists: Last Amended: July 1, 2025." in markup


def test_panel_escapes_everything_from_the_document() -> None:
    hostile = _citation(
        service=HOSTILE,
        title=HOSTILE,
        section=HOSTILE,
        date_statement=HOSTILE,
        excerpt=HOSTILE,
        clause=f"Before {HOSTILE} after",
        start=100 + len("Before "),
        url="javascript:alert(1)",
        source_url="javascript:alert(2)",
    )
    markup = citations_html({"citations": [hostile]})
    tags = {tag for tag, _ in _tags(markup)}
    assert tags <= {"div", "ol", "li", "span", "blockquote", "mark"}  # no script, img, a
    assert not any(k.startswith("on") for _, attrs in _tags(markup) for k in attrs)
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in markup
    assert "<mark>&lt;script&gt;" in markup  # still highlighted, as text
    assert "No public address for this document." in markup


def test_panel_falls_back_to_the_excerpt_when_offsets_disagree() -> None:
    assert (
        highlighted_clause(_citation(start=5)) == "<mark>Loudwave will not train AI on your Content.</mark>"
    )
    assert highlighted_clause(_citation(clause=None)).startswith("<mark>")


def test_panel_cuts_long_clauses_around_the_excerpt() -> None:
    clause = "a" * 5000 + "THE EXCERPT." + "b" * 5000
    markup = highlighted_clause(_citation(clause=clause, excerpt="THE EXCERPT.", clause_start=0, start=5000))
    assert markup.startswith("…") and markup.endswith("…")
    assert "<mark>THE EXCERPT.</mark>" in markup
    assert len(markup) < 1600


def test_panel_without_citations() -> None:
    assert citations_html({"citations": []}) == PANEL_NONE


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://soundcloud.com/terms-of-use#:~:text=We", True),
        ("http://example.org/x", True),
        ("  HTTPS://example.org  ", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("//evil.example/x", False),
        ("", False),
        (None, False),
    ],
)
def test_safe_link(url: Any, kept: bool) -> None:
    assert bool(safe_link(url)) is kept


def test_plain_shows_markdown_and_html_as_text() -> None:
    escaped = plain("**bold** [x](javascript:alert(1)) <b>hi</b> & $x^2$ 1. item")
    assert "<" not in escaped and ">" not in escaped
    assert "&lt;b&gt;hi&lt;/b&gt;" in escaped and "&amp;" in escaped
    # Every Markdown punctuation mark is escaped, so none can start emphasis, links, maths or lists.
    assert not re.search(
        r"(?<!\\)[*\[\]()$^.]", escaped.replace("&lt;", "").replace("&gt;", "").replace("&amp;", "")
    )


def test_answer_message_shows_the_reading_of_a_follow_up_and_the_notes() -> None:
    message = answer_message(
        {
            "answer": "Bandcamp's Terms say: …",
            "standalone_question": "Can Bandcamp train AI?",
            "notes": ["n1"],
        }
    )
    assert message == "(Read as: “Can Bandcamp train AI?”)\n\nBandcamp's Terms say: …\n\nNote: n1"


def test_example_questions_prefer_known_platforms() -> None:
    examples = example_questions(["Bandcamp", "Deezer", "SoundCloud"])
    assert examples[0] == "Can SoundCloud use my tracks to train AI?"
    assert examples[1] == "Who owns the music I upload to Bandcamp?"
    assert examples[2] == "Can Deezer close my account without notice?"
    assert example_questions(["Loudwave"]) == [
        "Can Loudwave use my tracks to train AI?",
        "Who owns the music I upload to Loudwave?",
        "Can Loudwave close my account without notice?",
    ]
    assert example_questions([]) == []
