"""Feedback in SQLite: stored, read back, and whole or absent after the writer is killed mid-stream."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from bot.web.feedback import FEEDBACK_FILE, FeedbackStore, open_feedback
from tests.conftest import ROOT

pytestmark = pytest.mark.unit


def test_add_and_read_back(tmp_path: Path) -> None:
    store = open_feedback(tmp_path / "data")
    first = store.add(rating="up", question="Can Loudwave train AI?", answer="No.", citations=["v1:0-10"])
    second = store.add(rating="down", question="q2", answer="a2", comment="wrong version", source="chat")
    rows = store.all()
    store.close()
    assert [r.id for r in rows] == [first, second]
    assert rows[0].rating == "up" and rows[0].citations == ("v1:0-10",) and rows[0].source == "api"
    assert rows[1].comment == "wrong version" and rows[1].source == "chat"
    assert (tmp_path / "data" / FEEDBACK_FILE).is_file()


def test_database_refuses_an_unknown_rating(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / FEEDBACK_FILE)
    with pytest.raises(sqlite3.IntegrityError):
        store.add(rating="meh", question="q", answer="a")  # type: ignore[arg-type]
    assert store.all() == []  # the failed write left nothing behind, and the store still works
    store.add(rating="up", question="q", answer="a")
    assert len(store.all()) == 1


def test_concurrent_writers_all_land(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / FEEDBACK_FILE)
    threads = [
        threading.Thread(
            target=lambda n=n: [store.add(rating="up", question=f"t{n}-{i}", answer="a") for i in range(25)]
        )
        for n in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r.question for r in store.all()}) == 100


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from bot.web.feedback import FeedbackStore

    store = FeedbackStore(Path(sys.argv[1]))
    i = 0
    while True:
        i += 1
        # Large, length-varying rows span several pages, so a torn write would show.
        store.add(rating="up" if i % 2 else "down", question=f"q{i}", answer="a" * (i % 7 * 3000),
                  comment=f"c{i}-" * (i % 50), citations=[f"v:{i}-{i + 1}"])
        if i == 20:
            print("ready", flush=True)
    """
)


@pytest.mark.slow
def test_kill_9_leaves_each_row_whole_or_absent(tmp_path: Path) -> None:
    path = tmp_path / FEEDBACK_FILE
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(0.3)  # let it write mid-stream
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute("SELECT id, rating, question, answer, comment, citations FROM feedback").fetchall()
    assert len(rows) >= 20
    for i, (row_id, rating, question, answer, comment, citations) in enumerate(rows, start=1):
        assert row_id == i and question == f"q{i}"  # no gaps: rows committed in order, none lost
        assert rating == ("up" if i % 2 else "down")
        assert answer == "a" * (i % 7 * 3000)
        assert comment == f"c{i}-" * (i % 50)
        assert citations == f'["v:{i}-{i + 1}"]'
