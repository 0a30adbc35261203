"""eval/load.py's own arithmetic and output, on synthetic figures and a stand-in server (no policybot server):
memory growth between the quarters of a run, the per-second table, the process-tree memory it samples, and the
report (load.json and load.png) it writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from eval.load import (
    Measured,
    Results,
    figures,
    growth_percent,
    per_second,
    run,
    tree_rss_mb,
    write_chart,
    write_report,
)

pytestmark = pytest.mark.unit


def _samples(totals: list[float]) -> list[tuple[float, float, float]]:
    return [(float(t), total, total / 2) for t, total in enumerate(totals)]


@pytest.mark.parametrize(
    ("totals", "growth"),
    [
        ([100, 100, 100, 100, 110, 110, 110, 110], 10.0),  # quarters of 2 samples: 100 → 110
        ([100, 90, 300, 300, 300, 300, 90, 100], 0.0),  # a peak in the middle is not growth
        ([200, 200, 200, 150], -25.0),  # quarter of one sample each
        ([100, 120], 20.0),  # two samples: first against last
        ([100, 100, 100, 100, 100, 100, 100], 0.0),  # 7 samples: quarters of 1
    ],
)
def test_growth_compares_the_first_and_last_quarters(totals: list[float], growth: float) -> None:
    assert growth_percent(_samples(totals)) == pytest.approx(growth)


def test_growth_needs_two_samples() -> None:
    assert growth_percent([]) is None
    assert growth_percent(_samples([100])) is None


def test_per_second_counts_answers_errors_and_percentiles() -> None:
    requests = [(0.1, 100.0, "200"), (0.5, 300.0, "200"), (0.7, 200.0, "200"), (0.9, 50.0, "429")]
    requests.append((2.2, 80.0, "ReadTimeout"))
    table = per_second(requests, 2.5)
    assert [row["t"] for row in table] == [0, 1, 2]
    assert table[0] == {"t": 0, "requests": 4, "answers": 3, "errors": 1, "p50_ms": 200.0, "p95_ms": 300.0}
    assert table[1] == {"t": 1, "requests": 0, "answers": 0, "errors": 0, "p50_ms": None, "p95_ms": None}
    assert table[2]["errors"] == 1 and table[2]["p50_ms"] is None
    assert per_second([(5.0, 10.0, "200")], 3.0)[-1]["answers"] == 1  # a late answer lands in the last second


def _results(seconds: int = 20) -> Results:
    results = Results()
    results.statuses = Counter({"200": 4 * seconds, "503": 2})
    results.requests = [(t / 4, 100.0 + (t % 7) * 20, "200") for t in range(4 * seconds)]
    results.requests += [(3.3, 5.0, "503"), (11.0, 4.0, "503")]
    results.latencies_ms = [ms for _, ms, status in results.requests if status == "200"]
    results.samples = [(float(t), 500.0 + t, 260.0 + t / 2) for t in range(seconds + 1)]
    return results


def test_figures_add_throughput_errors_and_memory_over_the_run() -> None:
    measured = Measured("http://127.0.0.1:1", {"documents": 2}, _results(), 20.0, 499.0, 521.0)
    found = figures(measured, clients=4, workers=2)
    assert found["answers"] == 80 and found["errors"] == 2 and found["answers_per_s"] == 4.0
    assert found["workers"] == 2 and found["rss_samples"] == 21
    assert (found["server_rss_mb_start"], found["server_rss_mb_max"], found["server_rss_mb_end"]) == (
        500.0,
        520.0,
        520.0,
    )
    assert found["largest_process_rss_mb_max"] == 270.0
    assert found["rss_growth_percent"] == pytest.approx(3.2, abs=0.05)  # mean 502.0 → 518.0
    for key in ("p50_ms", "p95_ms", "p99_ms", "server_rss_mb_before", "server_rss_mb_after"):
        assert found[key] is not None


def test_the_report_writes_the_figures_series_and_a_chart(tmp_path: Path) -> None:
    results = _results()
    measured = Measured("http://127.0.0.1:1", {"documents": 2}, results, 20.0, 499.0, 521.0)
    found = figures(measured, clients=4, workers=2)
    data, chart = write_report(tmp_path / "report", found, results, 20.0)
    held = json.loads(data.read_text(encoding="utf-8"))
    assert held["answers_per_s"] == 4.0
    assert len(held["series"]["rss_mb"]) == 21 and held["series"]["rss_mb"][0] == [0.0, 500.0, 260.0]
    assert len(held["series"]["per_second"]) == 20 and len(held["series"]["requests"]) == 82
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 20_000


def test_a_chart_without_memory_or_answers_is_still_written(tmp_path: Path) -> None:
    write_chart(tmp_path / "empty.png", [(0.5, 3.0, "ConnectError")], [], per_second([], 1.0))
    assert (tmp_path / "empty.png").read_bytes()[:4] == b"\x89PNG"


def test_tree_memory_sums_the_children_and_names_the_largest() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        alone = tree_rss_mb(child.pid)
        tree = tree_rss_mb(os.getpid())
    finally:
        child.kill()
        child.wait(10)
    assert alone is not None and tree is not None
    total, largest = tree
    assert total >= largest + alone[0] * 0.9  # this process and the child, at least
    assert tree_rss_mb(child.pid) is None  # gone


@pytest.fixture
def stand_in() -> Iterator[str]:
    """A server that answers every POST /api/ask with 200 at once."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            body = b'{"answer": "ok", "citations": []}'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_run_records_every_request_and_samples_memory_by_time(stand_in: str) -> None:
    bodies = [{"question": "q"}]
    results, seconds = run(
        stand_in, bodies, 2, 40, 5.0, 5.0, memory_pid=os.getpid(), memory_every=20, sample_seconds=0.02
    )
    assert dict(results.statuses) == {"200": 40} and len(results.requests) == 40
    assert all(0 <= at <= seconds + 0.01 and ms >= 0 for at, ms, _ in results.requests)
    assert len(results.samples) >= 2  # one at each end at least
    assert [t for t, _, _ in results.samples] == sorted(t for t, _, _ in results.samples)
    assert all(total >= largest > 0 for _, total, largest in results.samples)
    assert [n for n, _ in results.memory_mb] == [20, 40]  # the per-request-count samples are kept
