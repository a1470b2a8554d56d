"""The service's rate limiter: a fixed window per caller, counting refused requests too."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

#: The service's policy name for its in-memory limiter.
POLICY = "in-memory"


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds
    retry_after: int | None
    window: float

    def headers(self) -> dict[str, str]:
        """The X-RateLimit-* headers the service puts on every answer past the limiter."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": iso_millis(self.reset_at),
            "X-RateLimit-Policy": POLICY,
        }

    @property
    def message(self) -> str:
        return f"Rate limit exceeded. Maximum {self.limit} requests per {math.ceil(self.window)} seconds."


def iso_millis(epoch: float) -> str:
    """An ISO date as JavaScript's ``toISOString()`` writes it: ``2025-01-01T00:00:00.000Z``."""
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def caller_key(headers: Mapping[str, str]) -> str:
    """Who is counted, as the service decides it (before auth).

    X-API-Key, else a Bearer token that looks like a service key (``eliza_``),
    else one shared "public" bucket: other Bearer tokens all share it.
    """
    api_key = headers.get("x-api-key")
    if api_key:
        return f"apikey:{api_key}"
    auth = headers.get("authorization", "")
    if auth.startswith("Bearer ") and auth[7:].startswith("eliza_"):
        return f"apikey:{auth[7:]}"
    return "public"


class RateLimiter:
    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._entries: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str, now: float | None = None) -> RateDecision:
        now = time.time() if now is None else now
        with self._lock:
            count, reset_at = self._entries.get(key, (0, 0.0))
            if reset_at < now:
                count, reset_at = 0, now + self.window
            count += 1
            self._entries[key] = (count, reset_at)
        allowed = count <= self.limit
        return RateDecision(
            allowed=allowed,
            limit=self.limit,
            remaining=max(0, self.limit - count),
            reset_at=reset_at,
            retry_after=None if allowed else math.ceil(reset_at - now),
            window=self.window,
        )

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()
