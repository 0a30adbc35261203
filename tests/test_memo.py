"""bot/retrieve/memo.py: what is kept is what was computed, once, and the bounds hold."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.unit


def test_values_are_computed_once_and_the_oldest_go_first() -> None:
    from bot.retrieve.memo import Memo

    memo = Memo(limit=3, stems_limit=2)
    calls: list[int] = []
    for key in (1, 2, 1, 3, 4):
        memo.get(key, lambda key=key: calls.append(key) or key * 10)  # type: ignore[misc]
    assert calls == [1, 2, 3, 4] and len(memo) == 3
    assert memo.get(1, lambda: -1) == -1  # 1 was the oldest: gone, computed again
    for n in range(4):
        assert memo.stems("text", str(n), "You grant us licences", "en") == frozenset({"grant", "licenc"})
    assert len(memo._stems) == 2  # stems have their own, smaller bound
    pattern = re.compile(r"\blicen[cs]e", re.I)
    assert memo.finds(pattern, "c1", "A Licence") and not memo.finds(pattern, "c2", "refunds")
    with pytest.raises(ValueError, match="at least one entry"):
        Memo(limit=0)
