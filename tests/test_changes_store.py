"""Changes kept with the index: one record per generation in Chroma (embedded and server mode alike), written
at once and read back whole or not at all; syncing a new version records exactly its change, once; ids
stay the same across re-indexes; the build hook records what the lazy path would."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.changes import changes_for
from bot.changes import log as change_log_module
from bot.changes.log import ChangeLog
from bot.changes.news import news_after_index
from bot.changes.record import current_record, verified
from bot.index.build import build_index
from bot.index.store import IndexStore, open_store
from bot.ingest.sync import sync_from_folder, synced_dir
from bot.settings import Settings

from .conftest import DATA

pytestmark = pytest.mark.integration

LOUDWAVE = DATA / "ota" / "contrib-versions" / "Loudwave" / "Terms of Service"


def test_changes_are_recorded_in_the_store_and_read_back_whole(
    store_settings: Settings, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(change_log_module, "PART_CHARS", 700)  # several parts, still one upsert
    build_index([DATA / "ota", DATA / "frontmatter"], store_settings, embedder=embedder)
    record = current_record(store_settings)
    assert len(record.changes) == 2 and all(c.service == "Loudwave" for c in record.changes)
    store = open_store(store_settings)
    assert all(verified(c, store.text) for c in record.changes)

    fresh = ChangeLog(IndexStore(store_settings))  # another worker: nothing cached
    again = fresh.read(record.generation)
    assert again == record
    assert fresh.generations() == [record.generation]

    # A record that does not match its hash (a part altered or missing) is absent, never served.
    meta = store.client.get_or_create_collection("policybot_meta", embedding_function=None)
    meta.update(ids=[f"changes:{record.generation}:1"], documents=["tampered"], embeddings=[[1.0]])
    assert ChangeLog(IndexStore(store_settings)).read(record.generation) is None


def _synthetic_source(root: Path) -> Path:
    """An OTA-layout copy of a small document under a followed service's name (sync reads only those)."""
    folder = root / "contrib-versions" / "SoundCloud" / "Terms of Service"
    folder.mkdir(parents=True)
    text = (LOUDWAVE / "2025-07-10.md").read_text(encoding="utf-8").replace("Loudwave", "SoundCloud")
    (folder / "2025-07-10.md").write_text(text, encoding="utf-8")
    return folder


def test_a_synced_version_that_edits_one_clause_is_one_new_entry_once(tmp_path: Path, embedder: Any) -> None:
    source = tmp_path / "source"
    folder = _synthetic_source(source)
    settings = Settings(data_dir=tmp_path / "data")

    def sync_and_index() -> Any:
        sync_from_folder(source, settings, ["SoundCloud"])
        return build_index([synced_dir(settings)], settings, embedder=embedder)

    first = sync_and_index()
    assert news_after_index(settings, first).new == ()  # one version: nothing to compare yet
    text = (folder / "2025-07-10.md").read_text(encoding="utf-8")
    edited = text.replace(
        "unless you opt in from the privacy settings", "unless you opt out in the privacy settings"
    )
    edited = edited.replace("July 1, 2025", "October 1, 2025")  # the date line alone is not a change
    assert edited.count("opt out in the privacy settings") == 1
    (folder / "2025-10-02.md").write_text(edited, encoding="utf-8")

    second = sync_and_index()
    news = news_after_index(settings, second)
    assert len(news.new) == 1
    [change] = news.new
    assert change.change == "reworded" and change.substantive and "ai_training" in change.topics
    assert change.old is not None and "opt in from the privacy settings" in change.old.quote
    assert change.new is not None and "opt out in the privacy settings" in change.new.quote
    assert [c.id for c in changes_for(settings)] == [change.id]

    third = sync_and_index()  # nothing new at the source
    assert third.unchanged and news_after_index(settings, third).new == ()

    # Another index of the same files, from nothing: the same entry, under the same id.
    elsewhere = Settings(data_dir=tmp_path / "elsewhere")
    shutil.copytree(synced_dir(settings), synced_dir(elsewhere))
    build_index([synced_dir(elsewhere)], elsewhere, embedder=embedder)
    assert [c.id for c in changes_for(elsewhere)] == [change.id]
    assert current_record(elsewhere).changes[0].detected  # recorded, with when


def test_the_build_records_the_changes_the_lazy_path_would(tmp_path: Path, embedder: Any) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    build_index([DATA / "ota", DATA / "frontmatter", DATA / "flat"], settings, embedder=embedder)
    store = open_store(settings)
    generation = store.require_current()
    recorded = ChangeLog(IndexStore(settings)).read(
        generation.name
    )  # written by the build, before publishing
    assert recorded is not None and recorded.changes and recorded.new == recorded.changes

    # An index built before changes were recorded: they are computed once, from the stored versions, when
    # first asked for, and come out the same.
    meta = store.client.get_or_create_collection("policybot_meta", embedding_function=None)
    meta.delete(where={"kind": "changes"})
    assert ChangeLog(IndexStore(settings)).read(generation.name) is None
    lazy = current_record(IndexStore(settings))
    assert [c.id for c in lazy.changes] == [c.id for c in recorded.changes]
    assert ChangeLog(IndexStore(settings)).read(generation.name) == lazy
