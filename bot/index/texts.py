"""The stored version texts the verbatim check reads: kept in Chroma by SHA-256, in parts, checked against
their hash when read back, and cached once read."""

from __future__ import annotations

import threading
from typing import Any

from ..settings import Settings
from ..types import text_sha256
from .client import StoreGuard

TEXTS = "policybot_texts"
TEXT_PART_CHARS = 1_000_000
"""Stored texts are split into parts of this size so that no single request to a server grows too big."""


class StoredTexts:
    """Version texts by SHA-256 in the `policybot_texts` collection of `client`."""

    def __init__(self, settings: Settings, client: Any) -> None:
        self.settings = settings
        self.client = client
        self._texts: dict[str, str] = {}
        self._lock = threading.Lock()

    def _collection(self) -> Any:
        with StoreGuard(self.settings, "open the stored texts"):
            return self.client.get_or_create_collection(TEXTS, embedding_function=None)

    def put(self, texts: dict[str, str]) -> int:
        """Store version texts by SHA-256; texts already stored are skipped. Returns how many were added."""
        if not texts:
            return 0
        collection = self._collection()
        with StoreGuard(self.settings, "store document texts"):
            have = set(collection.get(ids=[f"{sha}:0" for sha in texts], include=[])["ids"])
            added = 0
            for sha, text in texts.items():
                if f"{sha}:0" in have:
                    continue
                parts = [text[i : i + TEXT_PART_CHARS] for i in range(0, len(text), TEXT_PART_CHARS)] or [""]
                # Part 0 is what marks a text as stored, so it is written last: an indexer killed half-way
                # through leaves no part 0, and the next run writes the whole text again.
                for n in [*range(1, len(parts)), 0]:
                    collection.upsert(
                        ids=[f"{sha}:{n}"],
                        documents=[parts[n]],
                        embeddings=[[1.0]],
                        metadatas=[{"sha": sha, "part": n, "parts": len(parts)}],
                    )
                added += 1
        return added

    def get(self, sha: str) -> str | None:
        """A stored version text by its SHA-256, checked against that hash; None when absent or altered."""
        with self._lock:
            if sha in self._texts:
                return self._texts[sha]
        collection = self._collection()
        with StoreGuard(self.settings, "read a stored text"):
            first = collection.get(ids=[f"{sha}:0"], include=["documents", "metadatas"])
            if not first["ids"]:
                return None
            parts = int(first["metadatas"][0].get("parts", 1))
            text = str(first["documents"][0])
            if parts > 1:
                rest = collection.get(
                    ids=[f"{sha}:{n}" for n in range(1, parts)], include=["documents", "metadatas"]
                )
                ordered = sorted(
                    zip(rest["metadatas"], rest["documents"], strict=True), key=lambda p: p[0]["part"]
                )
                text += "".join(doc for _, doc in ordered)
        if text_sha256(text) != sha:
            return None
        with self._lock:
            self._texts[sha] = text
        return text
