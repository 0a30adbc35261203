"""Scale-out on Chroma's own server (`chroma run`): workers sharing one index see each other's re-index, an
unreachable or stopped server is one clear error (CLI exit 1, HTTP 503) and answers come back with it, and
the lease keeps indexers on different machines from publishing or dropping generations under each other."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.errors import IndexBusy
from bot.index.lease import LEASE, Lease
from bot.index.store import IndexStore, open_store
from bot.settings import Settings
from tests.conftest import DATA, ROOT, chroma_run, empty_chroma, free_port

pytestmark = pytest.mark.integration

LOUDWAVE = "Can Loudwave train AI on my music?"
TUNEBOX = "How much does Tunebox pay artists?"


@pytest.fixture
def server(chroma_server: str) -> str:
    empty_chroma(chroma_server)
    return chroma_server


def _settings(url: str, data_dir: Path, **extra: Any) -> Settings:
    return Settings(data_dir=data_dir, chroma_url=url, rate_limit_per_minute=0, **extra)


# --- several workers, one index -------------------------------------------------------------------------


@pytest.mark.slow
def test_a_reindex_by_one_worker_is_seen_by_the_others(server: str, tmp_path: Path, embedder: Any) -> None:
    """Worker 1 is a real `policybot serve` process, worker 2 a searcher in this process with its own data dir
    and client; a third Settings (the indexer) re-indexes. Both workers move to the new generation, answer
    from it, and rebuilt their BM25 index from its chunks; a client asking all along gets no error."""
    from bot.answer.ask import ask, search
    from bot.index.build import build_index
    from bot.retrieve.searcher import POINTER_CHECK_SECONDS, open_searcher
    from eval.load import start_server, wait_healthy

    indexer = _settings(server, tmp_path / "indexer")
    first = build_index([DATA / "ota"], indexer, embedder=embedder)
    in_process = _settings(server, tmp_path / "worker-2")
    assert open_searcher(in_process, embedder).generation.name == first.generation
    before = ask(TUNEBOX, in_process)
    assert "Tunebox" not in {c.provenance.service for c in before.citations}

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    worker = start_server(tmp_path / "worker-1", port, server)
    statuses: list[int] = []
    generations: list[str] = []
    stop = threading.Event()

    def keep_asking() -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            while not stop.is_set():
                statuses.append(http.post("/api/ask", json={"question": LOUDWAVE}).status_code)
                generations.append(http.get("/api/health").json().get("generation", "?"))

    asking = threading.Thread(target=keep_asking)
    try:
        assert wait_healthy(url, worker)["generation"] == first.generation
        asking.start()
        time.sleep(1.0)
        second = build_index([DATA / "ota", DATA / "flat", DATA / "frontmatter"], indexer, embedder=embedder)
        assert second.generation != first.generation
        deadline = time.monotonic() + 30
        while second.generation not in generations[-1:] and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
        stop.set()
        asking.join(60)

        with httpx.Client(base_url=url, timeout=60) as http:
            answer = http.post("/api/ask", json={"question": TUNEBOX}).json()
            hits = http.post("/api/search", json={"query": "sublicense to payment partners"}).json()["hits"]
    finally:
        stop.set()
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)

    assert statuses and set(statuses) == {200}, statuses
    assert generations[0] == first.generation and generations[-1] == second.generation
    assert not answer["abstained"] and answer["citations"][0]["service"] == "Tunebox"
    # "sublicense" is only in Beatcrate's terms, new in this generation: BM25 was rebuilt from its chunks.
    assert hits[0]["service"] == "Beatcrate" and hits[0]["bm25_rank"] == 1

    time.sleep(POINTER_CHECK_SECONDS)
    assert open_searcher(in_process, embedder).generation.name == second.generation
    mine = ask(TUNEBOX, in_process)
    assert not mine.abstained and mine.citations[0].provenance.service == "Tunebox"
    assert search("sublicense to payment partners", in_process, k=1)[0].bm25_rank == 1
    # The indexer kept the generation before (queries in flight) and nothing else.
    assert set(open_store(indexer).generations()) == {first.generation, second.generation}


# --- an unreachable server ------------------------------------------------------------------------------

NOWHERE = "http://127.0.0.1:9"


@pytest.mark.parametrize(
    "args",
    [
        ["ask", LOUDWAVE],
        ["ask", LOUDWAVE, "--json"],
        ["search", "AI training"],
        ["index", "--corpus", str(DATA / "flat")],
        ["corpus", "list"],
    ],
    ids=["ask", "ask-json", "search", "index", "corpus-list"],
)
def test_cli_with_an_unreachable_server_prints_one_line_and_exits_1(args: list[str], tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--data-dir", str(tmp_path), "--chroma-url", NOWHERE, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("policybot: error: ") and "127.0.0.1:9" in line and "chroma run" in line


def test_cli_batch_with_an_unreachable_server_stops_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--data-dir", str(tmp_path), "--chroma-url", NOWHERE, "ask"],
        input=f"{LOUDWAVE}\n{TUNEBOX}\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_api_with_an_unreachable_server_is_503_with_the_reason(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from bot.web.app import create_app

    with TestClient(create_app(_settings(NOWHERE, tmp_path), chat=False)) as client:
        health = client.get("/api/health")
        asked = client.post("/api/ask", json={"question": LOUDWAVE})
        searched = client.post("/api/search", json={"query": "AI"})
        feedback = client.post("/api/feedback", json={"rating": "up", "question": LOUDWAVE})
    assert health.status_code == asked.status_code == searched.status_code == 503
    for response in (health, asked, searched):
        error = response.json()["error"]
        # The reason, not the internal address (issue 14): that goes to the server's log.
        assert "Chroma server" in error and "127.0.0.1:9" not in error and "\n" not in error
    assert feedback.status_code == 201  # feedback lives in the data dir, not in Chroma


@pytest.mark.slow
def test_a_server_that_stops_is_503_and_answers_resume_when_it_is_back(
    tmp_path: Path, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from bot.index.build import build_index
    from bot.retrieve import searcher as retrieval
    from bot.web.app import create_app

    port = free_port()
    path = tmp_path / "db"
    with chroma_run(path, port) as (url, chroma):
        settings = _settings(url, tmp_path / "worker")
        build_index([DATA / "ota"], settings, embedder=embedder)
        client = TestClient(create_app(settings, chat=False))
        assert client.post("/api/ask", json={"question": LOUDWAVE}).status_code == 200
        chroma.send_signal(signal.SIGKILL)
        chroma.wait(30)

        # Within the pointer check interval the loaded searcher answers from its own copy of the generation
        # (chunks, vectors and stored texts on local disk: it does not query Chroma to answer) ...
        monkeypatch.setattr(retrieval, "POINTER_CHECK_SECONDS", 3600.0)
        direct = client.post("/api/ask", json={"question": "Does Loudwave claim ownership of my music?"})
        assert direct.status_code == 200 and direct.json()["citations"], direct.text
        # ... after it, the pointer is read from Chroma first, and a server that is down says so.
        monkeypatch.setattr(retrieval, "POINTER_CHECK_SECONDS", 0.0)
        pointer = client.post("/api/ask", json={"question": LOUDWAVE})
        health = client.get("/api/health")
    for response in (pointer, health):
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert url not in error and "\n" not in error and "chroma run" in error

    with chroma_run(path, port):  # the same server back, on the same port and data
        back = client.post("/api/ask", json={"question": LOUDWAVE})
        assert back.status_code == 200 and not back.json()["abstained"]
        assert client.get("/api/health").status_code == 200
    client.close()


# --- the lease: indexers on different machines ---------------------------------------------------------


def _elsewhere(seconds: float) -> Lease:
    """A lease as another machine's indexer would hold it."""
    return Lease(
        owner="build-2:4242:abc",
        host="build-2",
        boot=1.0,
        pid=4242,
        started=1.0,
        expires=time.time() + seconds,
    )


