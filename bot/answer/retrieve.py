"""Stage 3, retrieve: the clauses closest to the question (dense + BM25, restricted to the platforms, date
and region it names), and how far the question is from the domain of terms at all."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..retrieve.domain import domain_margin
from ..retrieve.searcher import Searcher
from ..settings import Settings
from ..types import Hit, Question


@dataclass(frozen=True, slots=True)
class Evidence:
    hits: tuple[Hit, ...]
    """Retrieved clauses, best first, at most one per clause."""
    best_similarity: float
    """The highest question–clause cosine similarity among them (0 when there are none)."""
    domain_margin: float
    """Similarity to the nearest terms question minus that to the nearest other question (> 0: on topic)."""


def retrieve(q: Question, searcher: Searcher, settings: Settings, timings: dict[str, float]) -> Evidence:
    # The topic (for retrieval) and the whole question (for the domain check) in one pass of the model.
    began = time.perf_counter()
    topic_vector, question_vector = searcher.embedder.encode([q.topic, q.standalone or q.text])
    timings["embed_ms"] = (time.perf_counter() - began) * 1000
    hits = searcher.retrieve(
        q.topic,
        vector=topic_vector,
        services=q.services,
        as_of=q.as_of,
        region=q.region,
        k=max(settings.max_citations * 3, settings.k),
        timings=timings,
    )
    began = time.perf_counter()
    margin = domain_margin(question_vector, searcher.embedder)
    timings["domain_ms"] = (time.perf_counter() - began) * 1000
    return Evidence(
        hits=tuple(hits),
        best_similarity=max((h.similarity for h in hits), default=0.0),
        domain_margin=margin,
    )
