"""Running the gold questions through policybot's one `ask()`, re-checking every excerpt against its stored
version, and through the BM25-only and dense-only ablations of the same retrieval; the orchestration of a
whole evaluation run."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..types import Corpus, DocumentVersion, Hit, text_sha256
from .gold import GoldQuestion
from .metrics import DEPTH, Evidence, Outcome, first_hit_rank, hit_at_3_by, summarise

if TYPE_CHECKING:
    from ..retrieve.searcher import Searcher
    from ..settings import Settings
    from ..types import Question

Progress = Callable[[str, int, int], None]
TextLookup = Callable[[str], "str | None"]

SYSTEMS = ("project", "bm25", "dense", "langchain_recipe")
BASELINES = ("bm25", "dense", "langchain_recipe")


def _nothing(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class CorpusVersions:
    """The corpus as loaded from the files, by text hash: what a citation's labels are checked against,
    independently of the index."""

    by_sha: dict[str, tuple[DocumentVersion, ...]]

    @classmethod
    def of(cls, corpus: Corpus) -> CorpusVersions:
        by_sha: dict[str, list[DocumentVersion]] = {}
        for version in corpus.versions:
            by_sha.setdefault(version.provenance.text_sha256, []).append(version)
        return cls({sha: tuple(versions) for sha, versions in by_sha.items()})

    def labels_match(self, sha: str, service: str, document: str, version_date: date | None) -> bool:
        return any(
            v.provenance.service == service
            and v.provenance.document == document
            and (version_date is None or v.provenance.version_date == version_date)
            for v in self.by_sha.get(sha, ())
        )

    def text(self, sha: str) -> str | None:
        versions = self.by_sha.get(sha)
        return versions[0].text if versions else None


# --- policybot itself -------------------------------------------------------------------------------------


def verify_citation(citation: Mapping[str, Any], lookup: TextLookup) -> bool:
    """True when the citation's excerpt is exactly the stored version's text at its offsets, and the stored
    text still hashes to the SHA-256 the citation names (checked here again, not trusted from the store)."""
    sha, start, end = citation.get("text_sha256"), citation.get("start"), citation.get("end")
    excerpt = citation.get("excerpt")
    if not sha or not isinstance(start, int) or not isinstance(end, int) or not excerpt:
        return False
    stored = lookup(str(sha))
    return stored is not None and text_sha256(stored) == sha and stored[start:end] == excerpt


def predicted_stance(answer: Mapping[str, Any], services: Sequence[str]) -> str | None:
    """The stance an answer states: `answer["stance"]`, else the comparison row of the question's first
    platform (issue 4 adds stances; until then there is none and stance accuracy is not measured)."""
    stance = answer.get("stance")
    if isinstance(stance, str) and stance.strip():
        return stance
    rows = answer.get("comparison") or answer.get("rows")
    if isinstance(rows, list):
        wanted = {s.casefold() for s in services}
        dict_rows = [r for r in rows if isinstance(r, Mapping) and isinstance(r.get("stance"), str)]
        chosen = [r for r in dict_rows if str(r.get("service", "")).casefold() in wanted] or dict_rows
        if chosen:
            return str(chosen[0]["stance"])
    return None


def citation_evidence(citation: Mapping[str, Any]) -> Evidence:
    return Evidence(
        service=str(citation["service"]),
        document=str(citation["document"]),
        version_date=date.fromisoformat(str(citation["version_date"])),
        text=str(citation.get("clause") or citation["excerpt"]),
        excerpt=str(citation["excerpt"]),
        section=str(citation.get("section", "")),
    )


def project_outcome(
    question: GoldQuestion,
    answer: Mapping[str, Any],
    latency_ms: float,
    lookup: TextLookup,
    corpus: CorpusVersions | None,
) -> Outcome:
    """Score one `answer_json(...)` dict: evidence in citation order, every excerpt re-verified."""
    citations = list(answer.get("citations") or [])
    verified = sum(1 for c in citations if verify_citation(c, lookup))
    labelled = (
        sum(
            1
            for c in citations
            if corpus.labels_match(
                str(c.get("text_sha256", "")),
                str(c["service"]),
                str(c["document"]),
                date.fromisoformat(str(c["version_date"])),
            )
        )
        if corpus is not None
        else 0
    )
    return Outcome(
        question_id=question.id,
        evidence=tuple(citation_evidence(c) for c in citations),
        abstained=bool(answer.get("abstained")),
        latency_ms=latency_ms,
        reason=str(answer.get("reason") or ""),
        stance=predicted_stance(answer, [g.service for g in question.gold] or list(question.services)),
        checked=len(citations),
        verified=verified,
        labelled=labelled,
        services=tuple(answer.get("services") or ()),
    )


def hit_evidence(hit: Hit, lookup: TextLookup) -> Evidence:
    """A retrieved chunk as evidence, read like a citation: the hit rule looks at its whole clause."""
    stored = lookup(hit.provenance.text_sha256) or ""
    clause = stored[hit.clause_start : hit.clause_end] or hit.text
    p = hit.provenance
    return Evidence(p.service, p.document, p.version_date, clause, hit.text, hit.section_path)


FAILURES = {
    "abstained": "abstained on an answerable question",
    "not_retrieved": "the gold clause was not among the chunks retrieved",
    "not_cited": "the gold clause was retrieved but not cited",
    "late": "the gold clause was cited, but not first",
    "answered": "answered a question it should have abstained on",
}


def diagnose(
    question: GoldQuestion, outcome: Outcome, retrieved: Sequence[Evidence], read_services: Sequence[str]
) -> tuple[str, str]:
    """Why policybot missed a question: (kind, a sentence naming the step that lost the gold evidence);
    ("", "") when it did not miss. Kinds are the keys of FAILURES."""
    if not question.answerable:
        if outcome.abstained:
            return "", ""
        first = outcome.evidence[0] if outcome.evidence else None
        cited = f"; cited {first.service} · {first.document} · {first.section}" if first else ""
        return "answered", f"answered instead of abstaining ({question.abstain_reason or 'abstain'}){cited}"
    rank = first_hit_rank(outcome.evidence, question.gold)
    if rank is not None:
        return ("", "") if rank == 1 else ("late", f"gold cited at rank {rank}")
    found = first_hit_rank(retrieved, question.gold, depth=len(retrieved))
    where = (
        f"the gold clause was retrieved at rank {found} of {len(retrieved)}"
        if found
        else f"the gold clause was not among the {len(retrieved)} retrieved chunks"
    )
    gold_services = {g.service for g in question.gold}
    read = set(read_services)
    platforms = ""
    if read and not gold_services & read:
        platforms = (
            f"read platform(s) {', '.join(sorted(read))}, gold is {', '.join(sorted(gold_services))}; "
        )
    elif not read:
        platforms = "no platform read in the question; "
    if outcome.abstained:
        return "abstained", f"abstained ({outcome.reason}); {platforms}{where}"
    if found:
        return "not_cited", f"{platforms}{where} but not cited"
    return "not_retrieved", f"{platforms}{where}"


# --- ablations: one retriever at a time over policybot's own chunks ------------------------------------------


def _top_hits(searcher: Searcher, ranked_ids: Sequence[str], k: int) -> list[Hit]:
    """The first k chunks of a ranking, folded as policybot folds its own."""
    from ..retrieve.searcher import fold_hits

    return fold_hits((searcher.hit(chunk_id) for chunk_id in ranked_ids), k)


def _allowed(searcher: Searcher, q: Question) -> list[str]:
    # A baseline never abstains: a date before every version falls back to the latest versions.
    return searcher.versions_in_force(q.as_of, q.services, q.region) or searcher.versions_in_force(None)


def dense_only(searcher: Searcher, q: Question, k: int) -> list[Hit]:
    """Chroma nearest neighbours of the question's topic among the versions the question selects."""
    allowed = _allowed(searcher, q)
    vector = searcher.embed_query(q.topic or q.text)
    ranked = searcher._dense(vector, allowed, searcher.settings.candidates)
    return _top_hits(searcher, [chunk_id for chunk_id, _ in ranked], k)


