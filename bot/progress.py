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
        self._began = 0.0
        """When the current stage started, for the time left."""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if stage != self._stage:
            self._began = now
        finished = total > 0 and done >= total
        if stage == self._stage and not finished and now - self._last < 0.1:
            return
        self._last = now
        label = STAGES.get(stage, stage)
        if total > 1:
            width = 24
            filled = int(width * done / total)
            bar = "█" * filled + "·" * (width - filled)
            line = f"{label}  {bar}  {done:,}/{total:,}{time_left(now - self._began, done, total)}"
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


def time_left(elapsed: float, done: int, total: int) -> str:
    """ "  · about 2 min left", from the pace so far; nothing until the pace is known (2 s and some done)."""
    if done <= 0 or done >= total or elapsed < 2.0:
        return ""
    left = elapsed * (total - done) / done
    if left < 60:
        return f"  · about {max(1, round(left))} s left"
    minutes, seconds = divmod(round(left), 60)
    return (
        f"  · about {minutes} min {seconds:02d} s left" if minutes < 10 else f"  · about {minutes} min left"
    )
