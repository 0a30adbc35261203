"""bot/progress.py: the progress line says how much is done and, once the pace is known, about how long is
left; it is silent when not drawn on a terminal."""

from __future__ import annotations

import io

import pytest

pytestmark = pytest.mark.unit


def test_time_left_follows_the_pace_so_far() -> None:
    from bot.progress import time_left

    assert time_left(1.0, 10, 100) == ""  # too early to tell
    assert time_left(10.0, 0, 100) == ""
    assert time_left(10.0, 100, 100) == ""  # finished
    assert time_left(10.0, 50, 100) == "  · about 10 s left"
    assert time_left(60.0, 25, 100) == "  · about 3 min 00 s left"
    assert time_left(600.0, 25, 100) == "  · about 30 min left"


def test_the_line_shows_counts_and_time_left_and_nothing_when_disabled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot import progress

    clock = iter([0.0, 5.0, 10.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    stream = io.StringIO()
    shown = progress.TerminalProgress(stream, enabled=True)
    shown("embed", 0, 400)
    shown("embed", 100, 400)
    assert "100/400" in stream.getvalue() and "about 15 s left" in stream.getvalue()
    quiet = io.StringIO()
    progress.TerminalProgress(quiet, enabled=False)("embed", 100, 400)
    assert quiet.getvalue() == ""
