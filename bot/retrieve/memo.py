"""What a loaded generation computes again and again for the same chunk: its stems, and whether a topic's or
an intent's pattern finds something in it. A generation's chunks never change, so the first result is kept;
a bound keeps memory flat over a long run (the oldest entries go first)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")

LIMIT = 60_000
"""Entries kept of small values (whether a pattern finds something): a few MB."""
STEMS_LIMIT = 4_000
"""Chunks whose stems are kept: a set of stems takes a few KB, so this bound is what keeps memory flat."""


class Memo:
    def __init__(self, limit: int = LIMIT, stems_limit: int = STEMS_LIMIT) -> None:
        if limit < 1 or stems_limit < 1:
            raise ValueError(f"a memo must keep at least one entry, got {limit!r} and {stems_limit!r}")
        self.limit = limit
        self._held: dict[Hashable, object] = {}
        self._lock = threading.Lock()
        self._stems = self if stems_limit == limit else Memo(stems_limit, stems_limit)

    def __len__(self) -> int:
        return len(self._held)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._held:
                return self._held[key]  # type: ignore[return-value]
        value = compute()  # outside the lock: two threads may compute one value, never hold each other up
        with self._lock:
            self._held[key] = value
            while len(self._held) > self.limit:
                del self._held[next(iter(self._held))]
        return value

    def finds(self, pattern: re.Pattern[str], chunk_id: str, text: str) -> bool:
        """Whether `pattern` finds something in chunk `chunk_id`, whose text is `text`."""
        return self.get(
            ("finds", pattern.pattern, pattern.flags, chunk_id), lambda: bool(pattern.search(text))
        )

    def stems(self, part: str, chunk_id: str, text: str, language: str) -> frozenset[str]:
        """The BM25 stems of `text`, a `part` ("text", "section") of chunk `chunk_id`."""
        from .lexical import tokenize

        return self._stems.get(("stems", part, chunk_id), lambda: frozenset(tokenize(text, language)))
