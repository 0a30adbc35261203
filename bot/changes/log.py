"""Where the changes are kept: one record per index generation in Chroma's `policybot_meta` collection, beside
the manifest and the pointer, so every worker that reads the index (embedded or on a Chroma server) reads the
same changes, and a feed request costs one lookup, not a diff.

A record is the generation's changes as compressed JSON, in parts (no single request grows too big), all
written by one upsert; part 0 names the parts and the SHA-256 of the whole, and a record that does not match
its hash when read back is treated as absent (and recomputed), never served half-written.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..index.client import StoreGuard
from ..index.store import META, IndexStore
from .types import Change, from_json, to_json

RECORD = "changes:"
FORMAT = 1
PART_CHARS = 1_000_000
"""Characters of the encoded record per Chroma document."""


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    """The changes of one index generation, as computed when it was built."""

    generation: str
    computed: str
    """When they were computed (ISO 8601, UTC): changes first recorded then have this as `detected`."""
    algorithm: str
    """bot.changes.detect.ALGORITHM and the clause parser's version: a record of another is recomputed."""
    pairs: tuple[tuple[str, str], ...]
    """Every (older version id, newer version id) compared, with or without changes."""
    changes: tuple[Change, ...]

    @property
    def new(self) -> tuple[Change, ...]:
        """The changes first recorded in this generation (none were known in the generation before it)."""
        return tuple(c for c in self.changes if c.detected == self.computed)

    def by_pair(self) -> dict[tuple[str, str], list[Change]]:
        found: dict[tuple[str, str], list[Change]] = {pair: [] for pair in self.pairs}
        for change in self.changes:
            found.setdefault((change.before.version_id, change.after.version_id), []).append(change)
        return found


def _encode(record: ChangeRecord) -> str:
    data = {
        "format": FORMAT,
        "generation": record.generation,
        "computed": record.computed,
        "algorithm": record.algorithm,
        "pairs": [list(p) for p in record.pairs],
        "changes": [to_json(c) for c in record.changes],
    }
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(zlib.compress(raw, 6)).decode("ascii")


KEPT = "changes.json"
"""The name of a generation's record in its serving copy (bot/index/snapshot.py)."""


def kept_text(record: ChangeRecord) -> str:
    """`record` as the serving copy keeps it."""
    return _encode(record)


def kept_record(text: str | None, generation: str, current: str) -> ChangeRecord | None:
    """The record the serving copy keeps, when it is the generation's and of the current algorithm."""
    try:
        record = _decode(text) if text else None
    except (ValueError, KeyError, TypeError, zlib.error):
        return None
    if record is None or record.generation != generation or record.algorithm != current:
        return None
    return record


def _decode(encoded: str) -> ChangeRecord | None:
    data = json.loads(zlib.decompress(base64.b64decode(encoded)).decode("utf-8"))
    if data.get("format") != FORMAT:
        return None
    return ChangeRecord(
        generation=data["generation"],
        computed=data["computed"],
        algorithm=data["algorithm"],
        pairs=tuple((str(a), str(b)) for a, b in data["pairs"]),
        changes=tuple(from_json(c) for c in data["changes"]),
    )


class ChangeLog:
    """The change records of one store."""

    def __init__(self, store: IndexStore) -> None:
        self.store = store
        self._cache: dict[str, ChangeRecord] = {}
        self._lock = threading.Lock()

    def _meta(self, action: str) -> Any:
        with StoreGuard(self.store.settings, action):
            return self.store.client.get_or_create_collection(META, embedding_function=None)

    def write(self, record: ChangeRecord) -> None:
        """Store `record` for its generation, replacing any record it had, in one upsert."""
        encoded = _encode(record)
        parts = [encoded[i : i + PART_CHARS] for i in range(0, len(encoded), PART_CHARS)] or [""]
        digest = hashlib.sha256(encoded.encode("ascii")).hexdigest()
        ids = [f"{RECORD}{record.generation}:{n}" for n in range(len(parts))]
        metadatas: list[dict[str, Any]] = [
            {"kind": "changes", "generation": record.generation, "part": n} for n in range(len(parts))
        ]
        metadatas[0].update(
            {"parts": len(parts), "sha256": digest, "count": len(record.changes), "computed": record.computed}
        )
        meta = self._meta("record the changes")
        with StoreGuard(self.store.settings, "record the changes"):
            meta.upsert(ids=ids, documents=parts, embeddings=[[1.0]] * len(parts), metadatas=metadatas)
        with self._lock:
            self._cache[record.generation] = record

    def read(self, generation: str) -> ChangeRecord | None:
        """The record of `generation`, or None when there is none (or it is incomplete or altered)."""
        with self._lock:
            held = self._cache.get(generation)
        if held is not None:
            return held
        meta = self._meta("read the changes")
        with StoreGuard(self.store.settings, "read the changes"):
            head = meta.get(ids=[f"{RECORD}{generation}:0"], include=["metadatas", "documents"])
            if not head["ids"]:
                return None
            info = head["metadatas"][0]
            count = int(info.get("parts", 1))
            rest = [f"{RECORD}{generation}:{n}" for n in range(1, count)]
            found = meta.get(ids=rest, include=["documents"]) if rest else {"ids": [], "documents": []}
        by_id = dict(zip(found["ids"], found["documents"], strict=True))
        parts = [head["documents"][0], *(by_id.get(i) for i in rest)]
        if any(p is None for p in parts):
            return None
        encoded = "".join(str(p) for p in parts)
        if hashlib.sha256(encoded.encode("ascii")).hexdigest() != info.get("sha256"):
            return None
        try:
            record = _decode(encoded)
        except (ValueError, KeyError, TypeError, zlib.error):
            return None
        if record is None or record.generation != generation:
            return None
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if k != generation}
            while len(self._cache) >= 4:
                self._cache.pop(next(iter(self._cache)))
            self._cache[generation] = record
        return record

    def generations(self) -> list[str]:
        """Generations that have a change record, oldest first."""
        meta = self._meta("list the changes")
        with StoreGuard(self.store.settings, "list the changes"):
            found = meta.get(where={"kind": "changes"}, include=["metadatas"])
        return sorted({str(m["generation"]) for m in found["metadatas"] if int(m.get("part", 0)) == 0})

    def latest(self, exclude: Sequence[str] = ()) -> ChangeRecord | None:
        """The newest readable record other than those of `exclude` (generation names sort by creation time)."""
        for name in reversed(self.generations()):
            if name in exclude:
                continue
            record = self.read(name)
            if record is not None:
                return record
        return None

    def prune(self, keep: Sequence[str]) -> None:
        """Remove the records of generations that are gone, except those of `keep`."""
        alive = set(self.store.generations()) | set(keep)
        meta = self._meta("remove old changes")
        with StoreGuard(self.store.settings, "remove old changes"):
            found = meta.get(where={"kind": "changes"}, include=["metadatas"])
            stale = [
                i
                for i, m in zip(found["ids"], found["metadatas"], strict=True)
                if m["generation"] not in alive
            ]
            if stale:
                meta.delete(ids=stale)
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if k in alive}
