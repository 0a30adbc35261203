"""policybot: answers creators' questions about platform terms by quoting the exact, dated clause.

The public API is imported lazily, so that `policybot --help` (and any import of one submodule) does not load
the answer path, Chroma or the embedding model.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .answer.ask import ask, search
    from .index.build import build_index
    from .ingest.load import load_corpus
    from .settings import Settings
    from .types import Answer, Chunk, Citation, Clause, DocumentVersion, Hit, Provenance

_EXPORTS = {
    "Answer": ".types",
    "Chunk": ".types",
    "Citation": ".types",
    "Clause": ".types",
    "DocumentVersion": ".types",
    "Hit": ".types",
    "Provenance": ".types",
    "Settings": ".settings",
    "ask": ".answer.ask",
    "build_index": ".index.build",
    "load_corpus": ".ingest.load",
    "search": ".answer.ask",
}

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bot' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value
