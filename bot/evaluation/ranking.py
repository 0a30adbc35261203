"""Ranking a small candidate set with policybot's own components, for the public benchmarks: the bundled
MiniLM, its BM25 with artists' words expanded, and reciprocal rank fusion with its constant."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from ..index.embeddings import MiniLMEmbeddings
    from ..retrieve.lexical import LexicalIndex

Progress = Callable[[str, int, int], None]

RANKERS = ("policybot", "dense", "bm25")


def nothing(stage: str, done: int, total: int) -> None:
    return None


def rounded(value: float, digits: int = 4) -> float:
    return round(value, digits)


@dataclass(frozen=True, slots=True)
class Rankings:
    """Candidate indices best first, by each ranker."""

    policybot: list[int]
    dense: list[int]
    bm25: list[int]
    similarity: list[float]
    """Cosine similarity of each candidate (by index) to the question."""


def rank_candidates(
    question: str,
    question_vector: NDArray[np.float32],
    lexical: LexicalIndex,
    vectors: NDArray[np.float32],
    rrf_k: int,
) -> Rankings:
    """Dense, BM25 and their reciprocal rank fusion over a small candidate set (`lexical` and `vectors`
    hold the same candidates), as policybot fuses them: a candidate BM25 does not match gets no BM25 rank."""
    import numpy as np

    from ..retrieve.fusion import reciprocal_rank_fusion
    from ..retrieve.lexical import expand_query

    similarity = vectors @ question_vector
    dense = [int(i) for i in np.argsort(-similarity, kind="stable")]
    scores = lexical.scores(list(dict.fromkeys(expand_query(question))))
    matched = [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] > 0]
    unmatched = [i for i in range(len(vectors)) if scores[i] <= 0]
    fused = reciprocal_rank_fusion([dense, matched], rrf_k)
    order = sorted(fused, key=lambda i: (-fused[i], -float(similarity[i]), i))
    return Rankings(order, dense, matched + unmatched, [float(s) for s in similarity])


def encode_all(embedder: MiniLMEmbeddings, texts: Sequence[str]) -> NDArray[np.float32]:
    """Vectors of `texts` in their order, computed in one pass sorted by length (padding is what a CPU spends
    its time on)."""
    import numpy as np

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors = embedder.encode([texts[i] for i in order])
    result = np.empty_like(vectors)
    result[np.array(order, dtype=np.int64)] = vectors
    return result
