"""Atomic re-index: an indexer killed with SIGKILL at any point leaves the previous generation serving unchanged
and the next run cleans up after it; questions asked during a re-index keep being answered; a second
indexer at the same time fails clearly at once, or waits with --wait."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from tests.conftest import DATA, ROOT, empty_chroma

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SMALL = [DATA / "ota"]
BIGGER = [DATA / "ota", DATA / "flat", DATA / "frontmatter"]
LOUDWAVE = "Can Loudwave train AI on my music?"
TUNEBOX = "How much does Tunebox pay artists?"

# The indexer under test: build_index in its own process, printing each progress report; at the chosen
# point it stops (sleeps) so that the test's SIGKILL lands exactly there. Small batches give the embed and
# write stages several steps, so "mid" is after some chunks and before the rest.
INDEXER = textwrap.dedent(
    """
    import sys, time
    from bot.index import build as index
    from bot.settings import Settings

    index.EMBED_BATCH, index.WRITE_BATCH = 2, 8
    data_dir, chroma_url, point, pause, *corpora = sys.argv[1:]
    stage_at, when = point.split(":")

    def progress(stage, done, total):
        print(stage, done, total, flush=True)
        if stage == stage_at and (done == 0 if when == "start" else 0 < done < total):
            print("paused", flush=True)
            time.sleep(float(pause))

    report = index.build_index(corpora, Settings(data_dir=data_dir, chroma_url=chroma_url), progress=progress)
    print("published", report.generation, flush=True)
    """
)


def start_indexer(
    settings: Settings, point: str, corpora: list[Path], pause: float = 600.0
) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [str(settings.data_dir), settings.chroma_url, point, str(pause), *map(str, corpora)]
    return subprocess.Popen(
        [sys.executable, "-c", INDEXER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def read_until_paused(indexer: subprocess.Popen[str], timeout: float = 180.0) -> list[str]:
    """The progress lines the indexer printed up to its pause."""
    assert indexer.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = indexer.stdout.readline()
        if not line:
            err = indexer.stderr.read() if indexer.stderr else ""
            raise AssertionError(f"the indexer ended before pausing: {lines} {err[-2000:]}")
        if line.strip() == "paused":
            return lines
        lines.append(line.strip())
    raise AssertionError(f"the indexer did not pause within {timeout:.0f} s: {lines}")


def answer_of(question: str, settings: Settings) -> dict[str, Any]:
    from bot.answer.ask import ask
    from bot.answer.schema import answer_json

    answer = answer_json(ask(question, settings))
    answer.pop("timings_ms")
    return answer


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> tuple[Path, str, dict[str, Any]]:
    """An embedded index of the small corpus: its data dir, its generation and its answer to LOUDWAVE.
    Each kill test works on a copy."""
    from bot.index.build import build_index

    settings = Settings(data_dir=tmp_path_factory.mktemp("served") / "data")
    report = build_index(SMALL, settings, embedder=embedder)
    return settings.data_dir, report.generation, answer_of(LOUDWAVE, settings)


@pytest.fixture
def copy(served: tuple[Path, str, dict[str, Any]], tmp_path: Path) -> Iterator[Settings]:
    shutil.copytree(served[0], tmp_path / "data")
    yield Settings(data_dir=tmp_path / "data")


KILL_POINTS = {
    # point: (the stages reported before the kill, whether it leaves a half-written generation behind)
    "load:start": (["load"], False),
    "embed:mid": (["load", "embed"], False),
    "write:mid": (["load", "embed", "write"], True),
    # The generation's changes are recorded after it is written and before it is published.
    "publish:start": (["load", "embed", "write", "changes", "publish"], True),
}


def stages(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(line.split()[0] for line in lines))


def where(line: str) -> str:
    """`embed 2 7` → `embed:mid`: where in its stage a progress line is."""
    stage, done, total = line.split()
    return f"{stage}:{'start' if done == '0' else 'end' if done == total else 'mid'}"


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_sigkill_at_any_point_leaves_the_previous_index_serving(
    point: str, copy: Settings, served: tuple[Path, str, dict[str, Any]], embedder: Any
) -> None:
    from bot.index.build import build_index
    from bot.index.store import open_store
    from bot.retrieve.searcher import POINTER_CHECK_SECONDS

    _, generation, answer = served
    indexer = start_indexer(copy, point, BIGGER)
    try:
        lines = read_until_paused(indexer)
    finally:
        indexer.send_signal(signal.SIGKILL)
        indexer.wait(30)
    expected, leaves_orphan = KILL_POINTS[point]
    assert stages(lines) == expected and where(lines[-1]) == point, lines
    print(f"killed at {point} after: {' | '.join(lines)}")

    store = open_store(copy)
    assert store.require_current().name == generation  # the same generation serves ...
    assert answer_of(LOUDWAVE, copy) == answer  # ... and gives the same answer
    left = [g for g in store.generations() if g != generation]
    assert len(left) == (1 if leaves_orphan else 0), left

    report = build_index(BIGGER, copy, embedder=embedder)  # the lock and the lease died with the indexer
    assert not report.unchanged
    assert set(store.generations()) == {generation, report.generation}  # the orphan is gone
    assert store.require_current().name == report.generation
    print(
        f"  {generation} served on, unchanged; left behind {left or 'nothing'}; next run published {report.generation}"
    )
    time.sleep(POINTER_CHECK_SECONDS)  # this process's searcher looks for a new generation once a second
    after = answer_of(TUNEBOX, copy)
    assert not after["abstained"] and after["citations"][0]["service"] == "Tunebox"


def test_sigkill_while_writing_to_a_chroma_server_leaves_the_previous_index_serving(
    chroma_server: str, tmp_path: Path, embedder: Any
) -> None:
    from bot.index.build import build_index
    from bot.index.store import open_store

    empty_chroma(chroma_server)
    settings = Settings(data_dir=tmp_path / "data", chroma_url=chroma_server)
    first = build_index(SMALL, settings, embedder=embedder)
    answer = answer_of(LOUDWAVE, settings)
    indexer = start_indexer(settings, "write:mid", BIGGER)
    try:
        lines = read_until_paused(indexer)
    finally:
        indexer.send_signal(signal.SIGKILL)
        indexer.wait(30)
    print(f"killed (Chroma server) after: {' | '.join(lines)}")
    reader = Settings(data_dir=tmp_path / "other-worker", chroma_url=chroma_server)
    assert open_store(reader).require_current().name == first.generation
    assert answer_of(LOUDWAVE, reader) == answer
    assert len(open_store(reader).generations()) == 2
    second = build_index(BIGGER, settings, embedder=embedder)
    assert set(open_store(reader).generations()) == {first.generation, second.generation}


def test_questions_asked_during_a_reindex_keep_being_answered(
    copy: Settings, served: tuple[Path, str, dict[str, Any]]
) -> None:
    """A thread asks in a loop while `policybot index` runs in another process on the same data dir."""
    from bot.answer.ask import ask
    from bot.retrieve.searcher import POINTER_CHECK_SECONDS, open_searcher

    _, generation, _ = served
    errors: list[str] = []
    seen: list[str] = []
    tunebox: list[bool] = []
    stop = threading.Event()

    def keep_asking() -> None:
        while not stop.is_set():
            try:
                ask(LOUDWAVE, copy)
                seen.append(open_searcher(copy).generation.name)
                tunebox.append("Tunebox" in {c.provenance.service for c in ask(TUNEBOX, copy).citations})
            except Exception as exc:  # any error at all fails the test
                errors.append(f"{type(exc).__name__}: {exc}")

    asking = threading.Thread(target=keep_asking)
    asking.start()
    try:
        command = [sys.executable, "-m", "bot", "--data-dir", str(copy.data_dir), "index", "--json"]
        result = subprocess.run(
            command + [arg for d in BIGGER for arg in ("--corpus", str(d))],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        new = json.loads(result.stdout)["generation"]
        deadline = time.monotonic() + 30 + POINTER_CHECK_SECONDS
        while new not in seen[-1:] and time.monotonic() < deadline and not errors:
            time.sleep(0.2)
        time.sleep(0.5)
    finally:
        stop.set()
        asking.join(60)
    print(f"asked {2 * len(seen)} questions during and after the re-index, {len(errors)} errors")
    assert errors == []
    assert seen[0] == generation and seen[-1] == new
    assert not tunebox[0] and tunebox[-1]  # Tunebox's terms are quoted once the new generation serves


def test_a_second_indexer_fails_at_once_or_waits_with_wait(copy: Settings) -> None:
    """While one indexer is paused before publishing, `policybot index` fails clearly (exit 1, one line);
    `policybot index --wait 120` waits for it, then indexes its own corpus on top."""
    from bot.index.store import open_store

    first = start_indexer(copy, "publish:start", BIGGER, pause=6.0)
    base = [sys.executable, "-m", "bot", "--data-dir", str(copy.data_dir), "index", "--json"]
    corpora = [arg for d in [*BIGGER, DATA / "hostile"] for arg in ("--corpus", str(d))]
    try:
        read_until_paused(first)
        refused = subprocess.run(base + corpora, capture_output=True, text=True, cwd=ROOT, timeout=120)
        waiting = subprocess.Popen(
            [*base, "--wait", "120", *corpora],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        out, err = waiting.communicate(timeout=300)
        assert first.stdout is not None
        published = first.stdout.read().split()
    finally:
        first.kill()
        first.wait(30)
    assert refused.returncode == 1 and refused.stdout == ""
    (line,) = refused.stderr.strip().splitlines()
    assert "another `policybot index` is running" in line and "--wait" in line
    assert waiting.returncode == 0, err
    report = json.loads(out)
    assert "published" in published and not report["unchanged"]
    first_generation = published[published.index("published") + 1]
    assert report["generation"] > first_generation  # it published after the first one, not instead of it
    assert open_store(copy).require_current().name == report["generation"]
