"""Keyword search: tokenising, stemming, artists' words mapped to the words terms use, and BM25 (bm25s)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..data import Data, load

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


class _Lexicon(Data):
    stopwords: frozenset[str]
    """Stop words beyond bm25s' own English list (which is a subset of what policybot drops)."""
    synonyms: dict[str, tuple[str, ...]]


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """What BM25 ignores: bm25s' English list and policybot's own additions (imported on first use)."""
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | load("lexicon.toml", _Lexicon).stopwords


def synonyms() -> dict[str, tuple[str, ...]]:
    """How artists say it → how terms say it. Keys and values are plain words; both sides are stemmed."""
    return load("lexicon.toml", _Lexicon).synonyms


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-case word stems, stopwords removed: what BM25 matches on."""
    stop = stopwords()
    words = [w for w in _TOKEN.findall(text.casefold().replace("’", "'")) if w not in stop]
    return list(_stemmer().stemWords(words))


def expand_query(text: str) -> list[str]:
    """Query tokens plus the terms' own words for what artists say ("tracks" → "content")."""
    stop, table = stopwords(), synonyms()
    words = [w for w in _TOKEN.findall(text.casefold().replace("’", "'")) if w not in stop]
    extra: list[str] = []
    for word in words:
        extra.extend(table.get(word, ()))
    return list(_stemmer().stemWords(words + extra))


class LexicalIndex:
    """BM25 over a fixed list of texts, scored for all texts at once (a few ms for ten thousand)."""

    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s

        self.size = len(texts)
        self._retriever = bm25s.BM25(k1=1.2, b=0.75)
        self._vocab: dict[str, int] = {}
        if not texts:
            return  # bm25s cannot index nothing; every query then scores nothing
        corpus_tokens = [tokenize(t) or ["\x00empty"] for t in texts]
        self._retriever.index(corpus_tokens, show_progress=False)
        self._vocab = dict(self._retriever.vocab_dict)

    def scores(self, query_tokens: Sequence[str]) -> NDArray[np.float32]:
        import numpy as np

        known = [t for t in query_tokens if t in self._vocab]
        if not known or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)
