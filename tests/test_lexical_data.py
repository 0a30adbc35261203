"""bot/retrieve/lexical.py against bm25s itself: the stop-word lists copied into bot/data/stopwords.toml are
still bm25s' own, and an index read back and scored with numpy gives exactly bm25s' scores."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.unit


def test_the_copied_stopwords_are_bm25s_lists() -> None:
    from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH

    from bot.data import load
    from bot.retrieve.lexical import _Stopwords, stopwords

    copied = load("stopwords.toml", _Stopwords)
    assert copied.en == frozenset(STOPWORDS_EN) and copied.fr == frozenset(STOPWORDS_FRENCH)
    assert stopwords("en") > frozenset(STOPWORDS_EN)  # with policybot's own additions
    assert stopwords("fr") == frozenset(STOPWORDS_FRENCH)


def test_scores_read_back_are_bm25s_scores(tmp_path: Path) -> None:
    import bm25s
    import numpy as np

    from bot.retrieve.lexical import LexicalIndex, tokenize

    texts = [
        "You grant us a licence to your content, including to train artificial intelligence.",
        "Nous pouvons supprimer votre contenu à tout moment.",
        "Refunds are given within fourteen days of purchase; refunds are not given for content.",
        "",
        "We may terminate your account if you upload content you do not own.",
    ]
    languages = ["en", "fr", "en", "en", "en"]
    built = LexicalIndex(texts, languages)
    built.save(tmp_path / "bm25")
    loaded = LexicalIndex.load(tmp_path / "bm25", len(texts))
    reference = bm25s.BM25.load(str(tmp_path / "bm25"))
    for query in ("licence content train", "refund refund content", "supprimer contenu", "nothing matches"):
        stems = tokenize(query)
        known = [s for s in stems if s in reference.vocab_dict]
        expected = (
            np.asarray(reference.get_scores(known), dtype=np.float32) if known else np.zeros(len(texts))
        )
        assert np.array_equal(loaded.scores(stems), expected), query
        assert np.array_equal(built.scores(stems), expected), query


def test_a_bm25_folder_that_is_not_the_index_is_refused(tmp_path: Path) -> None:
    from bot.retrieve.lexical import LexicalIndex

    LexicalIndex(["a licence", "refunds"]).save(tmp_path / "bm25")
    with pytest.raises(ValueError, match="holds 2 texts, not 3"):
        LexicalIndex.load(tmp_path / "bm25", 3)
    import numpy as np

    np.save(tmp_path / "bm25" / "indices.csc.index.npy", np.zeros(1, dtype=np.int32))
    with pytest.raises(ValueError, match="damaged"):
        LexicalIndex.load(tmp_path / "bm25", 2)
