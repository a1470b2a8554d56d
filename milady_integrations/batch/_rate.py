"""The rate gate: how many requests run at once, and the ONE place a batch handles a 429.

Why here, not in the client: a 429 is about the key, not one request. Retried by the client, each
line would sleep and resend on its own while the others kept sending into the limit; the gate pauses
every line at once, halves the concurrency and sends the refused request again after Retry-After.
So the batch's client has ``retry_rate_limits=False``, and the response hook reads only
``X-RateLimit-Remaining``: nothing else sends a 429 again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

import httpx

from .._config import DEFAULT_MAX_RETRY_WAIT
from ..errors import RateLimitError
from ..results import ImageGenerationResult

#: Never trust a rate-limit reset further away than this (clocks differ).
MAX_RESET_WAIT = 60.0
#: A line refused this many times in a row fails: the service is not letting it through.
MAX_TRIES = 20


class RateGate:
    """Additive increase, halving on a 429 (once per pause), a pause for Retry-After that holds
    every line, and a pause until the window resets when ``X-RateLimit-Remaining`` reaches 0."""

    def __init__(self, concurrency: int, *, stop: asyncio.Event | None = None) -> None:
        self.max = self.limit = max(1, concurrency)
        self.max_wait = DEFAULT_MAX_RETRY_WAIT  # a 429 asking for longer is reported, not waited for
        self.active = self.rate_limited = self._successes = 0
        self._stop = stop  # set: no line starts any more (the first Ctrl-C)
        self.closed = False  # the same, decided by the batch (a refused key, a 429 too long to wait for)
        self._pause_until = self._reset_at = 0.0  # epoch seconds
        self._remaining: int | None = None
        self._window: str | None = None

    @property
    def wait_left(self) -> float:
        return max(0.0, self._pause_until - time.time())

    @property
    def open(self) -> bool:
        return not (self.closed or (self._stop is not None and self._stop.is_set()))

    async def send(self, call: Callable[[], Awaitable[ImageGenerationResult]]) -> ImageGenerationResult | None:
        """``call()`` in a slot, again after each 429 it waits out; None when stopped before sending. A 429
        asking for more than ``max_wait``, or the MAX_TRIES-th in a row, is raised and closes the gate."""
        tries = 0
        while await self._acquire():
            succeeded = False
            try:
                result = await call()
                succeeded = True
                return result
            except RateLimitError as exc:
                tries += 1
                self.rate_limited += 1
                if self.wait_left <= 0:  # one burst of 429s halves once, not once per answer
                    self.limit, self._successes = max(1, self.limit // 2), 0
                # Before the slot is freed; a Retry-After the batch accepts (up to max_wait) is waited out whole.
                self._pause(1.0 if exc.retry_after is None else exc.retry_after, cap=max(self.max_wait, MAX_RESET_WAIT))
                if tries >= MAX_TRIES or (exc.retry_after or 0) > self.max_wait:
                    self.closed = True
                    raise
            finally:
                self.active -= 1
                self._successes += succeeded
                if succeeded and self._successes >= self.limit < self.max:
                    self.limit, self._successes = self.limit + 1, 0
        return None

    async def _acquire(self) -> bool:
        # A line waiting here when the gate closes is given back unsent (the first Ctrl-C starts nothing new).
        while self.open:
            if self._remaining == 0 and (not self.active or time.time() >= self._reset_at):  # (never below 0)
                self._remaining = None  # a new window, or nothing in flight to tell us more
            if self.wait_left <= 0 and self.active < self.limit and self._remaining != 0:
                self.active += 1
                self._remaining = None if self._remaining is None else self._remaining - 1
                return True
            await asyncio.sleep(0.05)  # a slot frees, a pause ends, the gate closes: seen within 50 ms
        return False

    def _pause(self, seconds: float, cap: float = MAX_RESET_WAIT) -> None:
        self._pause_until = max(self._pause_until, time.time() + max(0.0, min(seconds, cap)))

    async def observe(self, response: httpx.Response) -> None:
        """httpx response hook: learn ``X-RateLimit-Remaining`` from every answer but a 429 (``send`` has those)."""
        remaining, window = response.headers.get("x-ratelimit-remaining", ""), response.headers.get("x-ratelimit-reset")
        if response.status_code == 429 or not remaining.isdigit():
            return
        if window != self._window or self._remaining is None:
            self._window, self._remaining = window, int(remaining)
        else:  # same window, answers out of order: the lowest count seen (less what started since) holds
            self._remaining = min(self._remaining, int(remaining))
        try:  # an ISO date, as the service sends it (epoch seconds, as other limiters send, too)
            reset = float(window or "")
        except ValueError:
            try:
                reset = datetime.fromisoformat((window or "").replace("Z", "+00:00")).timestamp()
            except ValueError:
                reset = time.time() + 1.0
        self._reset_at = min(reset, time.time() + MAX_RESET_WAIT)
        if int(remaining) == 0:
            self._pause(self._reset_at - time.time())
