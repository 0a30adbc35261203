"""What an index is a function of: `fingerprint` of the chunks a corpus gives, and `source_fingerprint` of the
files and code that give them, which tells an unchanged corpus without chunking it again."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path

from ..settings import Settings
from ..types import Chunk, Corpus, DocumentVersion, IndexReport
from .embeddings import MODEL_NAME
from .metadata import provenance_metadata
from .pointer import read_pointer
from .snapshot import read_counts

PARSER_VERSION = "8"
"""Bump when clause parsing or chunking changes, so an unchanged corpus is still re-indexed once."""


def fingerprint(chunks: Sequence[Chunk], versions: Sequence[DocumentVersion]) -> str:
    digest = hashlib.sha256(f"{MODEL_NAME}|{PARSER_VERSION}".encode())
    for chunk_id in sorted(c.chunk_id for c in chunks):
        digest.update(chunk_id.encode())
    for version in sorted(versions, key=lambda v: v.provenance.version_id):
        digest.update(json.dumps(provenance_metadata(version.provenance), sort_keys=True).encode())
    return digest.hexdigest()


INDEX_CODE = ("build.py", "metadata.py", "fingerprint.py")
"""The indexer's own files that decide what a chunk and its metadata are."""
SOURCE_CODE = ("parse", "ingest", "data")
"""The folders of bot/ whose code and data files decide a corpus's clauses, chunks and provenance."""


def source_fingerprint(corpus: Corpus) -> str:
    """Of what an index of `corpus` is a function of before any chunking: each version's provenance and text
    hash, the model, and the code and data that parse and chunk (INDEX_CODE and SOURCE_CODE). The same source
    as the serving generation's means nothing changed, without chunking the corpus again."""
    root = Path(__file__).resolve().parent.parent
    here = Path(__file__).resolve().parent
    code = [here / name for name in INDEX_CODE] + [
        path
        for folder in SOURCE_CODE
        for path in (root / folder).rglob("*")
        if path.suffix in (".py", ".toml")
    ]
    digest = hashlib.sha256(f"{MODEL_NAME}|{PARSER_VERSION}".encode())
    for path in sorted(code):
        digest.update(path.relative_to(root).as_posix().encode() + b"\x00" + path.read_bytes())
    for version in sorted(corpus.versions, key=lambda v: v.provenance.version_id):
        digest.update(json.dumps(provenance_metadata(version.provenance), sort_keys=True).encode())
        digest.update(version.provenance.text_sha256.encode())
    return digest.hexdigest()


def unchanged_source(settings: Settings, corpus: Corpus, source: str, began: float) -> IndexReport | None:
    """The report of an unchanged index when the embedded store's pointer file names a generation built from
    this very source and its serving copy is there (no chunking, no Chroma); None otherwise."""
    current = read_pointer(settings)
    if current is None or current.source != source:
        return None
    counts = read_counts(settings, current)
    if counts is None:
        return None
    return IndexReport(
        documents=len({v.provenance.doc_key for v in corpus.versions}),
        versions=len(corpus.versions),
        clauses=counts["clauses"],
        chunks=counts["chunks"],
        embedded=0,
        seconds=time.perf_counter() - began,
        generation=current.name,
        unchanged=True,
        problems=corpus.problems,
    )
