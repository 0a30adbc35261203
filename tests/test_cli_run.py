"""bot/cli/main.py `run`, the `policybot` program: a one-shot command's output and exit status are exactly what
click gives, whether the process then ends at once (`ask`, `search`) or tears down as usual."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def _policybot(data_dir: object, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "POLICYBOT_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT
    )


def test_ask_and_search_print_everything_and_exit_as_click_says(test_index) -> None:  # type: ignore[no-untyped-def]
    asked = _policybot(test_index.data_dir, "ask", "Can Loudwave train AI on my music?", "--json")
    assert asked.returncode == 0, asked.stderr[-2000:]
    assert json.loads(asked.stdout)["citations"]
    searched = _policybot(test_index.data_dir, "search", "licence to my music", "--json")
    assert searched.returncode == 0 and json.loads(searched.stdout)
    bad = _policybot(test_index.data_dir, "ask", "", "--json")
    assert bad.returncode != 0 and bad.stderr.strip() and not bad.stdout.strip()
    usage = _policybot(test_index.data_dir, "ask", "--no-such-option")
    assert usage.returncode == 2 and "No such option" in usage.stderr
    listed = _policybot(test_index.data_dir, "corpus", "list", "--json")  # torn down as usual
    assert listed.returncode == 0 and json.loads(listed.stdout)
