"""policybot: answers creators' questions about platform terms by quoting the exact, dated clause."""

from .ask import ask, search
from .corpus import load_corpus
from .index import build_index
from .settings import Settings
from .types import Answer, Chunk, Citation, Clause, DocumentVersion, Hit, Provenance

__all__ = [
    "Answer",
    "Chunk",
    "Citation",
    "Clause",
    "DocumentVersion",
    "Hit",
    "Provenance",
    "Settings",
    "ask",
    "build_index",
    "load_corpus",
    "search",
]