def test_an_indexer_on_another_machine_holding_the_lease_blocks_publishing(
    server: str, tmp_path: Path, embedder: Any
) -> None:
    from bot.index.build import build_index

    settings = _settings(server, tmp_path / "data")
    first = build_index([DATA / "ota"], settings, embedder=embedder)
    store = open_store(settings)
    store.write_lease(_elsewhere(60))
    with pytest.raises(IndexBusy, match=r"process 4242 on build-2.*lease runs to"):
        build_index([DATA / "ota", DATA / "flat"], settings, embedder=embedder)
    assert store.require_current().name == first.generation
    assert store.generations() == [first.generation]  # nothing was even started

    store.write_lease(_elsewhere(-1))  # it expired: that machine's indexer died
    second = build_index([DATA / "ota", DATA / "flat"], settings, embedder=embedder)
    assert store.require_current().name == second.generation
    assert store.lease() is None  # released at the end


def test_a_lease_of_a_dead_process_on_this_machine_is_free_at_once(server: str, tmp_path: Path) -> None:
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    mine = Lease.new()
    dead = Lease(
        owner=f"{mine.host}:x",
        host=mine.host,
        boot=mine.boot,
        pid=int(ended.stdout),
        started=mine.started,
        expires=time.time() + 600,
    )
    assert dead.free() and not mine.free()
    store = IndexStore(_settings(server, tmp_path))
    store.write_lease(dead)
    lease = store.take_lease()
    assert store.lease() == lease.lease
    lease.release()
    assert store.lease() is None


def test_an_indexer_whose_lease_was_taken_over_does_not_publish(
    server: str, tmp_path: Path, embedder: Any
) -> None:
    """Paused past its lease (a frozen VM, a sleeping laptop), an indexer finds at the publish step that
    another has taken over: it stops without moving the pointer; the next run cleans its generation up."""
    from bot.index.build import build_index

    settings = _settings(server, tmp_path / "data")
    first = build_index([DATA / "ota"], settings, embedder=embedder)
    store = open_store(settings)

    def taken_over(stage: str, done: int, total: int) -> None:
        if stage == "publish" and done == 0:
            store.write_lease(_elsewhere(60))

    with pytest.raises(IndexBusy, match="taken over by process 4242 on build-2"):
        build_index([DATA / "ota", DATA / "flat"], settings, embedder=embedder, progress=taken_over)
    assert store.require_current().name == first.generation
    assert len(store.generations()) == 2  # the unpublished generation, left for the next run
    store._meta().delete(ids=[LEASE])
    third = build_index([DATA / "ota", DATA / "flat"], settings, embedder=embedder)
    assert set(store.generations()) == {first.generation, third.generation}


def test_indexers_racing_for_a_free_lease_end_with_exactly_one_holder(server: str, tmp_path: Path) -> None:
    """Four claimants read the lease as free at the same moment; write, wait and read back leaves one."""
    store = IndexStore(_settings(server, tmp_path))
    barrier = threading.Barrier(4)
    won: list[str] = []
    lost: list[str] = []

    def claim() -> None:
        barrier.wait()
        try:
            won.append(store.take_lease(settle=2.0).lease.owner)
        except IndexBusy as exc:
            lost.append(str(exc))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(won) == 1 and len(lost) == 3, (won, lost)
    assert store.lease() is not None and store.lease().owner == won[0]  # type: ignore[union-attr]
