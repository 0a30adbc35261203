"""Fitting the second-stage ranker (bot/retrieve/rerank.py) on the dev set, and only there.

For every dev question the same stages as `ask()` read it and collect its candidates with their features;
a candidate is positive when its clause holds one of the question's gold phrases. An L2-regularised logistic
regression is fitted by Newton's method (deterministic: no sampling, the seed only orders nothing but ties),
then the abstention floor is the probability that makes the most right decisions on the dev questions
(answer with a gold clause in the first three, or abstain where nothing answers). The result is written as
data, bot/data/ranker.toml.

    make ranker      # = python -m bot.evaluation.train_ranker --questions eval/dev_questions.jsonl
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BadQuestion
from ..settings import Settings
from .gold import GoldQuestion, load_questions
from .metrics import evidence_matches
from .outcomes import hit_evidence

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from ..retrieve.searcher import Searcher

L2 = 1.0
"""Strength of the pull of every weight towards 0 (features are standardised first)."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One dev question's candidates: features, which are gold, and whether the question should abstain."""

    question: GoldQuestion
    features: NDArray[np.float32]
    gold: NDArray[np.bool_]
    abstain: bool
    asked: Callable[[Sequence[float]], NDArray[np.float32]]
    """The question's QUESTION_FEATURES, given its candidates' probabilities."""


def collect(questions: Sequence[GoldQuestion], settings: Settings, searcher: Searcher) -> list[Sample]:
    """The candidates of every question that passes the gates policybot applies before ranking."""
    import numpy as np

    from ..answer.gate import gate, gate_evidence
    from ..answer.read import read
    from ..answer.retrieve import Evidence, score_candidates
    from ..retrieve.domain import domain_margin
    from ..retrieve.features import question_features

    samples = []
    for question in questions:
        try:
            q = read(question.question, settings, searcher, history=question.history, today=question.today)
        except BadQuestion:
            continue
        if gate(q, searcher) is not None:
            continue
        scored = score_candidates(q, searcher, {})
        hits = scored.hits
        plain = Evidence(
            hits=hits,
            best_similarity=max((h.similarity for h in hits), default=0.0),
            domain_margin=domain_margin(scored.vectors[1], searcher.embedder),
        )
        if not hits or gate_evidence(q, plain, searcher, settings) is not None:
            continue
        gold = np.array(
            [
                question.answerable
                and any(evidence_matches(hit_evidence(h, searcher.text), g) for g in question.gold)
                for h in hits
            ]
        )
        margin = plain.domain_margin
        samples.append(
            Sample(
                question,
                scored.features,
                gold,
                not question.answerable,
                partial(
                    question_features, features=scored.features, reading=scored.reading, margin=margin, q=q
                ),
            )
        )
    return samples


