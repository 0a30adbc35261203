"""Building the index: corpus → clauses → chunks → embeddings → a new Chroma generation, published atomically."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import IndexBusy
from ..ingest.load import load_corpus
from ..parse.chunks import make_chunks
from ..parse.clauses import parse_clauses
from ..settings import Settings
from ..types import Chunk, Clause, Corpus, DocumentVersion, IndexReport
from .embeddings import MODEL_NAME, MiniLMEmbeddings, embedder_for
from .fingerprint import PARSER_VERSION, fingerprint, source_fingerprint, unchanged_source
from .generation import Generation
from .lease import IndexLease
from .metadata import date_to_int, provenance_metadata
from .snapshot import Chunks, chunks_from, write_copy
from .store import IndexStore, open_store

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): how far a long stage has got (load, embed, write, publish)."""

EMBED_BATCH = 256
"""Texts embedded between two progress reports (and lease renewals)."""
WRITE_BATCH = 2000
"""Chunks written to Chroma in one request, between two progress reports."""


def _nothing(stage: str, done: int, total: int) -> None:
    return None


def chunk_corpus(corpus: Corpus) -> tuple[list[Clause], list[Chunk]]:
    clauses: list[Clause] = []
    chunks: list[Chunk] = []
    for version in corpus.versions:
        for clause in parse_clauses(version):
            clauses.append(clause)
            chunks.extend(make_chunks(clause))
    return clauses, chunks


def version_order(version: DocumentVersion) -> tuple[date, int, date]:
    """How versions of one document follow each other: by stated date; on the same date the fuller text
    (a complete archive copy beats passages quoted elsewhere), then the later recording."""
    p = version.provenance
    return (p.version_date, len(version.text), p.recorded or p.version_date)


def latest_versions(versions: Sequence[DocumentVersion]) -> set[str]:
    """Version ids of the newest version of each document."""
    newest: dict[str, DocumentVersion] = {}
    for version in versions:
        held = newest.get(version.provenance.doc_key)
        if held is None or version_order(version) >= version_order(held):
            newest[version.provenance.doc_key] = version
    return {v.provenance.version_id for v in newest.values()}


def build_manifest(
    corpus: Corpus,
    clauses: Sequence[Clause],
    chunks: Sequence[Chunk],
    generation: Generation,
    sources: Sequence[str],
) -> dict[str, Any]:
    clause_counts: dict[str, int] = {}
    chunk_counts: dict[str, int] = {}
    for clause in clauses:
        clause_counts[clause.provenance.version_id] = clause_counts.get(clause.provenance.version_id, 0) + 1
    for chunk in chunks:
        vid = chunk.clause.provenance.version_id
        chunk_counts[vid] = chunk_counts.get(vid, 0) + 1
    documents: dict[str, dict[str, Any]] = {}
    for version in sorted(corpus.versions, key=version_order):
        p = version.provenance
        doc = documents.setdefault(
            p.doc_key,
            {
                "service": p.service,
                "document": p.document,
                "title": p.title,
                "kind": p.kind,
                "region": p.region,
                "url": p.source_url,
                "versions": [],
            },
        )
        doc["title"], doc["url"], doc["kind"] = p.title, p.source_url or doc["url"], p.kind
        doc["versions"].append(
            {
                "version_id": p.version_id,
                "date": p.version_date.isoformat(),
                "date_statement": p.date_statement,
                "recorded": p.recorded.isoformat() if p.recorded else None,
                "text_sha256": p.text_sha256,
                "clauses": clause_counts.get(p.version_id, 0),
                "chunks": chunk_counts.get(p.version_id, 0),
                "path": version.path,
                "provenance": provenance_metadata(p),
            }
        )
    return {
        "generation": generation.name,
        "created": generation.created,
        "fingerprint": generation.fingerprint,
        "model": MODEL_NAME,
        "parser_version": PARSER_VERSION,
        "sources": list(sources),
        "documents": sorted(
            documents.values(), key=lambda d: (d["service"].casefold(), d["document"], d["region"])
        ),
        "problems": [str(p) for p in corpus.problems],
        "counts": {"versions": len(corpus.versions), "clauses": len(clauses), "chunks": len(chunks)},
    }


def chunk_metadata(chunk: Chunk, latest: bool) -> dict[str, Any]:
    """What Chroma keeps beside each chunk: enough to filter and to place it; the rest is in the manifest."""
    clause = chunk.clause
    p = clause.provenance
    return {
        "service": p.service,
        "version_id": p.version_id,
        "version_date": date_to_int(p.version_date),
        "latest": latest,
        "section": json.dumps(list(clause.section), ensure_ascii=False),
        "label": clause.label,
        "start": chunk.start,
        "end": chunk.end,
        "clause_start": clause.start,
        "clause_end": clause.end,
        "text_hash": chunk.text_hash,
    }


