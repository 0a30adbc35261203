"""bot/index/snapshot.py, bot/index/pointer.py and bot/retrieve/snapshot.py: the serving copy the indexer writes
is exactly what Chroma holds, a searcher from it answers as one from Chroma, a copy or pointer that does not read
back (or no longer agrees with Chroma) is never used, and the BM25 index reads back as it was built."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.unit
def test_a_saved_bm25_index_scores_as_the_built_one(tmp_path: Path) -> None:
    import numpy as np

    from bot.retrieve.lexical import LexicalIndex, tokenize

    texts = ["You grant us a licence to your content", "Nous pouvons supprimer votre contenu", "Refunds"]
    built = LexicalIndex(texts, ["en", "fr", "en"])
    built.save(tmp_path / "bm25")
    loaded = LexicalIndex.load(tmp_path / "bm25", len(texts))
    for query in ("licence content", "supprimer contenu", "refund"):
        assert np.array_equal(built.scores(tokenize(query)), loaded.scores(tokenize(query)))
    with pytest.raises(ValueError, match="holds 3 texts, not 4"):
        LexicalIndex.load(tmp_path / "bm25", 4)


@pytest.mark.unit
def test_the_bm25_key_follows_the_texts_and_their_languages() -> None:
    from bot.retrieve.snapshot import lexical_key

    base = lexical_key(["a licence"], ["en"])
    assert base == lexical_key(["a licence"], ["en"])
    assert base != lexical_key(["a licence."], ["en"])
    assert base != lexical_key(["a licence"], ["fr"])


def _from_chroma(settings):  # type: ignore[no-untyped-def]
    """A searcher whose copy is read from Chroma (and written), as a process finding no copy makes it."""
    from bot.index.embeddings import embedder_for
    from bot.index.snapshot import copy_from_chroma
    from bot.index.store import open_store
    from bot.retrieve.searcher import Searcher

    store = open_store(settings)
    generation = store.require_current()
    return Searcher(
        settings, generation, copy_from_chroma(settings, store, generation), embedder_for(settings)
    )


def _from_copy(settings):  # type: ignore[no-untyped-def]
    from bot.index.embeddings import embedder_for
    from bot.index.pointer import read_pointer
    from bot.index.snapshot import read_copy
    from bot.retrieve.searcher import Searcher

    generation = read_pointer(settings)
    assert generation is not None
    copy = read_copy(settings, generation)
    assert copy is not None
    return Searcher(settings, generation, copy, embedder_for(settings))


@pytest.fixture
def index_copy(test_index, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The session's test index copied, so that damaging its files harms no other test."""
    import shutil

    from bot.settings import Settings

    shutil.copytree(test_index.data_dir, tmp_path / "data")
    return Settings(data_dir=tmp_path / "data")


@pytest.mark.integration
def test_the_indexer_writes_the_copy_chroma_holds_and_its_pointer(index_copy) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from bot.index.pointer import read_pointer
    from bot.index.snapshot import read_copy
    from bot.index.store import open_store
    from bot.types import text_sha256

    settings = index_copy
    generation = open_store(settings).require_current()
    assert read_pointer(settings) == generation
    written = read_copy(settings, generation)  # by build_index, from what it wrote
    assert written is not None
    from_chroma = _from_chroma(settings)
    assert written.chunks.ids == from_chroma.ids == sorted(from_chroma.ids)
    assert written.chunks.texts == from_chroma.texts and written.chunks.columns == from_chroma._chunks.columns
    assert np.array_equal(written.chunks.vectors, from_chroma.vectors)
    assert written.manifest == open_store(settings).manifest(generation)
    for doc in written.manifest["documents"]:
        for version in doc["versions"]:
            text = written.text(version["text_sha256"])
            assert text is not None and text_sha256(text) == version["text_sha256"]


@pytest.mark.integration
def test_a_searcher_from_the_copy_answers_as_one_from_chroma(index_copy) -> None:  # type: ignore[no-untyped-def]
    settings = index_copy
    from_copy, from_chroma = _from_copy(settings), _from_chroma(settings)
    allowed = from_copy.versions_in_force(None)
    for query in (
        "Can SoundCloud use my tracks to train AI?",
        "refund of a subscription",
        "délai de préavis",
    ):
        assert from_copy.bm25(query, allowed, 20) == from_chroma.bm25(query, allowed, 20)
        assert from_copy.retrieve(query, k=5) == from_chroma.retrieve(query, k=5)


