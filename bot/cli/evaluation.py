"""`policybot eval` and `policybot bench`. Only click and the standard library at the top: `policybot --help`
must not pay for the model, Chroma or matplotlib."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..evaluation.gold import GoldProblem, QuestionSet
    from ..evaluation.run import EvalResult
    from ..settings import Settings
    from ..types import Corpus
    from .context import Context

CHECKOUT = Path(__file__).resolve().parents[2]
DEFAULT_QUESTIONS = CHECKOUT / "eval" / "questions.jsonl"
DEFAULT_QUESTION_SETS = (
    DEFAULT_QUESTIONS,
    CHECKOUT / "eval" / "test_questions.jsonl",
    CHECKOUT / "eval" / "new_services_questions.jsonl",
)
"""What `policybot eval` scores without --questions: the gold set and the held-out sets, never the dev set
(retrieval and abstention are tuned on it)."""
DEFAULT_REPORT = Path("reports") / "eval"

STAGE_LABELS = {
    "eval": "Asking the gold questions",
    "recipe": "Embedding the LangChain recipe's chunks",
    "recipe-questions": "Asking the LangChain recipe",
    "tosdr": "ToS;DR points",
    "unfair": "UNFAIR-ToS",
    "bench": "Benchmark steps (each a separate process)",
}


def shared_dir() -> Path:
    """`../shared` beside the checkout, or POLICYBOT_SHARED_DIR (the same rule as the tests)."""
    return Path(os.environ.get("POLICYBOT_SHARED_DIR") or CHECKOUT.parent / "shared")


def default_corpora() -> list[Path]:
    """The shared Open Terms Archive folder (what the gold questions are about) and the bundled corpus."""
    from ..settings import bundled_corpus_dir

    ota = shared_dir() / "corpus" / "open-terms-archive"
    return [p for p in (ota, bundled_corpus_dir()) if p.is_dir()]


def _progress(enabled: bool) -> Any:
    from ..progress import TerminalProgress

    display = TerminalProgress(enabled=None if enabled else False)

    def report(stage: str, done: int, total: int) -> None:
        display(STAGE_LABELS.get(stage, stage), done, total)

    return report


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(CHECKOUT), *args], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def _commit() -> str:
    """The commit evaluated, and whether the code or corpus differed from it (figures then describe more)."""
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    if _git("status", "--porcelain", "--", "bot", "corpus"):
        commit += " + uncommitted changes in bot/ or corpus/"
    return commit


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


_CORPUS_HELP = (
    "A corpus folder to index and evaluate on (repeatable). Default: ../shared/corpus/open-terms-archive "
    "(or $POLICYBOT_SHARED_DIR/corpus/open-terms-archive) and the bundled corpus/."
)


@click.command("eval")
@click.option(
    "--questions",
    "questions_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Gold questions, one JSON object per line (see eval/README.md); repeatable, each file is scored as "
    "its own set. Default: eval/questions.jsonl, eval/test_questions.jsonl and "
    "eval/new_services_questions.jsonl (the dev set, which is for tuning, only when given).",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_REPORT,
    show_default=True,
    help="Where report.md, report.json and metrics.png are written.",
)
@click.option(
    "--corpus", "corpora", multiple=True, type=click.Path(exists=True, path_type=Path), help=_CORPUS_HELP
)
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=None,
    help="Only N questions of each file, spread evenly over it.",
)
@click.option(
    "--recipe/--no-recipe", default=True, help="Run the LangChain recipe baseline (slow the first time)."
)
@click.option(
    "--benchmarks/--no-benchmarks",
    default=True,
    help="Run the public benchmarks (ToS;DR points, UNFAIR-ToS).",
)
@click.option("--seed", type=int, default=6, show_default=True, help="Seed of the ToS;DR service sample.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print report.json to standard output (no progress display)."
)
@click.pass_obj
def eval_command(
    obj: Context,
    questions_files: tuple[Path, ...],
    report_dir: Path,
    corpora: tuple[Path, ...],
    limit: int | None,
    recipe: bool,
    benchmarks: bool,
    seed: int,
    as_json: bool,
) -> None:
    """Score policybot on gold questions, beside BM25-only, dense-only and the LangChain recipe.

    Indexes the corpus into DATA_DIR/eval (its own index, so the one that serves is never replaced; an
    unchanged corpus is not re-embedded), asks every question through the same ask() as every interface,
    re-checks every excerpt against its stored version, and writes report.md, report.json and metrics.png,
    with every figure for each questions file. Exits with 1 when an excerpt is not verbatim.
    """
    from .context import run

    run_options = _EvalRun(
        questions=list(questions_files) or list(DEFAULT_QUESTION_SETS),
        report_dir=report_dir,
        corpora=list(corpora) or default_corpora(),
        limit=limit,
        recipe=recipe,
        benchmarks=benchmarks,
        seed=seed,
        as_json=as_json,
    )
    run(lambda: _evaluate(obj.settings, run_options))


@dataclass(frozen=True, slots=True)
class _EvalRun:
    """What `policybot eval` was asked to do."""

    questions: list[Path]
    report_dir: Path
    corpora: list[Path]
    limit: int | None
    recipe: bool
    benchmarks: bool
    seed: int
    as_json: bool


def _evaluate(settings: Settings, options: _EvalRun) -> None:
    from ..evaluation.gold import load_question_sets
    from ..evaluation.run import run_eval
    from ..index.build import build_index
    from ..index.embeddings import embedder_for
    from ..ingest.load import load_corpus

    for path in options.questions:
        if not path.is_file():
            raise click.UsageError(f"no questions file at {path}; give --questions FILE")
    sets = load_question_sets(options.questions, limit=options.limit)
    # Its own embedded index: evaluating must not replace the index the user's bot serves.
    settings = settings.model_copy(update={"data_dir": settings.data_dir / "eval", "chroma_url": ""})
    progress = _progress(not options.as_json)
    started = datetime.now(UTC)
    load = _load_average()
    corpus = load_corpus(options.corpora)
    problems = _check_gold(sets, corpus)
    embedder = embedder_for(settings)
    index = build_index(options.corpora, settings, progress=progress, embedder=embedder)
    bench_root = shared_dir() / "benchmarks"
    result = run_eval(
        sets,
        settings,
        options.corpora,
        corpus=corpus,
        recipe_dir=settings.data_dir / "langchain-recipe" if options.recipe else None,
        benchmarks_dir=bench_root if options.benchmarks else None,
        progress=progress,
        sample_seed=options.seed,
    )
    result.meta.update(
        {
            "questions_file": str(options.questions[0]),
            "questions_files": [str(p) for p in options.questions],
            "limit": options.limit,
            "corpora": [str(f) for f in options.corpora],
            "commit": _commit(),
            "started": started.isoformat(timespec="seconds"),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_average": load,
            "cpus": os.cpu_count(),
            "data_dir": str(settings.data_dir),
            "index": {
                "chunks": index.chunks,
                "versions": index.versions,
                "seconds": round(index.seconds, 1),
                "unchanged": index.unchanged,
            },
            "gold_problems": [str(p) for p in problems],
            "benchmarks_dir": str(bench_root) if options.benchmarks else None,
            "settings": _settings_meta(settings),
        }
    )
    _write(result, options)


def _check_gold(sets: Sequence[QuestionSet], corpus: Corpus) -> list[GoldProblem]:
    """Every gold phrase not in the corpus, each also printed as a warning."""
    from ..evaluation.gold import check_gold

    problems = [problem for s in sets for problem in check_gold(s.questions, corpus)]
    for problem in problems:
        click.echo(f"policybot: warning: gold phrase not in the corpus: {problem}", err=True)
    return problems


def _settings_meta(settings: Settings) -> dict[str, Any]:
    return {
        "k": settings.k,
        "max_citations": settings.max_citations,
        "min_similarity": settings.min_similarity,
        "min_similarity_named": settings.min_similarity_named,
        "min_domain_margin": settings.min_domain_margin,
        "min_domain_margin_named": settings.min_domain_margin_named,
        "composer": settings.composer,
    }


def _write(result: EvalResult, options: _EvalRun) -> None:
    """The report files, the summary (or report.json) on standard output, and exit 1 when an excerpt of any
    set is not verbatim."""
    from ..evaluation.report import write_report
    from ..evaluation.report.json_report import report_json
    from ..evaluation.report.summary import summary_text

    paths = write_report(result, options.report_dir)
    if options.as_json:
        click.echo(json.dumps(report_json(result), ensure_ascii=False))
    else:
        click.echo(summary_text(result, paths))
    checked = sum(s.metrics["project"]["excerpts_checked"] for s in result.sets)
    verbatim = sum(s.metrics["project"]["excerpts_verbatim"] for s in result.sets)
    if verbatim != checked:
        click.echo(
            f"policybot: error: {checked - verbatim} of {checked} excerpts are not verbatim in their stored "
            f"version; see {paths['markdown']}",
            err=True,
        )
        sys.exit(1)


@click.command("bench")
@click.option(
    "--corpus", "corpora", multiple=True, type=click.Path(exists=True, path_type=Path), help=_CORPUS_HELP
)
@click.option(
    "--questions",
    "questions_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_QUESTIONS,
    show_default=True,
    help="Questions for the warm-latency runs.",
)
@click.option(
    "--warm",
    "warm_questions",
    type=click.IntRange(1),
    default=100,
    show_default=True,
    help="Questions timed warm.",
)
@click.option(
    "--repeat", type=click.IntRange(1), default=3, show_default=True, help="Cold starts timed (median)."
)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the fresh indexes are built (emptied first). Default: a temporary folder, removed after.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON (no progress display).")
def bench_command(
    corpora: tuple[Path, ...],
    questions_file: Path,
    warm_questions: int,
    repeat: int,
    work_dir: Path | None,
    as_json: bool,
) -> None:
    """Time and size policybot against the LangChain recipe, in the same run, each step a fresh process.

    Index time (cold, and re-run unchanged), cold start of one `policybot ask`, warm latency p50/p95 of
    retrieval and of the full answer, and peak memory; printed with policybot/recipe ratios. Takes minutes:
    both systems embed the whole corpus from scratch.
    """
    from .context import run

    def action() -> None:
        from ..evaluation.bench import bench_text, run_bench

        folders = list(corpora) or default_corpora()
        try:
            result = run_bench(
                folders,
                questions_file,
                work_dir=work_dir,
                warm_questions=warm_questions,
                repeats=repeat,
                progress=_progress(not as_json),
            )
        except RuntimeError as exc:  # a measured child process failed: its own message says why
            raise click.ClickException(str(exc)) from None
        click.echo(json.dumps(result, ensure_ascii=False) if as_json else bench_text(result))

    run(action)
