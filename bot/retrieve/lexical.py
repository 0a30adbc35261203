"""Keyword search: tokenising, stemming, artists' words mapped to the words terms use, and BM25 (bm25s)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..data import Data, load
from .language import translate

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


class _Lexicon(Data):
    stopwords: frozenset[str]
    """Stop words beyond bm25s' own English list (which is a subset of what policybot drops)."""
    synonyms: dict[str, tuple[str, ...]]


class _Stopwords(Data):
    """bm25s' own stop-word lists, copied so that answering does not import bm25s (and scipy)."""

    en: frozenset[str]
    fr: frozenset[str]


@lru_cache(maxsize=4)
def stopwords(language: str = "en") -> frozenset[str]:
    """What BM25 ignores: bm25s' list for the language (stopwords.toml), and for English policybot's own
    additions (lexicon.toml)."""
    lists = load("stopwords.toml", _Stopwords)
    if language == "fr":
        return lists.fr
    return lists.en | load("lexicon.toml", _Lexicon).stopwords


def synonyms() -> dict[str, tuple[str, ...]]:
    """How artists say it → how terms say it. Keys and values are plain words; both sides are stemmed."""
    return load("lexicon.toml", _Lexicon).synonyms


@lru_cache(maxsize=4)
def _stemmer(language: str = "en") -> Any:
    import Stemmer

    return Stemmer.Stemmer({"en": "english", "fr": "french"}.get(language, "english"))


def _words(text: str, language: str) -> list[str]:
    stop = stopwords(language)
    return [w for w in _TOKEN.findall(text.casefold().replace("’", "'")) if w not in stop]


def tokenize(text: str, language: str = "en") -> list[str]:
    """Lower-case word stems in the text's language, stop words removed: what BM25 matches on."""
    return list(_stemmer(language).stemWords(_words(text, language)))


def expand_query(text: str, language: str = "en", targets: Sequence[str] = ("en",)) -> list[str]:
    """Query stems for documents in each of `targets`: in the question's own language its words and the
    terms' words for what artists say ("tracks" → "content"); in another language, the bilingual glossary's
    words for them, stemmed for that language."""
    words = _words(text, language)
    table = synonyms() if language == "en" else {}
    own = words + [extra for word in words for extra in table.get(word, ())]
    stems: list[str] = []
    for target in dict.fromkeys((language, *targets)):
        chosen = own if target == language else translate(own, language, target)
        stems.extend(_stemmer(target).stemWords([w for w in chosen if w not in stopwords(target)]))
    return stems


class LexicalIndex:
    """BM25 over a fixed list of texts, scored for all texts at once (a few ms for ten thousand).

    bm25s builds the index (each text's precomputed term scores, a sparse matrix with one column per stem)
    and writes it; reading it back and scoring a query are plain numpy on those arrays, as bm25s does them,
    so that answering imports neither bm25s nor scipy."""

    def __init__(self, texts: Sequence[str], languages: Sequence[str] | None = None) -> None:
        import numpy as np

        languages = languages or ["en"] * len(texts)
        self.size = len(texts)
        self._retriever: Any = None
        self._vocab: dict[str, int] = {}
        self._data = self._indices = self._indptr = np.zeros(0, dtype=np.int32)
        if not texts:
            return  # bm25s cannot index nothing; every query then scores nothing
        import bm25s

        corpus_tokens = [tokenize(t, lang) or ["\x00empty"] for t, lang in zip(texts, languages, strict=True)]
        self._retriever = bm25s.BM25(k1=1.2, b=0.75)
        self._retriever.index(corpus_tokens, show_progress=False)
        self._vocab = dict(self._retriever.vocab_dict)
        held = self._retriever.scores
        self._data, self._indices, self._indptr = held["data"], held["indices"], held["indptr"]

    def save(self, folder: Path) -> None:
        """Write the index to `folder` (bm25s' own files), for `load` to read instead of re-tokenising."""
        if self._retriever is None:
            raise ValueError("an empty BM25 index is not saved; it is built again at once")
        self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        """An index that `save` wrote for `size` texts; ValueError when the files are not that index."""
        import json

        import numpy as np

        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method") != "lucene" or params.get("dtype") != "float32":
            raise ValueError(f"the BM25 index in {folder} is not a float32 Lucene BM25 index")
        index = cls([])
        index._vocab = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        index._data = np.load(folder / "data.csc.index.npy", allow_pickle=False)
        index._indices = np.load(folder / "indices.csc.index.npy", allow_pickle=False)
        index._indptr = np.load(folder / "indptr.csc.index.npy", allow_pickle=False)
        index.size = size
        scored = int(params["num_docs"])
        if scored != size:
            raise ValueError(f"the BM25 index in {folder} holds {scored} texts, not {size}")
        arrays = (index._data, index._indices, index._indptr)
        if (
            len(arrays[0]) != len(arrays[1])
            or len(arrays[2]) < max(1, len(index._vocab))
            or arrays[2][-1] != len(arrays[0])
        ):
            raise ValueError(f"the BM25 index in {folder} is damaged (its arrays do not fit its vocabulary)")
        return index

    def scores(self, query_tokens: Sequence[str]) -> NDArray[np.float32]:
        """Every text's BM25 score for the query stems (a repeated stem counts again), as bm25s scores them."""
        import numpy as np

        scores = np.zeros(self.size, dtype=np.float32)
        for token in query_tokens:
            column = self._vocab.get(token)
            if column is not None and column + 1 < len(self._indptr):  # bm25s' "" token has no column
                start, end = int(self._indptr[column]), int(self._indptr[column + 1])
                scores[self._indices[start:end]] += self._data[start:end]  # one entry per text in a column
        return scores
