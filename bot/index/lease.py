"""The indexer's lease: a record beside the index pointer saying which process may build and publish
generations, so that two indexers on different machines sharing one Chroma server do not publish or drop
generations under each other."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ..errors import IndexBusy, StoreUnavailable
from ..settings import Settings
from .client import StoreGuard

LEASE = "lease"
"""The id of the lease record in the meta collection."""
LEASE_SECONDS = 120.0
"""How long an indexer's lease lasts without renewal; it renews at every progress step of its work."""
LEASE_SETTLE_SECONDS = 0.5
"""After writing its lease, an indexer waits this long and reads it back (see `take_lease`)."""


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


class LeaseRecord:
    """The lease record as Chroma keeps it, in the store's meta collection (`meta` opens that collection)."""

    def __init__(self, settings: Settings, meta: Callable[[], Any]) -> None:
        self.settings = settings
        self._meta = meta

    def read(self) -> Lease | None:
        """The lease as stored, or None when no indexer holds one."""
        with StoreGuard(self.settings, "read the indexer lease"):
            found = self._meta().get(ids=[LEASE], include=["metadatas"])
        if not found["ids"]:
            return None
        return Lease.from_metadata(found["metadatas"][0])

    def write(self, lease: Lease) -> None:
        """Store `lease` as it is, whoever holds the lease now (`take_lease` is how an indexer claims it)."""
        with StoreGuard(self.settings, "write the indexer lease"):
            self._meta().upsert(
                ids=[LEASE], documents=[lease.owner], embeddings=[[1.0]], metadatas=[lease.metadata()]
            )

    def delete(self) -> None:
        with StoreGuard(self.settings, "release the indexer lease"):
            self._meta().delete(ids=[LEASE])


def take_lease(record: LeaseRecord, *, wait: float = 0.0, settle: float | None = None) -> IndexLease:
    """Claim the right to build and publish generations in this store, or IndexBusy naming the holder.

    A lease that has expired, or whose holder was a process on this machine that has ended, is free.
    Chroma has no compare-and-set, so this writes the claim, waits `settle` seconds and reads it back
    (Fischer's protocol): two indexers that both saw the lease free each write theirs, and only the
    last writer finds its own claim. That holds when reading, deciding and writing take less than
    `settle`; the embedded store needs none of it (the data dir's file lock already excludes).
    """
    settings = record.settings
    if settle is None:
        settle = LEASE_SETTLE_SECONDS if settings.chroma_url else 0.0
    deadline = time.monotonic() + wait
    while True:
        held = record.read()
        if held is None or held.free():
            mine = Lease.new()
            record.write(mine)
            if settle:
                time.sleep(settle)
                held = record.read()
            if not settle or (held is not None and held.owner == mine.owner):
                return IndexLease(record, mine)
        if time.monotonic() >= deadline:
            where = settings.chroma_url or str(settings.data_dir)
            who, until = (held.describe(), held.until()) if held else ("unknown", "its expiry")
            raise IndexBusy(
                f"another indexer ({who}) is writing the index in {where}; wait for it to finish "
                f"(its lease runs to {until} unless it renews it) and run this again"
            )
        time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))


class IndexLease:
    """This process's lease on the store while it indexes: renewed as the work goes on, checked before
    anything another indexer could be hurt by (publishing, dropping generations), released at the end."""

    def __init__(
        self, record: LeaseRecord, lease: Lease, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.record = record
        self.lease = lease
        self._clock = clock
        self._renewed = clock()

    def keep(self, *, force: bool = False) -> None:
        """Renew the lease (at most every few seconds unless `force`); IndexBusy if another indexer took it."""
        if not force and self._clock() - self._renewed < min(5.0, LEASE_SECONDS / 4):
            return
        held = self.record.read()
        if held is None or held.owner != self.lease.owner:
            who = held.describe() if held is not None else "nobody"
            raise IndexBusy(
                f"this indexer's lease on the index was taken over by {who} (it lapsed after "
                f"{LEASE_SECONDS:.0f} s without renewal); nothing was published, the previous index still "
                "serves: run `policybot index` again"
            )
        self.lease = replace(self.lease, expires=time.time() + LEASE_SECONDS)
        self.record.write(self.lease)
        self._renewed = self._clock()

    def held(self) -> bool:
        """Whether this process still holds the lease (a read, no renewal)."""
        held = self.record.read()
        return held is not None and held.owner == self.lease.owner

    def release(self) -> None:
        """Give the lease up, unless another indexer holds it by now. A store that cannot be reached keeps
        it until it expires: the error that matters is the one that stopped the indexer."""
        try:
            held = self.record.read()
            if held is not None and held.owner == self.lease.owner:
                self.record.delete()
        except StoreUnavailable:
            pass
