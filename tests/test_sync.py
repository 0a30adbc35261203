import subprocess
from pathlib import Path

import pytest

from bot.ingest.sync import SyncError, default_corpus_dirs, sync_from_folder, sync_from_git, synced_files
from bot.settings import Settings

from .conftest import OTA, needs_shared, shared_sources

pytestmark = pytest.mark.unit


@needs_shared()
def test_sync_from_the_shared_folder_imports_all_and_is_idempotent(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = sync_from_folder(OTA, settings)
    rows = shared_sources()
    assert len(first.added) == len(rows) and not first.conflicts
    again = sync_from_folder(OTA, settings)
    assert again.added == [] and again.unchanged == len(rows)
    files = list(synced_files(settings))
    assert len(files) == len(rows)
    assert any("tosdr-versions/Soundcloud/Terms of Service" in str(f) for f in files)
    assert default_corpus_dirs(settings)[-1] == tmp_path / "corpus"
    only = sync_from_folder(OTA, Settings(data_dir=tmp_path / "one"), ["soundcloud"])
    assert len(only.added) == sum(r["service"].casefold() == "soundcloud" for r in rows)


def write_version(root: Path, collection: str, day: str, text: str) -> None:
    folder = root / collection / "SoundCloud" / "Terms of Service"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{day}.md").write_text(text, encoding="utf-8")


def test_a_version_identical_to_the_one_before_is_recorded_once(tmp_path: Path) -> None:
    source = tmp_path / "source"
    write_version(source, "contrib-versions", "2025-01-01", "A\n")
    write_version(source, "contrib-versions", "2025-02-01", "A\n")
    write_version(source, "contrib-versions", "2025-03-01", "B\n")
    report = sync_from_folder(source, Settings(data_dir=tmp_path / "data"), ["SoundCloud"])
    assert [Path(p).name for p in report.added] == ["2025-01-01.md", "2025-03-01.md"]
    assert report.identical_skipped == 1


def git(*args: str, cwd: Path, date: str | None = None) -> None:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    if date:
        env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    import os

    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env={**os.environ, **env})


def make_versions_repository(path: Path) -> Path:
    """A local git repository in OTA's versions layout: <Service>/<Terms type>.md, one commit per version."""
    path.mkdir()
    git("init", "-q", "-b", "main", cwd=path)
    doc = path / "SoundCloud" / "Terms of Service.md"
    doc.parent.mkdir()
    for stamp, text in [
        ("2024-02-07T10:00:00Z", "Old terms: your Content may be used to train AI.\n"),
        ("2025-05-21T09:00:00Z", "New terms, draft.\n"),
        ("2025-05-21T18:00:00Z", "New terms: we will not train AI without opt-in.\n"),
    ]:
        doc.write_text(text, encoding="utf-8")
        git("add", "-A", cwd=path)
        git("commit", "-q", "-m", f"Record {stamp}", cwd=path, date=stamp)
    return path


def test_sync_from_a_git_repository_in_ota_layout(tmp_path: Path) -> None:
    repository = make_versions_repository(tmp_path / "contrib-versions")
    settings = Settings(data_dir=tmp_path / "data")
    urls = {"contrib-versions": repository.as_uri()}
    report = sync_from_git(settings, ["SoundCloud"], repositories=urls)
    folder = tmp_path / "data" / "corpus" / "contrib-versions" / "SoundCloud" / "Terms of Service"
    assert sorted(p.name for p in folder.glob("*.md")) == ["2024-02-07.md", "2025-05-21.md"]
    # The day's last recording is the version of that day.
    assert (folder / "2025-05-21.md").read_text(encoding="utf-8").startswith("New terms: we will not")
    assert len(report.added) == 2
    again = sync_from_git(settings, ["SoundCloud"], repositories=urls)
    assert again.added == [] and again.unchanged == 2


def test_network_failure_is_clear_and_keeps_what_was_synced(tmp_path: Path) -> None:
    repository = make_versions_repository(tmp_path / "contrib-versions")
    settings = Settings(data_dir=tmp_path / "data")
    sync_from_git(settings, ["SoundCloud"], repositories={"contrib-versions": repository.as_uri()})
    before = sorted(synced_files(settings))
    # A fresh data dir pointing at an unreachable address: nothing to fetch, a message that says why.
    with pytest.raises(SyncError, match=r"could not sync from http://127\.0\.0\.1:9/.*Nothing synced before"):
        sync_from_git(
            Settings(data_dir=tmp_path / "other"),
            ["SoundCloud"],
            repositories={"contrib-versions": "http://127.0.0.1:9/x"},
        )
    assert sorted(synced_files(settings)) == before
