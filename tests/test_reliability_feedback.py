"""Feedback survives the server: stored through a real `policybot serve`, killed with -9 mid-stream and
started again on the same data dir, every acknowledged rating is there, whole, and new ones follow on.
(Row-level atomicity under kill -9 of the writer itself: tests/test_web_feedback.py.)"""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.web.feedback import FEEDBACK_FILE, open_feedback
from tests.conftest import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _body(n: int, run: str) -> dict[str, Any]:
    return {
        "rating": "up" if n % 2 else "down",
        "question": f"{run}-{n}",
        "answer": "a" * (n % 5 * 2000),
        "comment": f"comment {n} " * (n % 30),
        "citations": [f"v{n}:0-{n}"],
        "source": "widget",
    }


def _start(data_dir: Path) -> tuple[Any, str]:
    from eval.load import start_server

    port = free_port()
    server = start_server(data_dir, port)  # no index: feedback does not need one
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 503:  # up, with no index yet
                return server, url
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the server did not start")


def test_feedback_acknowledged_before_a_kill_9_is_there_after_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    acknowledged: dict[int, dict[str, Any]] = {}
    first, url = _start(data_dir)
    stop = threading.Event()

    def keep_rating() -> None:
        with httpx.Client(base_url=url, timeout=10) as http:
            for n in range(1, 100_000):
                if stop.is_set():
                    return
                body = _body(n, "first")
                try:
                    response = http.post("/api/feedback", json=body)
                except httpx.TransportError:
                    return  # the server is gone
                assert response.status_code == 201, response.text
                acknowledged[response.json()["id"]] = body

    rating = threading.Thread(target=keep_rating)
    try:
        rating.start()
        while len(acknowledged) < 20:
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    finally:
        stop.set()
        rating.join(30)
        if first.poll() is None:
            first.kill()

    second, url = _start(data_dir)
    try:
        with httpx.Client(base_url=url, timeout=10) as http:
            for n in range(1, 6):
                response = http.post("/api/feedback", json=_body(n, "second"))
                assert response.status_code == 201
                acknowledged[response.json()["id"]] = _body(n, "second")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)

    with sqlite3.connect(data_dir / FEEDBACK_FILE) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = open_feedback(data_dir)
    rows = {row.id: row for row in store.all()}
    store.close()
    print(f"\nfeedback: {len(acknowledged)} acknowledged across a kill -9 and a restart, {len(rows)} stored")
    assert set(acknowledged) <= set(rows)  # nothing acknowledged was lost
    for row in rows.values():  # and every stored row is whole (one the kill interrupted may be absent)
        run, n = row.question.rsplit("-", 1)
        body = _body(int(n), run)
        assert (row.rating, row.answer, row.comment, list(row.citations), row.source) == (
            body["rating"],
            body["answer"],
            body["comment"],
            body["citations"],
            body["source"],
        )
    second_ids = [i for i, body in acknowledged.items() if body["question"].startswith("second")]
    assert min(second_ids) > max(i for i, b in acknowledged.items() if b["question"].startswith("first"))
