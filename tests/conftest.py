"""Shared fixtures: the bundled model loaded once per session, and indexes built once per session."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SHARED = Path(os.environ.get("POLICYBOT_SHARED_DIR", ROOT.parent / "shared"))
OTA = SHARED / "corpus" / "open-terms-archive"
BUNDLED = ROOT / "corpus"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def shared_sources() -> list[dict[str, str]]:
    """The rows of the shared corpus's SOURCES.csv: one per file, so tests derive their counts instead of
    pinning them (the shared corpus grows)."""
    import csv

    with (OTA / "SOURCES.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def needs_shared() -> pytest.MarkDecorator:
    return pytest.mark.skipif(not OTA.is_dir(), reason=f"shared corpus not found at {OTA}")


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's real data directory."""
    monkeypatch.setenv("POLICYBOT_DATA_DIR", str(tmp_path_factory.mktemp("default-data")))
    monkeypatch.delenv("POLICYBOT_CHROMA_URL", raising=False)


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    from bot.index.embeddings import get_embedder

    model = get_embedder()
    model.encode(["warm up"])
    return model


@pytest.fixture(scope="session")
def test_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """The project's own small test corpus, indexed once."""
    from bot.index.build import build_index
    from bot.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("test-index"))
    report = build_index([DATA / "ota", DATA / "frontmatter", DATA / "flat"], settings, embedder=embedder)
    assert not report.problems, report.problems
    yield settings


@pytest.fixture(scope="session")
def shared_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """The real shared Open Terms Archive corpus plus the bundled corpus, indexed once (about 40 s)."""
    if not OTA.is_dir():
        pytest.skip(f"shared corpus not found at {OTA}")
    from bot.index.build import build_index
    from bot.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("shared-index"))
    build_index([OTA, BUNDLED], settings, embedder=embedder)
    yield settings


# --- Chroma's server mode: `chroma run` on loopback, started by the tests themselves -------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_chroma(url: str, server: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"`chroma run` exited with {server.returncode} before answering at {url}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"`chroma run` did not answer at {url}/api/v2/heartbeat within {timeout:.0f} s")


@contextlib.contextmanager
def chroma_run(path: Path, port: int | None = None) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`chroma run --path PATH` on 127.0.0.1 (a free port unless given): its URL and process, killed at the end."""
    executable = Path(sys.executable).parent / "chroma"
    if not executable.exists():
        pytest.skip(f"no `chroma` command beside {sys.executable}")
    port = port or free_port()
    path.mkdir(parents=True, exist_ok=True)
    log = (path.parent / f"{path.name}-chroma.log").open("ab")
    server = subprocess.Popen(
        [str(executable), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_chroma(url, server)
        yield url, server
    finally:
        server.kill()
        server.wait(30)
        log.close()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Chroma server for the session; `store_settings` empties it before each test that uses it."""
    with chroma_run(tmp_path_factory.mktemp("chroma-server") / "db") as (url, _):
        yield url


def empty_chroma(url: str) -> None:
    """Remove every collection from the server, so a test starts from nothing (tests run one at a time)."""
    from urllib.parse import urlparse

    import chromadb
    from chromadb.config import Settings as ChromaSettings

    parsed = urlparse(url)
    client = chromadb.HttpClient(
        host=parsed.hostname, port=parsed.port, settings=ChromaSettings(anonymized_telemetry=False)
    )
    for collection in client.list_collections():
        client.delete_collection(collection if isinstance(collection, str) else collection.name)


@pytest.fixture(params=["embedded", "server"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    """Settings of an empty store in each mode: the embedded store in a temp data dir, then the session's
    Chroma server (emptied first) with its own temp data dir."""
    from bot.settings import Settings

    if request.param == "embedded":
        return Settings(data_dir=tmp_path / "data")
    url = request.getfixturevalue("chroma_server")
    empty_chroma(url)
    return Settings(data_dir=tmp_path / "data", chroma_url=url)
