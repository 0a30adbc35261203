"""Keyword search: tokenising, stemming, artists' words mapped to the words terms use, and BM25 (bm25s)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "s",
        "t",
        "d",
        "ll",
        "m",
        "re",
        "ve",
        "y",
        "also",
        "may",
        "might",
        "must",
        "shall",
        "us",
        "let",
        "lets",
        "get",
        "gets",
        "got",
        "im",
        "ive",
        "dont",
        "doesnt",
        "cant",
        "wont",
        "isnt",
        "de",
        "la",
        "le",
        "les",
        "des",
        "du",
        "et",
        "en",
        "un",
        "une",
        "pour",
        "par",
        "sur",
        "dans",
        "au",
        "aux",
        "est",
        "que",
        "qui",
        "ou",
    ]
)

# How artists say it → how terms say it. Keys and values are plain words; both sides are stemmed.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "ai": ("artificial", "intelligence", "machine", "learning", "generative"),
    "genai": ("generative", "artificial", "intelligence"),
    "ml": ("machine", "learning"),
    "train": ("inform", "develop", "model", "artificial", "intelligence"),
    "training": ("inform", "develop", "model"),
    "scrape": ("crawl", "harvest", "automated", "extract"),
    "scraping": ("crawl", "harvest", "automated", "extract"),
    "track": ("content", "audio", "recording", "sound"),
    "tracks": ("content", "audio", "recordings", "sounds"),
    "song": ("content", "audio", "recording", "musical", "work"),
    "songs": ("content", "audio", "recordings", "musical", "works"),
    "music": ("content", "audio", "recordings", "musical"),
    "beats": ("content", "audio", "recordings"),
    "mixes": ("content", "audio"),
    "album": ("content", "recordings"),
    "uploads": ("content", "upload", "uploaded"),
    "stuff": ("content",),
    "own": ("ownership", "owned", "rights", "title"),
    "owns": ("ownership", "owned", "rights"),
    "owner": ("ownership", "rights", "holder"),
    "copyright": ("intellectual", "property", "infringement", "rights"),
    "delete": ("remove", "removal", "deletion", "terminate"),
    "deleting": ("remove", "removal", "deletion"),
    "remove": ("delete", "deletion", "removal"),
    "takedown": ("remove", "removal", "infringement", "notice"),
    "ban": ("suspend", "terminate", "termination", "suspension", "disable"),
    "banned": ("suspend", "terminate", "termination", "suspension", "disable"),
    "kick": ("terminate", "suspend", "termination"),
    "close": ("terminate", "termination", "delete", "account"),
    "sue": ("arbitration", "dispute", "court", "claim", "jurisdiction", "law"),
    "lawsuit": ("arbitration", "dispute", "court", "claim", "class", "action"),
    "court": ("jurisdiction", "dispute", "arbitration", "law"),
    "law": ("governing", "jurisdiction", "applicable"),
    "paid": ("payment", "royalties", "fees", "revenue", "earnings", "payout"),
    "pay": ("payment", "royalties", "fees", "revenue", "payout"),
    "money": ("payment", "royalties", "revenue", "earnings", "fees"),
    "payout": ("payment", "royalties", "earnings", "revenue"),
    "royalties": ("payment", "revenue", "earnings"),
    "label": ("third", "party", "rights", "holders", "separate", "agreement", "distributor"),
    "distributor": ("third", "party", "distribution", "separate", "agreement"),
    "licence": ("license", "grant"),
    "license": ("licence", "grant"),
    "forever": ("perpetual", "irrevocable"),
    "voice": ("likeness", "impersonate", "synthesize", "replicate"),
    "clone": ("replicate", "synthesize", "impersonate", "likeness"),
    "deepfake": ("impersonate", "likeness", "synthetic", "manipulated"),
    "download": ("offline", "copy", "download"),
    "offline": ("download", "offline"),
    "change": ("amend", "modify", "changes", "update"),
    "changed": ("amended", "modified", "changes", "updated"),
    "update": ("amend", "modify", "changes"),
    "notice": ("notify", "notification", "prior"),
    "refund": ("cancel", "cancellation", "payment", "refund"),
    "cancel": ("cancellation", "terminate", "subscription"),
    "sell": ("sale", "sales", "merchandise", "purchase"),
    "privacy": ("personal", "data", "information"),
    "data": ("personal", "information"),
    "kids": ("minors", "children", "age"),
    "age": ("minors", "years", "old"),
    "remix": ("derivative", "works", "adapt", "modify"),
    "sample": ("derivative", "copyright", "infringement"),
    "opt": ("consent", "permission", "settings", "opt"),
}


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-case word stems, stopwords removed: what BM25 matches on."""
    words = [w for w in _TOKEN.findall(text.casefold().replace("’", "'")) if w not in STOPWORDS]
    return list(_stemmer().stemWords(words))


def expand_query(text: str) -> list[str]:
    """Query tokens plus the terms' own words for what artists say ("tracks" → "content")."""
    words = [w for w in _TOKEN.findall(text.casefold().replace("’", "'")) if w not in STOPWORDS or w == "ai"]
    extra: list[str] = []
    for word in words:
        extra.extend(SYNONYMS.get(word, ()))
    return list(_stemmer().stemWords(words + extra))


class LexicalIndex:
    """BM25 over a fixed list of texts, scored for all texts at once (a few ms for ten thousand)."""

    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s

        self.size = len(texts)
        self._retriever = bm25s.BM25(k1=1.2, b=0.75)
        corpus_tokens = [tokenize(t) or ["\x00empty"] for t in texts]
        self._retriever.index(corpus_tokens, show_progress=False)
        self._vocab: dict[str, int] = dict(self._retriever.vocab_dict)

    def scores(self, query_tokens: Sequence[str]) -> NDArray[np.float32]:
        import numpy as np

        known = [t for t in query_tokens if t in self._vocab]
        if not known or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)
