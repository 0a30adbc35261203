"""An index generation: one complete, immutable set of chunks in Chroma, named by its creation time."""

from __future__ import annotations

from dataclasses import dataclass

CHUNKS_PREFIX = "policybot_chunks_"


@dataclass(frozen=True, slots=True)
class Generation:
    name: str
    fingerprint: str
    """Of the chunks and provenance the generation holds: the same fingerprint means nothing to re-index."""
    created: str
    source: str = ""
    """Of the corpus files and the code that chunks them (`fingerprint.source_fingerprint`), as last checked against
    this generation: the same source means the corpus need not even be chunked to know nothing changed."""

    @property
    def collection(self) -> str:
        return CHUNKS_PREFIX + self.name
