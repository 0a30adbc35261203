"""One evaluation run: every question set through policybot's one `ask()` and through the BM25-only and
dense-only ablations of the same retrieval (and the LangChain recipe and the public benchmarks, when asked),
scored set by set."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .ablations import bm25_only, dense_only
from .answers import answer_figures
from .diagnosis import diagnose
from .gold import GoldQuestion, QuestionSet
from .metrics import (
    DEPTH,
    Outcome,
    abstention_recall_by_kind,
    first_hit_rank,
    hit_at_3_by,
    hit_at_3_by_kind,
    summarise,
)
from .outcomes import hit_evidence, project_outcome, retrieval_outcome
from .versions import CorpusVersions, TextLookup

if TYPE_CHECKING:
    from ..retrieve.searcher import Searcher
    from ..settings import Settings
    from ..types import Corpus, Hit

Progress = Callable[[str, int, int], None]

SYSTEMS = ("project", "bm25", "dense", "langchain_recipe")
BASELINES = ("bm25", "dense", "langchain_recipe")


def _nothing(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class SetResult:
    """The figures of one question set (one file), every system side by side."""

    name: str
    """The set's name: its file's stem ("questions", "test_questions")."""
    questions: tuple[GoldQuestion, ...]
    outcomes: dict[str, dict[str, Outcome]]
    """System → question id → what it did."""
    metrics: dict[str, dict[str, Any]]
    """System → the report's metrics."""
    breakdown: dict[str, Any] = field(default_factory=dict)
    """System → hit@3 by style, topic and failure kind (and abstention recall by kind)."""
    path: str = ""


@dataclass(frozen=True, slots=True)
class EvalResult:
    sets: tuple[SetResult, ...]
    """In the order the files were given; the first is the one report.json's top-level keys describe."""
    benchmarks: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    # The first set's figures, under the names a single-set result has always had.

    @property
    def questions(self) -> tuple[GoldQuestion, ...]:
        return self.sets[0].questions

    @property
    def outcomes(self) -> dict[str, dict[str, Outcome]]:
        return self.sets[0].outcomes

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        return self.sets[0].metrics


# --- asking ----------------------------------------------------------------------------------------------


def _ask(question: GoldQuestion, settings: Settings, searcher: Searcher) -> tuple[dict[str, Any], float]:
    """policybot's answer JSON to a gold question, as of the day it was written, and the time it took."""
    from ..answer.ask import ask
    from ..answer.schema import answer_json
    from ..errors import BadQuestion

    began = time.perf_counter()
    try:
        answer = answer_json(
            ask(
                question.question,
                settings,
                history=question.history,
                searcher=searcher,
                today=question.today,
            )
        )
    except BadQuestion as exc:
        answer = {"abstained": True, "reason": "bad_question", "citations": [], "error": str(exc)}
    return answer, (time.perf_counter() - began) * 1000


def _traced_outcome(
    question: GoldQuestion,
    answer: dict[str, Any],
    outcome: Outcome,
    retrieved: Sequence[Hit],
    read_services: Sequence[str],
    lookup: TextLookup,
) -> Outcome:
    """policybot's outcome with why it missed, if it did, from what the same retrieval found."""
    evidence = [hit_evidence(h, lookup) for h in retrieved]
    kind, diagnosis = diagnose(question, outcome, evidence, read_services)
    return replace(
        outcome,
        diagnosis=diagnosis,
        error=str(answer.get("error") or ""),
        extra={
            "failure": kind,
            "retrieved_rank": first_hit_rank(evidence, question.gold, depth=len(evidence)),
            "retrieved": len(evidence),
        },
    )


def run_questions(
    questions: Sequence[GoldQuestion],
    settings: Settings,
    *,
    corpus: CorpusVersions | None = None,
    progress: Progress | None = None,
) -> dict[str, dict[str, Outcome]]:
    """Every question through `ask()` (with its conversation and its day), then through the BM25-only and
    dense-only ablations on the same reading of the question. The index must exist."""
    from ..answer.read import read
    from ..answer.retrieve import retrieve
    from ..index.store import open_store
    from ..retrieve.searcher import open_searcher

    report = progress or _nothing
    searcher = open_searcher(settings)
    lookup = open_store(settings).text
    outcomes: dict[str, dict[str, Outcome]] = {name: {} for name in ("project", "bm25", "dense")}
    report("eval", 0, len(questions))
    for n, question in enumerate(questions, start=1):
        answer, latency = _ask(question, settings, searcher)
        outcome = project_outcome(question, answer, latency, lookup, corpus)
        q = read(question.question, settings, searcher, history=question.history, today=question.today)
        retrieved = retrieve(q, searcher, settings, {}).hits  # the chunks `ask()` chooses its citations from
        outcomes["project"][question.id] = _traced_outcome(
            question, answer, outcome, retrieved, q.services, lookup
        )
        for name, ablation in (("bm25", bm25_only), ("dense", dense_only)):
            began = time.perf_counter()
            hits = ablation(searcher, q, DEPTH)
            latency = (time.perf_counter() - began) * 1000
            outcomes[name][question.id] = retrieval_outcome(question, hits, latency, lookup, corpus)
        report("eval", n, len(questions))
    return outcomes


