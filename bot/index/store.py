"""The index as Chroma keeps it: generations of chunk collections, the stored texts, and a pointer to the
generation that serves.

Everything lives in Chroma, so the embedded `PersistentClient` and a shared Chroma server (`HttpClient`)
work the same way: workers on other machines read the same generations, texts and pointer.
A new generation is filled completely before the pointer moves to it, so a crash while indexing leaves
the previous generation serving. Indexers hold a lease record beside the pointer, so that two of them on
different machines sharing one server do not publish or drop generations under each other.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import urlparse

from ..errors import IndexBusy, IndexMissing, StoreUnavailable
from ..settings import Settings
from ..types import Provenance

META = "policybot_meta"
TEXTS = "policybot_texts"
CHUNKS_PREFIX = "policybot_chunks_"
POINTER = "current"
LEASE = "lease"
LEASE_SECONDS = 120.0
"""How long an indexer's lease lasts without renewal; it renews at every progress step of its work."""
LEASE_SETTLE_SECONDS = 0.5
"""After writing its lease, an indexer waits this long and reads it back (see `IndexStore.take_lease`)."""
TEXT_PART_CHARS = 1_000_000
"""Stored texts are split into parts of this size so that no single request to a server grows too big."""


@dataclass(frozen=True, slots=True)
class Generation:
    name: str
    fingerprint: str
    created: str

    @property
    def collection(self) -> str:
        return CHUNKS_PREFIX + self.name


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def make_client(settings: Settings) -> Any:
    """Chroma's client: a server when `chroma_url` is set, else an embedded store in the data dir."""
    from .embeddings import offline_environment

    offline_environment()
    import chromadb

    try:
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            port = url.port or (443 if url.scheme == "https" else 8000)
            client = chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=port,
                ssl=url.scheme == "https",
                settings=_chroma_settings(),
            )
            client.heartbeat()
            return client
        path = settings.data_dir / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
    except StoreUnavailable:
        raise
    except Exception as exc:
        where = settings.chroma_url or str(settings.data_dir / "chroma")
        hint = (
            "start it with `chroma run --path DIR --port PORT` or unset POLICYBOT_CHROMA_URL"
            if settings.chroma_url
            else "check that the data directory is writable (--data-dir / POLICYBOT_DATA_DIR)"
        )
        raise StoreUnavailable(f"cannot open the Chroma store at {where}: {_one_line(exc)}; {hint}") from None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


