"""Logs no request can flood: every record and every line written to stdout or stderr (Gradio prints its
tracebacks there directly) is cut to a bounded length, so the most one request can add to the log is bounded
however large or strange it is."""

from __future__ import annotations

import copy
import logging
import sys
from typing import Any, TextIO

from uvicorn.config import LOGGING_CONFIG
from uvicorn.logging import AccessFormatter, DefaultFormatter

MAX_LINE = 2000
"""Characters kept of one line of the log."""
MAX_RECORD = 8000
"""Characters kept of one record (a traceback included): its start and its end, where the error is named."""


def bounded(text: str) -> str:
    """`text` with each line cut to MAX_LINE characters and the whole to about MAX_RECORD."""
    lines = [
        line if len(line) <= MAX_LINE else f"{line[:MAX_LINE]}… [{len(line):,} characters]"
        for line in text.split("\n")
    ]
    text = "\n".join(lines)
    if len(text) > MAX_RECORD:
        half = MAX_RECORD // 2
        text = f"{text[:half]}\n… [{len(text) - 2 * half:,} characters cut] …\n{text[-half:]}"
    return text


class BoundedDefault(DefaultFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return bounded(super().format(record))


class BoundedAccess(AccessFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return bounded(super().format(record))


class BoundedStream:
    """A text stream whose lines are cut to MAX_LINE characters; everything else is the wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._column = 0  # characters written on the current line so far

    def write(self, text: str) -> int:
        out = []
        for i, piece in enumerate(text.split("\n")):
            if i:
                out.append("\n")
                self._column = 0
            room = MAX_LINE - self._column
            if room > 0:
                out.append(piece[:room])
                if len(piece) > room:
                    out.append(" … [line cut]")
            self._column += len(piece)
        self._stream.write("".join(out))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def bound_std_streams() -> None:
    """Wrap sys.stdout and sys.stderr (once) so no line printed to them is unbounded."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, BoundedStream):
            setattr(sys, name, BoundedStream(stream))


def log_config(level: str = "INFO") -> dict[str, Any]:
    """uvicorn's logging configuration with bounded formatters, and the same handler for every other logger
    (Gradio's, Chroma's, policybot's own) at WARNING."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"]["()"] = f"{__name__}.BoundedDefault"
    config["formatters"]["access"]["()"] = f"{__name__}.BoundedAccess"
    config["loggers"]["uvicorn"]["level"] = level
    config["root"] = {"handlers": ["default"], "level": "WARNING"}
    return config
