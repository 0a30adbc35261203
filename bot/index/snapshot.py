"""A generation's serving copy: what answering reads, in plain files under DATA_DIR/snapshots/<generation>/,
so that a process answers without importing chromadb (which alone costs more than a question).

It holds the manifest, every chunk's id, text and metadata (sorted by id) and its vector, and the stored
version texts (one file per SHA-256, checked against it when read, as Chroma's copy is). A generation never
changes under its name, so the copy is written once: by the indexer from what it just wrote, or by the first
reader from Chroma. A copy that is missing, unreadable, from other code or incomplete is never used; the
reader then reads Chroma and writes a new one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..types import Clause, Provenance, text_sha256

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from ..settings import Settings
    from .generation import Generation
    from .store import IndexStore

SNAPSHOT_VERSION = "4"
COMPLETE = "complete.json"
"""Written last: a folder without it was not finished and is ignored."""


@dataclass(frozen=True, slots=True)
class Chunks:
    """Every chunk of a generation, in id order: id, text, metadata (one list per metadata key, as Chroma
    keeps it beside each chunk: see `build.chunk_metadata`) and vector."""

    ids: list[str]
    texts: list[str]
    columns: dict[str, list[Any]]
    vectors: NDArray[np.float32]
    """One row per id, in the order of `ids`."""
    sections: list[list[str]] | None = None
    """The "section" column read as lists (as the copy keeps it, not to parse 20,000 JSON strings at start)."""

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def metas(self) -> list[dict[str, Any]]:
        """One metadata dict per chunk, as Chroma returns them."""
        keys = list(self.columns)
        return [dict(zip(keys, row, strict=True)) for row in zip(*self.columns.values(), strict=True)]

    def meta(self, i: int) -> dict[str, Any]:
        return {key: column[i] for key, column in self.columns.items()}

    def column(self, key: str) -> list[Any]:
        return self.columns[key]

    def sorted(self) -> Chunks:
        """The same chunks in id order: a copy written by the indexer and one read from Chroma are identical."""
        order = sorted(range(len(self.ids)), key=self.ids.__getitem__)
        if order == list(range(len(order))):
            return self
        return Chunks(
            [self.ids[i] for i in order],
            [self.texts[i] for i in order],
            {key: [column[i] for i in order] for key, column in self.columns.items()},
            self.vectors[order],
            None if self.sections is None else [self.sections[i] for i in order],
        )


@dataclass(frozen=True, slots=True)
class ServingCopy:
    generation: str
    manifest: dict[str, Any]
    chunks: Chunks
    folder: Path

    def text(self, sha: str) -> str | None:
        """A stored version text by its SHA-256, checked against it; None when absent or altered."""
        try:
            text = (self.folder / "texts" / f"{sha}.txt").read_text(encoding="utf-8")
        except (OSError, ValueError):
            return None
        return text if text_sha256(text) == sha else None

    def clauses(self, provenance: Provenance, parse: Callable[[], list[Clause]]) -> list[Clause]:
        """The clauses of the version `provenance` names, as the copy keeps them (written by the indexer, or
        by the first process that parsed them with `parse`): parsing a long document costs a second."""
        path = self.folder / "clauses" / f"{provenance.version_id}.json"
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
            return [Clause(provenance, tuple(r[0]), str(r[1]), int(r[2]), int(r[3]), str(r[4])) for r in rows]
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            parsed = parse()
            keep_file(path, json.dumps(clause_rows(parsed), ensure_ascii=False))
            return parsed

    def kept(self, name: str) -> str | None:
        """A file another part of policybot keeps with the generation (its recorded changes), or None."""
        try:
            return (self.folder / name).read_text(encoding="utf-8")
        except (OSError, ValueError):
            return None

    def keep(self, name: str, content: str) -> None:
        keep_file(self.folder / name, content)


def clause_rows(clauses: Sequence[Clause]) -> list[list[Any]]:
    return [[list(c.section), c.label, c.start, c.end, c.text] for c in clauses]


def keep_file(path: Path, content: str) -> None:
    """Write one file into a copy, whole or not at all; a copy that cannot be written only means work again."""
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch.write_text(content, encoding="utf-8")
        os.replace(scratch, path)
    except OSError:
        scratch.unlink(missing_ok=True)


def snapshot_dir(settings: Settings, generation: Generation) -> Path:
    return settings.data_dir / "snapshots" / generation.name


def read_copy(settings: Settings, generation: Generation) -> ServingCopy | None:
    """The generation's serving copy, or None (then read Chroma)."""
    import numpy as np

    folder = snapshot_dir(settings, generation)
    try:
        done = _completed(folder, generation)
        if done is None:
            return None
        held = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        vectors = np.load(folder / "vectors.npy", allow_pickle=False)
        chunks = Chunks(
            list(held["ids"]), list(held["texts"]), dict(held["columns"]), vectors, list(held["sections"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    sizes = {
        len(chunks.ids),
        len(chunks.texts),
        len(chunks.sections or ()),
        vectors.shape[0],
        done.get("chunks"),
    }
    sizes.update(len(column) for column in chunks.columns.values())
    if len(sizes) != 1:
        return None
    if manifest.get("generation") != generation.name:
        return None
    return ServingCopy(generation.name, manifest, chunks, folder)


def _completed(folder: Path, generation: Generation) -> dict[str, Any] | None:
    """What `folder`'s COMPLETE file says, when it is a finished copy of `generation` by this code (raises
    OSError or ValueError when it cannot be read)."""
    done: dict[str, Any] = json.loads((folder / COMPLETE).read_text(encoding="utf-8"))
    if done.get("version") != SNAPSHOT_VERSION or done.get("generation") != generation.name:
        return None
    return done


def read_counts(settings: Settings, generation: Generation) -> dict[str, int] | None:
    """The clause and chunk counts of the generation's manifest, from a complete copy (None otherwise)."""
    folder = snapshot_dir(settings, generation)
    try:
        if _completed(folder, generation) is None:
            return None
        counts = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["counts"]
        return {"clauses": int(counts["clauses"]), "chunks": int(counts["chunks"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_copy(
    settings: Settings,
    generation: Generation,
    manifest: dict[str, Any],
    chunks: Chunks,
    texts: Callable[[str], str | None],
    clauses: Sequence[Clause] = (),
    kept: dict[str, str] | None = None,
) -> bool:
    """Write the generation's serving copy (texts read through `texts` by SHA-256) and drop other
    generations' copies. False when it could not be written (a read-only or full disk, a text missing)."""
    import numpy as np

    chunks = chunks.sorted()
    folder = snapshot_dir(settings, generation)
    shas = sorted({v["text_sha256"] for d in manifest["documents"] for v in d["versions"]})

    by_version: dict[str, list[Clause]] = {}
    for clause in clauses:
        by_version.setdefault(clause.provenance.version_id, []).append(clause)

    def write(scratch: Path) -> None:
        (scratch / "clauses").mkdir()
        for version_id, parsed in by_version.items():
            rows = json.dumps(clause_rows(parsed), ensure_ascii=False)
            (scratch / "clauses" / f"{version_id}.json").write_text(rows, encoding="utf-8")
        for name, content in (kept or {}).items():
            (scratch / name).write_text(content, encoding="utf-8")
        (scratch / "texts").mkdir()
        for sha in shas:
            text = texts(sha)
            if text is None:
                raise OSError(f"stored text {sha} is missing")
            (scratch / "texts" / f"{sha}.txt").write_text(text, encoding="utf-8")
        (scratch / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
        sections = [json.loads(section) for section in chunks.columns.get("section", [])]
        held = {"ids": chunks.ids, "texts": chunks.texts, "columns": chunks.columns, "sections": sections}
        (scratch / "chunks.json").write_text(json.dumps(held, ensure_ascii=False), encoding="utf-8")
        np.save(scratch / "vectors.npy", np.ascontiguousarray(chunks.vectors, dtype=np.float32))
        done = {"version": SNAPSHOT_VERSION, "generation": generation.name, "chunks": len(chunks.ids)}
        (scratch / COMPLETE).write_text(json.dumps(done), encoding="utf-8")

    if read_copy(settings, generation) is not None:
        return True  # another process wrote it first; it may be reading it now
    shutil.rmtree(folder, ignore_errors=True)  # one that did not read back is rewritten whole
    if not publish_folder(folder, write):
        return False
    _drop_older(folder)
    return True


def _drop_older(kept: Path) -> None:
    """Remove the copies of generations before the one just written and the one before it (a process still
    answering from that one reads its texts for a moment longer)."""
    others = [f for f in kept.parent.iterdir() if f.name != kept.name and not f.name.startswith(".")]
    others.sort(key=lambda f: f.name)  # generation names start with their creation time
    for other in others[:-1]:
        shutil.rmtree(other, ignore_errors=True)


def chunks_from(
    ids: Sequence[str], texts: Sequence[str], metas: Sequence[dict[str, Any]], vectors: Any
) -> Chunks:
    import numpy as np

    keys = sorted({key for meta in metas for key in meta})
    columns = {key: [meta.get(key) for meta in metas] for key in keys}
    return Chunks(list(ids), list(texts), columns, np.asarray(vectors, dtype=np.float32)).sorted()


def publish_folder(folder: Path, write: Callable[[Path], None]) -> bool:
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


def copy_from_chroma(settings: Settings, store: IndexStore, generation: Generation) -> ServingCopy:
    """The generation's serving copy read from Chroma, and written for the next process when it can be."""
    import numpy as np

    from .client import pages

    manifest = store.manifest(generation)
    ids, texts, metas = store.all_chunks(generation)
    position = {chunk_id: i for i, chunk_id in enumerate(ids)}
    rows: list[int] = []
    parts = []
    for batch in pages(store.chunks(generation), include=["embeddings"]):
        rows.extend(position[chunk_id] for chunk_id in batch["ids"])
        parts.append(np.asarray(batch["embeddings"], dtype=np.float32))
    vectors = np.zeros((len(ids), parts[0].shape[1] if parts else 0), dtype=np.float32)
    if parts:
        vectors[rows] = np.concatenate(parts)
    chunks = chunks_from(ids, texts, metas, vectors)
    write_copy(settings, generation, manifest, chunks, store.text)
    written = read_copy(settings, generation)
    if written is not None:
        return written
    return ServingCopy(generation.name, manifest, chunks, settings.data_dir / "snapshots" / generation.name)
