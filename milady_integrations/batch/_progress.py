"""A progress bar on stderr, without dependencies."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TextIO


@dataclass
class BatchProgress:
    """What a progress display needs; updated as lines finish."""

    total: int
    finished: int = 0
    failed: int = 0
    images: int = 0
    concurrency: int = 0
    max_concurrency: int = 0
    waiting: float = 0.0  # seconds left of a rate-limit pause



class ProgressBar:
    """``[#####.....] 12/40 lines  30 images  1 failed  concurrency 4/4``, on one terminal line.

    Not on a terminal it prints a plain line at most every ``every`` seconds.
    """

    def __init__(self, stream: TextIO, *, width: int = 24, every: float = 5.0) -> None:
        self.stream = stream
        self.width = width
        self.every = every
        self.tty = stream.isatty()
        self._last = 0.0
        self._started = time.monotonic()
        self._last_finished = -1
        self._shown: BatchProgress | None = None  # the state the last printed line showed
        self._latest: BatchProgress | None = None

    def __call__(self, state: BatchProgress) -> None:
        now = time.monotonic()
        self._latest = replace(state)
        text = self.render(state, now - self._started)
        if self.tty:
            print(f"\r{text}\x1b[K", end="", file=self.stream, flush=True)
            self._shown = self._latest
        elif state.finished != self._last_finished and (
            now - self._last >= self.every or state.finished == state.total
        ):
            print(text, file=self.stream, flush=True)
            self._last = now
            self._shown = self._latest
        self._last_finished = state.finished

    def render(self, state: BatchProgress, elapsed: float) -> str:
        share = state.finished / state.total if state.total else 1.0
        filled = round(self.width * share)
        parts = [
            f"[{'#' * filled}{'.' * (self.width - filled)}] {state.finished}/{state.total} lines",
            f"{state.images} images",
        ]
        if state.failed:
            parts.append(f"{state.failed} failed")
        parts.append(f"concurrency {state.concurrency}/{state.max_concurrency}")
        if state.waiting > 0:
            parts.append(f"rate limited: waiting {state.waiting:.0f} s")
        parts.append(f"{elapsed:.0f} s")
        return "  ".join(parts)

    def close(self) -> None:
        """End the display on the final counts, so the last line agrees with the summary below it."""
        latest = self._latest
        if not self.tty and latest is not None and (self._shown is None or self._shown.finished != latest.finished):
            print(self.render(latest, time.monotonic() - self._started), file=self.stream, flush=True)
        if self.tty:
            print(file=self.stream, flush=True)
