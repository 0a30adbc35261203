import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import main

from .conftest import OTA, needs_shared, shared_sources

pytestmark = pytest.mark.integration


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@needs_shared()
def test_sync_from_folder_then_again_changes_nothing(tmp_path: Path) -> None:
    first = run("--data-dir", str(tmp_path), "corpus", "sync", "--from", str(OTA), "--no-index", "--json")
    assert first.exit_code == 0, first.output
    assert len(json.loads(first.output)["added"]) == len(shared_sources())
    second = run("--data-dir", str(tmp_path), "corpus", "sync", "--from", str(OTA), "--no-index")
    assert second.exit_code == 0 and "Synced 0 new version(s)" in second.output


def test_corpus_list_json(shared_index) -> None:  # type: ignore[no-untyped-def]
    result = run("--data-dir", str(shared_index.data_dir), "corpus", "list", "--json")
    documents = json.loads(result.output)
    assert all({"service", "document", "region", "versions"} <= set(d) for d in documents)
    soundcloud = next(
        d for d in documents if d["service"] == "SoundCloud" and d["document"] == "Terms of Service"
    )
    assert len({v["date"] for v in soundcloud["versions"]}) >= 5
    assert all(v["clauses"] > 0 for v in soundcloud["versions"])
    text = run("--data-dir", str(shared_index.data_dir), "corpus", "list").output
    assert "Last Amended: August 17, 2026" in text


def test_corpus_diff_shows_the_ai_clause_replaced(shared_index) -> None:  # type: ignore[no-untyped-def]
    args = ["--data-dir", str(shared_index.data_dir), "corpus", "diff", "SoundCloud", "Terms of Service"]
    result = run(*args, "--from", "2024-03-01", "--to", "2025-06-01")
    assert result.exit_code == 0, result.output
    assert "Last Amended: February 7, 2024 → Last Amended: May 21, 2025" in result.output
    assert "[-In the absence of a separate agreement-]" in result.output
    assert "{+We will not use your content to train generative AI models+}" in result.output
    data = json.loads(run(*args, "--from", "2024-03-01", "--to", "2025-06-01", "--json").output)
    assert data["from"]["date"] == "2024-02-07" and data["to"]["date"] == "2025-05-21"
    assert len(data["changes"]) <= 8
    bad = run(*args, "--from", "2020-01-01")
    assert bad.exit_code == 2 and "the first is 2024-02-07" in bad.output
    unknown = run("--data-dir", str(shared_index.data_dir), "corpus", "diff", "SoundCloud", "Cookie Policy")
    assert unknown.exit_code == 2 and "Terms of Service" in unknown.output
