"""How a local server is set up (ServerConfig) and everything it remembers (State, one reset)."""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from ..catalogue import DEFAULT_MODEL
from ._faults import Faults, ImageUrlFault, ResponseShape

#: Catalogue price of one image per model (illustrative; the service's catalogue changes). The
#: service bills that x 1.2, rounded to 6 decimals: 0.02, 0.02, 0.08, 0.06 and 0.08 credits here.
DEFAULT_PRICES: dict[str, float] = {
    "google/gemini-2.5-flash-image": 0.01666667,
    "google/gemini-3.1-flash-image-preview": 0.01666667,
    "google/gemini-3-pro-image": 0.06666667,
    "openai/gpt-image-2": 0.05,
    "bfl/flux-kontext-max": 0.06666667,
}
MARKUP = Decimal("1.2")
MiB = 1024 * 1024


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


@dataclass
class ServerConfig:
    """Settings of one local server; ``faults``, ``text``, ``unavailable`` and ``inactive_keys`` stay live."""

    api_keys: set[str] | None = None  #: keys accepted; None accepts any non-empty key
    initial_credits: float = 100.0  #: what a key starts with
    rate_limit: int = 60  #: requests per ``rate_window`` seconds per caller, refused ones included
    rate_window: float = 60.0
    rate_clock: Callable[[], float] = time.time  #: the rate limiter's clock: a test moves it instead of waiting
    #: "in-memory": a fixed window; "redis": a sliding window, Retry-After always 60.
    rate_policy: Literal["in-memory", "redis"] = "in-memory"
    #: "standard", or "success": the other deployed variant (unknown models and body checks
    #: answered 400 with details, its 402 and 503 texts, 405, ``cost`` object, no partial success).
    response_shape: ResponseShape = "standard"
    faults: Faults = field(default_factory=Faults)
    prices: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PRICES))  #: catalogue prices
    text: str = ""  #: the model's text that comes with each image
    #: Models (or providers, "bfl/") that models/status reports unavailable, with the reason.
    unavailable: dict[str, str] = field(default_factory=lambda: {"bfl/": "bfl provider is currently unavailable"})
    inactive_keys: set[str] = field(default_factory=set)  #: keys answered 403 by the balance route
    image_store_bytes: int = 256 * MiB  #: images in memory, least recently used dropped past this
    oversize_bytes: int = 64 * MiB  #: what the "oversize" image URL fault streams
    hang_seconds: float = 60.0  #: how long the "hang" image URL fault stalls at most
    webp_quality: int = 80
    request_log: int = 100  #: generate requests kept for ``GET /_local/requests``

    def price(self, model: str) -> Decimal:  # unknown models cost what the default does
        return _dec(self.prices.get(model, self.prices[DEFAULT_MODEL]))

    def billed(self, model: str, images: int = 1) -> float:  # as the service computes it (a 402's ``required``)
        return float(round(self.price(model) * MARKUP * images, 6))

    @property
    def local_key(self) -> str:
        return sorted(self.api_keys)[0] if self.api_keys else "local-key"


@dataclass(frozen=True)
class ServerStats:
    """A snapshot of the counters: take one before and one after to compare."""

    #: Requests per endpoint: generate, balance, image, gallery, models, pricing, openapi, local, other.
    requests: dict[str, int] = field(default_factory=dict)
    generate_validated: int = 0  #: generate requests past rate limit and auth
    images_generated: int = 0
    images_failed: int = 0
    images_billed: int = 0
    credits_billed: float = 0.0
    credits: dict[str, float] = field(default_factory=dict)  #: balance per key seen

    @property
    def generate_requests(self) -> int:
        return self.requests.get("generate", 0)

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())


def iso(epoch: float) -> str:
    """``Date.toISOString()``: 2025-01-01T00:00:00.000Z."""
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


class Stored(NamedTuple):
    data: bytes
    mime: str
    fault: ImageUrlFault | None


