"""`policybot changes` and `policybot watch …` on the project's test corpus (Loudwave's terms change between
March 2024 and July 2025: the AI clause and the termination notice)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli.main import main

from .conftest import DATA

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    from bot.index.build import build_index
    from bot.settings import Settings

    data_dir = tmp_path_factory.mktemp("cli-changes")
    build_index([DATA / "ota", DATA / "frontmatter"], Settings(data_dir=data_dir), embedder=embedder)
    return data_dir


def run(data_dir: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), *args], catch_exceptions=False)


def test_changes_json_newest_first_with_filters(indexed: Path) -> None:
    result = run(indexed, "changes", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["count"] == 2 and data["generation"]
    assert [c["section"] for c in data["changes"]] == ["Grant of license › ¶2", "Termination › (ii)"]
    ai = data["changes"][0]
    assert ai["service"] == "Loudwave" and ai["title"] == "Terms of Use" and ai["date"] == "2025-07-01"
    assert ai["rating"] == "substantive" and ai["topics"][0] == "ai_training" and ai["change"] == "reworded"
    assert ai["from"]["date"] == "2024-03-01" and ai["to"]["date"] == "2025-07-01"
    assert "may be used to train" in ai["old"]["excerpt"] and ai["old"]["version_date"] == "2024-03-01"
    assert "unless you opt in" in ai["new"]["excerpt"] and ai["new"]["version_date"] == "2025-07-01"

    only = json.loads(
        run(indexed, "changes", "--topic", "ai_training", "--service", "loudwave", "--json").output
    )
    assert only["count"] == 1 and only["filters"]["services"] == ["Loudwave"]
    assert json.loads(run(indexed, "changes", "--since", "2025-08-01", "--json").output)["count"] == 0
    assert json.loads(run(indexed, "changes", "--until", "2025-07-01", "--json").output)["count"] == 2


def test_changes_text(indexed: Path) -> None:
    result = run(indexed, "changes", "--topic", "termination")
    assert result.exit_code == 0
    assert "Loudwave changed its Terms of Use on account termination (July 1, 2025)" in result.output
    assert "30 days' notice" in result.output and "(Last Amended: March 1, 2024)" in result.output
    assert "substantive: a figure changed" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--topic", "weather"), "unknown topic 'weather'"),
        (("--service", "Nowhere"), "no platform 'Nowhere' in the index"),
        (("--since", "March"), "is not a date"),
        (("--since", "2025-01-02", "--until", "2025-01-01"), "is after until"),
    ],
)
def test_bad_filters_are_one_line_errors(indexed: Path, args: tuple[str, ...], message: str) -> None:
    result = CliRunner().invoke(main, ["--data-dir", str(indexed), "changes", *args])
    assert result.exit_code == 2 and message in result.output


def test_no_index_yet(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "changes"])
    assert result.exit_code == 1 and "policybot index" in result.output


def test_watches_add_list_check_remove(indexed: Path, tmp_path: Path) -> None:
    added = run(indexed, "watch", "add", "--service", "loudwave", "--topic", "ai_training", "--json")
    watch = json.loads(added.output)
    assert watch["created"] and watch["service"] == "Loudwave" and watch["matching"] == 1
    assert watch["feed"] == "/feeds/changes.atom?service=Loudwave&topic=ai_training"
    again = json.loads(
        run(indexed, "watch", "add", "--service", "Loudwave", "--topic", "ai_training", "--json").output
    )
    assert again["id"] == watch["id"] and not again["created"]

    listed = json.loads(run(indexed, "watch", "list", "--json").output)
    assert [w["id"] for w in listed] == [watch["id"]] and listed[0]["new"] == 0  # what was there is seen
    checked = json.loads(run(indexed, "watch", "check", "--json").output)
    assert checked[0]["changes"] == []

    # A watch on a topic the current changes touch, added before they were recorded, sees them as new.
    from bot.changes.watches import open_watches

    open_watches(indexed).add("", "termination")
    text = run(indexed, "watch", "check").output
    assert "1 new change(s)" in text and "30 days' notice" in text
    assert "0 new change(s)" in run(indexed, "watch", "check").output.split("termination")[-1]

    assert "Removed watch" in run(indexed, "watch", "remove", watch["id"]).output
    gone = CliRunner().invoke(main, ["--data-dir", str(indexed), "watch", "remove", watch["id"]])
    assert gone.exit_code == 2 and "no watch" in gone.output
    none = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "watch", "add"])
    assert none.exit_code == 2 and "needs --service or --topic" in none.output


def test_corpus_sync_reports_what_changed_once(tmp_path: Path) -> None:
    """`policybot corpus sync` records the changes of what it brought: one new version editing one clause is
    one new entry; syncing again brings nothing and records nothing."""
    loudwave = DATA / "ota" / "contrib-versions" / "Loudwave" / "Terms of Service"
    folder = tmp_path / "source" / "contrib-versions" / "SoundCloud" / "Terms of Service"
    folder.mkdir(parents=True)
    text = (loudwave / "2025-07-10.md").read_text(encoding="utf-8").replace("Loudwave", "SoundCloud")
    (folder / "2025-07-10.md").write_text(text, encoding="utf-8")
    data_dir = tmp_path / "data"

    def sync(*extra: str) -> Any:
        result = run(
            data_dir, "corpus", "sync", "--from", str(tmp_path / "source"), "--service", "SoundCloud", *extra
        )
        assert result.exit_code == 0, result.output
        return result

    sync("--json")
    edited = text.replace(
        "unless you opt in from the privacy settings", "unless you opt out in the privacy settings"
    )
    (folder / "2025-10-02.md").write_text(edited.replace("July 1, 2025", "October 1, 2025"), encoding="utf-8")
    second = json.loads(sync("--json").output)
    assert second["changes"]["new"] == 1 and second["changes"]["substantive"] == 1
    [change] = second["changes"]["changes"]
    assert change["service"] == "SoundCloud" and "ai_training" in change["topics"]
    assert "opt out in the privacy settings" in change["new"]["excerpt"]
    third = sync()
    assert "Synced 0 new version(s)" in third.output and "No new changes in the terms." in third.output
