"""A progress bar on stderr, without dependencies."""

from __future__ import annotations

import time
from typing import TextIO

from ._runner import BatchSummary


class ProgressBar:
    """``[#####.....] 12/40 lines  30 images  1 failed  concurrency 4/4``, on one terminal line.

    Not on a terminal it prints a plain line at most every ``every`` seconds.
    """

    def __init__(self, stream: TextIO, *, width: int = 24, every: float = 5.0) -> None:
        self.stream, self.width, self.every, self.tty = stream, width, every, stream.isatty()
        self._started = time.monotonic()
        self._last = 0.0
        self._seen = self._shown = -1  # finished lines at the last call, and on the last printed line
        self._latest: BatchSummary | None = None

    def __call__(self, state: BatchSummary) -> None:
        now, seen = time.monotonic(), self._seen
        self._latest, self._seen = state, state.finished
        if self.tty:
            print(f"\r{self.render(state, now - self._started)}\x1b[K", end="", file=self.stream, flush=True)
        elif state.finished != seen and (
            now - self._last >= self.every or state.finished == state.total
        ):
            self._print(state, now)

    def _print(self, state: BatchSummary, now: float) -> None:
        print(self.render(state, now - self._started), file=self.stream, flush=True)
        self._last, self._shown = now, state.finished

    def render(self, state: BatchSummary, elapsed: float) -> str:
        filled = round(self.width * (state.finished / state.total if state.total else 1.0))
        parts = [
            f"[{'#' * filled}{'.' * (self.width - filled)}] {state.finished}/{state.total} lines",
            f"{state.images} images",
            *([f"{len(state.failed)} failed"] if state.failed else []),
            f"concurrency {state.concurrency}/{state.max_concurrency}",
            *([f"rate limited: waiting {state.waiting:.0f} s"] if state.waiting > 0 else []),
            f"{elapsed:.0f} s",
        ]
        return "  ".join(parts)

    def close(self) -> None:
        """End the display on the final counts, so the last line agrees with the summary below it."""
        if self.tty:
            print(file=self.stream, flush=True)
        elif self._latest is not None and self._shown != self._latest.finished:
            self._print(self._latest, time.monotonic())
