"""The second-stage ranker: a logistic model over each candidate's FEATURES (bot/retrieve/features.py) that gives
the probability that the candidate is the clause deciding the question. Its weights are data
(bot/data/ranker.toml), fitted on the dev set by `make ranker` (bot/evaluation/train_ranker.py) with a fixed
seed; the probability of the best candidate also decides when the documents don't answer."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING

from pydantic import model_validator

from ..data import DATA_DIR, Data, read_toml
from ..types import Hit
from .features import FEATURES, QUESTION_FEATURES

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

RANKER_FILE = "ranker.toml"


class Linear(Data):
    """A logistic model over named features: standardise, weigh, add the bias."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    @model_validator(mode="after")
    def _one_number_per_feature(self) -> Linear:
        if not len(self.mean) == len(self.scale) == len(self.weights) == len(self.features):
            raise ValueError("mean, scale and weights need one number per feature")
        return self

    def probabilities(self, rows: NDArray[np.float32]) -> NDArray[np.float64]:
        import numpy as np

        z = ((rows - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.weights)
        result: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-(z + self.bias)))
        return result


class RankerWeights(Data):
    ranker: Linear
    """P(this candidate decides the question), over FEATURES."""
    abstention: Linear
    """P(nothing in the documents answers the question), over QUESTION_FEATURES."""
    abstain_above: float
    """At or above this abstention probability, the bot says the documents don't say."""
    trained_on: str = ""
    seed: int = 0

    @model_validator(mode="after")
    def _matches_the_features(self) -> RankerWeights:
        if self.ranker.features != FEATURES or self.abstention.features != QUESTION_FEATURES:
            raise ValueError(
                "its features are not the ranker's (bot/retrieve/features.py changed): retrain with `make ranker`"
            )
        return self


@cache
def ranker() -> RankerWeights | None:
    """The trained weights, or None before the first `make ranker` (retrieval then keeps the fused order)."""
    path = DATA_DIR / RANKER_FILE
    return read_toml(path, RankerWeights) if path.is_file() else None


def rerank(hits: list[Hit], features: NDArray[np.float32], weights: RankerWeights) -> list[tuple[Hit, float]]:
    """The hits best first by the probability that each decides the question, with that probability (which
    becomes the hit's score)."""
    p = weights.ranker.probabilities(features)
    order = sorted(range(len(hits)), key=lambda i: (-p[i], i))
    return [(replace(hits[i], score=float(p[i])), float(p[i])) for i in order]
