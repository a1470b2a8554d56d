"""The rate gate: how many requests run at once, and the ONE place a batch handles a 429.

Why here and not in the client: a 429 is about the key, not one request. Retried by the client,
each line would sleep and resend on its own while the others keep sending into the limit; the
gate pauses every line together, halves the concurrency, and sends the refused request again
once Retry-After has passed. So the batch's client has ``retry_rate_limits=False`` and the
response hook only reads ``X-RateLimit-Remaining``: nothing else sends a 429 again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

import httpx

from .._config import DEFAULT_MAX_RETRY_WAIT
from ..errors import RateLimitError

T = TypeVar("T")
#: Never trust a rate-limit reset further away than this (clocks differ).
MAX_RESET_WAIT = 60.0
#: A line refused this many times in a row fails: the service is not letting it through.
MAX_TRIES = 20


def _parse_reset(value: str | None) -> float | None:
    """X-RateLimit-Reset (epoch seconds, or an ISO date) -> epoch seconds."""
    try:
        return float(value or "")
    except ValueError:
        pass
    try:
        return datetime.fromisoformat((value or "").replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class RateGate:
    """Additive increase, halving on a 429 (once per pause), a pause for Retry-After that holds
    every line, and a pause until the window resets when ``X-RateLimit-Remaining`` reaches 0."""

    def __init__(self, concurrency: int, *, max_wait: float = DEFAULT_MAX_RETRY_WAIT) -> None:
        self.max = self.limit = max(1, concurrency)
        #: A 429 asking for a longer wait is reported, not waited for (the client's ``max_retry_wait``).
        self.max_wait = max_wait
        self.active = self.rate_limited = self._successes = 0
        self.closed = False  # no line starts any more (a refused key, a 429 too long to wait for)
        self._pause_until = self._reset_at = 0.0
        self._remaining: int | None = None
        self._window: str | None = None
        self._changed = asyncio.Event()

    @property
    def wait_left(self) -> float:
        return max(0.0, self._pause_until - time.monotonic())

    def close(self) -> None:
        self.closed = True
        self._changed.set()

    async def send(self, call: Callable[[], Awaitable[T]], stop: asyncio.Event | None = None) -> T | None:
        """``call()`` in a slot, again after each 429 it waits out; None when stopped before sending.

        A 429 asking for more than ``max_wait``, or the MAX_TRIES-th in a row, is raised and closes the gate.
        """
        tries = 0
        while await self._acquire(stop):
            try:
                result = await call()
            except RateLimitError as exc:
                tries += 1
                self._limited(exc.retry_after)  # before the slot is freed: no line may start in between
                self._release(succeeded=False)
                if tries >= MAX_TRIES or (exc.retry_after or 0) > self.max_wait:
                    self.close()
                    raise
                continue
            except BaseException:
                self._release(succeeded=False)
                raise
            self._release(succeeded=True)
            return result
        return None

    async def _acquire(self, stop: asyncio.Event | None) -> bool:
        # A line waiting here when stop is set is given back unsent (the first Ctrl-C starts nothing new).
        while not (self.closed or (stop is not None and stop.is_set())):
            exhausted = self._remaining is not None and self._remaining <= 0
            if exhausted and (self.active == 0 or time.time() >= self._reset_at):
                self._remaining = None  # a new window, or nothing in flight to tell us more
            if self.wait_left <= 0 and self.active < self.limit and (self._remaining is None or self._remaining > 0):
                self.active += 1
                if self._remaining is not None:
                    self._remaining -= 1
                return True
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 0.25)
        return False

    def _release(self, *, succeeded: bool) -> None:
        self.active -= 1
        self._successes += succeeded
        if succeeded and self._successes >= self.limit and self.limit < self.max:
            self.limit += 1
            self._successes = 0
        self._changed.set()

    def _limited(self, retry_after: float | None) -> None:
        self.rate_limited += 1
        if self.wait_left <= 0:  # one burst of 429s halves once, not once per answer
            self.limit = max(1, self.limit // 2)
            self._successes = 0
        self._pause(1.0 if retry_after is None else retry_after)

    def _pause(self, seconds: float) -> None:
        until = time.monotonic() + max(0.0, min(seconds, MAX_RESET_WAIT))
        self._pause_until = max(self._pause_until, until)

    async def observe(self, response: httpx.Response) -> None:
        """httpx response hook: learn ``X-RateLimit-Remaining`` from every answer but a 429 (``send`` has those)."""
        remaining = response.headers.get("x-ratelimit-remaining", "")
        if response.status_code == 429 or not remaining.strip().isdigit():
            return
        left, window = int(remaining), response.headers.get("x-ratelimit-reset")
        if window != self._window or self._remaining is None:
            self._window, self._remaining = window, left
        else:  # same window, answers out of order: the lowest count seen (less what started since) holds
            self._remaining = min(self._remaining, left)
        reset = _parse_reset(window)
        self._reset_at = time.time() + 1.0 if reset is None else min(reset, time.time() + MAX_RESET_WAIT)
        if left == 0:
            self._pause(self._reset_at - time.time())
        self._changed.set()
