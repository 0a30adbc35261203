"""bot/retrieve/topics.py: an evidence pattern made only of lookaheads is anchored at the start of the text,
and finds exactly what the pattern as written finds, over real chunks and crafted texts."""

from __future__ import annotations

import re

import pytest

from tests.conftest import DATA, OTA

pytestmark = pytest.mark.unit


def _texts() -> list[str]:
    from bot.index.build import chunk_corpus
    from bot.ingest.load import load_corpus

    files = sorted(OTA.glob("*-versions/*/*/*.md"))[::6] if OTA.is_dir() else []
    _, chunks = chunk_corpus(load_corpus(files or [DATA / "ota", DATA / "frontmatter", DATA / "flat"]))
    return [
        *[c.text for c in chunks][::3],
        "We may use AI to develop features.",
        "Models are developed\nwith artificial intelligence.",  # across a line break
        "We develop things. Later: AI.",
        "AI only.",
        "",
    ]


def test_lookahead_only_patterns_are_anchored_and_find_the_same() -> None:
    from bot.retrieve.topics import TOPICS, evidence_pattern

    anchored = [t for t in TOPICS if t.evidence.pattern.startswith(r"\A")]
    assert anchored, "the taxonomy has lookahead-only evidence patterns; none was anchored"
    texts = _texts()
    for topic in anchored:
        written = re.compile(topic.evidence.pattern[len(r"\A(?:") : -1], re.I | re.S)
        for text in texts:
            assert bool(topic.evidence.search(text)) == bool(written.search(text)), (topic.id, text[:80])
    assert evidence_pattern(r"\b(?:voice|likeness)\b").pattern == r"\b(?:voice|likeness)\b"
    assert evidence_pattern(r"(?=.*\bai\b)train").pattern == r"(?=.*\bai\b)train"  # not lookaheads only
    assert evidence_pattern("").pattern == ""
