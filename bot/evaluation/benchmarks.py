"""Public benchmarks from `../shared/benchmarks/`, scored with policybot's own retrieval components (the
bundled MiniLM, its BM25 with artists' words expanded, reciprocal rank fusion with its constant).

- ToS;DR points: the case title as the question, that service's quotes as the candidates (hit@k, MRR).
  No published numbers exist; a random ranking of the same candidates is reported beside ours.
- UNFAIR-ToS (LexGLUE test split): per test document and unfair-clause category, a plain question written
  from the category's definition; rank the document's sentences (recall@k, nDCG@10). LexGLUE's published
  figures are micro/macro-F1 of classifiers fine-tuned on 5,532 sentences; a zero-shot reading (the three
  sentences policybot would quote for each question) is scored the same way, beside them.

Nothing here is tuned on these test sets: the questions, k and thresholds were fixed before running them.
"""

from __future__ import annotations

import html
import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import TYPE_CHECKING, Any

from .metrics import first_relevant_rank, multilabel_f1, ndcg_at, random_expectation, recall_at

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from ..index.embeddings import MiniLMEmbeddings
    from ..retrieve.lexical import LexicalIndex
    from ..settings import Settings

Progress = Callable[[str, int, int], None]

TOSDR_SERVICES = 80
"""ToS;DR services sampled (fixed seed): enough for stable figures, fast enough for every eval run."""
TOSDR_MIN_QUOTES = 5
"""A service needs this many distinct quotes to make ranking them a test."""

UNFAIR_CATEGORIES: dict[str, tuple[str, str]] = {
    # code: (name, the plain question an artist would ask), written from Lippi et al. (2019)'s definitions.
    "A": ("Arbitration", "Do I have to go to arbitration instead of court if I have a dispute with them?"),
    "CH": ("Unilateral change", "Can they change these terms whenever they want without asking me?"),
    "CR": ("Content removal", "Can they delete or remove what I upload?"),
    "J": ("Jurisdiction", "Which courts would handle a dispute, and where would I have to sue them?"),
    "LAW": ("Choice of law", "Which country's law governs these terms?"),
    "LTD": ("Limitation of liability", "Are they responsible if something goes wrong or I lose something?"),
    "TER": ("Unilateral termination", "Can they close my account or stop the service whenever they want?"),
    "USE": ("Contract by using", "Do I accept the terms just by using the service?"),
}
UNFAIR_QUOTED = 3
"""Sentences policybot would quote per question: its `max_citations`."""

LEXGLUE_PUBLISHED: dict[str, tuple[float, float]] = {
    # UNFAIR-ToS test micro-F1 / macro-F1, Chalkidis et al., ACL 2022 (LexGLUE), fine-tuned on the train split.
    "TFIDF+SVM": (94.7, 75.0),
    "BERT": (95.6, 81.3),
    "RoBERTa": (95.2, 79.2),
    "DeBERTa": (95.5, 80.3),
    "Longformer": (95.5, 80.9),
    "BigBird": (95.7, 81.3),
    "Legal-BERT": (96.0, 83.0),
    "CaseLaw-BERT": (96.0, 82.3),
    "RoBERTa-large": (95.8, 81.6),
}


def _nothing(stage: str, done: int, total: int) -> None:
    return None


def _round(value: float, digits: int = 4) -> float:
    return round(value, digits)


# --- ranking with policybot's components ---------------------------------------------------------------------


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

    from ..retrieve.lexical import expand_query

    similarity = vectors @ question_vector
    dense = [int(i) for i in np.argsort(-similarity, kind="stable")]
    scores = lexical.scores(list(dict.fromkeys(expand_query(question))))
    matched = [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] > 0]
    unmatched = [i for i in range(len(vectors)) if scores[i] <= 0]
    fused: dict[int, float] = {}
    for ranking in (dense, matched):
        for r, i in enumerate(ranking, start=1):
            fused[i] = fused.get(i, 0.0) + 1.0 / (rrf_k + r)
    order = sorted(fused, key=lambda i: (-fused[i], -float(similarity[i]), i))
    return Rankings(order, dense, matched + unmatched, [float(s) for s in similarity])


