"""`policybot bench` pieces: the measuring wrapper as a real child process, the child modes in this process
(the full benchmark embeds the whole corpus twice and belongs to `policybot bench`, not to the test suite)."""

import json
import sys
from pathlib import Path

import pytest

from bot.evaluation import bench
from bot.evaluation.bench import ROWS, bench_text, child, measure

from .conftest import DATA, ROOT


@pytest.mark.integration
def test_measure_reports_wall_time_and_the_childs_peak_memory() -> None:
    # A child that holds about 60 MB: its peak must show, not the wrapper's or this process's.
    result = measure([sys.executable, "-c", "x = bytearray(60_000_000); print('done')"])
    assert result["rc"] == 0 and result["stdout"].strip() == "done"
    assert result["max_rss_mb"] >= 60 and result["wall_s"] > 0
    with pytest.raises(RuntimeError, match="exited with 3"):
        measure([sys.executable, "-c", "import sys; sys.exit(3)"])


@pytest.mark.integration
def test_child_modes_build_query_and_time_both_systems(tmp_path: Path, test_index, capsys) -> None:  # type: ignore[no-untyped-def]
    recipe = tmp_path / "recipe"
    assert child(["recipe-index", str(recipe), str(DATA / "flat")]) == 0
    built = json.loads(capsys.readouterr().out)
    assert built["chunks"] >= 2 and built["seconds"] > 0
    assert child(["recipe-ask", str(recipe), "how much does tunebox pay artists"]) == 0
    assert "80%" in json.loads(capsys.readouterr().out)["top"][0]
    questions = ROOT / "eval" / "questions.jsonl"
    for system, where in (("recipe", recipe), ("policybot", test_index.data_dir)):
        assert child(["warm", system, str(where), str(questions), "3"]) == 0
        timings = json.loads(capsys.readouterr().out)
        assert len(timings["retrieval_ms"]) == len(timings["answer_ms"]) == 3
    assert child(["nonsense"]) == 2


@pytest.mark.unit
def test_bench_text_prints_every_row_with_ratios() -> None:
    ours = {key: 2.0 for _, key in ROWS}
    theirs = {key: 4.0 for _, key in ROWS}
    theirs["answer_ms_p95"] = None
    result = {
        "policybot": ours,
        "langchain_recipe": theirs,
        "ratios": {key: bench._ratio(ours[key], theirs[key]) for key in ours},
        "corpus": {"folders": ["corpus"], "policybot_chunks": 10, "recipe_chunks": 5},
        "machine": {"cpus": 2, "load_average_at_start": 0.5},
        "notes": ["a note"],
    }
    text = bench_text(result)
    for label, _ in ROWS:
        assert label in text
    assert "0.50" in text and "n/a" in text and "- a note" in text
    assert bench._ratio(1.0, 0.0) is None
