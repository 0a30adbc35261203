from datetime import date
from pathlib import Path

import pytest

from bot.errors import CorpusError
from bot.ingest.load import detect_title, load_corpus

from .conftest import DATA, OTA, needs_shared, shared_sources

pytestmark = pytest.mark.unit


def by_doc(corpus):  # type: ignore[no-untyped-def]
    return {
        (v.provenance.service, v.provenance.document, v.provenance.region, v.provenance.version_date): v
        for v in corpus.versions
    }


def test_ota_layout_versions_regions_and_dates() -> None:
    corpus = load_corpus([DATA / "ota"])
    assert not corpus.problems
    docs = by_doc(corpus)
    assert ("Loudwave", "Terms of Service", "global", date(2024, 3, 1)) in docs
    assert ("Loudwave", "Terms of Service", "global", date(2025, 7, 1)) in docs
    # Same service and terms type in another collection is another region, not a version.
    assert ("Loudwave", "Terms of Service", "US", date(2025, 8, 1)) in docs
    version = docs[("Loudwave", "Terms of Service", "global", date(2024, 3, 1))].provenance
    assert version.title == "Terms of Use"
    assert version.date_statement == "Last Amended: March 1, 2024"
    assert version.recorded == date(2024, 3, 2)
    assert version.kind == "terms"


def test_front_matter_document() -> None:
    corpus = load_corpus([DATA / "frontmatter"])
    (version,) = corpus.versions
    p = version.provenance
    assert (p.service, p.kind, p.version_date, p.source_url) == (
        "Loudwave",
        "statement",
        date(2025, 6, 20),
        "https://example.org/loudwave-statement",
    )
    assert version.text.startswith("# Loudwave statement on AI")  # the stored text is the body


def test_flat_folder_service_from_file_name_and_dates() -> None:
    corpus = load_corpus([DATA / "flat"])
    names = {v.provenance.service: v.provenance for v in corpus.versions}
    assert set(names) == {"Tunebox", "Beatcrate"}
    assert names["Tunebox"].version_date == date(2025, 5, 5)  # from the text
    assert names["Beatcrate"].version_date == date(2024, 11, 30)  # from the file name


def test_bundled_corpus_loads_with_kinds() -> None:
    corpus = load_corpus([Path(__file__).resolve().parents[1] / "corpus"])
    assert not corpus.problems
    kinds = {v.provenance.kind for v in corpus.versions}
    assert kinds == {"terms", "statement"}
    assert all(v.provenance.service == "SoundCloud" for v in corpus.versions)


@pytest.mark.parametrize(
    ("name", "content", "reason", "line"),
    [
        ("binary.md", b"\x00\x01\x02PNG", "binary file", None),
        ("latin1.md", "Caf\u00e9 terms\nLast updated: May 1, 2025\n".encode("latin-1"), "not UTF-8", 1),
        ("empty.md", b"   \n\n", "empty file", None),
        ("open.md", b"---\nservice: X\nkind: terms\n\nno end\n", "never closed", 1),
        (
            "kind.md",
            b"---\nservice: X\nkind: rumour\nversion_date: 2025-01-01\n---\nText here.\n",
            "kind must be",
            3,
        ),
        ("date.md", b"---\nservice: X\nversion_date: someday\n---\nText here.\n", "not a date", 3),
        ("key.md", b"---\nservice: X\ncolour: red\n---\nText.\n", "unknown front matter key", 3),
        ("nodate.md", b"Terms with no date at all.\n", "no version date", None),
    ],
)
def test_malformed_files_are_reported_and_the_rest_loads(
    tmp_path: Path, name: str, content: bytes, reason: str, line: int | None
) -> None:
    (tmp_path / name).write_bytes(content)
    (tmp_path / "Good_2025-01-01.md").write_text("Good terms. You own your music.\n", encoding="utf-8")
    corpus = load_corpus([tmp_path])
    assert [v.provenance.service for v in corpus.versions] == ["Good"]
    (problem,) = corpus.problems
    assert problem.path.endswith(name)
    assert reason in problem.reason
    assert problem.line == line
    assert name in str(problem)


def test_missing_folder_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="nowhere"):
        load_corpus([tmp_path / "nowhere"])


def test_readme_and_hidden_files_are_not_documents(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# About this folder\n", encoding="utf-8")
    (tmp_path / "_notes").mkdir()
    (tmp_path / "_notes" / "x_2025-01-01.md").write_text("Hidden.\n", encoding="utf-8")
    (tmp_path / "Real_2025-01-01.md").write_text("Real terms.\n", encoding="utf-8")
    assert [v.provenance.service for v in load_corpus([tmp_path]).versions] == ["Real"]


def test_identical_versions_are_recorded_once(tmp_path: Path) -> None:
    folder = tmp_path / "contrib-versions" / "Echo" / "Terms of Service"
    folder.mkdir(parents=True)
    for day in ("2025-01-01", "2025-02-01"):
        (folder / f"{day}.md").write_text("Echo terms.\n\nLast updated: January 1, 2025\n", encoding="utf-8")
    (version,) = load_corpus([tmp_path]).versions
    assert version.provenance.recorded == date(2025, 1, 1)


def test_detect_title_strips_the_platform_name() -> None:
    assert (
        detect_title("**SoundCloud Terms of Use**\n====\n", "SoundCloud", "Terms of Service")
        == "Terms of Use"
    )
    assert detect_title("Bandcamp's Acceptable Use Policy\n===\n", "Bandcamp", "X") == "Acceptable Use Policy"
    assert (
        detect_title("Copyright\n\n===\n", "YouTube", "Copyright Claims Policy") == "Copyright Claims Policy"
    )


@needs_shared()
def test_shared_corpus_loads_whole() -> None:
    corpus = load_corpus([OTA])
    assert not corpus.problems
    # One version per file: no two files of one document in one collection hold the same text.
    files = {
        (r["collection"], r["service"].casefold(), r["terms_type"], r["sha256"]) for r in shared_sources()
    }
    assert len(corpus.versions) == len(files)
    soundcloud = [v for v in corpus.versions if v.provenance.service == "SoundCloud"]
    # "Soundcloud" (tosdr-versions) and "SoundCloud" (contrib-versions) are one service and one document.
    assert len({v.provenance.doc_key for v in soundcloud}) == 1
    assert len({v.provenance.version_date for v in soundcloud}) == 5
    tiktok = {
        v.provenance.region
        for v in corpus.versions
        if v.provenance.service == "TikTok" and v.provenance.document == "Terms of Service"
    }
    assert tiktok == {"EEA", "US"}
