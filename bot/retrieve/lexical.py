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


@lru_cache(maxsize=4)
def stopwords(language: str = "en") -> frozenset[str]:
    """What BM25 ignores: bm25s' list for the language (imported on first use), and for English policybot's
    own additions."""
    from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH

    if language == "fr":
        return frozenset(STOPWORDS_FRENCH)
    return frozenset(STOPWORDS_EN) | load("lexicon.toml", _Lexicon).stopwords


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
    """BM25 over a fixed list of texts, scored for all texts at once (a few ms for ten thousand)."""

    def __init__(self, texts: Sequence[str], languages: Sequence[str] | None = None) -> None:
        import bm25s

        languages = languages or ["en"] * len(texts)
        self.size = len(texts)
        self._retriever = bm25s.BM25(k1=1.2, b=0.75)
        self._vocab: dict[str, int] = {}
        if not texts:
            return  # bm25s cannot index nothing; every query then scores nothing
        corpus_tokens = [tokenize(t, lang) or ["\x00empty"] for t, lang in zip(texts, languages, strict=True)]
        self._retriever.index(corpus_tokens, show_progress=False)
        self._vocab = dict(self._retriever.vocab_dict)

    def save(self, folder: Path) -> None:
        """Write the index to `folder` (bm25s' own files), for `load` to read instead of re-tokenising."""
        self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        """An index that `save` wrote for `size` texts; ValueError when the files are not that index."""
        import bm25s

        index = cls([])
        index._retriever = bm25s.BM25.load(str(folder), show_progress=False)
        index._vocab = dict(index._retriever.vocab_dict)
        index.size = size
        scored = int(index._retriever.scores["num_docs"])
        if scored != size:
            raise ValueError(f"the BM25 index in {folder} holds {scored} texts, not {size}")
        return index

    def scores(self, query_tokens: Sequence[str]) -> NDArray[np.float32]:
        import numpy as np

        known = [t for t in query_tokens if t in self._vocab]
        if not known or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)