def build_index(
    corpus_dirs: Sequence[Path | str],
    settings: Settings,
    *,
    progress: Progress | None = None,
    embedder: MiniLMEmbeddings | None = None,
    store: IndexStore | None = None,
    wait: float = 0.0,
) -> IndexReport:
    """Index `corpus_dirs` into a new generation and publish it; a no-op when nothing changed.

    Text already embedded in the serving generation is not embedded again. The serving generation keeps
    answering until the new one is complete. Another indexer at work on the same data dir (file lock) or
    the same Chroma server (lease) makes this wait up to `wait` seconds, then fail with IndexBusy.
    """
    began = time.perf_counter()
    report = progress or _nothing
    lock = _lock_data_dir(settings, wait)
    try:
        corpus = _load(corpus_dirs, report)
        source = source_fingerprint(corpus)
        known = None if store is not None else unchanged_source(settings, corpus, source, began)
        if known is not None:
            return known
        chunked = _chunk(corpus)
        store = store or open_store(settings)
        current = store.current()
        if current is not None and (current.fingerprint, current.source) == (chunked.fingerprint, source):
            return chunked.report(current, began, unchanged=True)
        lease = store.take_lease(wait=max(0.0, wait - (time.perf_counter() - began)))
        try:
            current = store.current()  # another indexer may have published while this one waited
            if current is not None and current.fingerprint == chunked.fingerprint:
                if current.source != source:  # same chunks from other code or files: remember this source
                    current = replace(current, source=source)
                    store.publish(current, store.manifest(current))
                return chunked.report(current, began, unchanged=True)

            def step(stage: str, done: int, total: int) -> None:
                report(stage, done, total)
                lease.keep()

            generation, written, embedded = _write_generation(
                store, chunked, source, current, settings, embedder, step
            )
            manifest = build_manifest(
                chunked.corpus, chunked.clauses, chunked.chunks, generation, [str(d) for d in corpus_dirs]
            )
            kept = _record_changes(store, generation, chunked, current, step)
            # What the next `ask` starts from, written before the pointer moves so that a server that sees
            # the new generation finds its copy ready (a copy of a generation never published is only unused).
            texts = {v.provenance.text_sha256: v.text for v in chunked.corpus.versions}
            write_copy(settings, generation, manifest, written, texts.get, chunked.clauses, kept)
            _publish(store, lease, generation, manifest, written.count, current, report)
        finally:
            lease.release()
        return chunked.report(generation, began, unchanged=False, chunks=written.count, embedded=embedded)
    finally:
        lock.release()


def _lock_data_dir(settings: Settings, wait: float) -> Any:
    """The data dir's file lock, held (one indexer per data dir), or IndexBusy after `wait` seconds."""
    from filelock import FileLock, Timeout

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.data_dir / "index.lock"))
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        waited = f" (waited {wait:g} s)" if wait else ""
        raise IndexBusy(
            f"another `policybot index` is running on {settings.data_dir} (lock {lock.lock_file}){waited}; "
            "wait for it to finish and run this again, or give --wait SECONDS"
        ) from None
    return lock


@dataclass(frozen=True, slots=True)
class _ChunkedCorpus:
    """The corpus read for indexing: its clauses and chunks, and the fingerprint an index of them carries."""

    corpus: Corpus
    clauses: list[Clause]
    chunks: list[Chunk]
    fingerprint: str

    def report(
        self,
        generation: Generation,
        began: float,
        *,
        unchanged: bool,
        chunks: int | None = None,
        embedded: int = 0,
    ) -> IndexReport:
        return IndexReport(
            documents=len({v.provenance.doc_key for v in self.corpus.versions}),
            versions=len(self.corpus.versions),
            clauses=len(self.clauses),
            chunks=len(self.chunks) if chunks is None else chunks,
            embedded=embedded,
            seconds=time.perf_counter() - began,
            generation=generation.name,
            unchanged=unchanged,
            problems=self.corpus.problems,
        )


def _load(corpus_dirs: Sequence[Path | str], report: Progress) -> Corpus:
    report("load", 0, 1)
    corpus = load_corpus(corpus_dirs)
    report("load", 1, 1)
    return corpus


def _chunk(corpus: Corpus) -> _ChunkedCorpus:
    clauses, chunks = chunk_corpus(corpus)
    return _ChunkedCorpus(corpus, clauses, chunks, fingerprint(chunks, corpus.versions))


