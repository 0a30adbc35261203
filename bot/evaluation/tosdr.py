"""ToS;DR points as a benchmark: the case title as the question, that service's distinct quotes as the
candidates, a quote annotated with the case as a hit (hit@k, MRR). No published numbers exist; a random
ranking of the same candidates is reported beside policybot's."""

from __future__ import annotations

import html
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import TYPE_CHECKING, Any

from .metrics import first_relevant_rank, random_expectation
from .ranking import RANKERS, Progress, encode_all, nothing, rank_candidates, rounded

if TYPE_CHECKING:
    from ..index.embeddings import MiniLMEmbeddings
    from ..settings import Settings

TOSDR_SERVICES = 80
"""ToS;DR services sampled (fixed seed): enough for stable figures, fast enough for every eval run."""
TOSDR_MIN_QUOTES = 5
"""A service needs this many distinct quotes to make ranking them a test."""

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


@dataclass
class _Tally:
    """First relevant ranks by ranker, and what a random ranking of the same candidates would score."""

    ranks: dict[str, list[int | None]]
    hit1_random: list[float]
    hit3_random: list[float]
    rr_random: list[float]
    sizes: list[int]


def tosdr_points(
    root: Path,
    embedder: MiniLMEmbeddings,
    settings: Settings,
    *,
    services: int = TOSDR_SERVICES,
    seed: int = 6,
    progress: Progress | None = None,
) -> dict[str, Any]:
    every = load_tosdr(root)
    eligible = [s for s in every if len(s.quotes) >= TOSDR_MIN_QUOTES and len(s.cases) >= 2]
    chosen = sorted(random.Random(seed).sample(eligible, min(services, len(eligible))), key=lambda s: s.name)
    tally = _rank_services(chosen, embedder, settings.rrf_k, progress or nothing)
    return {
        "protocol": "question = the ToS;DR case title; candidates = that service's distinct quotes; "
        "a hit = a quote annotated with that case",
        "sample": {
            "seed": seed,
            "services": len(chosen),
            "eligible_services": len(eligible),
            "rule": f"services with ≥{TOSDR_MIN_QUOTES} distinct quotes and ≥2 cases, sampled with random.Random({seed})",
            "queries": len(tally.ranks["policybot"]),
            "candidates_mean": rounded(mean(tally.sizes), 1) if tally.sizes else 0,
        },
        "published": None,
        "published_note": "ToS;DR publishes no benchmark or metric for this use (README).",
        **{name: _figures(tally.ranks[name]) for name in RANKERS},
        "random": {
            "hit@1": rounded(mean(tally.hit1_random)),
            "hit@3": rounded(mean(tally.hit3_random)),
            "mrr": rounded(mean(tally.rr_random)),
        },
    }


def _rank_services(
    chosen: list[TosdrService], embedder: MiniLMEmbeddings, rrf_k: int, report: Progress
) -> _Tally:
    """Every case of every chosen service as a question over that service's quotes, by every ranker."""
    from ..retrieve.lexical import LexicalIndex

    cases = sorted({c for s in chosen for c in s.cases})
    case_vectors = dict(zip(cases, embedder.encode(cases), strict=True))
    report("tosdr", 0, len(chosen))
    all_vectors = encode_all(embedder, [quote for service in chosen for quote in service.quotes])
    offsets = [0]
    for service in chosen:
        offsets.append(offsets[-1] + len(service.quotes))
    tally = _Tally({name: [] for name in RANKERS}, [], [], [], [])
    for n, service in enumerate(chosen, start=1):
        vectors = all_vectors[offsets[n - 1] : offsets[n]]
        lexical = LexicalIndex(service.quotes)
        tally.sizes.append(len(service.quotes))
        for case, relevant in sorted(service.cases.items()):
            rankings = rank_candidates(case, case_vectors[case], lexical, vectors, rrf_k)
            for name in RANKERS:
                tally.ranks[name].append(first_relevant_rank(getattr(rankings, name), relevant))
            hit1, rr = random_expectation(len(service.quotes), len(relevant), 1)
            hit3, _ = random_expectation(len(service.quotes), len(relevant), 3)
            tally.hit1_random.append(hit1)
            tally.hit3_random.append(hit3)
            tally.rr_random.append(rr)
        report("tosdr", n, len(chosen))
    return tally


def _figures(found: list[int | None]) -> dict[str, float]:
    return {
        "hit@1": rounded(sum(1 for r in found if r == 1) / len(found)),
        "hit@3": rounded(sum(1 for r in found if r is not None and r <= 3) / len(found)),
        "mrr": rounded(sum(1 / r for r in found if r) / len(found)),
    }
