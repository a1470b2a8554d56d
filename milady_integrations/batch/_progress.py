"""A progress bar on stderr, without dependencies."""

from __future__ import annotations

import time
from typing import TextIO

from ._runner import BatchSummary


class ProgressBar:
    """``[#####.....] 12/40 lines  30 images  1 failed  concurrency 4/4``, on one terminal line;
    elsewhere a plain line at most every ``every`` seconds."""

    def __init__(self, stream: TextIO, *, width: int = 24, every: float = 5.0) -> None:
        self.stream, self.width, self.every, self.tty = stream, width, every, stream.isatty()
        self._at = 0.0  # when the last plain line was printed
        self._seen = self._shown = -1  # finished lines at the last call, and on the last line printed
        self._latest: BatchSummary | None = None

    def __call__(self, state: BatchSummary) -> None:
        seen, self._latest, self._seen = self._seen, state, state.finished
        if self.tty:
            print(f"\r{self.render(state)}\x1b[K", end="", file=self.stream, flush=True)
        elif state.finished != seen and (time.monotonic() - self._at >= self.every or state.finished == state.total):
            self._print(state)

    def _print(self, state: BatchSummary) -> None:
        print(self.render(state), file=self.stream, flush=True)
        self._at, self._shown = time.monotonic(), state.finished

    def render(self, state: BatchSummary) -> str:
        filled = round(self.width * (state.finished / state.total if state.total else 1.0))
        bar = f"[{'#' * filled}{'.' * (self.width - filled)}] {state.finished}/{state.total} lines"
        failed = [f"{len(state.failed)} failed"] if state.failed else []
        waiting = [f"rate limited: waiting {state.waiting:.0f} s"] if state.waiting > 0 else []
        concurrency = f"concurrency {state.concurrency}/{state.max_concurrency}"
        return "  ".join([bar, f"{state.images} images", *failed, concurrency, *waiting, f"{state.elapsed:.0f} s"])

    def close(self) -> None:
        """End the display on the final counts, so the last line agrees with the summary below it."""
        if self.tty:
            print(file=self.stream, flush=True)
        elif self._latest is not None and self._shown != self._latest.finished:
            self._print(self._latest)
