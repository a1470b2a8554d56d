"""Everything one running local server remembers: balances, counters, limiter, images, faults."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from ._config import ServerConfig
from ._ledger import Ledger
from ._ratelimit import RateLimiter
from ._stats import Counters, ServerStats
from ._store import ImageStore


@dataclass
class ServerState:
    config: ServerConfig
    ledger: Ledger
    counters: Counters
    limiter: RateLimiter
    store: ImageStore
    #: Set when the server is stopping, so stalled answers ("hang") end at once.
    stopping: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def from_config(cls, config: ServerConfig) -> ServerState:
        ledger = Ledger(config.initial_credits)
        for key in config.api_keys or ():
            ledger.balance(key)  # known keys show in the stats from the start
        return cls(
            config=config,
            ledger=ledger,
            counters=Counters(),
            limiter=RateLimiter(config.rate_limit, config.rate_window),
            store=ImageStore(config.image_store_bytes),
        )

    def key_of(self, headers: Mapping[str, str]) -> str | None:
        """The caller's key if the server accepts it: X-API-Key first, then Bearer."""
        key = headers.get("x-api-key", "").strip()
        if not key:
            auth = headers.get("authorization", "")
            key = auth[7:].strip() if auth.startswith("Bearer ") else ""
        if not key:
            return None
        allowed = self.config.api_keys
        return key if allowed is None or key in allowed else None

    def stats(self) -> ServerStats:
        return self.counters.snapshot(self.ledger.snapshot())
