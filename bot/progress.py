"""Progress of long work on a terminal; silent when output is piped or JSON is asked for."""

from __future__ import annotations

import sys
import time
from typing import TextIO

STAGES = {
    "load": "Reading the corpus",
    "embed": "Embedding new clause text",
    "write": "Writing the new index generation",
    "publish": "Switching to the new index generation",
    "changes": "Recording what changed in the terms",
    "sync": "Syncing documents",
    "eval": "Evaluating",
}


class TerminalProgress:
    """A one-line progress display on stderr, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._last = 0.0
        self._stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        finished = total > 0 and done >= total
        if stage == self._stage and not finished and now - self._last < 0.1:
            return
        self._last = now
        label = STAGES.get(stage, stage)
        if total > 1:
            width = 24
            filled = int(width * done / total)
            bar = "█" * filled + "·" * (width - filled)
            line = f"{label}  {bar}  {done:,}/{total:,}"
        else:
            line = f"{label}…"
        self.stream.write("\r\033[K" + line)
        if finished and total > 1:
            self.stream.write("\n")
        self._stage = stage
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()
