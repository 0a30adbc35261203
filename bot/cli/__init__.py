"""The `policybot` command line: `main` is the entry point (`policybot = "bot.cli:main"`)."""

from .main import main

__all__ = ["main"]
