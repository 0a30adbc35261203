"""Retrieval: dense (exact cosine over MiniLM vectors) and BM25 over the same chunks, fused by reciprocal rank,
restricted to the platforms a question names and to the versions in force at the date it asks about.
A searcher answers from a generation's serving copy (`bot/index/snapshot.py`): Chroma is opened only to make
that copy, when it is missing, or for what only Chroma keeps (the recorded changes)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from ..errors import BadQuestion, IndexMissing
from ..index.embeddings import MiniLMEmbeddings, embedder_for, warming
from ..index.generation import Generation
from ..index.pointer import applies, pointer_lock, read_pointer, write_pointer
from ..index.snapshot import ServingCopy, copy_from_chroma, read_copy
from ..index.store import IndexStore, open_store
from ..parse.clauses import parse_clauses
from ..settings import Settings
from ..types import Clause, DocumentVersion, Hit
from .documents import DocumentEntry, VersionEntry, documents_from_manifest
from .fusion import Candidates, fold_hits, masked_top, reciprocal_rank_fusion
from .language import LANGUAGES
from .lexical import expand_query
from .memo import Memo
from .snapshot import lexical_index

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


class Searcher:
    """One loaded index generation: chunk provenance and vectors, the BM25 index and the stored texts."""

    def __init__(
        self,
        settings: Settings,
        generation: Generation,
        copy: ServingCopy,
        embedder: MiniLMEmbeddings,
        store: IndexStore | None = None,
        *,
        warm: bool = True,
    ):
        import numpy as np

        self.settings = settings
        self.generation = generation
        self.embedder = embedder
        self.copy = copy
        self._store = store
        self.manifest = copy.manifest
        self.documents = documents_from_manifest(self.manifest)
        self.versions: dict[str, VersionEntry] = {v.version_id: v for d in self.documents for v in d.versions}
        held = copy.chunks
        if not held.ids:
            raise IndexMissing(
                f"the index in {settings.chroma_url or settings.data_dir} holds no clauses (every file was skipped "
                "or had no text): fix the files `policybot index` listed, or index another folder with "
                "`policybot index --corpus DIR`"
            )
        self.ids, self.texts, self.vectors = held.ids, held.texts, held.vectors
        self._chunks = held
        self.position = {chunk_id: i for i, chunk_id in enumerate(self.ids)}
        self.sections = [tuple(s) for s in held.sections or [json.loads(s) for s in held.column("section")]]
        self.chunk_version_ids: list[str] = held.column("version_id")
        self.version_index = {vid: i for i, vid in enumerate(self.versions)}
        self.chunk_version = np.array(
            [self.version_index.get(vid, -1) for vid in self.chunk_version_ids], dtype=np.int32
        )
        languages = [self.versions[vid].provenance.language for vid in self.chunk_version_ids]
        search_texts = [self._search_text(i) for i in range(len(self.ids))]
        self.lexical = lexical_index(settings, generation, search_texts, languages)
        self.services = sorted({d.service for d in self.documents}, key=str.casefold)
        self._latest = {d.latest.version_id for d in self.documents}
        self._clauses: dict[str, list[Clause]] = {}
        self.memo = Memo()
        self.drafts = Memo(settings.draft_cache) if settings.draft_cache else None
        self._texts: dict[str, str] = {}
        self._texts_lock = threading.Lock()
        if warm:
            self.embedder.encode(["warm up"])  # load the model now, so that query timings measure queries

    @property
    def store(self) -> IndexStore:
        """The Chroma store, opened on first use: answering from the serving copy does not need it."""
        if self._store is None:
            self._store = open_store(self.settings)
        return self._store

    def text(self, sha: str) -> str | None:
        """A stored version text by its SHA-256, checked against it (from the serving copy, else Chroma)."""
        with self._texts_lock:
            held = self._texts.get(sha)
        if held is None:
            held = self.copy.text(sha) or self.store.text(sha)
            if held is not None:
                with self._texts_lock:
                    self._texts[sha] = held
        return held

    def vectors_of(self, chunk_ids: Sequence[str]) -> NDArray[np.float32]:
        return self.vectors[[self.position[c] for c in chunk_ids]]

    def is_latest(self, version_id: str) -> bool:
        return version_id in self._latest

    def meta(self, i: int) -> dict[str, Any]:
        """Chunk i's metadata, as Chroma keeps it beside the chunk."""
        return self._chunks.meta(i)

    def _search_text(self, i: int) -> str:
        provenance = self.versions[self.chunk_version_ids[i]].provenance
        heading = " ".join(self.sections[i])
        return f"{provenance.service} {provenance.title} {heading} {self.texts[i]}"

    # --- versions --------------------------------------------------------------------------------

    def versions_in_force(
        self, as_of: date | None, services: Sequence[str] = (), region: str | None = None
    ) -> list[str]:
        """The version of each document in force on `as_of` (latest when None), for `services` (all when
        empty). With `region`, a document that exists in that region replaces its other regions' copies."""
        wanted = {s.casefold() for s in services}
        docs = [d for d in self.documents if not wanted or d.service.casefold() in wanted]
        if region:
            regional = {(d.service, d.document) for d in docs if d.region.casefold() == region.casefold()}
            docs = [
                d
                for d in docs
                if (d.service, d.document) not in regional or d.region.casefold() == region.casefold()
            ]
        chosen = []
        for doc in docs:
            entry = doc.in_force(as_of)
            if entry is not None:
                chosen.append(entry.version_id)
        return chosen

    def clauses(self, version_id: str) -> list[Clause]:
        """The clauses of a stored version, parsed once per process (a version never changes under its id):
        notes, change answers, comparisons and diffs all read them, often several times per question."""
        held = self._clauses.get(version_id)
        if held is None:
            parse = lambda: parse_clauses(self.version_document(version_id))  # noqa: E731
            held = self._clauses[version_id] = self.copy.clauses(self.versions[version_id].provenance, parse)
        return held

    def version_document(self, version_id: str) -> DocumentVersion:
        """A stored version as a DocumentVersion (its text checked against its hash)."""
        entry = self.versions[version_id]
        text = self.text(entry.provenance.text_sha256)
        if text is None:
            raise IndexMissing(
                f"the stored text of version {version_id} is missing or altered; run `policybot index`"
            )
        return DocumentVersion(
            provenance=entry.provenance, text=text, path=f"stored:{entry.provenance.text_sha256}"
        )

    def find_document(self, service: str, document: str, region: str | None = None) -> DocumentEntry:
        """A document by platform and type or title, any case; an error listing the choices otherwise."""
        service_key, doc_key = service.casefold().strip(), document.casefold().strip()
        matches = [
            d
            for d in self.documents
            if d.service.casefold() == service_key
            and doc_key in (d.document.casefold(), d.title.casefold())
            and (region is None or d.region.casefold() == region.casefold())
        ]
        if not matches:
            have = [
                f"{d.service} / {d.document} ({d.region})"
                for d in self.documents
                if d.service.casefold() == service_key
            ]
            listing = "; ".join(have) if have else "none for that platform; see `policybot corpus list`"
            raise BadQuestion(f"no document {document!r} of {service!r} in the index; it has: {listing}")
        # Several regions: the global one unless a region was asked for.
        return sorted(matches, key=lambda d: (d.region != "global", d.region))[0]

    def binding_document(self, service: str, region: str | None = None) -> DocumentEntry | None:
        """The platform's binding terms (kind "terms"): in `region` when it has a copy there, else the global
        one, else any region's."""
        docs = [d for d in self.documents if d.service.casefold() == service.casefold() and d.kind == "terms"]
        if region:
            regional = [d for d in docs if d.region.casefold() == region.casefold()]
            docs = regional or docs
        return sorted(docs, key=lambda d: (d.region != "global", d.region, d.document))[0] if docs else None

    def document_of(self, version_id: str) -> DocumentEntry:
        for doc in self.documents:
            if any(v.version_id == version_id for v in doc.versions):
                return doc
        raise KeyError(version_id)

    # --- search ----------------------------------------------------------------------------------

    def embed_query(self, text: str) -> NDArray[np.float32]:
        vectors: NDArray[np.float32] = self.embedder.encode([text])
        row: NDArray[np.float32] = vectors[0]
        return row

    def retrieve(
        self,
        text: str,
        *,
        services: Sequence[str] = (),
        as_of: date | None = None,
        k: int | None = None,
        timings: dict[str, float] | None = None,
        region: str | None = None,
        versions: Sequence[str] | None = None,
        vector: NDArray[np.float32] | None = None,
        language: str = "en",
    ) -> list[Hit]:
        """The best chunks for `text`, best first, at most one per clause, duplicates across regions folded."""
        allowed = list(versions) if versions is not None else self.versions_in_force(as_of, services, region)
        found = self.candidates(
            text, allowed, k=k or self.settings.k, vector=vector, language=language, timings=timings
        )
        return list(found.hits)

    def candidates(
        self,
        text: str,
        allowed: Sequence[str],
        *,
        k: int,
        vector: NDArray[np.float32] | None = None,
        language: str = "en",
        wide: int | None = None,
        timings: dict[str, float] | None = None,
    ) -> Candidates:
        """The fused top `k` of `allowed` versions' chunks for `text`, with the dense and keyword rankings they
        came from (`wide` deep each, for the second-stage ranker; the fusion reads the first `candidates`)."""
        timings = timings if timings is not None else {}
        if not allowed:
            return Candidates((), (), ())
        n = self.settings.candidates
        depth = max(wide or n, n)
        if vector is None:
            began = time.perf_counter()
            vector = self.embed_query(text)
            timings["embed_ms"] = (time.perf_counter() - began) * 1000

        began = time.perf_counter()
        dense = self.dense(vector, allowed, depth)
        timings["dense_ms"] = (time.perf_counter() - began) * 1000

        began = time.perf_counter()
        lexical = self.bm25(text, allowed, depth, language)
        timings["bm25_ms"] = (time.perf_counter() - began) * 1000
        return Candidates(tuple(self.fuse(dense[:n], lexical[:n], k)), tuple(dense), tuple(lexical))

    def bm25(
        self, text: str, allowed: Sequence[str], n: int, language: str = "en"
    ) -> list[tuple[str, float]]:
        """The n best allowed chunks by BM25 over `text`, written in `language` (with artists' words mapped to
        the terms' words, and their translations for documents in the corpus's other languages), as (chunk id,
        score); chunks sharing no word with the query are left out."""
        import numpy as np

        scores = self.lexical.scores(list(dict.fromkeys(expand_query(text, language, LANGUAGES))))
        allowed_index = np.array([self.version_index[v] for v in allowed], dtype=np.int32)
        mask = np.isin(self.chunk_version, allowed_index)
        return [(self.ids[i], score) for i, score in masked_top(scores, mask, n)]

    def dense(self, vector: NDArray[np.float32], allowed: Sequence[str], n: int) -> list[tuple[str, float]]:
        """The n nearest allowed chunks, as (chunk id, cosine similarity), nearest first (ties by id).

        Exact: one matrix-vector product over every chunk (about a millisecond for 20,000 here), so no
        approximate index can miss a neighbour and a filter costs nothing."""
        import numpy as np

        allowed_index = np.array([self.version_index[v] for v in allowed], dtype=np.int32)
        mask = np.isin(self.chunk_version, allowed_index)
        scores = np.where(mask, self.vectors @ np.asarray(vector, dtype=np.float32), -np.inf)
        count = min(n, int(mask.sum()))
        if count <= 0:
            return []
        top = np.argpartition(-scores, count - 1)[:count] if count < len(scores) else np.arange(len(scores))
        ordered = sorted(top.tolist(), key=lambda i: (-float(scores[i]), i))
        return [(self.ids[i], float(scores[i])) for i in ordered]

    def fuse(
        self, dense: Sequence[tuple[str, float]], lexical: Sequence[tuple[str, float]], k: int
    ) -> list[Hit]:
        """Dense and BM25 candidates as one ranking (reciprocal rank fusion, the main terms slightly
        preferred), folded to one hit per clause."""
        similarity = dict(dense)
        dense_rank = {chunk_id: r for r, (chunk_id, _) in enumerate(dense, start=1)}
        bm25_rank = {chunk_id: r for r, (chunk_id, _) in enumerate(lexical, start=1)}
        fused = reciprocal_rank_fusion([list(dense_rank), list(bm25_rank)], self.settings.rrf_k)
        prior = self.settings.terms_prior
        if prior != 1.0:
            for chunk_id in fused:
                if not self.versions[self.chunk_version_ids[self.position[chunk_id]]].provenance.binding:
                    fused[chunk_id] /= prior
        ordered = sorted(fused, key=lambda c: (-fused[c], -similarity.get(c, 0.0), c))
        ranked = (
            self.hit(c, fused[c], similarity.get(c, 0.0), dense_rank.get(c), bm25_rank.get(c))
            for c in ordered
        )
        return fold_hits(ranked, k)

    def hit(
        self,
        chunk_id: str,
        score: float = 0.0,
        similarity: float = 0.0,
        dense_rank: int | None = None,
        bm25_rank: int | None = None,
    ) -> Hit:
        i = self.position[chunk_id]
        meta = self.meta(i)
        return Hit(
            chunk_id=chunk_id,
            provenance=self.versions[meta["version_id"]].provenance,
            section=self.sections[i],
            label=str(meta["label"]),
            start=int(meta["start"]),
            end=int(meta["end"]),
            text=self.texts[i],
            clause_start=int(meta["clause_start"]),
            clause_end=int(meta["clause_end"]),
            score=score,
            similarity=similarity,
            dense_rank=dense_rank,
            bm25_rank=bm25_rank,
        )


