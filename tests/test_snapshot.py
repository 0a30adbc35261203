"""bot/retrieve/snapshot.py: a cold start from the snapshot loads exactly what a rebuild from Chroma loads, and
a snapshot that does not read back is ignored and rewritten."""

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


def _fresh(settings):  # type: ignore[no-untyped-def]
    from bot.index.embeddings import embedder_for
    from bot.index.store import open_store
    from bot.retrieve.searcher import Searcher

    store = open_store(settings)
    return Searcher(settings, store, store.require_current(), embedder_for(settings))


@pytest.mark.integration
def test_a_searcher_from_the_snapshot_is_the_searcher_from_chroma(test_index) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from bot.retrieve.snapshot import read_chunks, snapshot_dir

    settings = test_index
    first = _fresh(settings)  # writes the snapshot when this generation has none yet
    assert read_chunks(settings, first.generation) is not None
    assert list(snapshot_dir(settings, first.generation).glob("bm25-*"))
    again = _fresh(settings)  # reads it
    assert again.ids == first.ids and again.texts == first.texts and again.metas == first.metas
    assert np.array_equal(again.vectors, first.vectors)
    ids, _, _ = first.store.all_chunks(first.generation)
    assert ids == first.ids  # the order Chroma gives, kept
    allowed = first.versions_in_force(None)
    for query in ("Can SoundCloud use my tracks to train AI?", "refund of a subscription"):
        assert again.bm25(query, allowed, 20) == first.bm25(query, allowed, 20)
        assert again.retrieve(query, k=5) == first.retrieve(query, k=5)


@pytest.mark.integration
def test_a_damaged_snapshot_is_ignored_and_rewritten(test_index) -> None:  # type: ignore[no-untyped-def]
    from bot.retrieve.snapshot import read_chunks, snapshot_dir

    settings = test_index
    reference = _fresh(settings)
    folder = snapshot_dir(settings, reference.generation)
    (folder / "chunks.json").write_text('{"version": "1", "ids": [', encoding="utf-8")
    for bm25 in folder.glob("bm25-*"):
        (bm25 / "params.index.json").write_text("not json", encoding="utf-8")
    assert read_chunks(settings, reference.generation) is None
    rebuilt = _fresh(settings)
    assert rebuilt.ids == reference.ids and rebuilt.texts == reference.texts
    allowed = rebuilt.versions_in_force(None)
    assert rebuilt.bm25("licence", allowed, 10) == reference.bm25("licence", allowed, 10)
    assert read_chunks(settings, reference.generation) is not None
