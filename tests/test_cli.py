import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import main

from .conftest import DATA, ROOT

pytestmark = pytest.mark.integration


def run(args: list[str], settings=None, input: str | None = None):  # type: ignore[no-untyped-def]
    prefix = ["--data-dir", str(settings.data_dir)] if settings is not None else []
    return CliRunner().invoke(main, [*prefix, *args], input=input, catch_exceptions=False)


def test_help_is_complete() -> None:
    result = run(["--help"])
    assert result.exit_code == 0
    for word in ("index", "ask", "search", "--data-dir", "--chroma-url", "Examples"):
        assert word in result.output
    for command in ("index", "ask", "search"):
        sub = run([command, "--help"])
        assert sub.exit_code == 0 and "--json" in sub.output


def test_index_prints_counts_and_json(tmp_path: Path) -> None:
    result = run(["--data-dir", str(tmp_path), "index", "--corpus", str(DATA / "flat"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["documents"] == 2 and report["chunks"] > 0 and report["embedded"] > 0
    again = run(["--data-dir", str(tmp_path), "index", "--corpus", str(DATA / "flat")])
    assert "embedded 0 chunks" in again.output and "unchanged" in again.output


def test_ask_json_and_text(test_index) -> None:  # type: ignore[no-untyped-def]
    result = run(["ask", "Can Loudwave train AI on my songs?", "--json"], test_index)
    data = json.loads(result.output)
    assert not data["abstained"] and data["citations"][0]["service"] == "Loudwave"
    text = run(["ask", "Can Loudwave train AI on my songs?"], test_index).output
    assert "[1]" in text and "Sources:" in text


def test_ask_service_and_as_of_options(test_index) -> None:  # type: ignore[no-untyped-def]
    result = run(
        ["ask", "can they train ai on my songs", "--service", "loudwave", "--as-of", "2024-06-01", "--json"],
        test_index,
    )
    data = json.loads(result.output)
    assert data["as_of"] == "2024-06-01"
    assert all(c["version_date"] <= "2024-06-01" for c in data["citations"])


def test_stdin_batch_prints_one_json_object_per_line(test_index) -> None:  # type: ignore[no-untyped-def]
    lines = "Can Loudwave train AI on my songs?\n\n" + "x" * 5000 + "\nWho pays artists on Tunebox?\n"
    result = run(["ask"], test_index, input=lines)
    assert result.exit_code == 0
    objects = [json.loads(line) for line in result.output.splitlines()]
    assert len(objects) == 3
    assert objects[0]["citations"] and "error" in objects[1] and "limit" in objects[1]["error"]
    assert objects[2]["citations"][0]["service"] == "Tunebox"
    search = run(["search", "--k", "2"], test_index, input="governing law\n")
    (hit_list,) = [json.loads(line) for line in search.output.splitlines()]
    assert hit_list["query"] == "governing law" and len(hit_list["hits"]) == 2


def test_errors_are_one_line_with_exit_codes(tmp_path: Path, test_index) -> None:  # type: ignore[no-untyped-def]
    empty = run(["ask", "   "], test_index)
    assert empty.exit_code == 2 and empty.output.startswith("policybot: error: the question is empty")
    missing = run(["--data-dir", str(tmp_path / "none"), "ask", "anything at all"])
    assert missing.exit_code == 1 and "run `policybot index`" in missing.output
    assert len(missing.output.strip().splitlines()) == 1
    bad_date = run(["ask", "x y", "--as-of", "March"], test_index)
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output
    unknown = run(["ask", "who owns my music", "--service", "Nowhere"], test_index)
    assert unknown.exit_code == 2 and "unknown platform 'Nowhere'" in unknown.output


@pytest.mark.slow
def test_the_installed_command_runs_offline(test_index) -> None:  # type: ignore[no-untyped-def]
    """The console script in a fresh process: no model hub, JSON on stdout, nothing else."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "POLICYBOT_DATA_DIR": str(test_index.data_dir)}
    script = Path(sys.executable).with_name("policybot")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot"]
    done = subprocess.run(
        [*command, "ask", "Can Loudwave train AI on my songs?", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["citations"]
    assert done.stderr == ""  # no progress bars or warnings when piped


def test_search_and_ask_on_an_index_whose_every_file_was_rejected_say_so(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "terms.md").write_bytes(b"\x00\x01 not text")
    data = tmp_path / "data"
    indexed = run(["--data-dir", str(data), "index", "--corpus", str(corpus)])
    assert indexed.exit_code == 0 and "binary file" in indexed.output
    for command in ("search", "ask"):
        result = CliRunner().invoke(main, ["--data-dir", str(data), command, "ai training"])
        assert result.exit_code == 1, result.output
        assert "holds no clauses" in result.output and "Traceback" not in result.output
