"""A real `policybot serve` on loopback for the hostile-client and shutdown tests: run with every outbound
connection blocked and recorded (an audit hook installed in the child by a sitecustomize), its log in a file,
its memory read with psutil; and clients that count what they send, including raw sockets for what httpx
won't send (stalled headers, endless bodies)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ROOT, free_port

# Installed in the server process before anything else runs: any connection or name lookup that leaves the
# machine is refused (OSError) and written to the file named by POLICYBOT_TEST_OUTBOUND.
SITECUSTOMIZE = """
import os, sys

_LOG = os.environ.get("POLICYBOT_TEST_OUTBOUND")
_LOCAL = ("localhost", "127.", "::1", "0.0.0.0")


def _local(host):
    if isinstance(host, bytes):
        host = host.decode("latin-1")
    return host is None or host == "" or str(host).startswith(_LOCAL) or str(host) in ("::", "ip6-localhost")


def _blocked(event, target):
    with open(_LOG, "a", encoding="utf-8") as handle:
        handle.write(f"{event} {target!r}\\n")
    raise OSError(f"outbound connection blocked by the test: {event} {target!r}")


def _hook(event, args):
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg") and len(args) > 1:
        address = args[1]
        if isinstance(address, tuple) and address and not _local(address[0]):
            _blocked(event, address)
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"):
        if args and not _local(args[0]):
            _blocked(event, args[0])


if _LOG:
    sys.addaudithook(_hook)
"""


@dataclass
class Served:
    """One running server and where to look at it."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    outbound: Path
    data_dir: Path
    uploads: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        import psutil

        return float(psutil.Process(self.process.pid).memory_info().rss) / 2**20

    def log_size(self) -> int:
        return self.log.stat().st_size

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def outbound_attempts(self) -> list[str]:
        return self.outbound.read_text(encoding="utf-8").splitlines() if self.outbound.exists() else []

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        """Send `sig` and wait up to `timeout` s: the exit code, or None (then it is killed)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)
            return None


@contextlib.contextmanager
def serve(folder: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    """`policybot serve --port FREE ARGS` with outbound connections blocked; stopped (SIGTERM, then kill)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "site").mkdir(exist_ok=True)
    (folder / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    port = free_port()
    served_env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(folder / "site"), str(ROOT)]),
        "POLICYBOT_TEST_OUTBOUND": str(folder / "outbound.log"),
        "POLICYBOT_DATA_DIR": str(folder / "data"),
        "GRADIO_TEMP_DIR": str(folder / "uploads"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    log = folder / "server.log"
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(port), *args],
            env=served_env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    served = Served(process, port, log, folder / "outbound.log", folder / "data", folder / "uploads")
    try:
        wait_up(served)
        yield served
    finally:
        served.stop()


def wait_up(served: Served, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise RuntimeError(
                f"the server exited ({served.process.returncode}):\n{served.log_text()[-3000:]}"
            )
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{served.url}/api/health", timeout=5).status_code in (200, 503):
                return
        time.sleep(0.3)
    raise RuntimeError(f"the server did not answer within {timeout:.0f} s:\n{served.log_text()[-3000:]}")


@dataclass
class Tally:
    """Every request the hostile tests send and every status they get back."""

    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    tracebacks: list[str] = field(default_factory=list)
    deliberate_503: int = 0

    def record(self, status: int | None, text: str, what: str) -> None:
        self.sent += 1
        self.statuses[status or 0] += 1
        if "Traceback" in text or 'File "/' in text:
            self.tracebacks.append(what)

    def client(self, served: Served, source: int, **options: Any) -> httpx.Client:
        """An httpx client whose connections come from 127.0.0.`source` (its own rate-limit bucket)."""

        def count(response: httpx.Response) -> None:
            if response.headers.get("content-type", "").startswith("text/event-stream"):
                self.record(response.status_code, "", str(response.url))  # an open stream: read by the test
                return
            response.read()
            self.record(response.status_code, response.text, str(response.url))

        return httpx.Client(
            base_url=served.url,
            transport=httpx.HTTPTransport(local_address=f"127.0.0.{source}"),
            timeout=options.pop("timeout", 60),
            event_hooks={"response": [count]},
            **options,
        )

    def raw(
        self,
        served: Served,
        chunks: Iterable[bytes],
        *,
        source: int = 200,
        pause: float = 0.0,
        wait: float = 15.0,
    ) -> tuple[int | None, bytes, float]:
        """Send `chunks` on one socket (stopping when the server closes it), then read until it closes or
        `wait` s pass: the status, the response, and the seconds until the server answered or closed."""
        start = time.monotonic()
        with socket.create_connection(
            ("127.0.0.1", served.port), source_address=(f"127.0.0.{source}", 0)
        ) as sock:
            sock.settimeout(wait)
            with contextlib.suppress(OSError):
                for chunk in chunks:
                    sock.sendall(chunk)
                    if pause:
                        time.sleep(pause)
            received = b""
            with contextlib.suppress(OSError):
                while piece := sock.recv(65536):
                    received += piece
        elapsed = time.monotonic() - start
        status = int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/1.1 ") else None
        self.record(status, received.decode("latin-1"), "raw socket")
        return status, received, elapsed


def event_indices(client: httpx.Client) -> dict[str, int]:
    """The chat page's events by name (respond, rate, helpful, ...) → fn_index, from its config."""
    config = client.get("/config").json()
    return {str(d.get("api_name")): int(d["id"]) for d in config["dependencies"]}


def join(
    client: httpx.Client, fn_index: int, data: list[Any], session: str, event_data: Any = None
) -> httpx.Response:
    body = {
        "data": data,
        "fn_index": fn_index,
        "session_hash": session,
        "event_data": event_data,
        "trigger_id": None,
    }
    # json.dumps escapes what UTF-8 can't carry (a lone surrogate), as a browser's JSON.stringify does.
    headers = {"Content-Type": "application/json"}
    return client.post("/gradio_api/queue/join", content=json.dumps(body), headers=headers)


def completed(
    client: httpx.Client, session: str, events: int = 1, timeout: float = 60.0
) -> list[dict[str, Any]]:
    """The `process_completed` messages of a session's next `events` events, read from its event stream."""
    done: list[dict[str, Any]] = []
    with client.stream(
        "GET", "/gradio_api/queue/data", params={"session_hash": session}, timeout=timeout
    ) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    done.append(message)
                    if len(done) == events:
                        break
    return done
