"""Shared fixtures: the bundled model loaded once per session, and indexes built once per session."""

from __future__ import annotations

import os
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


def needs_shared() -> pytest.MarkDecorator:
    return pytest.mark.skipif(not OTA.is_dir(), reason=f"shared corpus not found at {OTA}")


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's real data directory."""
    monkeypatch.setenv("POLICYBOT_DATA_DIR", str(tmp_path_factory.mktemp("default-data")))
    monkeypatch.delenv("POLICYBOT_CHROMA_URL", raising=False)


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    from bot.embeddings import get_embedder

    model = get_embedder()
    model.encode(["warm up"])
    return model


@pytest.fixture(scope="session")
def test_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """The project's own small test corpus, indexed once."""
    from bot.index import build_index
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
    from bot.index import build_index
    from bot.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("shared-index"))
    build_index([OTA, BUNDLED], settings, embedder=embedder)
    yield settings
