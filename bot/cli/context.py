"""What every command shares: settings from the global options, and errors turned into one-line messages
(here, at the edge, and nowhere else)."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import click

from ..errors import BadQuestion, PolicybotError
from ..settings import Settings


class Context:
    def __init__(self, data_dir: Path | None, chroma_url: str | None) -> None:
        self._overrides: dict[str, Any] = {}
        if data_dir is not None:
            self._overrides["data_dir"] = data_dir
        if chroma_url is not None:
            self._overrides["chroma_url"] = chroma_url
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = Settings(**self._overrides)
            except Exception as exc:  # pydantic's ValidationError, with the bad value in it
                raise click.UsageError(validation_message(exc)) from None
        return self._settings


def validation_message(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        parts = [
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (got {e.get('input')!r})" for e in errors()
        ]
        return "invalid setting: " + "; ".join(parts)
    return f"invalid setting: {exc}"


def fail(message: str, code: int = 1) -> None:
    click.echo(f"policybot: error: {message}", err=True)
    sys.exit(code)


def run(action: Callable[[], None]) -> None:
    try:
        action()
    except BadQuestion as exc:
        fail(str(exc), 2)
    except PolicybotError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted", 130)


def parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write YYYY-MM-DD, e.g. 2024-03-31") from None


def stdin_lines() -> Iterator[str]:
    if sys.stdin.isatty():
        raise click.UsageError("give a QUESTION, or pipe questions on standard input (one per line)")
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")  # a stray invalid byte must not end a batch
    for line in sys.stdin:
        line = line.strip()
        if line:
            yield line


def batch(lines: Iterator[str], handle: Callable[[str], dict[str, Any]]) -> None:
    for line in lines:
        try:
            result = handle(line)
        except BadQuestion as exc:
            result = {"question": line[:200], "error": str(exc)}
        click.echo(json.dumps(result, ensure_ascii=False))


SERVICE_HELP = (
    "Only this platform (repeatable; any case, e.g. soundcloud). Default: platforms named in the question."
)
AS_OF_HELP = "Answer from the versions in force on this date (YYYY-MM-DD). Default: a date in the question, else latest."
