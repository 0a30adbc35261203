"""Combining rankings: reciprocal rank fusion and BM25 restricted to a subset, one definition each, used by
retrieval and by the evaluation's ablations and benchmarks."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from ..types import Hit

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Candidates:
    hits: tuple[Hit, ...]
    """Fused, best first, one per clause."""
    dense: tuple[tuple[str, float], ...]
    """(chunk id, cosine similarity), nearest first."""
    lexical: tuple[tuple[str, float], ...]
    """(chunk id, BM25 score), best first."""


def reciprocal_rank_fusion(rankings: Sequence[Sequence[K]], k: int) -> dict[K, float]:
    """Σ 1 / (k + rank) over the rankings each item appears in (rank 1 = best): items ranked well by several
    retrievers rise, whatever the scales of their scores."""
    fused: dict[K, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


def masked_top(scores: NDArray[np.float32], mask: NDArray[np.bool_], n: int) -> list[tuple[int, float]]:
    """The n best (index, score) of `scores` where `mask` is true, best first, leaving out zero scores (no
    query word in common)."""
    import numpy as np

    kept = np.where(mask, scores, 0.0)
    top = np.argsort(-kept)[:n]
    return [(int(i), float(kept[i])) for i in top if kept[i] > 0]


def fold_hits(ranked: Iterable[Hit], k: int) -> list[Hit]:
    """The first k hits of a ranking, one per clause, and one per identical text of a platform (the same
    clause in two regions' copies of a document is quoted once)."""
    hits: list[Hit] = []
    seen_clauses: set[tuple[str, int]] = set()
    seen_texts: set[tuple[str, str]] = set()
    for hit in ranked:
        text_key = (hit.provenance.service.casefold(), " ".join(hit.text.split()))
        if hit.clause_key in seen_clauses or text_key in seen_texts:
            continue
        seen_clauses.add(hit.clause_key)
        seen_texts.add(text_key)
        hits.append(hit)
        if len(hits) >= k:
            break
    return hits