class IndexStore:
    """The state policybot keeps in Chroma. One per process and store (see `open_store`)."""

    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self.settings = settings
        self.client = client if client is not None else make_client(settings)
        self._texts: dict[str, str] = {}
        self._lock = threading.Lock()

    # --- collections -------------------------------------------------------------------------------

    def _guard(self, action: str) -> Any:
        return _StoreGuard(self.settings, action)

    def _meta(self) -> Any:
        with self._guard("read the index pointer"):
            return self.client.get_or_create_collection(META, embedding_function=None)

    def _text_collection(self) -> Any:
        with self._guard("open the stored texts"):
            return self.client.get_or_create_collection(TEXTS, embedding_function=None)

    def chunks(self, generation: Generation) -> Any:
        """The chunk collection of `generation`; its calls fail as StoreUnavailable / IndexMissing, never raw."""
        with self._guard("open the index"):
            try:
                collection = self.client.get_collection(generation.collection, embedding_function=None)
            except Exception as exc:
                if _is_missing(exc):
                    raise IndexMissing(
                        f"index generation {generation.name} is gone (a newer one replaced it, or it was "
                        "never completed); ask again, or run `policybot index`"
                    ) from None
                raise
        return _GuardedCollection(collection, self, generation)

    # --- the pointer ---------------------------------------------------------------------------------

    def current(self) -> Generation | None:
        """The generation that serves, or None before the first index."""
        with self._guard("read the index pointer"):
            found = self._meta().get(ids=[POINTER], include=["metadatas"])
        if not found["ids"]:
            return None
        meta = found["metadatas"][0]
        return Generation(
            str(meta["generation"]), str(meta.get("fingerprint", "")), str(meta.get("created", ""))
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

    def new_generation(self, fingerprint: str) -> Generation:
        now = datetime.now(UTC)
        name = f"{now:%Y%m%dt%H%M%S%f}-{fingerprint[:8]}"
        generation = Generation(name, fingerprint, now.isoformat(timespec="seconds"))
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
        with self._guard("publish the index"):
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
                    }
                ],
            )

    def drop_generation(self, name: str) -> None:
        """Remove a generation that does not serve; the serving one is never dropped, whoever asks."""
        serving = self.current()
        if serving is not None and serving.name == name:
            return
        with self._guard("remove an old index generation"):
            try:
                self.client.delete_collection(CHUNKS_PREFIX + name)
            except Exception as exc:
                if not _is_missing(exc):
                    raise
            self._meta().delete(ids=[f"manifest:{name}"])

    def embeddings_by_hash(self, generation: Generation) -> dict[str, Any]:
        """Vectors already computed in `generation`, by chunk text hash: re-indexing reuses them."""
        import numpy as np

        collection = self.chunks(generation)
        vectors: dict[str, Any] = {}
        with self._guard("read the index"):
            for batch in _pages(collection, include=["embeddings", "metadatas"]):
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
            for batch in _pages(collection, include=["documents", "metadatas"]):
                ids.extend(batch["ids"])
                documents.extend(batch["documents"])
                metadatas.extend(batch["metadatas"])
        return ids, documents, metadatas

    # --- the indexer's lease ----------------------------------------------------------------------------

    def lease(self) -> Lease | None:
        """The lease record as stored, or None when no indexer holds one."""
        with self._guard("read the indexer lease"):
            found = self._meta().get(ids=[LEASE], include=["metadatas"])
        if not found["ids"]:
            return None
        return Lease.from_metadata(found["metadatas"][0])

    def write_lease(self, lease: Lease) -> None:
        """Store `lease` as it is, whoever holds the lease now (`take_lease` is how an indexer claims it)."""
        with self._guard("write the indexer lease"):
            self._meta().upsert(
                ids=[LEASE], documents=[lease.owner], embeddings=[[1.0]], metadatas=[lease.metadata()]
            )

    def take_lease(self, *, wait: float = 0.0, settle: float | None = None) -> IndexLease:
        """Claim the right to build and publish generations in this store, or IndexBusy naming the holder.

        A lease that has expired, or whose holder was a process on this machine that has ended, is free.
        Chroma has no compare-and-set, so this writes the claim, waits `settle` seconds and reads it back
        (Fischer's protocol): two indexers that both saw the lease free each write theirs, and only the
        last writer finds its own claim. That holds when reading, deciding and writing take less than
        `settle`; the embedded store needs none of it (the data dir's file lock already excludes).
        """
        if settle is None:
            settle = LEASE_SETTLE_SECONDS if self.settings.chroma_url else 0.0
        deadline = time.monotonic() + wait
        while True:
            held = self.lease()
            if held is None or held.free():
                mine = Lease.new()
                self.write_lease(mine)
                if settle:
                    time.sleep(settle)
                    held = self.lease()
                if not settle or (held is not None and held.owner == mine.owner):
                    return IndexLease(self, mine)
            if time.monotonic() >= deadline:
                where = self.settings.chroma_url or str(self.settings.data_dir)
                who, until = (held.describe(), held.until()) if held else ("unknown", "its expiry")
                raise IndexBusy(
                    f"another indexer ({who}) is writing the index in {where}; wait for it to finish "
                    f"(its lease runs to {until} unless it renews it) and run this again"
                )
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))

    # --- stored texts (for the verbatim check) ----------------------------------------------------------

    def put_texts(self, texts: dict[str, str]) -> int:
        """Store version texts by SHA-256; texts already stored are skipped. Returns how many were added."""
        if not texts:
            return 0
        collection = self._text_collection()
        with self._guard("store document texts"):
            have = set(collection.get(ids=[f"{sha}:0" for sha in texts], include=[])["ids"])
            added = 0
            for sha, text in texts.items():
                if f"{sha}:0" in have:
                    continue
                parts = [text[i : i + TEXT_PART_CHARS] for i in range(0, len(text), TEXT_PART_CHARS)] or [""]
                # Part 0 is what marks a text as stored, so it is written last: an indexer killed half-way
                # through leaves no part 0, and the next run writes the whole text again.
                for n in [*range(1, len(parts)), 0]:
                    collection.upsert(
                        ids=[f"{sha}:{n}"],
                        documents=[parts[n]],
                        embeddings=[[1.0]],
                        metadatas=[{"sha": sha, "part": n, "parts": len(parts)}],
                    )
                added += 1
        return added

    def text(self, sha: str) -> str | None:
        """A stored version text by its SHA-256, checked against that hash; None when absent or altered."""
        with self._lock:
            if sha in self._texts:
                return self._texts[sha]
        collection = self._text_collection()
        with self._guard("read a stored text"):
            first = collection.get(ids=[f"{sha}:0"], include=["documents", "metadatas"])
            if not first["ids"]:
                return None
            parts = int(first["metadatas"][0].get("parts", 1))
            text = str(first["documents"][0])
            if parts > 1:
                rest = collection.get(
                    ids=[f"{sha}:{n}" for n in range(1, parts)], include=["documents", "metadatas"]
                )
                ordered = sorted(
                    zip(rest["metadatas"], rest["documents"], strict=True), key=lambda p: p[0]["part"]
                )
                text += "".join(doc for _, doc in ordered)
        from ..types import text_sha256

        if text_sha256(text) != sha:
            return None
        with self._lock:
            self._texts[sha] = text
        return text


