"""`policybot serve --workers N`: N uvicorn worker processes on one port, each building the parent's app from
the settings it hands over (secrets aside), N checked, the chat page refused with workers; and, served for
real, an API-only server that never imports Gradio, workers that answer, and a SIGTERM that ends the tree."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from bot.cli.main import main
from bot.settings import Settings
from bot.web.server import WORKER_ENV, read_handover, worker_handover
from tests.web_serve import Served, serve

QUESTIONS = [
    "Can Loudwave train AI on my music?",
    "Can Beatcrate sublicense my beats?",
    "Who owns the songs I upload to Loudwave?",
    "Can Loudwave train AI on my music?",
]


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# --- The handover and the options (unit) ------------------------------------------------------------------


@pytest.mark.unit
def test_a_worker_rebuilds_the_parents_settings_without_secrets_in_the_handover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYBOT_API_KEYS", "key-one,key-two")
    monkeypatch.setenv("POLICYBOT_LLM_API_KEY", "sk-secret")
    parent = Settings(
        data_dir=tmp_path,
        k=7,
        cors_origins=("https://help.example.com",),
        allowed_hosts=("bot.example.com",),
        forwarded_allow_ips=("10.0.0.0/24",),
    )
    raw = worker_handover(parent, chat=False)
    assert "key-one" not in raw and "sk-secret" not in raw
    assert not {"api_keys", "llm_api_key"} & set(json.loads(raw)["settings"])
    settings, chat = read_handover(raw)
    assert settings == parent and chat is False
    assert [k.get_secret_value() for k in settings.api_keys] == ["key-one", "key-two"]  # from the environment


@pytest.mark.unit
@pytest.mark.parametrize(
    ("raw", "named"),
    [
        (None, f"{WORKER_ENV} is not set"),
        ("", f"{WORKER_ENV} is not set"),
        ("not json", f"{WORKER_ENV} is not what `policybot serve --workers N` writes (got 'not json')"),
        ('{"settings": [], "chat": false}', f"{WORKER_ENV} is not what"),
        ('{"settings": {}, "chat": "yes"}', f"{WORKER_ENV} is not what"),
        ('{"settings": {"no_such_setting": 1}, "chat": false}', "does not have: no_such_setting"),
        ('{"settings": {"k": 0}, "chat": false}', "k\n  Input should be greater than or equal to 1"),
    ],
)
def test_a_bad_handover_is_refused_by_name(raw: str | None, named: str) -> None:
    with pytest.raises(ValueError) as caught:
        read_handover(raw)
    assert named in str(caught.value)


@pytest.mark.unit
def test_a_worker_that_cannot_build_the_app_exits_with_the_start_up_status(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from uvicorn.config import STARTUP_FAILURE

    from bot.web.server import worker_app

    monkeypatch.delenv(WORKER_ENV, raising=False)
    with pytest.raises(SystemExit) as caught:
        worker_app()
    assert caught.value.code == STARTUP_FAILURE  # the supervisor stops instead of restarting it forever
    assert f"{WORKER_ENV} is not set" in caplog.text


def _serve(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, ["--data-dir", str(tmp_path), "serve", *args], env=env)


@pytest.mark.unit
@pytest.mark.parametrize("workers", ["0", "-1", str(2 * _cpus() + 1)])
def test_workers_out_of_range_are_refused(tmp_path: Path, workers: str) -> None:
    result = _serve(tmp_path, "--no-chat", "--workers", workers)
    assert result.exit_code == 2
    assert f"{workers} is not between 1 and {2 * _cpus()}" in result.output
    result = _serve(tmp_path, "--no-chat", env={"POLICYBOT_WORKERS": workers})
    assert result.exit_code == 2 and f"POLICYBOT_WORKERS={workers} is not between" in result.output


@pytest.mark.unit
def test_workers_need_no_chat(tmp_path: Path) -> None:
    result = _serve(tmp_path, "--workers", "2")
    assert result.exit_code == 2 and "--workers 2 needs --no-chat" in result.output


@pytest.mark.unit
def test_workers_get_the_command_lines_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.cli.serve
    import bot.web.server

    seen: dict[str, Any] = {}
    monkeypatch.setattr(bot.cli.serve, "_open_index_apart", lambda settings: seen.update(opened=settings))
    monkeypatch.setattr(
        bot.web.server,
        "run_workers",
        lambda settings, host, port, workers, *, chat: (
            seen.update(settings=settings, port=port, workers=workers, chat=chat) or 0
        ),
    )
    args = (
        "--no-chat",
        "--port",
        "0",
        "--cors-origin",
        "https://help.example.com",
        "--allowed-host",
        "a.example.com",
    )
    result = _serve(tmp_path, *args, env={"POLICYBOT_WORKERS": "2"})
    assert result.exit_code == 0, result.output
    assert seen["workers"] == 2 and seen["chat"] is False and seen["port"] == 0
    assert seen["opened"] is seen["settings"]
    assert seen["settings"].cors_origins == ("https://help.example.com",)
    assert seen["settings"].allowed_hosts == ("a.example.com", "127.0.0.1")


# --- Served for real (integration) ---------------------------------------------------------------------------


def _imported(served: Served) -> set[str]:
    """Every module any process of the server imported, from PYTHONPROFILEIMPORTTIME's lines in its log
    (`import time: self | cumulative | module`): a standard interpreter option, nothing added to the server."""
    lines = re.findall(r"^import time:[^|\n]*\|[^|\n]*\|(.*)$", served.log_text(), flags=re.MULTILINE)
    return {line.strip() for line in lines}


def _no_gradio(served: Served) -> None:
    modules = _imported(served)
    assert "fastapi" in modules, "no import lines in the log: is PYTHONPROFILEIMPORTTIME passed on?"
    assert not {m for m in modules if m == "gradio" or m.startswith("gradio.")}


def _env(test_index: Any) -> dict[str, str]:
    return {"POLICYBOT_DATA_DIR": str(test_index.data_dir), "PYTHONPROFILEIMPORTTIME": "1"}


@pytest.mark.integration
@pytest.mark.slow
def test_the_api_only_server_never_imports_gradio(tmp_path: Path, test_index: Any) -> None:
    with serve(tmp_path / "api-only", "--no-chat", env=_env(test_index)) as served:
        assert httpx.get(f"{served.url}/api/health", timeout=30).json()["status"] == "ok"
        assert httpx.get(f"{served.url}/", timeout=30).status_code == 404  # no chat page
    _no_gradio(served)


@pytest.mark.integration
@pytest.mark.slow
def test_two_workers_answer_and_sigterm_ends_the_whole_tree(tmp_path: Path, test_index: Any) -> None:
    import psutil

    with serve(tmp_path / "workers", "--no-chat", "--workers", "2", env=_env(test_index)) as served:
        deadline = time.monotonic() + 120
        while served.log_text().count("Application startup complete.") < 2:  # both workers serving
            assert time.monotonic() < deadline, served.log_text()[-3000:]
            time.sleep(0.3)
        with httpx.Client(base_url=served.url, timeout=60) as client:
            for question in QUESTIONS:
                response = client.post("/api/ask", json={"question": question})
                assert response.status_code == 200, response.text
                assert response.json()["citations"], question
        parent = psutil.Process(served.process.pid)
        tree = parent.children(recursive=True)
        workers = [p for p in parent.children() if "spawn_main" in " ".join(p.cmdline())]
        assert len(workers) == 2, [p.cmdline() for p in tree]

        started = time.monotonic()
        code = served.stop(signal.SIGTERM, timeout=30)
        assert code is not None, "the supervisor did not end on SIGTERM within 30 s"
        _, alive = psutil.wait_procs(tree, timeout=max(0.0, 30 - (time.monotonic() - started)))
        assert not alive, [p.pid for p in alive]
    log = served.log_text()
    assert log.count("Finished server process") == 2 and "Stopping parent process" in log
    _no_gradio(served)