def bm25_only(searcher: Searcher, q: Question, k: int) -> list[Hit]:
    """policybot's BM25 (stemming, artists' words expanded) alone, over the versions the question selects."""
    import numpy as np

    from ..retrieve.lexical import expand_query

    allowed = _allowed(searcher, q)
    scores = searcher.lexical.scores(list(dict.fromkeys(expand_query(q.topic or q.text))))
    allowed_index = np.array([searcher.version_index[v] for v in allowed], dtype=np.int32)
    scores = np.where(np.isin(searcher.chunk_version, allowed_index), scores, 0.0)
    top = np.argsort(-scores, kind="stable")[: searcher.settings.candidates]
    return _top_hits(searcher, [searcher.ids[i] for i in top if scores[i] > 0], k)


def retrieval_outcome(
    question: GoldQuestion,
    hits: Sequence[Hit],
    latency_ms: float,
    lookup: TextLookup,
    corpus: CorpusVersions | None,
) -> Outcome:
    """A ranked list of chunks as an outcome: never an abstention; each chunk re-checked like an excerpt."""
    verified = 0
    labelled = 0
    for hit in hits:
        stored = lookup(hit.provenance.text_sha256)
        if stored is not None and text_sha256(stored) == hit.provenance.text_sha256:
            verified += stored[hit.start : hit.end] == hit.text
        p = hit.provenance
        if corpus is not None:
            labelled += corpus.labels_match(p.text_sha256, p.service, p.document, p.version_date)
    return Outcome(
        question_id=question.id,
        evidence=tuple(hit_evidence(h, lookup) for h in hits),
        abstained=False,
        latency_ms=latency_ms,
        checked=len(hits),
        verified=verified,
        labelled=labelled,
    )


