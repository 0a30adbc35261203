"""Load test for `POST /api/ask`: N concurrent clients on loopback, bounded by a request count and a time
limit (it always stops by itself), printing latency percentiles, throughput, errors, status codes and the
server's memory: before and after, and sampled every second during the run (the whole process tree: with
--workers, the supervisor and every worker), with its growth from the first to the last quarter of the run.

    .venv/bin/python eval/load.py --data-dir /tmp/web-index --clients 10 --requests 200
    .venv/bin/python eval/load.py --data-dir /tmp/web-index --clients 20 --duration 60 --requests 2000
    .venv/bin/python eval/load.py --data-dir DIR --clients 20 --duration 60 --requests 100000 --workers 2 --report /tmp/load
    .venv/bin/python eval/load.py --data-dir DIR --clients 4 --duration 10 --workers 2 --report /tmp/loadsmoke
    .venv/bin/python eval/load.py --url http://127.0.0.1:7860 --pid 1234 --clients 10 --requests 200
    .venv/bin/python eval/load.py --data-dir /tmp/w --chroma-url http://127.0.0.1:8000 --requests 500

Without --url it starts its own `policybot serve --no-chat [--workers N]` on a free port (rate limit off, so
the figures measure answering, not refusing) and stops it at the end. Questions are taken in turn from
eval/questions.jsonl (with their history and dates), a mix of answers and abstentions like real traffic.
--report DIR writes DIR/load.json (every figure and the time series: memory over time, every request, and
per second the answers, errors and p50/p95 latency) and DIR/load.png (latency and memory over time).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
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
SAMPLE_SECONDS = 1.0
"""How often the server's memory is sampled during the run."""


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    memory_pid: int | None = None
    memory_every: int = 0
    memory_mb: list[tuple[int, float]] = field(default_factory=list)
    """(requests done, server RSS in MB), every `memory_every` requests: flat, or growing with the count."""
    began: float = field(default_factory=time.perf_counter)
    """perf_counter() at the start of the run: the zero of every time below."""
    requests: list[tuple[float, float, str]] = field(default_factory=list)
    """Every request: (seconds from the start of the run to its answer, latency in ms, status)."""
    samples: list[tuple[float, float, float]] = field(default_factory=list)
    """Every SAMPLE_SECONDS: (seconds from the start, RSS of the server's whole process tree in MB, RSS of its
    largest process in MB)."""

    def record(self, status: str, ms: float) -> None:
        at = time.perf_counter() - self.began
        with self.lock:
            self.statuses[status] += 1
            self.requests.append((at, ms, status))
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
    tree = tree_rss_mb(pid)
    return tree[0] if tree is not None else None


def tree_rss_mb(pid: int | None) -> tuple[float, float] | None:
    """Resident memory of a process and all its descendants (a server with workers is a tree), in MB: the
    total, and that of its largest single process. None when the process is gone."""
    if pid is None:
        return None
    try:
        process = psutil.Process(pid)
        sizes = [process.memory_info().rss]
        for child in process.children(recursive=True):
            with contextlib.suppress(psutil.Error):  # a child may end between the listing and the reading
                sizes.append(child.memory_info().rss)
        return sum(sizes) / 1e6, max(sizes) / 1e6
    except psutil.Error:
        return None


