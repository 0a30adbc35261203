"""Shutdown (issue 14): SIGTERM ends a real `policybot serve` within POLICYBOT_SHUTDOWN_TIMEOUT while a chat
tab holds its event streams open, a client sends a chunked body that never ends and another has sent half of
its headers. (It used to wait forever.) The client deadlines are set far off here, so only the shutdown can
end those connections."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.web_serve import Served, serve

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SHUTDOWN_SECONDS = 3


def _hold_stream(served: Served, path: str, opened: threading.Event) -> None:
    """GET an event stream and keep reading it until the server ends it."""
    with contextlib.suppress(httpx.HTTPError), httpx.stream("GET", served.url + path, timeout=None) as stream:
        opened.set()
        for _ in stream.iter_raw():
            pass


def _hold_socket(served: Served, first: bytes) -> socket.socket:
    """A connection that sent `first` and then nothing more."""
    sock = socket.create_connection(("127.0.0.1", served.port))
    sock.sendall(first)
    return sock


def test_sigterm_ends_the_server_while_streams_are_held_open(tmp_path: Path) -> None:
    env = {"POLICYBOT_SHUTDOWN_TIMEOUT": str(SHUTDOWN_SECONDS), "POLICYBOT_CLIENT_TIMEOUT": "300"}
    with serve(tmp_path / "shutdown", env=env) as served:
        host = f"127.0.0.1:{served.port}"
        streams = []
        for path in ("/gradio_api/heartbeat/tab1", "/gradio_api/heartbeat/tab2"):  # two tabs
            opened = threading.Event()
            thread = threading.Thread(target=_hold_stream, args=(served, path, opened), daemon=True)
            thread.start()
            assert opened.wait(30), f"{path} did not open"
            streams.append(thread)
        endless = _hold_socket(
            served,
            f"POST /api/feedback HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n".encode(),
        )
        stalled = _hold_socket(served, f"GET / HTTP/1.1\r\nHost: {host}\r\n".encode())
        time.sleep(1.0)
        assert served.process.poll() is None

        started = time.monotonic()
        code = served.stop(timeout=60)
        seconds = time.monotonic() - started
        endless.close()
        stalled.close()
    # uvicorn re-raises the signal once it has shut down: -15 is a graceful end (None: it had to be killed).
    assert code is not None, "the server did not end on SIGTERM within 60 s"
    assert seconds < SHUTDOWN_SECONDS + 20, seconds
    for thread in streams:
        thread.join(10)
        assert not thread.is_alive()  # the server closed the streams
    log = served.log_text()
    assert "Shutting down" in log and "Finished server process" in log
