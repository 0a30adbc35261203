"""A change's old and new wording as retrieval hits, so the answer path can cite them like any clause
(`bot.answer.citations.make_citation` trims, verifies and links them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..types import Hit
from .types import Change, Wording

if TYPE_CHECKING:
    from ..retrieve.searcher import Searcher


def wording_hit(wording: Wording, searcher: Searcher, score: float = 1.0) -> Hit | None:
    """The sentences of one side that hold the change (first to last excerpt, one verbatim span), as a hit on
    its clause; None when the searcher's generation does not hold that version."""
    entry = searcher.versions.get(wording.version.version_id)
    if entry is None or not wording.excerpts:
        return None
    start, end = wording.excerpts[0].start, wording.excerpts[-1].end
    base = wording.clause_start
    return Hit(
        chunk_id="",
        provenance=entry.provenance,
        section=wording.section,
        label=wording.label,
        start=start,
        end=end,
        text=wording.clause_text[start - base : end - base],
        clause_start=wording.clause_start,
        clause_end=wording.clause_end,
        score=score,
        similarity=score,
    )


def change_hits(change: Change, searcher: Searcher) -> tuple[Hit | None, Hit | None]:
    """(old wording, new wording) of `change` as hits; None for a side the change has not (added, removed)."""
    old = wording_hit(change.old, searcher) if change.old is not None else None
    new = wording_hit(change.new, searcher) if change.new is not None else None
    return old, new
