from datetime import date

import pytest

from bot.ingest.load import load_corpus
from bot.parse.clauses import parse_clauses
from bot.types import DocumentVersion, Provenance

from .conftest import DATA, OTA, needs_shared

pytestmark = pytest.mark.unit


def version(text: str, title: str = "Terms of Use") -> DocumentVersion:
    p = Provenance("Acme", "Terms of Service", title, "terms", "global", date(2025, 1, 1), "", "", "0" * 64)
    return DocumentVersion(p, text, "acme.md")


def test_offsets_always_hold() -> None:
    for v in load_corpus([DATA / "ota", DATA / "flat", DATA / "frontmatter"]).versions:
        for clause in parse_clauses(v):
            assert v.text[clause.start : clause.end] == clause.text
            assert clause.text == clause.text.strip()


def test_sections_labels_and_title() -> None:
    text = (
        "**Acme Terms of Use**\n=====\n\nIntro paragraph about Acme.\n\n"
        "**Grant of license**\n--------------------\n\nFirst paragraph.\n\nSecond paragraph.\n\n"
        "### Sub heading\n\n(xi) You must not impersonate anyone.\n\n3.5 Numbered item text here.\n\na) Lettered item text.\n"
    )
    clauses = parse_clauses(version(text))
    paths = [(c.section, c.label, c.text[:12]) for c in clauses]
    assert paths == [
        ((), "¶1", "Intro paragr"),
        (("Grant of license",), "¶1", "First paragr"),
        (("Grant of license",), "¶2", "Second parag"),
        (("Grant of license", "Sub heading"), "(xi)", "(xi) You mus"),
        (("Grant of license", "Sub heading"), "3.5", "3.5 Numbered"),
        (("Grant of license", "Sub heading"), "a)", "a) Lettered "),
    ]
    assert clauses[3].section_path == "Grant of license › Sub heading › (xi)"


def test_bold_lines_and_list_items() -> None:
    text = "Intro line here.\n\n**Access to the Service**\n\nWe grant you access.\n\n*   first item\n*   second item\n"
    clauses = parse_clauses(version(text))
    assert [(c.section, c.text) for c in clauses] == [
        ((), "Intro line here."),
        (("Access to the Service",), "We grant you access."),
        (("Access to the Service",), "*   first item"),
        (("Access to the Service",), "*   second item"),
    ]


def test_one_paragraph_per_line_documents_split_per_line() -> None:
    long = "This is a long paragraph of terms that goes on and on for quite a while, more than a hundred and twenty characters in all, as real ones do."
    text = f"**Acme Terms of Service**  \nAs of September 1, 2024  \n{long}\n{long}\n**Payments**  \n{long}\n"
    clauses = parse_clauses(version(text, title="Terms of Service"))
    assert [c.section for c in clauses] == [(), (), (), ("Payments",)]
    assert clauses[0].text == "As of September 1, 2024"


def test_navigation_lists_and_decoration_are_not_clauses() -> None:
    text = "1.  [Introduction](#intro)\n2.  [Payments](#pay)\n\n* * *\n\nReal text of the terms.\n"
    assert [c.text for c in parse_clauses(version(text))] == ["Real text of the terms."]


def test_duplicated_headings_and_no_headings() -> None:
    text = "## Fees\n\nOne fee.\n\n## Fees\n\nTwo fees.\n"
    assert [(c.section, c.label) for c in parse_clauses(version(text))] == [
        (("Fees",), "¶1"),
        (("Fees",), "¶1"),
    ]
    assert len(parse_clauses(version("Just one paragraph, no headings."))) == 1


def clause_with(versions, service: str, when: date, phrase: str):  # type: ignore[no-untyped-def]
    for v in versions:
        if v.provenance.service == service and v.provenance.version_date == when:
            for clause in parse_clauses(v):
                if phrase in clause.text:
                    return clause
    raise AssertionError(f"no {service} {when} clause contains {phrase!r}")


@needs_shared()
def test_real_documents_ai_clauses_are_their_own_clauses() -> None:
    versions = load_corpus([OTA]).versions
    latest = clause_with(
        versions, "SoundCloud", date(2026, 8, 17), "We will not use your content to train generative AI"
    )
    assert latest.section == ("Grant of license",)
    assert latest.label == "¶4"
    assert latest.text.startswith("We will not use your content")
    assert latest.provenance.date_statement == "Last Amended: August 17, 2026"

    old = clause_with(versions, "SoundCloud", date(2024, 2, 7), "inform, train, develop or serve as input")
    assert old.section == ("Grant of license",)
    assert old.provenance.date_statement == "Last Amended: February 7, 2024"

    bandcamp = clause_with(versions, "Bandcamp", date(2024, 11, 11), "to train models to generate")
    assert bandcamp.section and "Artists" in bandcamp.section[-1]

    spotify = clause_with(versions, "Spotify", date(2025, 8, 26), "You retain ownership of your User Content")
    assert "Content and Intellectual Property Rights" in " ".join(spotify.section)

    tiktok = next(
        c
        for v in versions
        if v.provenance.service == "TikTok"
        and v.provenance.region == "US"
        and v.provenance.document == "Terms of Service"
        for c in parse_clauses(v)
        if "without prior notice, to ban or suspend your account" in c.text
    )
    assert tiktok.section[0] == "5. Suspending or ending our relationship"


@needs_shared()
def test_every_real_clause_keeps_its_offsets() -> None:
    for v in load_corpus([OTA]).versions:
        clauses = parse_clauses(v)
        assert clauses, v.path
        for clause in clauses:
            assert v.text[clause.start : clause.end] == clause.text
