"""A copy of the serving-generation pointer beside an embedded store (DATA_DIR/serving.json), so that a new
process can find the generation to answer from without opening Chroma (importing chromadb alone costs more
than answering a question).

Chroma's pointer stays the truth; this file is only trusted while it agrees with it:
- publishing removes the file, moves Chroma's pointer, then writes the file, all under one file lock, so a
  crash half-way leaves no file (readers then read Chroma) rather than a stale one;
- a reader that read Chroma writes the file under the same lock only after checking Chroma's pointer again.
With a Chroma server (`chroma_url`), other machines publish, so the file is never written or read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from ..settings import Settings
from .generation import Generation
from .snapshot import keep_file

POINTER_FILE = "serving.json"
LOCK_SECONDS = 30.0


def pointer_path(settings: Settings) -> Path:
    return settings.data_dir / POINTER_FILE


def applies(settings: Settings) -> bool:
    """Only an embedded store, which nothing but policybot on this machine writes, has a local pointer."""
    return not settings.chroma_url


@contextmanager
def pointer_lock(settings: Settings) -> Iterator[None]:
    """Held while Chroma's pointer and the file are read or changed together."""
    from filelock import FileLock

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(settings.data_dir / "serving.lock"), timeout=LOCK_SECONDS):
        yield


def read_pointer(settings: Settings) -> Generation | None:
    """The generation the file names, or None (no file, unreadable, or a Chroma server)."""
    if not applies(settings):
        return None
    try:
        held = json.loads(pointer_path(settings).read_text(encoding="utf-8"))
        return Generation(
            str(held["generation"]),
            str(held["fingerprint"]),
            str(held["created"]),
            str(held.get("source", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_pointer(settings: Settings, generation: Generation) -> None:
    """Write the file (call under `pointer_lock`, with `generation` just read from Chroma's pointer)."""
    if not applies(settings):
        return
    path = pointer_path(settings)
    held = {
        "generation": generation.name,
        "fingerprint": generation.fingerprint,
        "created": generation.created,
        "source": generation.source,
    }
    keep_file(path, json.dumps(held))  # a data dir it cannot be written to: readers keep reading Chroma


def clear_pointer(settings: Settings) -> None:
    """Remove the file (call under `pointer_lock`, before Chroma's pointer moves)."""
    with suppress(OSError):
        pointer_path(settings).unlink(missing_ok=True)
