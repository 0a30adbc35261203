"""The `policybot` command line: `main` is the click group, `run` the program (`policybot = "bot.cli:run"`)."""

from .main import main, run

__all__ = ["main", "run"]
