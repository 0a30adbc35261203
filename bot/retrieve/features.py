"""What the second-stage ranker knows about each candidate clause: how close it is to the question (dense and
keyword), where the retrievers ranked it, what kind of document it is in, whether it supplies what the question
asks for (a figure, a time limit, a condition, a notice), and how much of the retrievers' attention its clause,
section and document drew. One row of numbers per candidate, in the order of FEATURES."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..types import Hit, Question
from .intents import Reading, supplies
from .lexical import expand_query, tokenize

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from .memo import Memo
    from .searcher import Searcher

FEATURES: tuple[str, ...] = (
    "dense_topic",
    "dense_question",
    "fused",
    "log_rank",
    "log_dense_rank",
    "log_bm25_rank",
    "overlap_words",
    "overlap_expanded",
    "overlap_section",
    "kind_terms",
    "kind_guidelines",
    "kind_policy",
    "kind_monetisation",
    "kind_statement",
    "topic_evidence",
    "no_topic",
    "log_length",
    "figure_supplied",
    "duration_supplied",
    "consequence_supplied",
    "notice_supplied",
    "privacy_document",
    "rules_document",
    "programme_document",
    "copyright_document",
    "latest_version",
    "clause_support",
    "section_support",
    "document_share",
)
ABSENT_RANK = 100
"""The rank a candidate gets from a retriever that did not return it."""


@dataclass(frozen=True, slots=True)
class Support:
    """How much of the retrievers' attention each clause, section and document drew (reciprocal ranks summed
    over the dense and keyword lists)."""

    clauses: defaultdict[tuple[str, int], float]
    sections: defaultdict[tuple[str, str], float]
    documents: defaultdict[str, float]

    @classmethod
    def of(cls, searcher: Searcher, rankings: Sequence[Sequence[tuple[str, float]]]) -> Support:
        clauses: defaultdict[tuple[str, int], float] = defaultdict(float)
        sections: defaultdict[tuple[str, str], float] = defaultdict(float)
        documents: defaultdict[str, float] = defaultdict(float)
        for ranking in rankings:
            for rank, (chunk_id, _) in enumerate(ranking, start=1):
                meta = searcher.meta(searcher.position[chunk_id])
                weight = 20.0 / (20 + rank)
                clauses[(meta["version_id"], int(meta["clause_start"]))] += weight
                sections[(meta["version_id"], str(meta["section"]))] += weight
                documents[meta["version_id"]] += weight
        return cls(clauses, sections, documents)


def candidate_features(
    q: Question,
    hits: Sequence[Hit],
    vectors: tuple[NDArray[np.float32], NDArray[np.float32]],
    reading: Reading,
    support: Support,
    searcher: Searcher,
) -> NDArray[np.float32]:
    """The FEATURES of each hit, one row per hit."""
    import numpy as np

    topic_vector, question_vector = vectors
    chunk_vectors = searcher.vectors_of([h.chunk_id for h in hits])
    dense_topic = chunk_vectors @ topic_vector
    dense_question = chunk_vectors @ question_vector
    words = set(tokenize(q.topic, q.language))
    expanded = set(expand_query(q.topic, q.language, ("en", "fr")))
    top_score = max((h.score for h in hits), default=1.0) or 1.0
    total_share = sum(support.documents.values()) or 1.0
    rows = []
    for rank, (hit, dt, dq) in enumerate(zip(hits, dense_topic, dense_question, strict=True), start=1):
        language = hit.provenance.language
        text_stems = searcher.memo.stems("text", hit.chunk_id, hit.text, language)
        section_stems = searcher.memo.stems("section", hit.chunk_id, " ".join(hit.section), language)
        meta = searcher.meta(searcher.position[hit.chunk_id])
        document = hit.provenance.document.casefold()
        rows.append(
            [
                float(dt),
                float(dq),
                hit.score / top_score,
                math.log(rank),
                math.log(hit.dense_rank or ABSENT_RANK),
                math.log(hit.bm25_rank or ABSENT_RANK),
                len(words & text_stems) / max(len(words), 1),
                len(expanded & text_stems) / max(len(expanded), 1),
                len(words & section_stems) / max(len(words), 1),
                *(float(hit.provenance.kind == k) for k in ("terms", "guidelines", "policy", "monetisation")),
                float(hit.provenance.kind in ("statement", "help", "note")),
                float(
                    reading.topic is not None
                    and searcher.memo.finds(reading.topic.evidence, hit.chunk_id, hit.text)
                ),
                float(reading.topic is None),
                math.log(len(hit.text) + 1),
                *(
                    _supplied(reading, intent, hit, searcher.memo)
                    for intent in ("figure", "duration", "consequence", "notice")
                ),
                reading.intents.get("privacy_document", 0.0) * ("privacy" in document),
                reading.intents.get("rules_document", 0.0) * (hit.provenance.kind == "guidelines"),
                reading.intents.get("programme_document", 0.0) * (hit.provenance.kind == "monetisation"),
                reading.intents.get("copyright_document", 0.0) * ("copyright" in document),
                float(searcher.is_latest(hit.provenance.version_id)),
                support.clauses[(hit.provenance.version_id, hit.clause_start)],
                support.sections[(hit.provenance.version_id, str(meta["section"]))],
                support.documents[hit.provenance.version_id] / total_share,
            ]
        )
    return np.asarray(rows, dtype=np.float32).reshape(len(hits), len(FEATURES))


def _supplied(reading: Reading, intent: str, hit: Hit, memo: Memo) -> float:
    """How much the question asks for `intent`, when the hit's text supplies it (0 when it does not)."""
    weight = reading.intents.get(intent, 0.0)
    if not weight:
        return 0.0  # not asked for: whatever the text holds, the feature is 0
    pattern = supplies(intent)
    return weight if pattern is not None and memo.finds(pattern, hit.chunk_id, hit.text) else 0.0


QUESTION_FEATURES: tuple[str, ...] = (
    "best_probability",
    "second_probability",
    "probability_gap",
    "best_dense",
    "domain_margin",
    "named_platforms",
    "topic_similarity",
    "asks_figure",
    "asks_duration",
    "best_supplies_figure",
    "best_supplies_duration",
    "candidates",
)
"""What the abstention model knows about a question once its candidates are ranked."""


def question_features(
    probabilities: Sequence[float],
    features: NDArray[np.float32],
    reading: Reading,
    margin: float,
    q: Question,
) -> NDArray[np.float32]:
    """The QUESTION_FEATURES of one question; `probabilities` and `features` are its candidates' (best first
    for `probabilities`, rows in candidate order for `features`)."""
    import numpy as np

    order = sorted(range(len(probabilities)), key=lambda i: -probabilities[i])
    best = order[0] if order else None
    first = float(probabilities[best]) if best is not None else 0.0
    second = float(probabilities[order[1]]) if len(order) > 1 else 0.0
    column = {name: i for i, name in enumerate(FEATURES)}
    row = features[best] if best is not None else np.zeros(len(FEATURES), dtype=np.float32)
    return np.asarray(
        [
            first,
            second,
            first - second,
            float(features[:, column["dense_topic"]].max()) if len(features) else 0.0,
            margin,
            float(len(q.services)),
            reading.topic_similarity,
            reading.intents.get("figure", 0.0),
            reading.intents.get("duration", 0.0),
            float(row[column["figure_supplied"]] > 0),
            float(row[column["duration_supplied"]] > 0),
            math.log(len(probabilities) + 1),
        ],
        dtype=np.float32,
    )
