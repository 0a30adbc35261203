"""Load test for `POST /api/ask`: N concurrent clients on loopback, bounded by a request count and a time
limit (it always stops by itself), printing latency percentiles, throughput, status codes and the server's
memory before and after.

    .venv/bin/python eval/load.py --data-dir /tmp/web-index --clients 10 --requests 200
    .venv/bin/python eval/load.py --data-dir /tmp/web-index --clients 20 --duration 60 --requests 2000
    .venv/bin/python eval/load.py --url http://127.0.0.1:7860 --pid 1234 --clients 10 --requests 200
    .venv/bin/python eval/load.py --data-dir /tmp/w --chroma-url http://127.0.0.1:8000 --requests 500

Without --url it starts its own `policybot serve --no-chat` on a free port (rate limit off, so the figures
measure answering, not refusing) and stops it at the end. Questions are taken in turn from
eval/questions.jsonl (with their history and dates), a mix of answers and abstentions like real traffic.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "eval" / "questions.jsonl"


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    memory_pid: int | None = None
    memory_every: int = 0
    memory_mb: list[tuple[int, float]] = field(default_factory=list)
    """(requests done, server RSS in MB), every `memory_every` requests: flat, or growing with the count."""

    def record(self, status: str, ms: float) -> None:
        with self.lock:
            self.statuses[status] += 1
            if status == "200":
                self.latencies_ms.append(ms)
            done = sum(self.statuses.values())
        if self.memory_every and done % self.memory_every == 0:
            mb = rss_mb(self.memory_pid)
            if mb is not None:
                with self.lock:
                    self.memory_mb.append((done, mb))


def load_bodies(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    bodies = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        body: dict[str, Any] = {"question": item["question"]}
        if item.get("history"):
            body["history"] = item["history"]
        if item.get("as_of"):
            body["as_of"] = item["as_of"]
        bodies.append(body)
    return bodies[:limit] if limit else bodies


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def rss_mb(pid: int | None) -> float | None:
    """Resident memory of a process and its children, in MB."""
    if pid is None:
        return None
    try:
        process = psutil.Process(pid)
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        return total / 1e6
    except psutil.Error:
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(data_dir: Path, port: int, chroma_url: str = "") -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "POLICYBOT_DATA_DIR": str(data_dir),
        **({"POLICYBOT_CHROMA_URL": chroma_url} if chroma_url else {}),
        "POLICYBOT_RATE_LIMIT_PER_MINUTE": "0",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    command = [sys.executable, "-m", "bot", "serve", "--no-chat", "--port", str(port)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)


def wait_healthy(url: str, server: subprocess.Popen[bytes] | None, timeout: float = 180.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            err = server.stderr.read().decode(errors="replace") if server.stderr else ""
            raise SystemExit(f"the server exited ({server.returncode}):\n{err[-2000:]}")
        try:
            response = httpx.get(f"{url}/api/health", timeout=5)
            if response.status_code == 200:
                health: dict[str, Any] = response.json()
                return health
            if response.status_code == 503:
                raise SystemExit(f"the server has no index: {response.json().get('error')}")
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url}/api/health did not answer within {timeout:.0f} s")


def run(
    url: str,
    bodies: list[dict[str, Any]],
    clients: int,
    requests: int,
    duration: float,
    timeout: float,
    *,
    memory_pid: int | None = None,
    memory_every: int = 0,
) -> tuple[Results, float]:
    results = Results(memory_pid=memory_pid, memory_every=memory_every)
    counter = iter(range(requests))
    counter_lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def next_index() -> int | None:
        with counter_lock:
            return next(counter, None)

    def client() -> None:
        with httpx.Client(base_url=url, timeout=timeout) as http:
            while time.monotonic() < stop_at:
                i = next_index()
                if i is None:
                    return
                began = time.perf_counter()
                try:
                    response = http.post("/api/ask", json=bodies[i % len(bodies)])
                    status = str(response.status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                results.record(status, (time.perf_counter() - began) * 1000)

    threads = [threading.Thread(target=client, name=f"client-{n}") for n in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - began


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="A running server (default: start one on a free port).")
    parser.add_argument(
        "--pid", type=int, help="The running server's process id, for its memory (with --url)."
    )
    parser.add_argument("--data-dir", type=Path, help="Index to serve when the script starts the server.")
    parser.add_argument(
        "--chroma-url", default="", help="The server it starts reads the index from this Chroma server."
    )
    parser.add_argument("--clients", type=int, default=10, help="Concurrent clients (default 10).")
    parser.add_argument("--requests", type=int, default=200, help="Total requests, then stop (default 200).")
    parser.add_argument(
        "--duration", type=float, default=600.0, help="Stop after this many seconds (default 600)."
    )
    parser.add_argument("--warmup", type=int, default=10, help="Unmeasured requests first (default 10).")
    parser.add_argument("--timeout", type=float, default=60.0, help="Seconds per request (default 60).")
    parser.add_argument(
        "--questions", type=Path, default=QUESTIONS, help="JSONL with question/history/as_of."
    )
    parser.add_argument("--json", action="store_true", help="Also print the figures as one JSON line.")
    return parser


@dataclass
class Measured:
    """One load run against one server: what it said of itself, the results, and its memory around them."""

    url: str
    health: dict[str, Any]
    results: Results
    seconds: float
    before: float | None
    after: float | None


def measure(
    args: argparse.Namespace, url: str, pid: int | None, server: subprocess.Popen[bytes] | None
) -> Measured:
    """Warm the server up, then run the load; the server this script started is stopped at the end."""
    try:
        health = wait_healthy(url, server)
        bodies = load_bodies(args.questions)
        with httpx.Client(base_url=url, timeout=args.timeout) as http:
            # Spread over the file, so that some are answered: the first answer loads what abstentions skip.
            for body in bodies[:: max(1, len(bodies) // max(1, args.warmup))][: args.warmup]:
                http.post("/api/ask", json=body)
        before = rss_mb(pid)
        results, seconds = run(
            url,
            bodies,
            args.clients,
            args.requests,
            args.duration,
            args.timeout,
            memory_pid=pid,
            memory_every=max(1, args.requests // 8),
        )
        after = rss_mb(pid)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
    return Measured(url, health, results, seconds, before, after)


def figures(measured: Measured, clients: int) -> dict[str, Any]:
    results, seconds, before, after = measured.results, measured.seconds, measured.before, measured.after
    done = sum(results.statuses.values())
    lat = results.latencies_ms
    return {
        "url": measured.url,
        "documents": measured.health.get("documents"),
        "clients": clients,
        "requests": done,
        "seconds": round(seconds, 2),
        "throughput_rps": round(done / seconds, 2) if seconds else None,
        "statuses": dict(results.statuses),
        "p50_ms": round(percentile(lat, 50), 1),
        "p95_ms": round(percentile(lat, 95), 1),
        "p99_ms": round(percentile(lat, 99), 1),
        "max_ms": round(max(lat), 1) if lat else None,
        "mean_ms": round(statistics.fmean(lat), 1) if lat else None,
        "server_rss_mb_before": round(before, 1) if before is not None else None,
        "server_rss_mb_after": round(after, 1) if after is not None else None,
        "server_rss_mb_during": [[n, round(mb, 1)] for n, mb in results.memory_mb],
    }


def print_figures(measured: Measured, figures: dict[str, Any]) -> None:
    results, before, after = measured.results, measured.before, measured.after
    print(
        f"POST /api/ask · {figures['clients']} clients · {figures['requests']} requests in "
        f"{measured.seconds:.1f} s ({figures['throughput_rps']} req/s) · {figures['documents']} documents"
    )
    print(f"status codes: {dict(sorted(results.statuses.items()))}")
    print(
        f"latency of 200s: p50 {figures['p50_ms']} ms · p95 {figures['p95_ms']} ms · p99 {figures['p99_ms']} ms · "
        f"max {figures['max_ms']} ms"
    )
    if before is not None:
        print(f"server memory (RSS): {before:.0f} MB before → {after:.0f} MB after")
    if results.memory_mb:
        print(
            "server memory during the run: "
            + " · ".join(f"{mb:.0f} MB at {n}" for n, mb in results.memory_mb)
        )


def main() -> None:
    parser = _parser()
    args = parser.parse_args()
    if args.clients < 1 or args.requests < 1 or args.duration <= 0:
        parser.error("--clients and --requests must be at least 1, --duration above 0")
    server = None
    pid = args.pid
    url = (args.url or "").rstrip("/")
    if not url:
        if args.data_dir is None:
            parser.error("give --url of a running server, or --data-dir of an index to serve")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(args.data_dir, port, args.chroma_url)
        pid = server.pid
    measured = measure(args, url, pid, server)
    found = figures(measured, args.clients)
    print_figures(measured, found)
    if args.json:
        print(json.dumps(found))


if __name__ == "__main__":
    main()
