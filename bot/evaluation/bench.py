"""`policybot bench`: how long indexing, answering and starting take, and how much memory, for policybot and
for the LangChain recipe, measured in the same run on the same machine.

Every figure comes from a separate child process (`python -m bot.evaluation.bench MODE ...`), started
through a small wrapper that reports the child's wall time and peak resident memory (getrusage of its
children), so one system's model and caches never flatter the other's.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

Progress = Callable[[str, int, int], None]

WARM_QUESTIONS = 100
REPEATS = 3
COLD_QUESTION = "Can SoundCloud use my tracks to train AI?"


def _nothing(stage: str, done: int, total: int) -> None:
    return None


# --- child processes ---------------------------------------------------------------------------------------------


def measure(command: Sequence[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `command` through the measuring wrapper: its wall time (s), peak RSS (MB), exit code and output."""
    wrapper = [sys.executable, "-m", "bot.evaluation.bench", "measure", "--", *command]
    done = subprocess.run(wrapper, capture_output=True, text=True, env=env, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"measuring {' '.join(command)!r} failed: {done.stderr.strip()[-800:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    if result["rc"] != 0:
        raise RuntimeError(f"{' '.join(command)!r} exited with {result['rc']}: {result['stderr'][-800:]}")
    return result


def _measure_here(command: Sequence[str]) -> dict[str, Any]:
    """The wrapper itself: runs one command and prints one JSON line about it."""
    began = time.perf_counter()
    done = subprocess.run(list(command), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - began
    # ru_maxrss of RUSAGE_CHILDREN: the largest resident set of any waited-for descendant, in KB on Linux.
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "wall_s": round(wall, 3),
        "max_rss_mb": round(peak_kb / 1024, 1),
        "rc": done.returncode,
        "stdout": done.stdout[-4000:],
        "stderr": done.stderr[-4000:],
    }


def _python(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot.evaluation.bench", *args]


def _policybot(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("policybot")
    return [str(script), *args] if script.is_file() else [sys.executable, "-m", "bot", *args]


def _recipe_index(directory: str, corpora: Sequence[str]) -> dict[str, Any]:
    """The recipe as its tutorial runs it: load, split, embed everything into a fresh store."""
    from ..index.embeddings import get_embedder
    from ..ingest.load import load_corpus
    from .baselines import build_recipe

    began = time.perf_counter()
    recipe = build_recipe(load_corpus([Path(c) for c in corpora]), Path(directory), get_embedder())
    return {"seconds": round(time.perf_counter() - began, 3), "chunks": recipe.chunks}


def _recipe_ask(directory: str, question: str) -> dict[str, Any]:
    """A cold recipe query: open the store with the model, search, print the top chunks."""
    from ..index.embeddings import get_embedder
    from .baselines import vector_store

    found = vector_store(Path(directory), get_embedder()).similarity_search(question, k=3)
    return {"top": [d.page_content[:200] for d in found]}


def _warm(system: str, location: str, questions_file: str, count: int) -> dict[str, Any]:
    """Latency of retrieval and of the full answer over `count` gold questions, after one warm-up query."""
    from .gold import load_questions, subset

    questions = subset(load_questions(Path(questions_file)), count)
    retrieval: list[float] = []
    answer: list[float] = []
    if system == "policybot":
        from ..answer.ask import ask, search
        from ..retrieve.searcher import open_searcher
        from ..settings import Settings

        settings = Settings(data_dir=Path(location), chroma_url="")
        searcher = open_searcher(settings)
        ask(COLD_QUESTION, settings, searcher=searcher)
        for q in questions:
            began = time.perf_counter()
            search(q.question, settings, searcher=searcher)
            retrieval.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            ask(q.question, settings, history=q.history, searcher=searcher)
            answer.append((time.perf_counter() - began) * 1000)
    else:
        from ..index.embeddings import get_embedder
        from .baselines import recipe_query, vector_store

        store = vector_store(Path(location), get_embedder())
        store.similarity_search(COLD_QUESTION, k=3)
        template = (
            "Answer the question from this context.\n\nContext:\n{context}\n\nQuestion: {question}\nAnswer:"
        )
        for q in questions:
            began = time.perf_counter()
            store.similarity_search(recipe_query(q), k=3)
            retrieval.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            found = store.similarity_search(recipe_query(q), k=3)
            # The tutorial's "generate" step without the language model: the stuffed prompt.
            template.format(context="\n\n".join(d.page_content for d in found), question=q.question)
            answer.append((time.perf_counter() - began) * 1000)
    return {"retrieval_ms": retrieval, "answer_ms": answer}


def child(argv: Sequence[str]) -> int:
    """Entry point of the child processes: `measure -- CMD...`, `recipe-index DIR CORPUS...`,
    `recipe-ask DIR QUESTION`, `warm policybot|recipe DIR QUESTIONS_FILE N`."""
    mode, *args = argv
    if mode == "measure":
        result = _measure_here(args[1:] if args and args[0] == "--" else args)
    elif mode == "recipe-index":
        result = _recipe_index(args[0], args[1:])
    elif mode == "recipe-ask":
        result = _recipe_ask(args[0], args[1])
    elif mode == "warm":
        result = _warm(args[0], args[1], args[2], int(args[3]))
    else:
        print(f"unknown mode {mode!r}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


# --- the benchmark ---------------------------------------------------------------------------------------------


def _percentile(values: Sequence[float], q: float) -> float | None:
    from .metrics import percentile

    found = percentile(values, q)
    return None if found is None else round(found, 2)


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or theirs is None or theirs == 0:
        return None
    return round(ours / theirs, 3)


def run_bench(
    corpora: Sequence[Path],
    questions_file: Path,
    *,
    work_dir: Path | None = None,
    warm_questions: int = WARM_QUESTIONS,
    repeats: int = REPEATS,
    keep: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Index (cold, then unchanged), cold start, warm latency and peak memory of policybot and of the
    LangChain recipe, each in its own fresh directory under `work_dir` (a new temporary one by default)."""
    load = _load_average()
    base = work_dir or Path(tempfile.mkdtemp(prefix="policybot-bench-"))
    ours_dir, recipe_dir = _fresh_dirs(base)
    corpus_args = [str(c) for c in corpora]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    env.pop("POLICYBOT_CHROMA_URL", None)
    steps = _Steps(progress or _nothing, 6 + 2 * repeats, env)
    index_args = ["--data-dir", str(ours_dir), "index", "--json"] + [
        a for c in corpus_args for a in ("--corpus", c)
    ]
    recipe_index = _python("recipe-index", str(recipe_dir), *corpus_args)
    ours = _Runs(index=steps.measure(_policybot(*index_args)), again=steps.measure(_policybot(*index_args)))
    theirs = _Runs(index=steps.measure(recipe_index), again=steps.measure(recipe_index))
    for _ in range(repeats):
        ours.starts.append(
            steps.measure(_policybot("--data-dir", str(ours_dir), "ask", COLD_QUESTION, "--json"))
        )
        theirs.starts.append(steps.measure(_python("recipe-ask", str(recipe_dir), COLD_QUESTION)))
    warm_args = (str(questions_file), str(warm_questions))
    ours.warm = steps.measure(_python("warm", "policybot", str(ours_dir), *warm_args))
    theirs.warm = steps.measure(_python("warm", "recipe", str(recipe_dir), *warm_args))
    result = _bench_result(ours, theirs, corpus_args, load, warm_questions, repeats)
    if not keep and work_dir is None:
        shutil.rmtree(base, ignore_errors=True)
    return result


def _fresh_dirs(base: Path) -> tuple[Path, Path]:
    """Empty directories for policybot's index and the recipe's under `base`."""
    base.mkdir(parents=True, exist_ok=True)
    ours_dir, recipe_dir = base / "policybot", base / "recipe"
    for folder in (ours_dir, recipe_dir):
        if folder.exists():
            shutil.rmtree(folder)
    return ours_dir, recipe_dir


class _Steps:
    """The benchmark's child processes, measured one after the other, each counted as a step of progress."""

    def __init__(self, report: Progress, total: int, env: dict[str, str]) -> None:
        self.report = report
        self.total = total
        self.env = env
        self.done = 0
        report("bench", 0, total)

    def measure(self, command: Sequence[str]) -> dict[str, Any]:
        found = measure(command, self.env)
        self.done += 1
        self.report("bench", self.done, self.total)
        return found


@dataclass
class _Runs:
    """The measured child processes of one system."""

    index: dict[str, Any]
    """Indexing from nothing."""
    again: dict[str, Any]
    """Indexing the same corpus again."""
    starts: list[dict[str, Any]] = field(default_factory=list)
    """Cold starts of one question each."""
    warm: dict[str, Any] = field(default_factory=dict)
    """The warm-latency run."""

    def figures(self, latencies: dict[str, Any]) -> dict[str, Any]:
        return {
            "index_cold_s": self.index["wall_s"],
            "index_unchanged_s": self.again["wall_s"],
            "index_peak_rss_mb": self.index["max_rss_mb"],
            "cold_start_ask_s": round(median(s["wall_s"] for s in self.starts), 3),
            "cold_start_peak_rss_mb": max(s["max_rss_mb"] for s in self.starts),
            "retrieval_ms_p50": _percentile(latencies["retrieval_ms"], 50),
            "retrieval_ms_p95": _percentile(latencies["retrieval_ms"], 95),
            "answer_ms_p50": _percentile(latencies["answer_ms"], 50),
            "answer_ms_p95": _percentile(latencies["answer_ms"], 95),
            "serving_peak_rss_mb": self.warm["max_rss_mb"],
        }


NOTES = (
    "ratios are policybot / recipe: below 1 means policybot is faster or smaller",
    "every figure is a separate process; times are wall-clock, memory is the process's peak RSS",
    "index_unchanged_s: policybot finds nothing changed and writes nothing; the recipe has no change "
    "detection, so re-running it re-splits and re-embeds everything",
    "cold_start_ask_s: a new process answering one question from an existing index (policybot: the "
    "`policybot ask` command; recipe: open the store with the model and search)",
    "answer_ms for the recipe is retrieval plus filling the tutorial's prompt; its language-model call "
    "is not run (offline there is none), so the recipe's real answer time is larger",
)


def _last_json(run: dict[str, Any]) -> Any:
    """The JSON a measured child printed last."""
    return json.loads(run["stdout"].strip().splitlines()[-1])


def _bench_result(
    ours_runs: _Runs,
    theirs_runs: _Runs,
    corpus_args: list[str],
    load: float | None,
    warm_questions: int,
    repeats: int,
) -> dict[str, Any]:
    ours_warm = _last_json(ours_runs.warm)
    theirs_warm = _last_json(theirs_runs.warm)
    cold_report = _last_json(ours_runs.index)
    recipe_facts = theirs_runs.index["stdout"].strip().splitlines()
    recipe_chunks = json.loads(recipe_facts[-1]).get("chunks") if recipe_facts else None
    ours = ours_runs.figures(ours_warm)
    theirs = theirs_runs.figures(theirs_warm)
    return {
        "policybot": ours,
        "langchain_recipe": theirs,
        "ratios": {key: _ratio(ours[key], theirs[key]) for key in ours},
        "corpus": {
            "folders": corpus_args,
            "policybot_chunks": cold_report.get("chunks"),
            "recipe_chunks": recipe_chunks,
        },
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": load},
        "settings": {"warm_questions": warm_questions, "cold_start_repeats": repeats},
        "notes": list(NOTES),
    }


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


ROWS = (
    ("index, cold (s)", "index_cold_s"),
    ("index, unchanged re-run (s)", "index_unchanged_s"),
    ("index, peak memory (MB)", "index_peak_rss_mb"),
    ("cold start of one ask (s)", "cold_start_ask_s"),
    ("cold start, peak memory (MB)", "cold_start_peak_rss_mb"),
    ("warm retrieval p50 (ms)", "retrieval_ms_p50"),
    ("warm retrieval p95 (ms)", "retrieval_ms_p95"),
    ("warm full answer p50 (ms)", "answer_ms_p50"),
    ("warm full answer p95 (ms)", "answer_ms_p95"),
    ("serving, peak memory (MB)", "serving_peak_rss_mb"),
)


def bench_text(result: dict[str, Any]) -> str:
    def cell(value: Any) -> str:
        return "n/a" if value is None else f"{value:,.2f}" if isinstance(value, float) else str(value)

    lines = [f"{'':32}{'policybot':>12}{'recipe':>12}{'ratio':>9}"]
    for label, key in ROWS:
        lines.append(
            f"{label:32}{cell(result['policybot'][key]):>12}{cell(result['langchain_recipe'][key]):>12}"
            f"{cell(result['ratios'][key]):>9}"
        )
    corpus = result["corpus"]
    machine = result["machine"]
    lines.append(
        f"Corpus: {', '.join(corpus['folders'])} ({corpus['policybot_chunks']} policybot chunks, "
        f"{corpus['recipe_chunks']} recipe chunks). Machine: {machine['cpus']} CPUs, load average "
        f"{machine['load_average_at_start']} at the start."
    )
    lines.extend(f"- {note}" for note in result["notes"])
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(child(sys.argv[1:]))