def _write_generation(
    store: IndexStore,
    chunked: _ChunkedCorpus,
    source: str,
    current: Generation | None,
    settings: Settings,
    embedder: MiniLMEmbeddings | None,
    step: Progress,
) -> tuple[Generation, Chunks, int]:
    """A new, complete generation of `chunked`'s chunks, and the texts they quote stored: (the generation,
    the chunks written, distinct texts embedded). Vectors already in the serving generation `current` are
    reused."""
    chunks = chunked.chunks
    known = store.embeddings_by_hash(current) if current is not None else {}
    embedder = embedder or embedder_for(settings)
    vectors, embedded = _embed(chunks, known, embedder, step)
    generation = store.new_generation(chunked.fingerprint, source)
    latest = latest_versions(chunked.corpus.versions)
    store.put_texts({v.provenance.text_sha256: v.text for v in chunked.corpus.versions})
    ids = [c.chunk_id for c in chunks]
    unique = _unique_positions(ids)
    written = chunks_from(
        [ids[i] for i in unique],
        [chunks[i].text for i in unique],
        [chunk_metadata(chunks[i], chunks[i].clause.provenance.version_id in latest) for i in unique],
        [vectors[chunks[i].text_hash] for i in unique],
    )
    step("write", 0, written.count)
    for start in range(0, written.count, WRITE_BATCH):
        end = start + WRITE_BATCH
        store.add_chunks(
            generation,
            written.ids[start:end],
            written.vectors[start:end],
            written.texts[start:end],
            written.metas[start:end],
        )
        step("write", min(end, written.count), written.count)
    return generation, written, embedded


def _record_changes(
    store: IndexStore,
    generation: Generation,
    chunked: _ChunkedCorpus,
    current: Generation | None,
    step: Progress,
) -> dict[str, str]:
    """What changed between consecutive versions, recorded with the generation before it is published (one
    upsert; pairs already compared under `current` are reused, so ids and first-seen times carry over); returned
    as the file the serving copy keeps it in."""
    from ..changes.log import KEPT, kept_text  # the changes package needs the store, not the builder
    from ..changes.record import record_build_changes

    record = record_build_changes(
        store,
        generation,
        chunked.corpus.versions,
        chunked.clauses,
        previous=current,
        progress=step,
        parser_version=PARSER_VERSION,
    )
    return {KEPT: kept_text(record)}


def _publish(
    store: IndexStore,
    lease: IndexLease,
    generation: Generation,
    manifest: dict[str, Any],
    chunks: int,
    previous: Generation | None,
    report: Progress,
) -> None:
    """Move the pointer to `generation`, then drop every generation but it and `previous`."""
    report("publish", 0, 1)
    lease.keep(force=True)  # never publish on a lease another indexer has taken over
    store.publish(generation, manifest, chunks=chunks)
    report("publish", 1, 1)
    if lease.held():  # an indexer that took over since may be writing a generation: leave it be
        _drop_old(store, keep={generation.name, previous.name if previous else ""})


def _unique_positions(ids: Sequence[str]) -> list[int]:
    seen: set[str] = set()
    positions = []
    for i, chunk_id in enumerate(ids):
        if chunk_id not in seen:
            seen.add(chunk_id)
            positions.append(i)
    return positions


def _embed(
    chunks: Sequence[Chunk], known: dict[str, Any], embedder: MiniLMEmbeddings, report: Progress
) -> tuple[dict[str, Any], int]:
    """Vectors for every chunk's text hash: reused where known, computed once per distinct text otherwise."""
    vectors = dict(known)
    todo: dict[str, str] = {}
    for chunk in chunks:
        if chunk.text_hash not in vectors:
            todo.setdefault(chunk.text_hash, chunk.embed_text)
    hashes = list(todo)
    # Similar lengths together: padding is what a CPU spends most of its time on.
    hashes.sort(key=lambda h: len(todo[h]))
    step = EMBED_BATCH
    report("embed", 0, len(hashes))
    for start in range(0, len(hashes), step):
        part = hashes[start : start + step]
        for text_hash, vector in zip(part, embedder.encode_documents([todo[h] for h in part]), strict=True):
            vectors[text_hash] = vector
        report("embed", min(start + step, len(hashes)), len(hashes))
    return vectors, len(hashes)


def _drop_old(store: IndexStore, keep: set[str]) -> None:
    """Keep the new generation and the one before it (queries in flight may still read it); drop the rest,
    including what indexers that crashed or were killed left half-written."""
    for name in store.generations():
        if name not in keep:
            store.drop_generation(name)
