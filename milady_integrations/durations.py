"""How long a model has recently taken, so a face can say "~8 s left" while waiting.

Kept in memory per model (the last few runs; the median, so one slow run does not
move the estimate much). No estimate before the first run of a model.
"""

from __future__ import annotations

import statistics
import threading
from collections import deque

__all__ = ["RecentDurations"]


class RecentDurations:
    """Durations of the last ``keep`` runs of each model; thread-safe."""

    def __init__(self, keep: int = 5) -> None:
        self._keep = keep
        self._runs: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def record(self, model: str, seconds: float) -> None:
        with self._lock:
            self._runs.setdefault(model, deque(maxlen=self._keep)).append(max(seconds, 0.0))

    def expected(self, model: str) -> float | None:
        """The median of ``model``'s recent durations in seconds; None before its first run."""
        with self._lock:
            runs = list(self._runs.get(model, ()))
        return statistics.median(runs) if runs else None

    def clear(self) -> None:
        """Forget every run (a new session, or a test that wants no estimate)."""
        with self._lock:
            self._runs.clear()