# --- one run ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EvalResult:
    questions: tuple[GoldQuestion, ...]
    outcomes: dict[str, dict[str, Outcome]]
    """System → question id → what it did."""
    metrics: dict[str, dict[str, Any]]
    """System → the report's metrics."""
    by_style: dict[str, Any] = field(default_factory=dict)
    benchmarks: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def run_questions(
    questions: Sequence[GoldQuestion],
    settings: Settings,
    *,
    corpus: CorpusVersions | None = None,
    progress: Progress | None = None,
) -> dict[str, dict[str, Outcome]]:
    """Every question through `ask()` (with its conversation), then through the BM25-only and dense-only
    ablations on the same reading of the question. The index must exist."""
    from ..answer.ask import ask
    from ..answer.read import read
    from ..answer.schema import answer_json
    from ..errors import BadQuestion
    from ..index.store import open_store
    from ..retrieve.searcher import open_searcher

    report = progress or _nothing
    searcher = open_searcher(settings)
    lookup = open_store(settings).text
    depth = max(settings.max_citations * 3, settings.k)  # what `ask()` retrieves before choosing citations
    outcomes: dict[str, dict[str, Outcome]] = {name: {} for name in ("project", "bm25", "dense")}
    report("eval", 0, len(questions))
    for n, question in enumerate(questions, start=1):
        began = time.perf_counter()
        try:
            answer = answer_json(
                ask(question.question, settings, history=question.history, searcher=searcher)
            )
        except BadQuestion as exc:
            answer = {"abstained": True, "reason": "bad_question", "citations": [], "error": str(exc)}
        latency = (time.perf_counter() - began) * 1000
        outcome = project_outcome(question, answer, latency, lookup, corpus)

        q = read(question.question, settings, searcher, history=question.history)
        retrieved = searcher.retrieve(q.topic, services=q.services, as_of=q.as_of, region=q.region, k=depth)
        evidence = [hit_evidence(h, lookup) for h in retrieved]
        kind, diagnosis = diagnose(question, outcome, evidence, q.services)
        outcomes["project"][question.id] = replace(
            outcome,
            diagnosis=diagnosis,
            error=str(answer.get("error") or ""),
            extra={
                "failure": kind,
                "retrieved_rank": first_hit_rank(evidence, question.gold, depth=len(evidence)),
                "retrieved": len(evidence),
            },
        )
        for name, retrieve in (("bm25", bm25_only), ("dense", dense_only)):
            began = time.perf_counter()
            hits = retrieve(searcher, q, DEPTH)
            latency = (time.perf_counter() - began) * 1000
            outcomes[name][question.id] = retrieval_outcome(question, hits, latency, lookup, corpus)
        report("eval", n, len(questions))
    return outcomes


def score(
    questions: Sequence[GoldQuestion],
    outcomes: Mapping[str, Mapping[str, Outcome]],
    *,
    benchmarks: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> EvalResult:
    metrics = {name: summarise(questions, outcomes[name]) for name in SYSTEMS if name in outcomes}
    by_style = {
        name: {
            "style": hit_at_3_by(questions, outcomes[name], "style"),
            "topic": hit_at_3_by(questions, outcomes[name], "topic"),
        }
        for name in SYSTEMS
        if name in outcomes
    }
    return EvalResult(
        questions=tuple(questions),
        outcomes={name: dict(o) for name, o in outcomes.items()},
        metrics=metrics,
        by_style=by_style,
        benchmarks=benchmarks or {},
        meta=meta or {},
    )


def run_eval(
    questions: Sequence[GoldQuestion],
    settings: Settings,
    corpus_dirs: Sequence[Path],
    *,
    corpus: Corpus | None = None,
    recipe_dir: Path | None = None,
    benchmarks_dir: Path | None = None,
    progress: Progress | None = None,
    sample_seed: int = 6,
) -> EvalResult:
    """A whole evaluation on an existing index: policybot, the ablations, the LangChain recipe (when
    `recipe_dir` is given) and the public benchmarks (when `benchmarks_dir` is given)."""
    from ..index.embeddings import get_embedder
    from ..ingest.load import load_corpus

    corpus = corpus or load_corpus(corpus_dirs)
    versions = CorpusVersions.of(corpus)
    began = time.perf_counter()
    outcomes = run_questions(questions, settings, corpus=versions, progress=progress)
    meta: dict[str, Any] = {"seconds": {"questions": round(time.perf_counter() - began, 1)}}
    embedder = get_embedder(settings.embed_batch_size, settings.embed_precision)
    if recipe_dir is not None:
        from .baselines import open_recipe, run_recipe

        began = time.perf_counter()
        recipe = open_recipe(corpus, recipe_dir, embedder, progress=progress)
        meta["seconds"]["recipe_index"] = round(time.perf_counter() - began, 1)
        meta["recipe"] = recipe.describe()
        outcomes["langchain_recipe"] = run_recipe(recipe, questions, versions, progress=progress)
    bench: dict[str, Any] = {}
    if benchmarks_dir is not None:
        from .benchmarks import run_benchmarks

        began = time.perf_counter()
        bench = run_benchmarks(benchmarks_dir, embedder, settings, seed=sample_seed, progress=progress)
        meta["seconds"]["benchmarks"] = round(time.perf_counter() - began, 1)
    return score(questions, outcomes, benchmarks=bench, meta=meta)