RANKERS = ("policybot", "dense", "bm25")


def encode_all(embedder: MiniLMEmbeddings, texts: Sequence[str]) -> NDArray[np.float32]:
    """Vectors of `texts` in their order, computed in one pass sorted by length (padding is what a CPU spends
    its time on)."""
    import numpy as np

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors = embedder.encode([texts[i] for i in order])
    result = np.empty_like(vectors)
    result[np.array(order, dtype=np.int64)] = vectors
    return result


# --- ToS;DR points ---------------------------------------------------------------------------------------------

_BREAK = re.compile(r"<(?:br|/?p|/?li|/?div|/?tr|/?h\d)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]+>")


def clean_quote(text: str) -> str:
    """A quote's text without its HTML: block tags become spaces, inline tags (<b>, <a>) vanish."""
    return " ".join(html.unescape(_TAG.sub("", _BREAK.sub(" ", text))).split())


@dataclass(frozen=True, slots=True)
class TosdrService:
    name: str
    quotes: tuple[str, ...]
    cases: dict[str, frozenset[int]]
    """Case title → indices of the quotes annotated with it."""


def load_tosdr(root: Path) -> list[TosdrService]:
    """Services of the ToS;DR snapshot with their distinct quotes and the cases they support."""
    services = []
    for path in sorted((root / "api" / "1" / "service").glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        quotes: dict[str, int] = {}
        cases: dict[str, set[int]] = {}
        points = data.get("pointsData") or {}
        for point in points.values() if isinstance(points, dict) else ():
            quote = clean_quote(str(point.get("quoteText") or ""))
            case = str((point.get("tosdr") or {}).get("case") or "").strip()
            if not quote or not case:
                continue
            index = quotes.setdefault(quote, len(quotes))
            cases.setdefault(case, set()).add(index)
        if quotes:
            services.append(
                TosdrService(path.stem, tuple(quotes), {c: frozenset(i) for c, i in cases.items()})
            )
    return services


def tosdr_points(
    root: Path,
    embedder: MiniLMEmbeddings,
    settings: Settings,
    *,
    services: int = TOSDR_SERVICES,
    seed: int = 6,
    progress: Progress | None = None,
) -> dict[str, Any]:
    from ..retrieve.lexical import LexicalIndex

    report = progress or _nothing
    every = load_tosdr(root)
    eligible = [s for s in every if len(s.quotes) >= TOSDR_MIN_QUOTES and len(s.cases) >= 2]
    chosen = sorted(random.Random(seed).sample(eligible, min(services, len(eligible))), key=lambda s: s.name)
    cases = sorted({c for s in chosen for c in s.cases})
    case_vectors = dict(zip(cases, embedder.encode(cases), strict=True))
    report("tosdr", 0, len(chosen))
    every_quote = [quote for service in chosen for quote in service.quotes]
    all_vectors = encode_all(embedder, every_quote)
    offsets = [0]
    for service in chosen:
        offsets.append(offsets[-1] + len(service.quotes))
    ranks: dict[str, list[int | None]] = {name: [] for name in RANKERS}
    hits3_random: list[float] = []
    hit1_random: list[float] = []
    rr_random: list[float] = []
    sizes = []
    for n, service in enumerate(chosen, start=1):
        vectors = all_vectors[offsets[n - 1] : offsets[n]]
        lexical = LexicalIndex(service.quotes)
        sizes.append(len(service.quotes))
        for case, relevant in sorted(service.cases.items()):
            rankings = rank_candidates(case, case_vectors[case], lexical, vectors, settings.rrf_k)
            for name in RANKERS:
                ranks[name].append(first_relevant_rank(getattr(rankings, name), relevant))
            hit1, rr = random_expectation(len(service.quotes), len(relevant), 1)
            hit3, _ = random_expectation(len(service.quotes), len(relevant), 3)
            hit1_random.append(hit1)
            hits3_random.append(hit3)
            rr_random.append(rr)
        report("tosdr", n, len(chosen))

    def figures(found: list[int | None]) -> dict[str, float]:
        return {
            "hit@1": _round(sum(1 for r in found if r == 1) / len(found)),
            "hit@3": _round(sum(1 for r in found if r is not None and r <= 3) / len(found)),
            "mrr": _round(sum(1 / r for r in found if r) / len(found)),
        }

    queries = len(ranks["policybot"])
    return {
        "protocol": "question = the ToS;DR case title; candidates = that service's distinct quotes; "
        "a hit = a quote annotated with that case",
        "sample": {
            "seed": seed,
            "services": len(chosen),
            "eligible_services": len(eligible),
            "rule": f"services with ≥{TOSDR_MIN_QUOTES} distinct quotes and ≥2 cases, sampled with random.Random({seed})",
            "queries": queries,
            "candidates_mean": _round(mean(sizes), 1) if sizes else 0,
        },
        "published": None,
        "published_note": "ToS;DR publishes no benchmark or metric for this use (README).",
        **{name: figures(ranks[name]) for name in RANKERS},
        "random": {
            "hit@1": _round(mean(hit1_random)),
            "hit@3": _round(mean(hits3_random)),
            "mrr": _round(mean(rr_random)),
        },
    }


# --- UNFAIR-ToS ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnfairDocument:
    company: str
    sentences: tuple[str, ...]
    labels: tuple[frozenset[str], ...]
    """Unfair-clause categories of each sentence (empty for most)."""


def _ptb(text: str) -> str:
    # LexGLUE's preprocessing: the tokeniser's bracket tokens back to brackets.
    return text.replace("-lrb-", "(").replace("-rrb-", ")").strip()


def load_unfair(root: Path) -> list[UnfairDocument]:
    """The test documents from the upstream files: one sentence per line, `Labels_X` = 1 where unfair of type X."""
    documents = []
    for path in sorted((root / "ToS" / "Sentences").glob("*.txt")):
        sentences = path.read_text(encoding="utf-8").splitlines()
        labels: list[set[str]] = [set() for _ in sentences]
        for code in UNFAIR_CATEGORIES:
            marks = (root / "ToS" / f"Labels_{code}" / path.name).read_text(encoding="utf-8").splitlines()
            if len(marks) != len(sentences):
                raise ValueError(
                    f"{root}/ToS/Labels_{code}/{path.name} has {len(marks)} lines for {len(sentences)} sentences"
                )
            for i, mark in enumerate(marks):
                if mark.strip() == "1":
                    labels[i].add(code)
        documents.append(
            UnfairDocument(path.stem, tuple(_ptb(s) for s in sentences), tuple(frozenset(x) for x in labels))
        )
    return documents


def unfair_tos(
    root: Path, embedder: MiniLMEmbeddings, settings: Settings, *, progress: Progress | None = None
) -> dict[str, Any]:
    from ..retrieve.lexical import LexicalIndex

    report = progress or _nothing
    documents = load_unfair(root)
    questions = {code: question for code, (_, question) in UNFAIR_CATEGORIES.items()}
    question_vectors = dict(zip(questions, embedder.encode(list(questions.values())), strict=True))
    ks = (1, 3, 5, 10)
    per_ranker: dict[str, dict[str, list[float]]] = {
        name: {**{f"recall@{k}": [] for k in ks}, "ndcg@10": [], "mrr": []} for name in RANKERS
    }
    random_recall: dict[int, list[float]] = {k: [] for k in ks}
    per_category: dict[str, dict[str, list[float]]] = {
        code: {"recall@3": [], "ndcg@10": []} for code in questions
    }
    gold_sets: list[set[str]] = []
    predicted: list[set[str]] = []
    pairs = 0
    report("unfair", 0, len(documents))
    all_vectors = encode_all(embedder, [s for document in documents for s in document.sentences])
    offset = 0
    for n, document in enumerate(documents, start=1):
        vectors = all_vectors[offset : offset + len(document.sentences)]
        offset += len(document.sentences)
        lexical = LexicalIndex(document.sentences)
        quoted: list[set[str]] = [set() for _ in document.sentences]
        for code, question in questions.items():
            rankings = rank_candidates(question, question_vectors[code], lexical, vectors, settings.rrf_k)
            # What the bot would quote: its top three, when they pass its calibrated similarity floor.
            for i in rankings.policybot[:UNFAIR_QUOTED]:
                if rankings.similarity[i] >= settings.min_similarity:
                    quoted[i].add(code)
            relevant = [i for i, labels in enumerate(document.labels) if code in labels]
            if not relevant:
                continue
            pairs += 1
            for name in RANKERS:
                ranked = getattr(rankings, name)
                for k in ks:
                    per_ranker[name][f"recall@{k}"].append(recall_at(ranked, relevant, k))
                per_ranker[name]["ndcg@10"].append(ndcg_at(ranked, relevant, 10))
                first = first_relevant_rank(ranked, relevant)
                per_ranker[name]["mrr"].append(1 / first if first else 0.0)
            per_category[code]["recall@3"].append(recall_at(rankings.policybot, relevant, 3))
            per_category[code]["ndcg@10"].append(ndcg_at(rankings.policybot, relevant, 10))
            for k in ks:
                random_recall[k].append(min(k, len(document.sentences)) / len(document.sentences))
        gold_sets.extend(set(labels) for labels in document.labels)
        predicted.extend(quoted)
        report("unfair", n, len(documents))
    micro, macro = multilabel_f1(gold_sets, predicted, list(UNFAIR_CATEGORIES))
    none_micro, none_macro = multilabel_f1(gold_sets, [set() for _ in gold_sets], list(UNFAIR_CATEGORIES))
    return {
        "protocol": "per test document × category with at least one unfair sentence: a plain question for the "
        "category; rank all of the document's sentences; gold = the sentences labelled with that category",
        "documents": len(documents),
        "sentences": len(gold_sets),
        "pairs": pairs,
        "questions": {code: question for code, question in questions.items()},
        **{name: {m: _round(mean(v)) for m, v in figures.items()} for name, figures in per_ranker.items()},
        "random": {f"recall@{k}": _round(mean(v)) for k, v in random_recall.items()},
        "by_category": {
            f"{code} {UNFAIR_CATEGORIES[code][0]}": {
                "pairs": len(v["recall@3"]),
                "recall@3": _round(mean(v["recall@3"])) if v["recall@3"] else None,
                "ndcg@10": _round(mean(v["ndcg@10"])) if v["ndcg@10"] else None,
            }
            for code, v in per_category.items()
        },
        "classification": {
            "rule": f"a sentence gets category X when it is among the {UNFAIR_QUOTED} sentences policybot would "
            f"quote for X's question (fused rank) with similarity ≥ min_similarity ({settings.min_similarity}, "
            "calibrated on eval/dev_questions.jsonl)",
            "policybot_zero_shot": {"micro_f1": _round(100 * micro, 1), "macro_f1": _round(100 * macro, 1)},
            "all_none": {"micro_f1": _round(100 * none_micro, 1), "macro_f1": _round(100 * none_macro, 1)},
            "published": {
                name: {"micro_f1": mi, "macro_f1": ma} for name, (mi, ma) in LEXGLUE_PUBLISHED.items()
            },
            "published_note": "Chalkidis et al., ACL 2022 (LexGLUE), models fine-tuned on the 5,532 training "
            "sentences; a zero-shot retriever is not on equal terms. Micro-F1 counts the 'no unfair clause' "
            "column, which 89% of sentences fall in: predicting no label anywhere already scores high.",
        },
    }


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