def fit_logistic(
    x: NDArray[np.float64], y: NDArray[np.float64], weight: NDArray[np.float64], l2: float = L2
) -> tuple[NDArray[np.float64], float]:
    """Weights and bias of an L2-regularised, sample-weighted logistic regression (Newton's method)."""
    import numpy as np

    design = np.hstack([x, np.ones((len(x), 1))])
    beta = np.zeros(design.shape[1])
    penalty = np.diag([l2] * x.shape[1] + [0.0])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(design @ beta)))
        gradient = design.T @ (weight * (p - y)) + penalty @ beta
        hessian = design.T @ (design * (weight * p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta[:-1], float(beta[-1])


@dataclass(frozen=True, slots=True)
class Fitted:
    """A fitted logistic model over standardised features."""

    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    weights: NDArray[np.float64]
    bias: float

    def probabilities(self, features: NDArray[np.float32]) -> NDArray[np.float64]:
        import numpy as np

        result: NDArray[np.float64] = 1.0 / (
            1.0 + np.exp(-(((features - self.mean) / self.scale) @ self.weights + self.bias))
        )
        return result


@dataclass(frozen=True, slots=True)
class Trained:
    ranker: Fitted
    abstention: Fitted
    abstain_above: float


def fit(x: NDArray[np.float64], y: NDArray[np.float64], *, balanced: bool) -> Fitted:
    """A logistic model of `y` on standardised `x`; `balanced` weighs both classes alike."""
    import numpy as np

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    positives = max(float(y.sum()), 1.0)
    if balanced:
        weight = np.where(y > 0, len(y) / (2 * positives), len(y) / (2 * max(len(y) - positives, 1.0)))
    else:
        weight = np.ones(len(y))
    w, b = fit_logistic((x - mean) / scale, y, weight)
    return Fitted(mean, scale, w, b)


def train(samples: Sequence[Sample]) -> Trained:
    """The ranker, fitted on the answerable samples that have a gold candidate; then the abstention model over
    every sample's ranked candidates, and its threshold."""
    import numpy as np

    fitted = [s for s in samples if not s.abstain and s.gold.any()]
    x = np.vstack([s.features for s in fitted]).astype(np.float64)
    y = np.concatenate([s.gold for s in fitted]).astype(np.float64)
    ranker = fit(x, y, balanced=True)
    asked = np.vstack([s.asked(ranker.probabilities(s.features).tolist()) for s in samples]).astype(
        np.float64
    )
    abstention = fit(asked, np.array([float(s.abstain) for s in samples]), balanced=False)
    return Trained(ranker, abstention, calibrate(samples, ranker, abstention, asked))


def calibrate(
    samples: Sequence[Sample], ranker: Fitted, abstention: Fitted, asked: NDArray[np.float64]
) -> float:
    """The abstention threshold that makes the most right decisions on the dev questions (answer with a gold
    clause among the first three, or abstain where nothing answers); among equals, the highest (abstaining is
    only right when nothing answers)."""
    import numpy as np

    abstain_p = abstention.probabilities(asked.astype(np.float32))
    decided = []
    for sample, pa in zip(samples, abstain_p, strict=True):
        order = np.argsort(-ranker.probabilities(sample.features), kind="stable")
        decided.append((float(pa), bool(sample.gold[order[:3]].any()), sample.abstain))
    thresholds = sorted({1.01, *(round(p, 4) for p, _, _ in decided)})

    def right(threshold: float) -> int:
        return sum((p >= threshold) if abstain else (p < threshold and hit) for p, hit, abstain in decided)

    return max(thresholds, key=lambda t: (right(t), t))


def _linear(name: str, model: Fitted, features: Sequence[str]) -> str:
    def numbers(values: NDArray[np.float64]) -> str:
        return "[" + ", ".join(f"{float(v):.6g}" for v in values) + "]"

    names = ", ".join(f'"{n}"' for n in features)
    return (
        f"[{name}]\nfeatures = [{names}]\nmean = {numbers(model.mean)}\nscale = {numbers(model.scale)}\n"
        f"weights = {numbers(model.weights)}\nbias = {model.bias:.6g}\n"
    )


def write_weights(trained: Trained, path: Path, trained_on: str) -> None:
    from ..retrieve.features import FEATURES, QUESTION_FEATURES

    path.write_text(
        "# The second-stage ranker and the abstention model (bot/retrieve/rerank.py), fitted on the dev set by\n"
        "# `make ranker` (bot/evaluation/train_ranker.py). Generated: do not edit by hand, retrain.\n"
        f"abstain_above = {trained.abstain_above:.6g}\n"
        f'trained_on = "{trained_on}"\n'
        "seed = 0\n\n"
        + _linear("ranker", trained.ranker, FEATURES)
        + "\n"
        + _linear("abstention", trained.abstention, QUESTION_FEATURES),
        encoding="utf-8",
    )


def main(argv: Sequence[str] | None = None) -> None:
    from ..cli.evaluation import default_corpora
    from ..data import DATA_DIR
    from ..index.build import build_index
    from ..retrieve.searcher import open_searcher

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--questions", type=Path, default=Path("eval/dev_questions.jsonl"))
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="where the index is built (default: DATA_DIR/eval)"
    )
    parser.add_argument("--out", type=Path, default=DATA_DIR / "ranker.toml")
    args = parser.parse_args(argv)
    base = Settings()
    settings = Settings(**{**base.model_dump(), "data_dir": args.data_dir or base.data_dir / "eval"})
    build_index(default_corpora(), settings)
    searcher = open_searcher(settings)
    samples = collect(load_questions(args.questions), settings, searcher)
    trained = train(samples)
    write_weights(trained, args.out, str(args.questions))
    print(f"fitted on {len(samples)} questions; abstain at {trained.abstain_above:.4f}; wrote {args.out}")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