# --- scoring ---------------------------------------------------------------------------------------------


def score_set(
    name: str,
    questions: Sequence[GoldQuestion],
    outcomes: Mapping[str, Mapping[str, Outcome]],
    *,
    path: str = "",
) -> SetResult:
    """Every figure of one question set, for every system that ran; the answer figures (leads, excerpt
    hygiene, Markdown, "not addressed" rows) for policybot, the only system that answers."""
    ran = [system for system in SYSTEMS if system in outcomes]
    metrics = {system: summarise(questions, outcomes[system]) for system in ran}
    if "project" in metrics:
        metrics["project"].update(answer_figures(questions, outcomes["project"]))
    breakdown = {
        system: {
            "style": hit_at_3_by(questions, outcomes[system], "style"),
            "topic": hit_at_3_by(questions, outcomes[system], "topic"),
            "kind": hit_at_3_by_kind(questions, outcomes[system]),
            "abstention_by_kind": abstention_recall_by_kind(questions, outcomes[system]),
        }
        for system in ran
    }
    return SetResult(
        name=name,
        questions=tuple(questions),
        outcomes={system: dict(o) for system, o in outcomes.items()},
        metrics=metrics,
        breakdown=breakdown,
        path=path,
    )


def score(
    questions: Sequence[GoldQuestion],
    outcomes: Mapping[str, Mapping[str, Outcome]],
    *,
    benchmarks: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
    name: str = "questions",
) -> EvalResult:
    """A result of one question set."""
    return EvalResult((score_set(name, questions, outcomes),), benchmarks=benchmarks or {}, meta=meta or {})


# --- a whole run -----------------------------------------------------------------------------------------


def run_eval(
    sets: Sequence[QuestionSet],
    settings: Settings,
    corpus_dirs: Sequence[Path],
    *,
    corpus: Corpus | None = None,
    recipe_dir: Path | None = None,
    benchmarks_dir: Path | None = None,
    progress: Progress | None = None,
    sample_seed: int = 6,
) -> EvalResult:
    """A whole evaluation on an existing index: every set through policybot and the ablations, the LangChain
    recipe (when `recipe_dir` is given) and the public benchmarks (when `benchmarks_dir` is given)."""
    from ..index.embeddings import embedder_for
    from ..ingest.load import load_corpus

    corpus = corpus or load_corpus(corpus_dirs)
    versions = CorpusVersions.of(corpus)
    began = time.perf_counter()
    outcomes = [run_questions(s.questions, settings, corpus=versions, progress=progress) for s in sets]
    meta: dict[str, Any] = {"seconds": {"questions": round(time.perf_counter() - began, 1)}}
    embedder = embedder_for(settings)
    if recipe_dir is not None:
        from .baselines import open_recipe, run_recipe

        began = time.perf_counter()
        recipe = open_recipe(corpus, recipe_dir, embedder, progress=progress)
        meta["seconds"]["recipe_index"] = round(time.perf_counter() - began, 1)
        meta["recipe"] = recipe.describe()
        for s, found in zip(sets, outcomes, strict=True):
            found["langchain_recipe"] = run_recipe(recipe, s.questions, versions, progress=progress)
    bench: dict[str, Any] = {}
    if benchmarks_dir is not None:
        from .benchmarks import run_benchmarks

        began = time.perf_counter()
        bench = run_benchmarks(benchmarks_dir, embedder, settings, seed=sample_seed, progress=progress)
        meta["seconds"]["benchmarks"] = round(time.perf_counter() - began, 1)
    scored = tuple(
        score_set(s.name, s.questions, found, path=s.path) for s, found in zip(sets, outcomes, strict=True)
    )
    return EvalResult(scored, benchmarks=bench, meta=meta)
