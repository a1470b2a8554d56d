"""Concurrency that follows the service's rate limit (429, Retry-After, X-RateLimit-*)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

import httpx

from ..errors import parse_retry_after

#: Never trust a rate-limit reset further away than this (clocks differ).
MAX_RESET_WAIT = 60.0


def _parse_reset(value: str | None) -> float | None:
    """X-RateLimit-Reset (an ISO date, or epoch seconds) -> epoch seconds."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class RateGate:
    """How many requests may run now: fewer after a 429, more again after successes.

    Additive increase, halving on a 429 (at most once per pause), a pause for
    ``Retry-After`` that holds every new request, and a pause until the window resets
    when ``X-RateLimit-Remaining`` says nothing is left. ``observe`` is an httpx
    response hook, so it also sees the answers the client retries by itself.
    """

    def __init__(self, concurrency: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.max = max(1, concurrency)
        self.limit = self.max
        self.active = 0
        self.rate_limited = 0
        self._clock = clock
        self._pause_until = 0.0
        self._successes = 0
        self._remaining: int | None = None
        self._window: str | None = None
        self._reset_at = 0.0
        self._changed = asyncio.Event()

    @property
    def wait_left(self) -> float:
        return max(0.0, self._pause_until - self._clock())

    def _pause(self, seconds: float) -> None:
        self._pause_until = max(self._pause_until, self._clock() + max(0.0, min(seconds, MAX_RESET_WAIT)))

    async def acquire(self) -> None:
        while True:
            left = self.wait_left
            if left > 0:
                await asyncio.sleep(min(left, 0.25))
                continue
            exhausted = self._remaining is not None and self._remaining <= 0
            if exhausted and (self.active == 0 or time.time() >= self._reset_at):
                self._remaining = None  # a new window, or nothing in flight to tell us more
            if self.active < self.limit and (self._remaining is None or self._remaining > 0):
                self.active += 1
                if self._remaining is not None:
                    self._remaining -= 1
                return
            self._changed.clear()
            await self._changed.wait()

    def release(self, *, succeeded: bool) -> None:
        self.active -= 1
        if succeeded:
            self._successes += 1
            if self._successes >= self.limit and self.limit < self.max:
                self.limit += 1
                self._successes = 0
        self._changed.set()

    def rate_limited_for(self, retry_after: float | None, *, count: bool = True) -> None:
        """A 429 arrived: lower the concurrency and hold new requests for ``retry_after``."""
        self.rate_limited += count
        if self.wait_left <= 0:  # one burst of 429s halves once, not once per answer
            self.limit = max(1, self.limit // 2)
            self._successes = 0
        self._pause(1.0 if retry_after is None else retry_after)
        self._changed.set()

    async def observe(self, response: httpx.Response) -> None:
        headers = response.headers
        if response.status_code == 429:
            self.rate_limited_for(parse_retry_after(headers.get("retry-after")))
            return
        remaining = headers.get("x-ratelimit-remaining")
        if remaining is None or not remaining.strip().isdigit():
            return
        left = int(remaining)
        window = headers.get("x-ratelimit-reset")
        reset = _parse_reset(window)
        if window != self._window or self._remaining is None:
            self._window, self._remaining = window, left
        else:
            # Same window, answers out of order: the lowest count seen (less what started since) holds.
            self._remaining = min(self._remaining, left)
        self._reset_at = time.time() + 1.0 if reset is None else min(reset, time.time() + MAX_RESET_WAIT)
        if left == 0:
            self._pause(self._reset_at - time.time())
        self._changed.set()