@dataclass(frozen=True, slots=True)
class Lease:
    """Who is indexing: a process on a machine, until when (wall-clock seconds since the epoch)."""

    owner: str
    host: str
    boot: float
    """The machine's boot time: with `host`, what tells this machine from another of the same name."""
    pid: int
    started: float
    """The process's start time: a pid reused by a later process is not the holder."""
    expires: float

    @classmethod
    def new(cls) -> Lease:
        import psutil

        pid = os.getpid()
        return cls(
            owner=f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:12]}",
            host=socket.gethostname(),
            boot=psutil.boot_time(),
            pid=pid,
            started=psutil.Process(pid).create_time(),
            expires=time.time() + LEASE_SECONDS,
        )

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> Lease:
        return cls(
            owner=str(meta.get("owner", "")),
            host=str(meta.get("host", "")),
            boot=float(meta.get("boot", 0.0)),
            pid=int(meta.get("pid", 0)),
            started=float(meta.get("started", 0.0)),
            expires=float(meta.get("expires", 0.0)),
        )

    def metadata(self) -> dict[str, Any]:
        # Times as text: a float through Chroma's metadata can come back a few digits off, and the process
        # start time must compare exactly.
        return {
            "owner": self.owner,
            "host": self.host,
            "boot": repr(self.boot),
            "pid": self.pid,
            "started": repr(self.started),
            "expires": repr(self.expires),
        }

    def free(self) -> bool:
        """Whether another indexer may take this lease: it expired, or its holder here has ended."""
        if time.time() >= self.expires:
            return True
        return self.on_this_machine() and not _process_alive(self.pid, self.started)

    def on_this_machine(self) -> bool:
        import psutil

        return self.host == socket.gethostname() and abs(self.boot - psutil.boot_time()) < 2.0

    def describe(self) -> str:
        return f"process {self.pid} on {self.host}"

    def until(self) -> str:
        return datetime.fromtimestamp(self.expires, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _process_alive(pid: int, started: float) -> bool:
    import psutil

    try:
        process = psutil.Process(pid)
        same = abs(float(process.create_time()) - started) < 0.5
        return same and str(process.status()) != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class IndexLease:
    """This process's lease on the store while it indexes: renewed as the work goes on, checked before
    anything another indexer could be hurt by (publishing, dropping generations), released at the end."""

    def __init__(self, store: IndexStore, lease: Lease, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.lease = lease
        self._clock = clock
        self._renewed = clock()

    def keep(self, *, force: bool = False) -> None:
        """Renew the lease (at most every few seconds unless `force`); IndexBusy if another indexer took it."""
        if not force and self._clock() - self._renewed < min(5.0, LEASE_SECONDS / 4):
            return
        held = self.store.lease()
        if held is None or held.owner != self.lease.owner:
            who = held.describe() if held is not None else "nobody"
            raise IndexBusy(
                f"this indexer's lease on the index was taken over by {who} (it lapsed after "
                f"{LEASE_SECONDS:.0f} s without renewal); nothing was published, the previous index still "
                "serves: run `policybot index` again"
            )
        self.lease = replace(self.lease, expires=time.time() + LEASE_SECONDS)
        self.store.write_lease(self.lease)
        self._renewed = self._clock()

    def held(self) -> bool:
        """Whether this process still holds the lease (a read, no renewal)."""
        held = self.store.lease()
        return held is not None and held.owner == self.lease.owner

    def release(self) -> None:
        """Give the lease up, unless another indexer holds it by now. A store that cannot be reached keeps
        it until it expires: the error that matters is the one that stopped the indexer."""
        try:
            held = self.store.lease()
            if held is not None and held.owner == self.lease.owner:
                with self.store._guard("release the indexer lease"):
                    self.store._meta().delete(ids=[LEASE])
        except StoreUnavailable:
            pass


class _GuardedCollection:
    """A Chroma collection whose calls fail as one-line policybot errors: a query that meets a stopped server
    is a StoreUnavailable (503 on the web), a generation dropped under it an IndexMissing."""

    def __init__(self, collection: Any, store: IndexStore, generation: Generation) -> None:
        self._collection = collection
        self._store = store
        self._generation = generation

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._store._guard("read the index"):
                try:
                    return attribute(*args, **kwargs)
                except Exception as exc:
                    if _is_missing(exc):
                        raise IndexMissing(
                            f"index generation {self._generation.name} was removed while in use (a newer "
                            "one replaced it); ask again"
                        ) from None
                    raise

        return call


def _is_missing(exc: BaseException) -> bool:
    text = str(exc).casefold()
    return type(exc).__name__ == "NotFoundError" or "does not exist" in text or "not found" in text


class _StoreGuard:
    """Turns a Chroma failure into one StoreUnavailable line that says what was being done."""

    def __init__(self, settings: Settings, action: str) -> None:
        self.settings = settings
        self.action = action

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> Literal[False]:
        if exc is None or isinstance(exc, (StoreUnavailable, IndexMissing, KeyboardInterrupt)):
            return False
        name = type(exc).__name__
        if name in {
            "ConnectError",
            "ConnectionError",
            "ConnectTimeout",
            "ReadTimeout",
            "RemoteProtocolError",
        } or ("connect" in str(exc).casefold() and self.settings.chroma_url):
            raise StoreUnavailable(
                f"cannot reach the Chroma server at {self.settings.chroma_url} to {self.action}: {_one_line(exc)}; "
                "check that `chroma run` is up or unset POLICYBOT_CHROMA_URL"
            ) from None
        return False


def _pages(collection: Any, include: list[str], size: int = 5000) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        batch = collection.get(include=include, limit=size, offset=offset)
        if not batch["ids"]:
            return
        yield batch
        offset += len(batch["ids"])
        if len(batch["ids"]) < size:
            return


# --- provenance in chunk metadata -------------------------------------------------------------------------


def date_to_int(value: date) -> int:
    return value.year * 10000 + value.month * 100 + value.day


def int_to_date(value: int) -> date:
    return date(value // 10000, value // 100 % 100, value % 100)


def provenance_metadata(p: Provenance) -> dict[str, Any]:
    return {
        "service": p.service,
        "document": p.document,
        "title": p.title,
        "kind": p.kind,
        "region": p.region,
        "version_id": p.version_id,
        "version_date": date_to_int(p.version_date),
        "date_statement": p.date_statement,
        "recorded": date_to_int(p.recorded) if p.recorded else 0,
        "source_url": p.source_url,
        "text_sha256": p.text_sha256,
        "doc_key": p.doc_key,
    }


def provenance_from_metadata(meta: dict[str, Any]) -> Provenance:
    recorded = int(meta.get("recorded") or 0)
    return Provenance(
        service=str(meta["service"]),
        document=str(meta["document"]),
        title=str(meta["title"]),
        kind=str(meta["kind"]),
        region=str(meta["region"]),
        version_date=int_to_date(int(meta["version_date"])),
        date_statement=str(meta.get("date_statement", "")),
        source_url=str(meta.get("source_url", "")),
        text_sha256=str(meta["text_sha256"]),
        recorded=int_to_date(recorded) if recorded else None,
    )


@lru_cache(maxsize=8)
def _cached_store(settings: Settings) -> IndexStore:
    return IndexStore(settings)


def open_store(settings: Settings) -> IndexStore:
    """The store for these settings, opened once per process."""
    return _cached_store(settings)
