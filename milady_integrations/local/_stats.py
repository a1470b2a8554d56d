"""Counters a test reads to prove what the server saw ("no request", "no double charge")."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from ._ledger import cost


@dataclass(frozen=True)
class ServerStats:
    """A snapshot of the counters; ``server.stats`` returns a fresh one each time."""

    #: Requests received per endpoint: "generate", "balance", "image", "openapi", "local", "other".
    requests: dict[str, int] = field(default_factory=dict)
    #: Generate requests that passed the rate limit and auth and reached body validation.
    generate_validated: int = 0
    #: Images drawn (successes only) and images that failed on purpose.
    images_generated: int = 0
    images_failed: int = 0
    #: Images charged for, and the credits charged, over all keys.
    images_billed: int = 0
    credits_billed: float = 0.0
    #: Balance per key seen so far.
    credits: dict[str, float] = field(default_factory=dict)

    @property
    def generate_requests(self) -> int:
        return self.requests.get("generate", 0)

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())


class Counters:
    """The live, thread-safe counters behind :class:`ServerStats`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._validated = 0
        self._generated = 0
        self._failed = 0
        self._billed = 0
        self._credits_billed = 0.0

    def request(self, endpoint: str) -> None:
        with self._lock:
            self._requests[endpoint] += 1

    def validated(self) -> None:
        with self._lock:
            self._validated += 1

    def images(self, generated: int, failed: int) -> None:
        with self._lock:
            self._generated += generated
            self._failed += failed

    def billed(self, images: int, price: float) -> None:
        with self._lock:
            self._billed += images
            self._credits_billed = round(self._credits_billed + cost(price, images), 10)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._validated = self._generated = self._failed = self._billed = 0
            self._credits_billed = 0.0

    def snapshot(self, credits: dict[str, float]) -> ServerStats:
        with self._lock:
            return ServerStats(
                requests=dict(self._requests),
                generate_validated=self._validated,
                images_generated=self._generated,
                images_failed=self._failed,
                images_billed=self._billed,
                credits_billed=self._credits_billed,
                credits=credits,
            )