class MemorySampler:
    """A background thread that samples `pid`'s process tree into `results.samples` every `every` seconds,
    from `start()` to `stop()` (one sample at each end too, so that a short run still has a start and an end)."""

    def __init__(self, pid: int | None, results: Results, every: float = SAMPLE_SECONDS) -> None:
        self.pid, self.results, self.every = pid, results, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="memory-sampler", daemon=True)

    def start(self) -> None:
        if self.pid is not None:
            self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()
            self._sample()

    def _loop(self) -> None:
        self._sample()
        while not self._stop.wait(self.every):
            self._sample()

    def _sample(self) -> None:
        tree = tree_rss_mb(self.pid)
        if tree is not None:
            at = time.perf_counter() - self.results.began
            with self.results.lock:
                self.results.samples.append((at, *tree))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(
    data_dir: Path, port: int, chroma_url: str = "", workers: int = 1
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "POLICYBOT_DATA_DIR": str(data_dir),
        **({"POLICYBOT_CHROMA_URL": chroma_url} if chroma_url else {}),
        "POLICYBOT_RATE_LIMIT_PER_MINUTE": "0",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    command = [sys.executable, "-m", "bot", "serve", "--no-chat", "--port", str(port)]
    command += ["--workers", str(workers)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)


def stop_server(server: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM, which a server with workers passes on to them; after `timeout` s, kill the whole tree (killing
    the supervisor alone would leave its workers running)."""
    try:
        tree = psutil.Process(server.pid).children(recursive=True)
    except psutil.Error:
        tree = []
    server.terminate()
    try:
        server.wait(timeout)
    except subprocess.TimeoutExpired:
        for process in tree:
            with contextlib.suppress(psutil.Error):
                process.kill()
        server.kill()
        server.wait(10)
    psutil.wait_procs(tree, timeout=timeout)


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
    sample_seconds: float = SAMPLE_SECONDS,
) -> tuple[Results, float]:
    """Send the requests; with `memory_pid`, sample that process tree's memory every `sample_seconds`."""
    results = Results(memory_pid=memory_pid, memory_every=memory_every)
    sampler = MemorySampler(memory_pid, results, sample_seconds)
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
    results.began = began = time.perf_counter()
    sampler.start()
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sampler.stop()
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
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="Worker processes of the server it starts (`policybot serve --workers N`; default 1).",
    )
    parser.add_argument(
        "--report",
        type=Path,
        metavar="DIR",
        help="Write DIR/load.json (figures and time series) and DIR/load.png (latency and memory over time).",
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


def warm_up(url: str, bodies: list[dict[str, Any]], count: int, timeout: float, workers: int = 1) -> None:
    """`count` unmeasured questions, spread over the file so that some are answered (the first answer loads
    what abstentions skip). With workers, `workers` senders at once, each request on a new connection, so
    that every worker is likely to get its share: which process accepts a connection is the kernel's choice,
    and a worker still starting takes none (its start-up can then show in the first seconds of the run)."""
    picked = bodies[:: max(1, len(bodies) // max(1, count))][:count]

    def send() -> None:
        for body in picked:
            with contextlib.suppress(httpx.HTTPError):
                httpx.post(f"{url}/api/ask", json=body, timeout=timeout)

    senders = [threading.Thread(target=send, name=f"warm-up-{n}") for n in range(max(1, workers))]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()


def measure(
    args: argparse.Namespace, url: str, pid: int | None, server: subprocess.Popen[bytes] | None
) -> Measured:
    """Warm the server up, then run the load; the server this script started is stopped at the end."""
    try:
        health = wait_healthy(url, server)
        bodies = load_bodies(args.questions)
        warm_up(url, bodies, args.warmup, args.timeout, args.workers)
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
            stop_server(server)
    return Measured(url, health, results, seconds, before, after)


def growth_percent(samples: list[tuple[float, float, float]]) -> float | None:
    """How much larger the server is at the end of the run than at its start: the mean total RSS of the last
    quarter of the samples over that of the first quarter, minus 1, in percent (None under 2 samples). A
    quarter, not one sample, at each end: one sample is as likely to catch a request's short-lived buffers."""
    if len(samples) < 2:
        return None
    quarter = max(1, len(samples) // 4)
    first = statistics.fmean(mb for _, mb, _ in samples[:quarter])
    last = statistics.fmean(mb for _, mb, _ in samples[-quarter:])
    return (last / first - 1) * 100 if first else None


def per_second(requests: list[tuple[float, float, str]], seconds: float) -> list[dict[str, Any]]:
    """The run second by second: requests answered in [t, t+1), how many were 200s (answers), how many not
    (errors), and the p50/p95 latency of the 200s (None in a second without one)."""
    slots = max(1, math.ceil(seconds)) if seconds > 0 else 1
    latencies: list[list[float]] = [[] for _ in range(slots)]
    counts = [[0, 0] for _ in range(slots)]  # [answers, errors]
    for at, ms, status in requests:
        slot = min(slots - 1, max(0, int(at)))
        counts[slot][status != "200"] += 1
        if status == "200":
            latencies[slot].append(ms)
    return [
        {
            "t": slot,
            "requests": sum(counts[slot]),
            "answers": counts[slot][0],
            "errors": counts[slot][1],
            "p50_ms": round(percentile(latencies[slot], 50), 1) if latencies[slot] else None,
            "p95_ms": round(percentile(latencies[slot], 95), 1) if latencies[slot] else None,
        }
        for slot in range(slots)
    ]


def _mb(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def figures(measured: Measured, clients: int, workers: int = 1) -> dict[str, Any]:
    results, seconds, before, after = measured.results, measured.seconds, measured.before, measured.after
    done = sum(results.statuses.values())
    lat = results.latencies_ms
    samples = results.samples
    growth = growth_percent(samples)
    return {
        "url": measured.url,
        "documents": measured.health.get("documents"),
        "clients": clients,
        "workers": workers,
        "requests": done,
        "seconds": round(seconds, 2),
        "throughput_rps": round(done / seconds, 2) if seconds else None,
        "answers": results.statuses.get("200", 0),
        "answers_per_s": round(results.statuses.get("200", 0) / seconds, 2) if seconds else None,
        "errors": done - results.statuses.get("200", 0),
        "statuses": dict(results.statuses),
        "p50_ms": round(percentile(lat, 50), 1),
        "p95_ms": round(percentile(lat, 95), 1),
        "p99_ms": round(percentile(lat, 99), 1),
        "max_ms": round(max(lat), 1) if lat else None,
        "mean_ms": round(statistics.fmean(lat), 1) if lat else None,
        "server_rss_mb_before": _mb(before),
        "server_rss_mb_after": _mb(after),
        "server_rss_mb_during": [[n, round(mb, 1)] for n, mb in results.memory_mb],
        "rss_samples": len(samples),
        "server_rss_mb_start": _mb(samples[0][1]) if samples else None,
        "server_rss_mb_max": _mb(max(mb for _, mb, _ in samples)) if samples else None,
        "server_rss_mb_end": _mb(samples[-1][1]) if samples else None,
        "largest_process_rss_mb_max": _mb(max(mb for _, _, mb in samples)) if samples else None,
        "rss_growth_percent": round(growth, 1) if growth is not None else None,
    }


def print_figures(measured: Measured, figures: dict[str, Any]) -> None:
    results, before, after = measured.results, measured.before, measured.after
    print(
        f"POST /api/ask · {figures['clients']} clients · {figures['requests']} requests in "
        f"{measured.seconds:.1f} s ({figures['throughput_rps']} req/s) · {figures['documents']} documents"
    )
    print(f"status codes: {dict(sorted(results.statuses.items()))}")
    print(
        f"answers (200s): {figures['answers']} ({figures['answers_per_s']} answers/s) · errors: {figures['errors']}"
        f" · server workers: {figures['workers']}"
    )
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
    if results.samples:
        growth = figures["rss_growth_percent"]
        print(
            f"server memory every {SAMPLE_SECONDS:g} s ({figures['rss_samples']} samples, whole process tree): "
            f"start {figures['server_rss_mb_start']:.0f} MB · max {figures['server_rss_mb_max']:.0f} MB · "
            f"end {figures['server_rss_mb_end']:.0f} MB · largest process max "
            f"{figures['largest_process_rss_mb_max']:.0f} MB · growth first → last quarter "
            + (f"{growth:+.1f} %" if growth is not None else "n/a")
        )


def write_report(folder: Path, found: dict[str, Any], results: Results, seconds: float) -> tuple[Path, Path]:
    """DIR/load.json (the figures and every time series) and DIR/load.png (the chart); their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    seconds_table = per_second(results.requests, seconds)
    report = {
        **found,
        "series": {
            "rss_mb": [
                [round(t, 2), round(total, 1), round(largest, 1)] for t, total, largest in results.samples
            ],
            "rss_mb_columns": ["t_s", "total_mb", "largest_process_mb"],
            "per_second": seconds_table,
            "requests": [[round(t, 3), round(ms, 1), status] for t, ms, status in results.requests],
            "requests_columns": ["t_s", "latency_ms", "status"],
        },
    }
    data, chart = folder / "load.json", folder / "load.png"
    data.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    write_chart(chart, results.requests, results.samples, seconds_table, title=_chart_title(found))
    return data, chart


def _chart_title(found: dict[str, Any]) -> str:
    return (
        f"POST /api/ask · {found['clients']} clients · {found['workers']} worker(s) · {found['requests']} requests "
        f"in {found['seconds']:.0f} s · {found['answers_per_s']} answers/s · {found['errors']} errors"
    )


def write_chart(
    path: Path,
    requests: list[tuple[float, float, str]],
    samples: list[tuple[float, float, float]],
    seconds_table: list[dict[str, Any]],
    title: str = "POST /api/ask",
) -> None:
    """Two panels on one time axis: latency (every answer faintly, the per-second p50 and p95 over it, errors
    marked at the foot) and the server's memory (the whole tree and its largest process)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 7), height_ratios=(3, 2))
    answered = [(t, ms) for t, ms, status in requests if status == "200"]
    if answered:
        top.scatter(*zip(*answered, strict=True), s=6, alpha=0.15, color="tab:gray", label="each answer")
    for key, colour in (("p50_ms", "tab:blue"), ("p95_ms", "tab:orange")):
        points = [(row["t"] + 0.5, row[key]) for row in seconds_table if row[key] is not None]
        if points:
            top.plot(*zip(*points, strict=True), color=colour, marker=".", label=f"{key[:3]} per second")
    errors = [t for t, _, status in requests if status != "200"]
    if errors:
        top.plot(errors, [0] * len(errors), "x", color="tab:red", label=f"error ({len(errors)})")
    top.set_ylabel("latency (ms)")
    top.set_ylim(bottom=0)
    top.grid(alpha=0.3)
    top.legend(loc="upper right", fontsize="small")
    if samples:
        times = [t for t, _, _ in samples]
        bottom.plot(
            times, [mb for _, mb, _ in samples], color="tab:green", label="server, whole process tree"
        )
        bottom.plot(times, [mb for _, _, mb in samples], color="tab:purple", label="largest process")
        bottom.set_ylim(bottom=0)
        bottom.legend(loc="lower right", fontsize="small")
    else:
        bottom.text(
            0.5, 0.5, "memory not sampled (no server process id)", ha="center", transform=bottom.transAxes
        )
    bottom.set_ylabel("RSS (MB)")
    bottom.set_xlabel("seconds from the start of the run")
    bottom.grid(alpha=0.3)
    fig.suptitle(title, fontsize="medium")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = _parser()
    args = parser.parse_args()
    if args.clients < 1 or args.requests < 1 or args.duration <= 0:
        parser.error("--clients and --requests must be at least 1, --duration above 0")
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    if args.url and args.workers != 1:
        parser.error(
            "--workers sets up the server this script starts; with --url, start it with --workers yourself"
        )
    server = None
    pid = args.pid
    url = (args.url or "").rstrip("/")
    if not url:
        if args.data_dir is None:
            parser.error("give --url of a running server, or --data-dir of an index to serve")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(args.data_dir, port, args.chroma_url, args.workers)
        pid = server.pid
    measured = measure(args, url, pid, server)
    found = figures(measured, args.clients, args.workers)
    print_figures(measured, found)
    if args.report is not None:
        data, chart = write_report(args.report, found, measured.results, measured.seconds)
        print(f"report: {data} · {chart}")
    if args.json:
        print(json.dumps(found))


if __name__ == "__main__":
    main()
