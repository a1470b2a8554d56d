"""How a local server behaves: keys, credits, prices, rate limit, response shape, faults."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..schema import DEFAULT_MODEL
from ._faults import Faults, ResponseShape

#: Credits per image, per model. Illustrative only: the service prices images
#: from a provider catalogue that changes; these keep the local arithmetic
#: (402 ``required``, billing of partial successes) realistic.
DEFAULT_PRICES: dict[str, float] = {
    "google/gemini-2.5-flash-image": 0.02,
    "google/gemini-3.1-flash-image-preview": 0.02,
    "google/gemini-3-pro-image": 0.08,
    "openai/gpt-image-2": 0.06,
    "bfl/flux-kontext-max": 0.08,
}

#: The key ``LocalServer.api_key`` reports when any key is accepted.
DEFAULT_LOCAL_KEY = "local-key"

MiB = 1024 * 1024


@dataclass
class ServerConfig:
    """Settings of one local server. ``faults`` stays live while it runs."""

    #: Keys accepted; None accepts any non-empty key.
    api_keys: set[str] | None = None
    #: Credits a key starts with (on first use when any key is accepted).
    initial_credits: float = 100.0
    #: Requests allowed per ``rate_window`` seconds per caller, as the service counts them.
    rate_limit: int = 60
    rate_window: float = 60.0
    #: True answers 400 ``Invalid model`` for unknown models (the other deployed
    #: variant); False silently generates with the default model, as the service does.
    strict_models: bool = False
    #: "standard" ``{images, numImages}`` or "success" ``{success, model, images, cost}``.
    response_shape: ResponseShape = "standard"
    faults: Faults = field(default_factory=Faults)
    #: Credits per image per model; models not listed cost ``prices[DEFAULT_MODEL]``.
    prices: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    #: Images are kept in memory, least recently used dropped first past this size.
    image_store_bytes: int = 256 * MiB
    #: Bytes the "oversize" image URL fault streams (above the client's default 50 MiB cap).
    oversize_bytes: int = 64 * MiB
    #: How long the "hang" image URL fault stalls before giving up on its own.
    hang_seconds: float = 60.0
    #: WebP quality of the drawn images.
    webp_quality: int = 80

    def price(self, model: str) -> float:
        return self.prices.get(model, self.prices.get(DEFAULT_MODEL, 0.02))

    @property
    def local_key(self) -> str:
        """A key this server accepts."""
        if self.api_keys:
            return sorted(self.api_keys)[0]
        return DEFAULT_LOCAL_KEY
