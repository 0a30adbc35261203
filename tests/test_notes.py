from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.answer.ask import ask
from bot.answer.notes import load_notes, locate_anchor
from bot.answer.schema import answer_json
from bot.cli.main import main
from bot.errors import CorpusError
from bot.settings import Settings

from .conftest import OTA, needs_shared

pytestmark = pytest.mark.integration

FRESH = "Loudwave will not use your Content to train generative artificial intelligence models"
GONE = "You explicitly agree that your Content may be used to train"


def write_notes(folder: Path, anchor: str, stance: str = "opt-in only") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "loudwave.toml").write_text(
        f'service = "Loudwave"\n\n[[notes]]\ntopic = "ai_training"\ndocument = "Terms of Service"\n'
        f'stance = "{stance}"\nsummary = "Loudwave says it trains no generative AI on your music unless you opt in."\n'
        f'anchor = "{anchor}"\n',
        encoding="utf-8",
    )
    load_notes.cache_clear()
    return folder


def with_notes(settings: Settings, folder: Path) -> Settings:
    return Settings(**{**settings.model_dump(), "notes_dir": folder})


@pytest.mark.unit
def test_anchor_matching_ignores_whitespace_only() -> None:
    text = (
        "Loudwave will not use your\u00a0Content to train\n generative artificial intelligence models unless"
    )
    assert locate_anchor(FRESH, text) is not None
    assert locate_anchor(FRESH.replace("will not", "won't"), text) is None


@pytest.mark.unit
@pytest.mark.parametrize(
    ("note", "expected"),
    [
        (
            'topic = "ai_training"\nstance = "maybe"\nsummary = "s"',
            r"notes\[1\]: stance 'maybe' is not one of",
        ),
        ('topic = "ai_training"\nstance = "allowed"', r"notes\[1\]\.summary: Field required"),
        (
            'topic = "weather"\nstance = "allowed"\nsummary = "s"',
            r"notes\[1\]: topic 'weather' is not one of",
        ),
        (
            'topic = "ai_training"\nstance = "allowed"\nsummary = "s"',
            r"needs the anchor phrase it summarises",
        ),
        (
            'topic = "ai_training"\nstance = "allowed"\nsummary = "s"\nanchor = "a"\ncolour = "red"',
            r"colour: Extra",
        ),
    ],
)
def test_malformed_notes_name_the_file_and_field(tmp_path: Path, note: str, expected: str) -> None:
    (tmp_path / "x.toml").write_text(f'service = "X"\n[[notes]]\n{note}\n')
    load_notes.cache_clear()
    with pytest.raises(CorpusError, match=r"x\.toml: .*" + expected):
        load_notes(tmp_path)


def test_answers_lead_with_a_fresh_note_then_quote_the_clause(test_index, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = with_notes(test_index, write_notes(tmp_path / "notes", FRESH))
    answer = ask("Can Loudwave train AI on my songs?", settings)
    assert answer.text.startswith("policybot's summary (not Loudwave's words): Loudwave says")
    (summary,) = answer.summaries
    assert summary.stance == "opt-in only" and summary.citation is not None
    cited = answer.citations[summary.citation - 1]
    assert FRESH in cited.excerpt
    data = answer_json(answer)
    assert data["stance"] == "opt-in only" and data["summary"][0]["citation"] == summary.citation
    assert data["disclaimer"].startswith("Not legal advice")


def test_a_stale_note_falls_back_to_the_current_clause(test_index, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = with_notes(test_index, write_notes(tmp_path / "notes", GONE))
    answer = ask("Can Loudwave train AI on my songs?", settings)
    assert not answer.summaries and "policybot's summary" not in answer.text
    assert any("does not match the version quoted here" in note for note in answer.notes)
    assert any(
        "opt in" in c.excerpt and c.provenance.document == "Terms of Service" for c in answer.citations
    )
    result = CliRunner().invoke(
        main,
        ["--data-dir", str(settings.data_dir), "corpus", "check"],
        env={"POLICYBOT_NOTES_DIR": str(tmp_path / "notes")},
    )
    assert result.exit_code == 1
    assert "1 notes: 0 fresh, 1 stale" in result.output and GONE in result.output


def test_comparison_table_rows_have_an_excerpt_or_say_not_addressed(test_index, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = with_notes(test_index, write_notes(tmp_path / "notes", FRESH))
    answer = ask("Compare Loudwave and Tunebox on AI training", settings)
    rows = {r.service: r for r in answer.comparison}
    assert rows["Loudwave"].stance == "opt-in only" and rows["Loudwave"].citation is not None
    assert rows["Tunebox"].stance == "not addressed" and rows["Tunebox"].citation is None
    assert rows["Tunebox"].note.startswith("not addressed in Terms of Service (Last updated: May 5, 2025)")
    data = answer_json(answer)
    assert [set(r) for r in data["comparison"]] == [{"service", "stance", "note", "citation"}] * 2
    for row in data["comparison"]:
        if row["citation"] is not None:
            assert data["citations"][row["citation"] - 1]["service"] == row["service"]
    assert "| Loudwave | opt-in only |" in answer.text


def test_glossary_and_contract_pointer(test_index) -> None:  # type: ignore[no-untyped-def]
    answer = ask("My label deal says what about the Beatcrate licence?", test_index)
    terms = dict(answer.glossary)
    assert "perpetual" in terms and "irrevocable" in terms
    assert any("Your own contract" in note for note in answer.notes)


REQUIRED = ("SoundCloud", "Bandcamp", "Spotify", "YouTube", "TikTok", "DistroKid")


@pytest.mark.unit
@needs_shared()
def test_bundled_notes_cover_every_topic_and_their_anchors_are_in_the_current_terms() -> None:
    from bot.index.build import version_order
    from bot.ingest.load import load_corpus
    from bot.retrieve.topics import TOPICS

    load_notes.cache_clear()
    notes = load_notes()
    covered = {(n.service, n.topic) for n in notes}
    missing = [(s, t.id) for s in REQUIRED for t in TOPICS if t.core and (s, t.id) not in covered]
    assert not missing, missing
    latest: dict[tuple[str, str, str], object] = {}
    for version in sorted(load_corpus([OTA]).versions, key=version_order):
        p = version.provenance
        latest[(p.service, p.document, p.region)] = version
    for note in notes:
        if not note.anchor:
            continue
        of_document = [
            (region, v)
            for (service, document, region), v in latest.items()
            if service == note.service and document == note.document
        ]
        # A note for a region the document has no separate copy of (one file holding the EEA agreement too)
        # is checked against the document itself, as answers use it.
        regional = [v for region, v in of_document if region == note.region]
        candidates = regional or [v for _, v in of_document]
        assert candidates, f"{note.path}: no {note.service} {note.document} in the shared corpus"
        assert any(locate_anchor(note.anchor, v.text) for v in candidates), (
            f"{note.path}: {note.topic} anchor not found"
        )  # type: ignore[attr-defined]
