"""How `policybot serve` runs the app: its options reach the settings (validated like the environment), and
uvicorn gets every limit (h11 with a header limit, the standard loop, no proxy headers of its own, a graceful
shutdown that ends, bounded logs). Served for real: tests/test_web_hostile.py, tests/test_web_shutdown.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli.main import main
from bot.settings import Settings
from bot.web.server import GuardedH11Protocol, server_config

pytestmark = pytest.mark.unit


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What `serve` would have run, instead of running it."""
    import bot.web.server

    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        bot.web.server, "run", lambda app, settings, host, port: seen.update(settings=settings, host=host)
    )
    return seen


def _serve(tmp_path: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--data-dir", str(tmp_path), "serve", "--no-chat", *args])


def test_serve_options_add_to_the_settings(
    tmp_path: Path, served: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYBOT_ALLOWED_HOSTS", "env.example.com")
    result = _serve(
        tmp_path,
        "--host", "10.0.0.5",
        "--allowed-host", "bot.example.com",
        "--allowed-host", "*.example.org",
        "--forwarded-allow-ips", "127.0.0.1,10.0.0.0/24",
        "--forwarded-allow-ips", "::1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    settings = served["settings"]
    assert settings.allowed_hosts == ("env.example.com", "bot.example.com", "*.example.org", "10.0.0.5")
    assert settings.forwarded_allow_ips == ("127.0.0.1", "10.0.0.0/24", "::1")
    assert served["host"] == "10.0.0.5"


def test_serve_defaults_trust_no_proxy_and_allow_the_bound_address(
    tmp_path: Path, served: dict[str, Any]
) -> None:
    assert _serve(tmp_path).exit_code == 0
    assert served["settings"].forwarded_allow_ips == ()
    assert served["settings"].allowed_hosts == ("127.0.0.1",)
    assert _serve(tmp_path, "--host", "0.0.0.0").exit_code == 0
    assert served["settings"].allowed_hosts == ()  # any address: the one each request came in on


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--allowed-host", "http://bot.example.com", "is not a host name"),
        ("--forwarded-allow-ips", "proxy.example.com", "is not an address or network"),
        ("--cors-origin", "help.example.com", "is not an origin"),
    ],
)
def test_serve_refuses_a_bad_option_value(
    tmp_path: Path, served: dict[str, Any], option: str, value: str, words: str
) -> None:
    result = _serve(tmp_path, option, value)
    assert result.exit_code == 2 and option in result.output and words in result.output
    assert "settings" not in served


def test_server_config_sets_every_limit(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, max_header_bytes=8192, shutdown_timeout=7, client_timeout=3.0, max_connections=50
    )
    config = server_config(object(), settings, "127.0.0.1", 7860)
    assert config.http is GuardedH11Protocol and config.ws == "none" and config.loop == "asyncio"
    assert config.proxy_headers is False and config.server_header is False
    assert config.h11_max_incomplete_event_size == 8192
    assert config.timeout_graceful_shutdown == 7 and config.timeout_keep_alive == 5
    assert config.client_timeout == 3.0 and config.max_connections == 50
    assert config.limit_concurrency is None  # the protocol refuses extra connections itself, in JSON
    formatters = config.log_config["formatters"]  # type: ignore[index]
    assert formatters["default"]["()"].endswith("BoundedDefault")
    assert formatters["access"]["()"].endswith("BoundedAccess")