_searchers: dict[Settings, Searcher] = {}
_searchers_lock = threading.Lock()
_checked: dict[Settings, float] = {}
POINTER_CHECK_SECONDS = 1.0
"""How often a long-running process looks for a newer index generation."""


def open_searcher(settings: Settings, embedder: MiniLMEmbeddings | None = None) -> Searcher:
    """The searcher for the serving generation, loaded once and reloaded when a new generation is published.

    With an embedded store whose pointer file agrees with Chroma (`bot/index/pointer.py`) and a complete
    serving copy, Chroma is not opened at all; otherwise Chroma's pointer is read and the copy made."""
    with _searchers_lock:
        held = _searchers.get(settings)
        now = time.monotonic()
        if held is not None and now - _checked.get(settings, 0.0) < POINTER_CHECK_SECONDS:
            return held
        searcher = _from_pointer_file(settings, held, embedder) or _from_chroma(settings, held, embedder)
        _checked[settings] = now
        _searchers[settings] = searcher
        return searcher


def _from_pointer_file(
    settings: Settings, held: Searcher | None, embedder: MiniLMEmbeddings | None
) -> Searcher | None:
    generation = read_pointer(settings)
    if generation is None:
        return None
    if held is not None and held.generation.name == generation.name:
        return held
    embedder = embedder or embedder_for(settings)
    with warming(embedder):
        copy = read_copy(settings, generation)
        return None if copy is None else Searcher(settings, generation, copy, embedder, warm=False)


def _from_chroma(settings: Settings, held: Searcher | None, embedder: MiniLMEmbeddings | None) -> Searcher:
    store = open_store(settings)
    generation = store.require_current()
    if held is not None and held.generation.name == generation.name:
        searcher = held
    else:
        embedder = embedder or embedder_for(settings)
        with warming(embedder):
            copy = read_copy(settings, generation) or copy_from_chroma(settings, store, generation)
            searcher = Searcher(settings, generation, copy, embedder, store, warm=False)
    if applies(settings):
        with pointer_lock(settings):
            serving = store.current()  # an indexer may have published since: then the next call loads that
            if serving is not None and serving.name == generation.name:
                write_pointer(settings, generation)
    return searcher
