from datetime import date

import pytest

from bot.ingest.lineage import diff_clauses, lineage_ids, mark_words, match_clauses
from bot.ingest.load import load_corpus
from bot.parse.clauses import parse_clauses
from bot.types import Clause, Provenance

from .conftest import OTA, needs_shared

pytestmark = pytest.mark.unit


def clauses(version: str, *items: tuple[str, str]) -> list[Clause]:
    p = Provenance(
        "Acme", "Terms of Service", "Terms", "terms", "global", date(2025, 1, 1), "", "", version * 64
    )
    out, offset = [], 0
    for heading, text in items:
        out.append(Clause(p, (heading,), "¶1", offset, offset + len(text), text))
        offset += len(text) + 2
    return out


OLD = clauses(
    "a",
    ("Licence", "You grant Acme a worldwide, royalty-free licence to host and stream your Content."),
    ("AI", "Your Content may be used to train artificial intelligence models operated by Acme."),
    ("Law", "These Terms are governed by the laws of Ireland."),
)
NEW = clauses(
    "b",
    ("Licence", "You grant Acme a worldwide, royalty-free licence to host and stream your Content."),
    (
        "AI",
        "Your Content may only be used to train artificial intelligence models operated by Acme if you opt in.",
    ),
    ("Payouts", "Acme pays artists every month."),
)


def test_matching_and_diff() -> None:
    assert sorted(p for p in match_clauses(OLD, NEW) if None not in p) == [(0, 0), (1, 1)]
    diff = diff_clauses(OLD, NEW)
    assert diff.unchanged == 1
    assert [(c.kind, (c.new or c.old).heading) for c in diff.changes] == [  # type: ignore[union-attr]
        ("changed", "AI"),
        ("removed", "Law"),  # listed where it stood
        ("added", "Payouts"),
    ]
    assert diff.changes[0].marked.endswith(
        "{+only+} be used to train artificial intelligence models operated by [-Acme.-] {+Acme if you opt in.+}"
    )


def test_a_clause_keeps_its_id_when_its_text_changes_a_little() -> None:
    ids = lineage_ids([OLD, NEW])
    assert ids[1][0] == ids[0][0] and ids[1][1] == ids[0][1]
    assert ids[1][2] not in ids[0]


def test_mark_words() -> None:
    assert mark_words("a b c", "a x c") == "a [-b-] {+x+} c"


@needs_shared()
def test_soundcloud_2024_to_2025_diff_is_the_ai_clause_and_little_else() -> None:
    versions = {
        v.provenance.version_date: v
        for v in load_corpus([OTA]).versions
        if v.provenance.service == "SoundCloud"
    }
    diff = diff_clauses(parse_clauses(versions[date(2024, 2, 7)]), parse_clauses(versions[date(2025, 5, 21)]))
    ai = [c for c in diff.changes if "inform, train, develop" in c.marked]
    assert len(ai) == 1 and ai[0].kind == "changed"
    assert "[-In the absence of a separate agreement-]" in ai[0].marked
    assert "{+We will not use your content to train generative AI models+}" in ai[0].marked
    assert len(diff.changes) <= 8 and diff.unchanged > 150
