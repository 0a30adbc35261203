"""The index as Chroma keeps it: generations of chunk collections, the stored texts, and a pointer to the
generation that serves.

Everything lives in Chroma, so the embedded `PersistentClient` and a shared Chroma server (`HttpClient`)
work the same way: workers on other machines read the same generations, texts and pointer.
A new generation is filled completely before the pointer moves to it, so a crash while indexing leaves
the previous generation serving. Indexers hold a lease record beside the pointer (`lease.py`), so that two
of them on different machines sharing one server do not publish or drop generations under each other.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ..errors import IndexMissing
from ..settings import Settings
from .client import GuardedCollection, StoreGuard, is_missing, make_client, pages
from .generation import CHUNKS_PREFIX, Generation
from .lease import IndexLease, Lease, LeaseRecord, take_lease
from .pointer import clear_pointer, pointer_lock, write_pointer
from .texts import StoredTexts

META = "policybot_meta"
POINTER = "current"


class IndexStore:
    """The state policybot keeps in Chroma. One per process and store (see `open_store`)."""

    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self.settings = settings
        self.client = client if client is not None else make_client(settings)
        self._texts = StoredTexts(settings, self.client)
        self._leases = LeaseRecord(settings, self._meta)

    # --- collections -------------------------------------------------------------------------------

    def _guard(self, action: str) -> Any:
        return StoreGuard(self.settings, action)

    def _meta(self) -> Any:
        with self._guard("read the index pointer"):
            return self.client.get_or_create_collection(META, embedding_function=None)

    def chunks(self, generation: Generation) -> Any:
        """The chunk collection of `generation`; its calls fail as StoreUnavailable / IndexMissing, never raw."""
        with self._guard("open the index"):
            try:
                collection = self.client.get_collection(generation.collection, embedding_function=None)
            except Exception as exc:
                if is_missing(exc):
                    raise IndexMissing(
                        f"index generation {generation.name} is gone (a newer one replaced it, or it was "
                        "never completed); ask again, or run `policybot index`"
                    ) from None
                raise
        return GuardedCollection(collection, self.settings, generation.name)

    # --- the pointer ---------------------------------------------------------------------------------

    def current(self) -> Generation | None:
        """The generation that serves, or None before the first index."""
        with self._guard("read the index pointer"):
            found = self._meta().get(ids=[POINTER], include=["metadatas"])
        if not found["ids"]:
            return None
        meta = found["metadatas"][0]
        return Generation(
            str(meta["generation"]),
            str(meta.get("fingerprint", "")),
            str(meta.get("created", "")),
            str(meta.get("source", "")),
        )

    def require_current(self) -> Generation:
        generation = self.current()
        if generation is None:
            where = self.settings.chroma_url or str(self.settings.data_dir)
            raise IndexMissing(
                f"no index in {where} yet: run `policybot index` (bundled corpus) or "
                "`policybot index --corpus DIR` first"
            )
        return generation

    def manifest(self, generation: Generation) -> dict[str, Any]:
        with self._guard("read the index manifest"):
            found = self._meta().get(ids=[f"manifest:{generation.name}"], include=["documents"])
        if not found["ids"]:
            raise IndexMissing(
                f"index generation {generation.name} has no manifest; run `policybot index` again"
            )
        data: dict[str, Any] = json.loads(found["documents"][0])
        return data

    def generations(self) -> list[str]:
        with self._guard("list index generations"):
            names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        return sorted(n[len(CHUNKS_PREFIX) :] for n in names if n.startswith(CHUNKS_PREFIX))

    # --- building a generation ---------------------------------------------------------------------

    def new_generation(self, fingerprint: str, source: str = "") -> Generation:
        now = datetime.now(UTC)
        name = f"{now:%Y%m%dt%H%M%S%f}-{fingerprint[:8]}"
        generation = Generation(name, fingerprint, now.isoformat(timespec="seconds"), source)
        with self._guard("create an index generation"):
            self.client.create_collection(
                generation.collection,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine", "ef_search": 200}},
                metadata={"fingerprint": fingerprint, "created": generation.created},
            )
        return generation

    def add_chunks(
        self,
        generation: Generation,
        ids: Sequence[str],
        embeddings: Any,
        documents: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        collection = self.chunks(generation)
        batch = 2000
        with self._guard("write the index"):
            for start in range(0, len(ids), batch):
                end = start + batch
                collection.add(
                    ids=list(ids[start:end]),
                    embeddings=embeddings[start:end],
                    documents=list(documents[start:end]),
                    metadatas=list(metadatas[start:end]),
                )

    def publish(self, generation: Generation, manifest: dict[str, Any], *, chunks: int | None = None) -> None:
        """Make `generation` the one that serves: its manifest first, then the pointer, in one record each.

        With `chunks`, the generation must hold that many chunks, so that the pointer never moves to a
        collection that is incomplete or that another indexer dropped.
        """
        meta = self._meta()
        if chunks is not None:
            held = self.chunks(generation).count()
            if held != chunks:
                raise IndexMissing(
                    f"index generation {generation.name} holds {held} chunks, not {chunks}; it was not "
                    "published (the previous index still serves): run `policybot index` again"
                )
        with pointer_lock(self.settings), self._guard("publish the index"):
            clear_pointer(
                self.settings
            )  # a crash before the new file is written leaves none, never a stale one
            meta.upsert(
                ids=[f"manifest:{generation.name}"],
                documents=[json.dumps(manifest, ensure_ascii=False)],
                embeddings=[[1.0]],
                metadatas=[{"generation": generation.name}],
            )
            meta.upsert(
                ids=[POINTER],
                documents=[generation.name],
                embeddings=[[1.0]],
                metadatas=[
                    {
                        "generation": generation.name,
                        "fingerprint": generation.fingerprint,
                        "created": generation.created,
                        "source": generation.source,
                    }
                ],
            )
            write_pointer(self.settings, generation)

    def drop_generation(self, name: str) -> None:
        """Remove a generation that does not serve; the serving one is never dropped, whoever asks."""
        serving = self.current()
        if serving is not None and serving.name == name:
            return
        with self._guard("remove an old index generation"):
            try:
                self.client.delete_collection(CHUNKS_PREFIX + name)
            except Exception as exc:
                if not is_missing(exc):
                    raise
            self._meta().delete(ids=[f"manifest:{name}"])

    def embeddings_by_hash(self, generation: Generation) -> dict[str, Any]:
        """Vectors already computed in `generation`, by chunk text hash: re-indexing reuses them."""
        import numpy as np

        collection = self.chunks(generation)
        vectors: dict[str, Any] = {}
        with self._guard("read the index"):
            for batch in pages(collection, include=["embeddings", "metadatas"]):
                for meta, vector in zip(batch["metadatas"], batch["embeddings"], strict=True):
                    vectors.setdefault(str(meta["text_hash"]), np.asarray(vector, dtype=np.float32))
        return vectors

    def all_chunks(self, generation: Generation) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        """Ids, texts and metadata of every chunk of `generation` (for BM25 and provenance)."""
        collection = self.chunks(generation)
        ids: list[str] = []
        documents: list[str] = []
        metadatas: list[dict[str, Any]] = []
        with self._guard("read the index"):
            for batch in pages(collection, include=["documents", "metadatas"]):
                ids.extend(batch["ids"])
                documents.extend(batch["documents"])
                metadatas.extend(batch["metadatas"])
        return ids, documents, metadatas

    # --- the indexer's lease (bot/index/lease.py) ---------------------------------------------------------

    def lease(self) -> Lease | None:
        """The lease record as stored, or None when no indexer holds one."""
        return self._leases.read()

    def write_lease(self, lease: Lease) -> None:
        """Store `lease` as it is, whoever holds the lease now (`take_lease` is how an indexer claims it)."""
        self._leases.write(lease)

    def take_lease(self, *, wait: float = 0.0, settle: float | None = None) -> IndexLease:
        """Claim the right to build and publish generations in this store, or IndexBusy naming the holder
        (see `bot.index.lease.take_lease`)."""
        return take_lease(self._leases, wait=wait, settle=settle)

    # --- stored texts for the verbatim check (bot/index/texts.py) -----------------------------------------

    def put_texts(self, texts: dict[str, str]) -> int:
        """Store version texts by SHA-256; texts already stored are skipped. Returns how many were added."""
        return self._texts.put(texts)

    def text(self, sha: str) -> str | None:
        """A stored version text by its SHA-256, checked against that hash; None when absent or altered."""
        return self._texts.get(sha)


_stores: dict[Settings, IndexStore] = {}
_stores_lock = threading.Lock()


def open_store(settings: Settings) -> IndexStore:
    """The store for these settings, opened once per process, by one thread at a time: Chroma's client fails
    when two threads create it at once."""
    with _stores_lock:
        held = _stores.get(settings)
        if held is None:
            held = _stores[settings] = IndexStore(settings)
        return held