class State:
    """Balances, counters, rate windows, images, gallery and the request log of one server."""

    def __init__(self, config: ServerConfig) -> None:
        self.config, self.lock, self.last_created, self.image_bytes = config, threading.Lock(), 0.0, 0
        self.stopping = threading.Event()  # set while stopping: stalled answers end at once
        self.balances = {key: _dec(config.initial_credits) for key in config.api_keys or ()}
        self.images: OrderedDict[str, Stored] = OrderedDict()
        self.gallery: dict[str, list[dict[str, Any]]] = {}
        self.reset()

    def reset(self) -> None:
        """Faults, counters, rate-limit windows and the request log (balances, images, gallery stay)."""
        self.config.faults.clear()
        with self.lock:
            self.counts: Counter[str] = Counter()  # ServerStats' generate_validated and images_* fields
            self.requests: Counter[str] = Counter()  # per endpoint
            self.credits_billed = Decimal(0)
            self.windows: dict[str, deque[float]] = {}
            self.log: deque[dict[str, Any]] = deque(maxlen=self.config.request_log)

    def recent(self) -> list[dict[str, Any]]:  # newest first
        with self.lock:
            return list(reversed(self.log))

    def key_of(self, headers: Mapping[str, str]) -> str | None:
        """The caller's key (X-API-Key, else Bearer) if this server accepts it."""
        auth, allowed = headers.get("authorization", ""), self.config.api_keys
        key = headers.get("x-api-key", "").strip() or (auth[7:].strip() if auth.startswith("Bearer ") else "")
        return key if key and (allowed is None or key in allowed) else None

    def balance(self, key: str, set_to: float | None = None) -> float:
        with self.lock:
            if set_to is not None:
                self.balances[key] = _dec(set_to)
            return float(self.balances.setdefault(key, _dec(self.config.initial_credits)))

    def reserve(self, key: str, amount: float) -> bool:
        """Take ``amount`` now (so concurrent requests cannot overspend); False when short."""
        with self.lock:
            have, need = self.balances.setdefault(key, _dec(self.config.initial_credits)), _dec(amount)
            if have >= need:
                self.balances[key] = have - need
            return have >= need

    def settle(self, key: str, reserved: float, model: str, made: int, failed: int) -> None:
        """Give back what was reserved beyond ``made`` images and count what happened."""
        charged = _dec(self.config.billed(model, made)) if made else Decimal(0)
        with self.lock:
            self.balances[key] += _dec(reserved) - charged
            self.counts.update(images_generated=made, images_failed=failed, images_billed=made)
            self.credits_billed += charged

    def rate(self, headers: Mapping[str, str]) -> tuple[dict[str, str], int | None]:
        """The X-RateLimit-* headers, and seconds to wait when refused (None: allowed).

        Callers are keyed as the service keys them: X-API-Key, an ``eliza_`` Bearer, else "public"."""
        auth = headers.get("authorization", "")
        who = headers.get("x-api-key") or (auth[7:] if auth.startswith("Bearer eliza_") else "") or "public"
        cfg = self.config
        now = cfg.rate_clock()
        with self.lock:
            hits = self.windows.setdefault(who, deque())
            if cfg.rate_policy == "redis":  # sliding: every attempt in the last window counts
                while hits and hits[0] <= now - cfg.rate_window:
                    hits.popleft()
            elif hits and hits[0] + cfg.rate_window < now:  # fixed: a window opens on its first request
                hits.clear()
            hits.append(now)
            count, reset_at = len(hits), hits[0] + cfg.rate_window
        wait = None
        if count > cfg.rate_limit:
            wait = 60 if cfg.rate_policy == "redis" else max(1, math.ceil(reset_at - now))
        return self.limit_headers(max(0, cfg.rate_limit - count), reset_at), wait

    def limit_headers(self, remaining: int, reset_at: float) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.config.rate_limit), "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": iso(reset_at), "X-RateLimit-Policy": self.config.rate_policy}

    def store(self, data: bytes, mime: str, fault: ImageUrlFault | None) -> str:
        """Keep an image under a new id; the least recently used go past ``image_store_bytes``."""
        image_id = uuid.uuid4().hex
        with self.lock:
            self.images[image_id] = Stored(data, mime, fault)
            self.image_bytes += len(data)
            while self.image_bytes > self.config.image_store_bytes and len(self.images) > 1:
                self.image_bytes -= len(self.images.popitem(last=False)[1].data)
        return image_id

    def image(self, image_id: str) -> Stored | None:
        with self.lock:
            if image_id in self.images:
                self.images.move_to_end(image_id)
            return self.images.get(image_id)

    def created_at(self) -> float:
        """A creation time no other request shares (the gallery's times have millisecond resolution)."""
        with self.lock:
            self.last_created = max(time.time(), self.last_created + 0.001)
            return self.last_created

    def stats(self) -> ServerStats:
        with self.lock:
            credits = {key: float(value) for key, value in self.balances.items()}
            return ServerStats(dict(self.requests), **self.counts, credits_billed=float(self.credits_billed),
                               credits=credits)
