"""On the shared corpus, read where it is (never copied): SoundCloud's February 2024 → May 2025 AI clause is
one substantive change, and recordings of one version, re-wrapped or re-paragraphed, are no change. Plain
functions over the corpus files: no index, no model."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bot.changes.describe import entry_title
from bot.changes.detect import VersionClauses, document_changes
from bot.changes.record import compute_changes, verified
from bot.ingest.catalog import load_catalog
from bot.ingest.load import load_file
from bot.parse.clauses import parse_clauses
from bot.types import DocumentVersion, text_sha256

from .conftest import OTA, needs_shared

pytestmark = [pytest.mark.integration, needs_shared()]


def _shared_versions(service_folders: tuple[str, ...]) -> tuple[list[VersionClauses], dict[str, str]]:
    """Every version of the platform's documents in the shared corpus, with their clauses, and their texts."""
    catalog = load_catalog()
    files = sorted(p for folder in service_folders for p in OTA.glob(f"*-versions/{folder}/*/*.md"))
    docs = [load_file(p, OTA, catalog) for p in files]
    return [VersionClauses(d.provenance, tuple(parse_clauses(d))) for d in docs], {
        d.provenance.text_sha256: d.text for d in docs
    }


def test_soundclouds_ai_clause_is_one_substantive_change_from_february_2024_to_may_2025() -> None:
    versions, texts = _shared_versions(("SoundCloud", "Soundcloud"))
    changes, pairs = compute_changes(versions, lookup=texts.get)
    ai = [
        c
        for c in changes
        if c.before.version_date == date(2024, 2, 7)
        and c.after.version_date == date(2025, 5, 21)
        and c.substantive
        and "ai_training" in c.topics
    ]
    [change] = ai
    assert change.service == "SoundCloud" and change.title == "Terms of Use" and change.change == "reworded"
    assert change.old is not None and change.new is not None
    assert "inform, train, develop or serve as input to artificial intelligence" in change.old.quote
    assert "opt-in mechanism" in change.new.quote and "will not use your content to train" in change.new.quote
    assert change.before.date_label == "Last Amended: February 7, 2024"
    assert change.after.date_label.endswith("May 21, 2025")
    assert verified(change, texts.get)
    assert entry_title(change) == "SoundCloud changed its Terms of Use on AI training (May 21, 2025)"
    # Two recordings of the May 2025 version and two of the September one: compared, and at most an editorial
    # entry between them (the later May copy links a word: "available [here](…)").
    same_day = [p for p in pairs if len({_date_of(versions, v) for v in p}) == 1]
    assert len(same_day) >= 2
    assert not [c for c in changes if (c.before.version_id, c.after.version_id) in same_day and c.substantive]


def test_the_shared_soundcloud_terms_re_paragraphed_and_re_wrapped_are_no_change() -> None:
    versions, texts = _shared_versions(("SoundCloud",))
    latest = max(versions, key=lambda v: (v.provenance.version_date, v.provenance.recorded or date.min))
    text = texts[latest.provenance.text_sha256]
    # Every long paragraph split in two after its first sentence, and every line break doubled in spacing.
    paragraphs = []
    for block in text.split("\n\n"):
        cut = block.find(". ", 80)
        paragraphs.append(
            block[: cut + 1] + "\n\n" + block[cut + 2 :] if len(block) > 300 and cut > 0 else block
        )
    reflowed = "\n\n".join(paragraphs).replace(", ", ",  ")
    p = replace(
        latest.provenance,
        version_date=date(2026, 12, 1),
        date_statement="",
        text_sha256=text_sha256(reflowed),
        recorded=date(2026, 12, 1),
    )
    copy = DocumentVersion(p, reflowed, "reflowed.md")
    assert reflowed != text
    assert document_changes([latest, VersionClauses(p, tuple(parse_clauses(copy)))]) == []


def _date_of(versions: list[VersionClauses], version_id: str) -> date:
    return next(v.provenance.version_date for v in versions if v.provenance.version_id == version_id)
