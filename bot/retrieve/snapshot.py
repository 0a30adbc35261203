"""The BM25 index of a generation, kept beside its serving copy (`bot/index/snapshot.py`) under
DATA_DIR/snapshots/<generation>/bm25-<key>/: it is a function of the chunks' search texts and the tokeniser's
code and word lists, so the key names all of them and another tokeniser never reads it. Written by the first
process that loads a generation; one that does not read back is rebuilt and rewritten."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..index.snapshot import SNAPSHOT_VERSION, publish_folder, snapshot_dir
from . import lexical
from .lexical import LexicalIndex

if TYPE_CHECKING:
    from ..index.generation import Generation
    from ..settings import Settings


def lexical_key(texts: Sequence[str], languages: Sequence[str]) -> str:
    """What the BM25 index is a function of: the texts, their languages, the tokeniser and its word lists."""
    from importlib.metadata import version

    digest = hashlib.sha256(SNAPSHOT_VERSION.encode())
    data = Path(lexical.__file__).parent.parent / "data"
    for part in (Path(lexical.__file__), data / "lexicon.toml", data / "stopwords.toml"):
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
    if not folder.parent.is_dir():
        return  # no serving copy to keep it beside (a read-only data dir)
    shutil.rmtree(folder, ignore_errors=True)  # one that did not read back is rewritten whole
    publish_folder(folder, index.save)


def lexical_index(
    settings: Settings, generation: Generation, texts: Sequence[str], languages: Sequence[str]
) -> LexicalIndex:
    """The BM25 index of `texts`, from the snapshot when one was written by the same tokeniser, else built
    and written for the next process."""
    key = lexical_key(texts, languages)
    index = read_lexical(settings, generation, key, len(texts))
    if index is None:
        index = LexicalIndex(texts, languages)
        write_lexical(settings, generation, key, index)
    return index
