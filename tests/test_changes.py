"""What counts as a change, how it is rated and tagged, its verbatim excerpts and stable ids, the record format
and the Atom feed: plain values, no index."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from bot.changes.describe import entry_title
from bot.changes.detect import (
    VersionClauses,
    change_id,
    change_sequence,
    diff_document,
    document_changes,
)
from bot.changes.feed import atom_feed
from bot.changes.query import ChangeQuery, latest_per_platform, newest_first, resolve_topic
from bot.changes.rate import Edit, is_spelling, rate, tag_topics
from bot.changes.record import compute_changes, verified
from bot.changes.types import from_json, to_json
from bot.errors import BadQuestion
from bot.ingest.lineage import lineage_ids
from bot.parse.clauses import parse_clauses
from bot.types import DocumentVersion, Provenance, text_sha256

pytestmark = pytest.mark.unit

HEAD = "# Acme Terms of Use\n\n"
LICENCE = (
    "## Grant of license\n\nYou grant Acme a worldwide, non-exclusive, royalty-free licence to host and stream "
    "your Content on the Platform.\n\n"
)
AI_OLD = (
    "You explicitly agree that your Content may be used to inform, train, develop or serve as input to "
    "artificial intelligence technologies operated by Acme.\n\n"
)
AI_NEW = (
    "We will not use your Content to train generative AI models without your explicit consent, which must be "
    "provided through an opt-in mechanism.\n\n"
)
TERMINATION = (
    "## Termination\n\nAcme may terminate your account after giving you 14 days' notice. Notices are sent "
    "to Acme, 1 Main Street, 10115 Berlin.\n\n"
)
LAW = (
    "## Governing law\n\nThese Terms are governed by the laws of Ireland, and disputes go to its courts.\n\n"
)


def version(
    text: str,
    when: date,
    *,
    recorded: date | None = None,
    service: str = "Acme",
    kind: str = "terms",
    title: str = "Terms of Use",
    document: str = "Terms of Service",
    stated: bool = True,
) -> tuple[DocumentVersion, VersionClauses]:
    label = f"Last Amended: {when:%B} {when.day}, {when.year}" if stated else ""
    body = text + (f"**{label}**\n" if stated else "")
    p = Provenance(
        service,
        document,
        title,
        kind,
        "global",
        when,
        label,
        "https://acme.example/terms",
        text_sha256(body),
        recorded=recorded or when,
    )
    doc = DocumentVersion(p, body, f"{when}.md")
    return doc, VersionClauses(p, tuple(parse_clauses(doc)))


def changes_between(*texts: tuple[str, date]) -> list:  # type: ignore[type-arg]
    return document_changes([version(t, d)[1] for t, d in texts])


def lookup_for(*docs: DocumentVersion):  # type: ignore[no-untyped-def]
    return {d.provenance.text_sha256: d.text for d in docs}.get


OLD = HEAD + LICENCE + AI_OLD + TERMINATION + LAW
NEW = HEAD + LICENCE + AI_NEW + TERMINATION + LAW


# --- what is and is not a change ---------------------------------------------------------------------------


def test_identical_versions_have_no_changes() -> None:
    assert changes_between((OLD, date(2024, 1, 1)), (OLD, date(2025, 1, 1))) == []


def test_re_paragraphing_whitespace_punctuation_chrome_and_the_date_line_are_not_changes() -> None:
    # The licence paragraph split in two, the law clause re-wrapped with other punctuation and case, a
    # captured page's chrome and a "Last Amended" line that moved on: nothing that says anything new.
    reflowed = (
        HEAD
        + "## Grant of license\n\nYou grant Acme a worldwide, non-exclusive, royalty-free licence\n\nto host and "
        "stream your Content on the Platform.\n\n"
        + AI_OLD
        + TERMINATION
        + "## Governing law\n\nThese terms are governed by the laws of Ireland; and disputes go to its\ncourts\n\n"
        + "Accept all cookies\n\n"
    )
    assert changes_between((OLD, date(2024, 1, 1)), (reflowed, date(2025, 6, 1))) == []


def test_a_moved_paragraph_is_not_a_change() -> None:
    moved = HEAD + LAW + LICENCE + AI_OLD + TERMINATION
    assert changes_between((OLD, date(2024, 1, 1)), (moved, date(2025, 1, 1))) == []


def test_a_rewritten_clause_is_one_change_with_both_wordings_verbatim_and_dated() -> None:
    old_doc, old = version(OLD, date(2024, 2, 7))
    new_doc, new = version(NEW, date(2025, 5, 21))
    [change] = document_changes([old, new])
    assert change.change == "reworded" and change.service == "Acme" and change.title == "Terms of Use"
    assert change.section_path == "Grant of license › ¶2"
    assert change.rating == "substantive" and "permission" in change.reasons
    assert change.topics[0] == "ai_training"
    assert change.before.version_date == date(2024, 2, 7) and change.after.version_date == date(2025, 5, 21)
    assert change.before.date_label == "Last Amended: February 7, 2024"
    assert change.old is not None and change.new is not None
    assert "inform, train, develop or serve as input to artificial intelligence" in change.old.quote
    assert "opt-in mechanism" in change.new.quote
    # Every excerpt and the clause are exact spans of their stored version.
    assert verified(change, lookup_for(old_doc, new_doc))
    for side, doc in ((change.old, old_doc), (change.new, new_doc)):
        for excerpt in side.excerpts:
            assert doc.text[excerpt.start : excerpt.end] == excerpt.text
        assert all(doc.text[s:t].strip() for s, t in side.marks)
    assert "explicitly agree" in " ".join(change.old.changed_words)
    assert "We will not use" in " ".join(change.new.changed_words)
    assert entry_title(change) == "Acme changed its Terms of Use on AI training (May 21, 2025)"


def test_ids_are_stable_and_lineage_ids_are_the_diffs_own() -> None:
    _, old = version(OLD, date(2024, 2, 7))
    _, new = version(NEW, date(2025, 5, 21))
    first = document_changes([old, new])
    assert [c.id for c in document_changes([new, old])] == [
        c.id for c in first
    ]  # order given does not matter
    [change] = first
    ids = lineage_ids([list(old.clauses), list(new.clauses)])
    assert change.lineage in ids[0]
    assert change.id == change_id(
        old.provenance.doc_key, old.provenance.version_id, new.provenance.version_id, change.lineage
    )


def test_added_removed_and_rated_changes() -> None:
    newer = (
        HEAD
        + LICENCE
        + AI_OLD
        + TERMINATION.replace("14 days'", "30 days'").replace("1 Main Street, 10115", "9 Other Road, 12043")
        + "## Payouts\n\nAcme must pay artists every month.\n\n"
    )
    changes = changes_between((OLD, date(2024, 1, 1)), (newer, date(2025, 1, 1)))
    by_section = {c.section_path: c for c in changes}
    termination = by_section["Termination › ¶1"]
    assert termination.rating == "substantive" and termination.reasons == ("figure",)
    assert by_section["Payouts › ¶1"].change == "added" and by_section["Payouts › ¶1"].substantive
    removed = by_section["Governing law › ¶1"]
    assert removed.change == "removed" and removed.new is None and "disputes" in removed.topics


def test_editorial_changes() -> None:
    address = TERMINATION.replace("1 Main Street, 10115", "9 Other Road, 12043")
    spelling = LICENCE.replace("licence", "license")
    changes = changes_between(
        (OLD, date(2024, 1, 1)), (HEAD + spelling + AI_OLD + address + LAW, date(2025, 1, 1))
    )
    assert len(changes) == 2 and all(c.rating == "editorial" and c.reasons == () for c in changes)


@pytest.mark.parametrize(
    ("removed", "added", "expected"),
    [
        (("licence",), ("license",), True),
        (("soundlcoud",), ("soundcloud",), True),
        (("may",), ("must",), False),
        (("14",), ("30",), False),
        ((), ("not",), False),
    ],
)
def test_spelling(removed: tuple[str, ...], added: tuple[str, ...], expected: bool) -> None:
    assert is_spelling(Edit(removed, added)) is expected


def test_rating_reasons() -> None:
    assert rate([Edit(("may",), ("must", "not"))], "reworded") == ("substantive", ("permission", "duty"))
    assert rate([Edit((), ("following",))], "reworded") == ("editorial", ())
    figure = Edit(("14",), ("30",), "after 14 days' notice", "after 30 days' notice", (6, 8), (6, 8))
    assert rate([figure], "reworded") == ("substantive", ("figure",))
    address = Edit(("1",), ("9",), "Acme, 1 Main Street", "Acme, 9 Main Street", (6, 7), (6, 7))
    assert rate([address], "reworded") == ("editorial", ())
    many = Edit(tuple(f"w{n}" for n in range(12)), tuple(f"x{n}" for n in range(12)))
    assert rate([many], "reworded") == ("substantive", ("rewritten",))


def test_topics_use_the_answers_evidence() -> None:
    assert (
        tag_topics("Acme", ["Your Content may be used to train artificial intelligence models."])[0]
        == "ai_training"
    )
    assert "disputes" in tag_topics("Acme", ["These Terms are governed by the laws of Ireland."])
    assert tag_topics("Acme", []) == ()


def test_a_partial_copy_is_not_a_version_of_its_own() -> None:
    # Passages quoted elsewhere on the date of a full recording: comparing them would "add" every clause.
    _, quoted = version(HEAD + AI_OLD, date(2024, 2, 7))
    quoted = VersionClauses(replace(quoted.provenance, recorded=None), quoted.clauses)
    _, full = version(OLD, date(2024, 2, 7))
    _, newer = version(NEW, date(2025, 5, 21))
    assert [v.provenance.version_id for v in change_sequence([newer, quoted, full])] == [
        full.provenance.version_id,
        newer.provenance.version_id,
    ]
    assert len(document_changes([quoted, full, newer])) == 1


def test_same_day_versions_follow_their_recording() -> None:
    _, a = version(OLD, date(2025, 5, 21), recorded=date(2025, 5, 27))
    _, b = version(NEW, date(2025, 5, 21), recorded=date(2025, 9, 1))
    assert [v.provenance.recorded for v in change_sequence([b, a])] == [date(2025, 5, 27), date(2025, 9, 1)]


def test_known_pairs_are_not_diffed_again() -> None:
    _, old = version(OLD, date(2024, 1, 1))
    _, new = version(NEW, date(2025, 1, 1))
    first, pairs = diff_document([old, new])
    sentinel = replace(first[0], rating="editorial")
    again, _ = diff_document([old, new], {pairs[0]: [sentinel]})
    assert again == [sentinel]


def test_a_statement_names_the_document_that_binds() -> None:
    _, terms = version(OLD, date(2024, 1, 1))
    _, s1 = version(
        "## Our view\n\nWe have never trained AI on artists' music.\n\n",
        date(2025, 5, 1),
        kind="statement",
        document="Statement",
        title="Statement on AI",
    )
    _, s2 = version(
        "## Our view\n\nWe will never train AI on artists' music without their consent.\n\n",
        date(2025, 6, 1),
        kind="statement",
        document="Statement",
        title="Statement on AI",
    )
    changes, _pairs = compute_changes([terms, s1, s2])
    [change] = changes
    assert not change.binding and change.binds == "Acme's Terms of Use"
    assert "(statement)" in entry_title(change)


# --- the record format, queries -----------------------------------------------------------------------------


def test_json_round_trip() -> None:
    [change] = changes_between((OLD, date(2024, 2, 7)), (NEW, date(2025, 5, 21)))
    change = replace(change, detected="2025-05-22T00:00:00+00:00")
    data = json.loads(json.dumps(to_json(change)))
    assert from_json(data) == change
    assert data["old"]["version_date"] == "2024-02-07" and data["new"]["version_date"] == "2025-05-21"
    assert data["rating"] == "substantive" and data["topics"][0] == "ai_training"


def test_queries_filter_and_order() -> None:
    [ai] = changes_between((OLD, date(2024, 2, 7)), (NEW, date(2025, 5, 21)))
    other = replace(ai, id="x", service="Beta", after=replace(ai.after, version_date=date(2026, 1, 1)))
    editorial = replace(ai, id="y", rating="editorial", reasons=())
    assert newest_first([ai, other]) == [other, ai]
    assert ChangeQuery(topic="ai_training", since=date(2025, 1, 1)).matches(ai)
    assert not ChangeQuery(since=date(2025, 6, 1)).matches(ai)
    assert not ChangeQuery(until=date(2025, 5, 20)).matches(ai)
    assert not ChangeQuery(services=("Beta",)).matches(ai)
    assert not ChangeQuery(topic="payouts").matches(ai)
    assert not ChangeQuery().matches(editorial) and ChangeQuery(include_editorial=True).matches(editorial)
    assert list(latest_per_platform([ai, other, editorial], 1)) == ["Beta", "Acme"]
    assert resolve_topic("AI training on uploads") == "ai_training" == resolve_topic("ai-training")
    with pytest.raises(BadQuestion, match="unknown topic"):
        resolve_topic("weather")


# --- the feed ---------------------------------------------------------------------------------------------


def test_the_feed_is_valid_atom_and_escapes_documents() -> None:
    feedparser = pytest.importorskip("feedparser")
    hostile = AI_NEW.replace("mechanism.", "mechanism <script>window.__pwned=1</script> & more.")
    [change] = changes_between(
        (OLD, date(2024, 2, 7)), (HEAD + LICENCE + hostile + TERMINATION + LAW, date(2025, 5, 21))
    )
    body = atom_feed(
        [change],
        query=ChangeQuery(topic="ai_training"),
        self_url="http://bot.test/feeds/changes.atom?topic=ai_training",
        site_url="http://bot.test/",
        api_url="http://bot.test/api/changes",
    )
    assert b"<script>" not in body  # escaped twice: as HTML inside the content, and as XML
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.get("bozo_exception")
    [entry] = feed.entries
    assert entry.id == f"urn:policybot:change:{change.id}"
    assert entry.title == "Acme changed its Terms of Use on AI training (May 21, 2025)"
    assert entry.updated.startswith("2025-05-21") and entry.link.startswith(
        "https://acme.example/terms#:~:text="
    )
    content = entry.content[0].value
    assert "&lt;script&gt;" in content and "<script>" not in content
    assert "February 7, 2024" in content and "May 21, 2025" in content
    assert "inform, train, develop" in content and "<ins>" in content and "<del>" in content
