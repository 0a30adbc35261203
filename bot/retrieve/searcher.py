"""Retrieval: dense (Chroma + MiniLM) and BM25 over the same chunks, fused by reciprocal rank, restricted to
the platforms a question names and to the versions in force at the date it asks about."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from ..errors import BadQuestion, IndexMissing
from ..index.embeddings import MiniLMEmbeddings, embedder_for
from ..index.store import Generation, IndexStore, open_store
from ..parse.clauses import parse_clauses
from ..settings import Settings
from ..types import Clause, DocumentVersion, Hit
from .documents import DocumentEntry, VersionEntry, documents_from_manifest
from .fusion import fold_hits, masked_top, reciprocal_rank_fusion
from .language import LANGUAGES
from .lexical import LexicalIndex, expand_query
from .snapshot import Chunks, lexical_key, read_chunks, read_lexical, write_chunks, write_lexical

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class Candidates:
    hits: tuple[Hit, ...]
    """Fused, best first, one per clause."""
    dense: tuple[tuple[str, float], ...]
    """(chunk id, cosine similarity), nearest first."""
    lexical: tuple[tuple[str, float], ...]
    """(chunk id, BM25 score), best first."""


class Searcher:
    """One loaded index generation: chunk provenance, the BM25 index and the Chroma collection to query."""

    def __init__(
        self, settings: Settings, store: IndexStore, generation: Generation, embedder: MiniLMEmbeddings
    ):
        import numpy as np

        self.settings = settings
        self.store = store
        self.generation = generation
        self.embedder = embedder
        self.manifest = store.manifest(generation)
        self.documents = documents_from_manifest(self.manifest)
        self.versions: dict[str, VersionEntry] = {v.version_id: v for d in self.documents for v in d.versions}
        self.collection = store.chunks(generation)
        held = read_chunks(settings, generation)
        ids, texts, metas = (held.ids, held.texts, held.metas) if held else store.all_chunks(generation)
        if not ids:
            raise IndexMissing(
                f"the index in {settings.chroma_url or settings.data_dir} holds no clauses (every file was skipped "
                "or had no text): fix the files `policybot index` listed, or index another folder with "
                "`policybot index --corpus DIR`"
            )
        self.ids = ids
        self.texts = texts
        self.metas = metas
        self.position = {chunk_id: i for i, chunk_id in enumerate(ids)}
        self.sections = [tuple(json.loads(m["section"])) for m in metas]
        self.version_index = {vid: i for i, vid in enumerate(self.versions)}
        self.chunk_version = np.array(
            [self.version_index.get(m["version_id"], -1) for m in metas], dtype=np.int32
        )
        self.vectors = held.vectors if held else self._load_vectors()
        if held is None:
            write_chunks(settings, generation, Chunks(ids, texts, metas, self.vectors))
        self.lexical = self._lexical_index()  # after write_chunks, which replaces the snapshot folder whole
        self.services = sorted({d.service for d in self.documents}, key=str.casefold)
        self._latest = {d.latest.version_id for d in self.documents}
        self._clauses: dict[str, list[Clause]] = {}
        self.embedder.encode(["warm up"])  # load the model now, so that query timings measure queries

    def _lexical_index(self) -> LexicalIndex:
        """The BM25 index of every chunk, from the snapshot when one was written by the same tokeniser."""
        texts = [self._search_text(i) for i in range(len(self.ids))]
        languages = [self.versions[m["version_id"]].provenance.language for m in self.metas]
        key = lexical_key(texts, languages)
        index = read_lexical(self.settings, self.generation, key, len(texts))
        if index is None:
            index = LexicalIndex(texts, languages)
            write_lexical(self.settings, self.generation, key, index)
        return index

    def _load_vectors(self) -> NDArray[np.float32]:
        """Every chunk's embedding, in the order of `ids`: the second-stage ranker compares the question with
        candidates the dense retriever did not return."""
        import numpy as np

        from ..index.client import pages

        vectors = np.zeros((len(self.ids), self.embedder.dimension), dtype=np.float32)
        for batch in pages(self.collection, include=["embeddings"]):
            rows = [self.position[chunk_id] for chunk_id in batch["ids"]]
            vectors[rows] = np.asarray(batch["embeddings"], dtype=np.float32)
        return vectors

    def vectors_of(self, chunk_ids: Sequence[str]) -> NDArray[np.float32]:
        return self.vectors[[self.position[c] for c in chunk_ids]]

    def is_latest(self, version_id: str) -> bool:
        return version_id in self._latest

    def _search_text(self, i: int) -> str:
        meta = self.metas[i]
        provenance = self.versions[meta["version_id"]].provenance
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
            held = self._clauses[version_id] = parse_clauses(self.version_document(version_id))
        return held

    def version_document(self, version_id: str) -> DocumentVersion:
        """A stored version as a DocumentVersion (its text checked against its hash)."""
        entry = self.versions[version_id]
        text = self.store.text(entry.provenance.text_sha256)
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
        """The n nearest allowed chunks, as (chunk id, cosine similarity).

        Chroma answers an unfiltered query in about a millisecond but a filtered one in 5-40 ms here, so a
        wide unfiltered query is tried first and filtered in memory; only when too few allowed chunks come
        back (a rare platform, an old version) does Chroma filter.
        """
        wanted = set(allowed)
        wide = min(len(self.ids), max(n * 5, 200))
        result = self.collection.query(query_embeddings=[vector], n_results=wide, include=["distances"])
        pairs = zip(result["ids"][0], result["distances"][0], strict=True)
        dense = [
            (cid, 1.0 - float(d))
            for cid, d in pairs
            if self.metas[self.position[cid]]["version_id"] in wanted
        ]
        if len(dense) >= n or wide >= len(self.ids):
            return dense[:n]
        where: dict[str, Any] = (
            {"version_id": {"$in": list(allowed)}} if len(allowed) > 1 else {"version_id": allowed[0]}
        )
        result = self.collection.query(
            query_embeddings=[vector], n_results=n, where=where, include=["distances"]
        )
        pairs = zip(result["ids"][0], result["distances"][0], strict=True)
        return [(cid, 1.0 - float(d)) for cid, d in pairs]

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
                if not self.versions[self.metas[self.position[chunk_id]]["version_id"]].provenance.binding:
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
        meta = self.metas[i]
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
    """The searcher for the serving generation, loaded once and reloaded when a new generation is published."""
    with _searchers_lock:
        held = _searchers.get(settings)
        now = time.monotonic()
        if held is not None and now - _checked.get(settings, 0.0) < POINTER_CHECK_SECONDS:
            return held
        store = open_store(settings)
        generation = store.require_current()
        _checked[settings] = now
        if held is not None and held.generation.name == generation.name:
            return held
        searcher = Searcher(settings, store, generation, embedder or embedder_for(settings))
        _searchers[settings] = searcher
        return searcher
