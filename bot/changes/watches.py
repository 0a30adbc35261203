"""Saved watches: "tell me when SoundCloud changes what it says about AI training". User data, kept in
`<data dir>/watches.sqlite3` (one transaction per write, write-ahead log), never in the shared index.

A watch remembers the changes it has shown, so `policybot watch check` (and the end of `policybot corpus
sync`) lists only what is new for it; every watch also names the feed a reader can subscribe to instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from ..errors import BadQuestion
from ..types import short_hash

WATCHES_FILE = "watches.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS watches (
    id TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    topic TEXT NOT NULL,
    include_editorial INTEGER NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS seen (
    watch TEXT NOT NULL REFERENCES watches(id) ON DELETE CASCADE,
    change TEXT NOT NULL,
    PRIMARY KEY (watch, change)
);
"""


@dataclass(frozen=True, slots=True)
class Watch:
    """Changes of one platform ("" = any) on one topic ("" = any), substantive only unless `include_editorial`."""

    id: str
    service: str
    topic: str
    include_editorial: bool
    created: str

    @property
    def feed_path(self) -> str:
        """The feed of this watch on `policybot serve`."""
        query = [("service", self.service), ("topic", self.topic)]
        if self.include_editorial:
            query.append(("all", "true"))
        encoded = urlencode([(k, v) for k, v in query if v])
        return "/feeds/changes.atom" + (f"?{encoded}" if encoded else "")

    def describe(self) -> str:
        who = self.service or "every platform"
        what = f" on {self.topic}" if self.topic else ""
        kind = "all changes" if self.include_editorial else "substantive changes"
        return f"{kind} of {who}{what}"


def watch_id(service: str, topic: str, include_editorial: bool) -> str:
    """The same watch always gets the same id: adding it twice keeps one."""
    return "w" + short_hash(service.casefold(), topic, str(include_editorial), length=8)


class WatchStore:
    """The watches of one data dir."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            with db:  # one transaction: committed on success, rolled back on error
                yield db

    def add(
        self, service: str, topic: str, include_editorial: bool = False, seen: Iterable[str] = ()
    ) -> tuple[Watch, bool]:
        """The watch (and whether it is new); `seen`: changes it should not report as new."""
        if not service and not topic:
            raise BadQuestion("a watch needs --service or --topic (or both)")
        created = datetime.now(UTC).isoformat(timespec="seconds")
        watch = Watch(watch_id(service, topic, include_editorial), service, topic, include_editorial, created)
        with self._connect() as db:
            row = db.execute("SELECT created FROM watches WHERE id = ?", (watch.id,)).fetchone()
            if row is not None:
                return Watch(watch.id, service, topic, include_editorial, row[0]), False
            db.execute(
                "INSERT INTO watches (id, service, topic, include_editorial, created) VALUES (?, ?, ?, ?, ?)",
                (watch.id, service, topic, int(include_editorial), created),
            )
            db.executemany(
                "INSERT OR IGNORE INTO seen (watch, change) VALUES (?, ?)", [(watch.id, c) for c in seen]
            )
        return watch, True

    def list(self) -> list[Watch]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, service, topic, include_editorial, created FROM watches ORDER BY created, id"
            ).fetchall()
        return [Watch(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows]

    def get(self, watch_id: str) -> Watch:
        for watch in self.list():
            if watch.id == watch_id:
                return watch
        known = ", ".join(w.id for w in self.list()) or "none yet (`policybot watch add`)"
        raise BadQuestion(f"no watch {watch_id[:40]!r}; watches: {known}")

    def remove(self, watch_id: str) -> Watch:
        watch = self.get(watch_id)
        with self._connect() as db:
            db.execute("DELETE FROM seen WHERE watch = ?", (watch.id,))
            db.execute("DELETE FROM watches WHERE id = ?", (watch.id,))
        return watch

    def seen(self, watch_id: str) -> set[str]:
        with self._connect() as db:
            return {r[0] for r in db.execute("SELECT change FROM seen WHERE watch = ?", (watch_id,))}

    def mark_seen(self, watch_id: str, change_ids: Sequence[str]) -> None:
        with self._connect() as db:
            db.executemany(
                "INSERT OR IGNORE INTO seen (watch, change) VALUES (?, ?)",
                [(watch_id, c) for c in change_ids],
            )


def open_watches(data_dir: Path) -> WatchStore:
    return WatchStore(data_dir / WATCHES_FILE)
