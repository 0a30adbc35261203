"""What is new after an index or a sync: the changes first recorded in the generation just published, and
which saved watches they concern."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import IndexMissing
from ..index.generation import Generation
from ..index.store import open_store
from ..settings import Settings
from ..types import IndexReport
from .query import ChangeQuery, newest_first, record_for, resolve_topic
from .record import current_record
from .types import Change
from .watches import Watch, WatchStore, open_watches


@dataclass(frozen=True, slots=True)
class News:
    new: tuple[Change, ...]
    """Changes first recorded by this index run (substantive and editorial), newest first."""
    watched: tuple[tuple[Watch, tuple[Change, ...]], ...]
    """Each watch with the changes new for it (only watches with some)."""

    @property
    def substantive(self) -> tuple[Change, ...]:
        return tuple(c for c in self.new if c.substantive)


def watch_matches(watch: Watch, changes: Sequence[Change]) -> list[Change]:
    """The changes a watch covers (its platform compared in any case: a watch may be older than the index)."""
    query = ChangeQuery(
        topic=resolve_topic(watch.topic) if watch.topic else "", include_editorial=watch.include_editorial
    )
    service = watch.service.casefold()
    return [c for c in changes if (not service or c.service.casefold() == service) and query.matches(c)]


def unseen(store: WatchStore, watch: Watch, changes: Sequence[Change]) -> list[Change]:
    seen = store.seen(watch.id)
    return newest_first([c for c in watch_matches(watch, changes) if c.id not in seen])


def news_after_index(settings: Settings, report: IndexReport, *, mark_seen: bool = False) -> News:
    """The changes `report`'s run recorded for the first time, and the watches they concern (with `mark_seen`,
    marked as seen by those watches; by default `policybot watch check` still lists them). Nothing when the run
    changed nothing (an identical sync)."""
    if report.unchanged:
        return News((), ())
    store = open_store(settings)
    generation = Generation(report.generation, "", "")
    try:
        record = current_record(store, generation)
    except IndexMissing:
        return News((), ())
    new = tuple(newest_first(record.new))
    watches = open_watches(settings.data_dir)
    watched = []
    for watch in watches.list():
        hits = [c for c in watch_matches(watch, new) if c.id not in watches.seen(watch.id)]
        if hits:
            watched.append((watch, tuple(hits)))
            if mark_seen:
                watches.mark_seen(watch.id, [c.id for c in hits])
    return News(new, tuple(watched))


def all_changes(settings: Settings) -> tuple[Change, ...]:
    """Every recorded change of the serving generation (the watches filter them)."""
    return record_for(settings).changes
