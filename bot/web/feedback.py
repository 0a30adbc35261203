"""Thumbs up/down and comments on answers, kept in SQLite in the data directory.

Write-ahead logging and one transaction per write: a server killed mid-write leaves each row whole or absent.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Rating = Literal["up", "down"]
FEEDBACK_FILE = "feedback.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    citations TEXT NOT NULL DEFAULT '[]',
    source TEXT NOT NULL DEFAULT 'api'
)
"""


@dataclass(frozen=True, slots=True)
class Feedback:
    """One rating of one answer."""

    id: int
    created: float
    """Unix time the rating was stored."""
    rating: str
    question: str
    answer: str
    comment: str
    citations: tuple[str, ...]
    """What the answer cited, as `version_id:start-end`, so the rating can be traced to exact excerpts."""
    source: str
    """Where it came from: chat | widget | api."""


class FeedbackStore:
    """The feedback table. One connection, serialised by a lock: SQLite writes one at a time anyway."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a row reported as stored survives a power cut as well as a killed process.
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(_SCHEMA)
            self._conn = conn
        return self._conn

    def add(
        self,
        *,
        rating: Rating,
        question: str,
        answer: str,
        comment: str = "",
        citations: Sequence[str] = (),
        source: str = "api",
    ) -> int:
        """Store one rating in its own transaction and return its id."""
        with self._lock:
            conn = self._connect()
            conn.execute("BEGIN IMMEDIATE")
            try:
                cursor = conn.execute(
                    "INSERT INTO feedback (created, rating, question, answer, comment, citations, source) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (time.time(), rating, question, answer, comment, json.dumps(list(citations)), source),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return int(cursor.lastrowid or 0)

    def all(self) -> list[Feedback]:
        with self._lock:
            rows = self._connect().execute(
                "SELECT id, created, rating, question, answer, comment, citations, source FROM feedback "
                "ORDER BY id"
            )
            return [
                Feedback(
                    id=row[0],
                    created=row[1],
                    rating=row[2],
                    question=row[3],
                    answer=row[4],
                    comment=row[5],
                    citations=tuple(json.loads(row[6])),
                    source=row[7],
                )
                for row in rows
            ]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def open_feedback(data_dir: Path) -> FeedbackStore:
    return FeedbackStore(data_dir / FEEDBACK_FILE)
