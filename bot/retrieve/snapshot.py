"""What a cold start reads instead of rebuilding from Chroma: every chunk's id, text and metadata and its
vector (fixed for an index generation), and the BM25 index (fixed for a generation and the tokeniser's code
and word lists), written by the first process that loads a generation, under DATA_DIR/snapshots/.

A snapshot is only a copy: when it is missing, unreadable or from other code, the searcher rebuilds from
Chroma as before and writes a new one; nothing is ever answered from a snapshot that does not match.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import lexical
from .lexical import LexicalIndex

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from ..index.store import Generation
    from ..settings import Settings

SNAPSHOT_VERSION = "1"


@dataclass(frozen=True, slots=True)
class Chunks:
    ids: list[str]
    texts: list[str]
    metas: list[dict[str, Any]]
    vectors: NDArray[np.float32]
    """One row per id, in the order of `ids`."""


def snapshot_dir(settings: Settings, generation: Generation) -> Path:
    return settings.data_dir / "snapshots" / generation.name


def read_chunks(settings: Settings, generation: Generation) -> Chunks | None:
    """The generation's chunks and vectors as a snapshot holds them, or None (then read Chroma)."""
    import numpy as np

    folder = snapshot_dir(settings, generation)
    try:
        held = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
        if held.get("version") != SNAPSHOT_VERSION or held.get("generation") != generation.name:
            return None
        vectors = np.load(folder / "vectors.npy", allow_pickle=False)
        chunks = Chunks(list(held["ids"]), list(held["texts"]), list(held["metas"]), vectors)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not len(chunks.ids) == len(chunks.texts) == len(chunks.metas) == vectors.shape[0]:
        return None
    return chunks


def write_chunks(settings: Settings, generation: Generation, chunks: Chunks) -> None:
    """Keep the generation's chunks for the next cold start, and drop other generations' snapshots."""
    import numpy as np

    folder = snapshot_dir(settings, generation)
    held = {
        "version": SNAPSHOT_VERSION,
        "generation": generation.name,
        "ids": chunks.ids,
        "texts": chunks.texts,
        "metas": chunks.metas,
    }

    shutil.rmtree(folder, ignore_errors=True)  # one that did not read back is rewritten whole

    def write(scratch: Path) -> None:
        (scratch / "chunks.json").write_text(json.dumps(held, ensure_ascii=False), encoding="utf-8")
        np.save(scratch / "vectors.npy", np.ascontiguousarray(chunks.vectors, dtype=np.float32))

    if _publish(folder, write):
        for other in folder.parent.iterdir():
            if other.name != folder.name and not other.name.startswith("."):
                shutil.rmtree(other, ignore_errors=True)


def lexical_key(texts: Sequence[str], languages: Sequence[str]) -> str:
    """What the BM25 index is a function of: the texts, their languages, the tokeniser and its word lists."""
    from importlib.metadata import version

    digest = hashlib.sha256(SNAPSHOT_VERSION.encode())
    for part in (lexical.__file__, Path(lexical.__file__).parent.parent / "data" / "lexicon.toml"):
        digest.update(Path(part).read_bytes())
    digest.update(f"{version('bm25s')}|{version('PyStemmer')}".encode())
    for text, language in zip(texts, languages, strict=True):
        digest.update(f"{language}\x00{text}\x01".encode())
    return digest.hexdigest()[:24]


def read_lexical(settings: Settings, generation: Generation, key: str, size: int) -> LexicalIndex | None:
    folder = snapshot_dir(settings, generation) / f"bm25-{key}"
    if not folder.is_dir():
        return None
    try:
        return LexicalIndex.load(folder, size)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_lexical(settings: Settings, generation: Generation, key: str, index: LexicalIndex) -> None:
    folder = snapshot_dir(settings, generation) / f"bm25-{key}"
    shutil.rmtree(folder, ignore_errors=True)  # one that did not read back is rewritten whole
    _publish(folder, index.save)


def _publish(folder: Path, write: Any) -> bool:
    """Write into a scratch folder beside `folder`, then rename it into place: a reader sees all or nothing.
    A data dir that cannot be written (read-only, full) only means no snapshot: False."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError:
        return False
    try:
        write(scratch)
        os.chmod(scratch, 0o755)
        os.replace(scratch, folder)
        return True
    except OSError:
        return False  # another process published the same snapshot first, or the disk is full
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
