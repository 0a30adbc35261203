"""Public benchmarks from `../shared/benchmarks/`, scored with policybot's own retrieval components (the
bundled MiniLM, its BM25 with artists' words expanded, reciprocal rank fusion with its constant; see
ranking.py); each benchmark in its own module (tosdr.py, unfair.py).

- ToS;DR points: the case title as the question, that service's quotes as the candidates (hit@k, MRR).
  No published numbers exist; a random ranking of the same candidates is reported beside ours.
- UNFAIR-ToS (LexGLUE test split): per test document and unfair-clause category, a plain question written
  from the category's definition; rank the document's sentences (recall@k, nDCG@10). LexGLUE's published
  figures are micro/macro-F1 of classifiers fine-tuned on 5,532 sentences; a zero-shot reading (the three
  sentences policybot would quote for each question) is scored the same way, beside them.

Nothing here is tuned on these test sets: the questions, k and thresholds were fixed before running them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .ranking import Progress
from .tosdr import tosdr_points
from .unfair import unfair_tos

if TYPE_CHECKING:
    from ..index.embeddings import MiniLMEmbeddings
    from ..settings import Settings


def run_benchmarks(
    root: Path,
    embedder: MiniLMEmbeddings,
    settings: Settings,
    *,
    seed: int = 6,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Every benchmark found under `root` (skipped with a reason when its folder is missing)."""
    results: dict[str, Any] = {}
    tosdr = root / "tosdr_points"
    if tosdr.is_dir():
        results["tosdr_points"] = tosdr_points(tosdr, embedder, settings, seed=seed, progress=progress)
    else:
        results["tosdr_points"] = {"skipped": f"{tosdr} not found"}
    unfair = root / "unfair_tos"
    if unfair.is_dir():
        results["unfair_tos"] = unfair_tos(unfair, embedder, settings, progress=progress)
    else:
        results["unfair_tos"] = {"skipped": f"{unfair} not found"}
    results["policyqa"] = {
        "skipped": "not run: the issue asks for ToS;DR and UNFAIR-ToS; PolicyQA's published figures are "
        "reading-comprehension span EM/F1 given the gold paragraph, which a clause retriever cannot be compared "
        "with (its README sketches a retrieval protocol with no published numbers)"
    }
    return results
