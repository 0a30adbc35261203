"""Stage 3, retrieve: the clauses closest to the question (dense + BM25, restricted to the platforms, date and
region it names), reordered by the second-stage ranker, and how far the question is from the domain of terms
at all. For "then and now", the versions in force at the question's date and today's are searched together
and the best clause of each is pinned."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..retrieve.domain import domain_margin
from ..retrieve.features import Support, candidate_features, question_features
from ..retrieve.intents import Reading, read_intents
from ..retrieve.language import translate
from ..retrieve.rerank import ranker, rerank
from ..retrieve.searcher import Searcher
from ..settings import Settings
from ..types import Hit, Question

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

CANDIDATES = 40
"""How many fused candidates the second-stage ranker reorders."""
WIDE = 150
"""How deep each retriever's list is read for the support features."""


@dataclass(frozen=True, slots=True)
class Evidence:
    hits: tuple[Hit, ...]
    """Retrieved clauses, best first, at most one per clause."""
    best_similarity: float
    """The highest question–clause cosine similarity among them (0 when there are none)."""
    domain_margin: float
    """Similarity to the nearest terms question minus that to the nearest other question (> 0: on topic)."""
    pinned: tuple[Hit, ...] = ()
    """Hits an answer must quote: for "then and now", the best of the old version and of the current one."""
    reading: Reading | None = None
    """The topic and intents the question's examples point at."""
    best_probability: float | None = None
    """The ranker's probability that the best hit decides the question (None without a trained ranker)."""
    abstain_probability: float | None = None
    """The abstention model's probability that nothing in the documents answers (None without one)."""


@dataclass(frozen=True, slots=True)
class Scored:
    """Every candidate with its features: what the stage ranks, and what the ranker is trained on."""

    hits: tuple[Hit, ...]
    features: NDArray[np.float32]
    reading: Reading
    vectors: tuple[NDArray[np.float32], NDArray[np.float32]]


def retrieve(q: Question, searcher: Searcher, settings: Settings, timings: dict[str, float]) -> Evidence:
    scored = score_candidates(q, searcher, timings)
    began = time.perf_counter()
    margin = domain_margin(scored.vectors[1], searcher.embedder)
    timings["domain_ms"] = (time.perf_counter() - began) * 1000
    began = time.perf_counter()
    weights = ranker()
    hits = list(scored.hits)
    best: float | None = None
    abstain: float | None = None
    if weights is not None and hits:
        ranked = rerank(hits, scored.features, weights)
        hits, best = [h for h, _ in ranked], ranked[0][1]
        asked = question_features([p for _, p in ranked], scored.features, scored.reading, margin, q)
        abstain = float(weights.abstention.probabilities(asked[None, :])[0])
    timings["rank_ms"] = (time.perf_counter() - began) * 1000
    hits = hits[: max(settings.max_citations * 3, settings.k)]
    return Evidence(
        hits=tuple(hits),
        best_similarity=max((h.similarity for h in hits), default=0.0),
        domain_margin=margin,
        pinned=_pinned(q, hits, searcher),
        reading=scored.reading,
        best_probability=best,
        abstain_probability=abstain,
    )


def score_candidates(q: Question, searcher: Searcher, timings: dict[str, float]) -> Scored:
    """The fused candidates for the question, with the ranker's features and the question's reading."""
    began = time.perf_counter()
    topic_vector, question_vector = searcher.embedder.encode([dense_text(q), q.standalone or q.text])
    timings["embed_ms"] = (time.perf_counter() - began) * 1000
    allowed = searcher.versions_in_force(q.as_of, q.services, q.region)
    if q.then_and_now and q.as_of is not None:
        allowed = list(dict.fromkeys([*allowed, *searcher.versions_in_force(None, q.services, q.region)]))
    found = searcher.candidates(
        q.topic, allowed, k=CANDIDATES, vector=topic_vector, language=q.language, wide=WIDE, timings=timings
    )
    began = time.perf_counter()
    reading = read_intents(question_vector, searcher.embedder, q.standalone or q.text)
    support = Support.of(searcher, (found.dense, found.lexical))
    features = candidate_features(q, found.hits, (topic_vector, question_vector), reading, support, searcher)
    timings["features_ms"] = (time.perf_counter() - began) * 1000
    return Scored(found.hits, features, reading, (topic_vector, question_vector))


def dense_text(q: Question) -> str:
    """What the embedding model reads: the topic, and for a question in another language than English (the
    model reads English) the glossary's English words for it."""
    if q.language == "en":
        return q.topic
    words = re.findall(r"[^\W\d_]+", q.topic.casefold())
    return " ".join([q.topic, *dict.fromkeys(translate(words, q.language, "en"))])


def _pinned(q: Question, hits: list[Hit], searcher: Searcher) -> tuple[Hit, ...]:
    """For "then and now": the best hit from an older version and the best from a current one, when both are
    among the hits (one is enough when the wording did not change)."""
    if not (q.then_and_now and q.as_of is not None):
        return ()
    old = next((h for h in hits if not searcher.is_latest(h.provenance.version_id)), None)
    new = next((h for h in hits if searcher.is_latest(h.provenance.version_id)), None)
    return tuple(h for h in (old, new) if h is not None)
