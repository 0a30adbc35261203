"""The ablations: one retriever at a time (BM25 only, dense only) over policybot's own chunks and its own
reading of the question; no fusion, no terms prior, no abstention."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..types import Hit

if TYPE_CHECKING:
    from ..retrieve.searcher import Searcher
    from ..types import Question


def _top_hits(searcher: Searcher, ranked_ids: Sequence[str], k: int) -> list[Hit]:
    """The first k chunks of a ranking, folded as policybot folds its own."""
    from ..retrieve.fusion import fold_hits

    return fold_hits((searcher.hit(chunk_id) for chunk_id in ranked_ids), k)


def _allowed(searcher: Searcher, q: Question) -> list[str]:
    # A baseline never abstains: a date before every version falls back to the latest versions.
    return searcher.versions_in_force(q.as_of, q.services, q.region) or searcher.versions_in_force(None)


def dense_only(searcher: Searcher, q: Question, k: int) -> list[Hit]:
    """Chroma nearest neighbours of the question's topic among the versions the question selects."""
    vector = searcher.embed_query(q.topic or q.text)
    ranked = searcher.dense(vector, _allowed(searcher, q), searcher.settings.candidates)
    return _top_hits(searcher, [chunk_id for chunk_id, _ in ranked], k)


def bm25_only(searcher: Searcher, q: Question, k: int) -> list[Hit]:
    """policybot's BM25 (stemming, artists' words expanded) alone, over the versions the question selects."""
    ranked = searcher.bm25(q.topic or q.text, _allowed(searcher, q), searcher.settings.candidates, q.language)
    return _top_hits(searcher, [chunk_id for chunk_id, _ in ranked], k)