@pytest.mark.integration
def test_exact_dense_search_agrees_with_chroma_nearest_neighbours(index_copy) -> None:  # type: ignore[no-untyped-def]
    from bot.index.store import open_store

    settings = index_copy
    searcher = _from_copy(settings)
    collection = open_store(settings).chunks(searcher.generation)
    allowed = searcher.versions_in_force(None)
    for query in ("Can SoundCloud use my tracks to train AI?", "who owns what I upload", "refunds"):
        vector = searcher.embed_query(query)
        ours = searcher.dense(vector, allowed, 10)
        found = collection.query(
            query_embeddings=[vector],
            n_results=10,
            where={"version_id": {"$in": allowed}},
            include=["distances"],
        )
        assert [cid for cid, _ in ours] == found["ids"][0]
        for (_, similarity), distance in zip(ours, found["distances"][0], strict=True):
            assert similarity == pytest.approx(1.0 - distance, abs=1e-4)
        assert searcher.dense(vector, allowed[:1], 10000)  # fewer allowed chunks than asked for: all of them
        assert searcher.dense(vector, [], 10) == []


@pytest.mark.integration
def test_a_damaged_copy_is_ignored_and_rewritten(index_copy) -> None:  # type: ignore[no-untyped-def]
    from bot.index.snapshot import read_copy, snapshot_dir
    from bot.retrieve.searcher import open_searcher

    settings = index_copy
    reference = _from_copy(settings)
    folder = snapshot_dir(settings, reference.generation)
    (folder / "chunks.json").write_text('{"ids": [', encoding="utf-8")
    for bm25 in folder.glob("bm25-*"):
        (bm25 / "params.index.json").write_text("not json", encoding="utf-8")
    assert read_copy(settings, reference.generation) is None
    rebuilt = open_searcher(settings)  # the pointer names a generation without a readable copy: Chroma
    assert rebuilt.ids == reference.ids and rebuilt.texts == reference.texts
    allowed = rebuilt.versions_in_force(None)
    assert rebuilt.bm25("licence", allowed, 10) == reference.bm25("licence", allowed, 10)
    assert read_copy(settings, reference.generation) is not None
    sha = reference.versions[allowed[0]].provenance.text_sha256
    (folder / "texts" / f"{sha}.txt").write_text("altered", encoding="utf-8")
    assert read_copy(settings, reference.generation).text(sha) is None  # type: ignore[union-attr]
    assert _from_copy(settings).text(sha) == reference.text(sha)  # read from Chroma instead


@pytest.mark.integration
def test_a_pointer_file_that_disagrees_with_chroma_is_not_written_back(index_copy) -> None:  # type: ignore[no-untyped-def]
    import json

    from bot.index.pointer import pointer_path, read_pointer
    from bot.index.store import open_store
    from bot.retrieve import searcher as searching

    settings = index_copy
    serving = open_store(settings).require_current()
    pointer_path(settings).unlink()
    searching._searchers.clear()
    assert searching.open_searcher(settings).generation == serving  # no file: Chroma's pointer
    assert read_pointer(settings) == serving  # and the file written for the next process
    pointer_path(settings).write_text("{not json", encoding="utf-8")
    searching._searchers.clear()
    assert searching.open_searcher(settings).generation == serving
    assert json.loads(pointer_path(settings).read_text(encoding="utf-8"))["generation"] == serving.name


@pytest.mark.integration
def test_a_publish_that_fails_half_way_leaves_no_pointer_file(index_copy, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot.errors import StoreUnavailable
    from bot.index.pointer import pointer_path, read_pointer
    from bot.index.store import IndexStore

    settings = index_copy
    store = IndexStore(settings)
    serving = store.require_current()
    manifest = store.manifest(serving)
    assert read_pointer(settings) == serving

    class Broken:
        def upsert(self, **_: object) -> None:
            raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_meta", lambda: Broken())
    with pytest.raises((RuntimeError, StoreUnavailable)):
        store.publish(serving, manifest)
    assert not pointer_path(settings).exists()  # readers go to Chroma, never to a pointer that may be stale
    monkeypatch.undo()
    store.publish(serving, manifest)
    assert read_pointer(settings) == serving


@pytest.mark.integration
def test_the_copy_keeps_each_versions_clauses_and_the_recorded_changes(index_copy) -> None:  # type: ignore[no-untyped-def]
    from bot.changes.query import record_for
    from bot.changes.record import current_record
    from bot.index.snapshot import snapshot_dir
    from bot.index.store import open_store
    from bot.parse.clauses import parse_clauses

    settings = index_copy
    searcher = _from_copy(settings)  # never opens Chroma on its own
    for version_id in searcher.versions:
        parsed = parse_clauses(searcher.version_document(version_id))
        assert searcher.clauses(version_id) == parsed  # as the indexer kept them
    record = record_for(searcher)
    assert searcher._store is None  # the changes came from the copy too
    assert record == current_record(open_store(settings), searcher.generation)

    version_id = next(iter(searcher.versions))
    kept = snapshot_dir(settings, searcher.generation) / "clauses" / f"{version_id}.json"
    kept.write_text("[[", encoding="utf-8")
    (kept.parent.parent / "changes.json").write_text("not a record", encoding="utf-8")
    again = _from_copy(settings)
    assert again.clauses(version_id) == searcher.clauses(version_id)  # parsed again, and kept again
    assert kept.read_text(encoding="utf-8").startswith("[[[")
    assert record_for(again) == record  # from Chroma this once
