"""Sans-IO flows for the account's other routes: the gallery, recovery from it, model status and prices.

Recovery is how a request that may have run is never paid twice: every stored image is
listed in the gallery with the caller's own prompt, model and creation time, so what a
timed-out (or otherwise ambiguous) request made can be found instead of sent again.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlencode

from ._config import ClientConfig
from ._flow import Flow, Sleep, call_flow
from .request import GenerateImageRequest
from .results import (
    GalleryItem,
    GalleryPage,
    ImageGenerationResult,
    ModelStatus,
    PriceRange,
    parse_gallery_body,
    parse_model_price_body,
    parse_model_status_body,
    parse_price_range_body,
)

GALLERY_PATH = "/api/v1/gallery"
MODEL_STATUS_PATH = "/api/v1/models/status"
PRICING_PATH = "/api/v1/pricing/summary"
MODEL_PATH = "/api/v1/models/"


@dataclass(frozen=True)
class Pending:
    """A generate request that may have run: what was asked, and when it was sent (this machine's clock)."""

    request: GenerateImageRequest
    sent_at: datetime


@dataclass(frozen=True)
class RecoveryPolicy:
    """How long to look: ``polls`` looks, ``every`` seconds apart; creation times may be ``skew`` early."""

    polls: int = 10
    every: float = 3.0
    skew: timedelta = timedelta(seconds=30)

    @classmethod
    def lasting(cls, seconds: float) -> RecoveryPolicy:
        """Looks every 3 s (once when shorter) for about ``seconds``."""
        return cls(polls=max(1, round(seconds / 3.0) + 1))


def gallery_flow(config: ClientConfig, *, limit: int, offset: int) -> Flow[GalleryPage]:
    query = urlencode({"type": "image", "limit": limit, "offset": offset})
    body, request_id = yield from call_flow(config, "GET", f"{GALLERY_PATH}?{query}")
    return parse_gallery_body(body, request_id=request_id)


def model_status_flow(config: ClientConfig, models: list[str]) -> Flow[dict[str, ModelStatus]]:
    body, request_id = yield from call_flow(config, "POST", MODEL_STATUS_PATH, {"modelIds": models}, auth=False)
    return parse_model_status_body(body, request_id=request_id)


def price_range_flow(config: ClientConfig) -> Flow[PriceRange | None]:
    body, _ = yield from call_flow(config, "GET", PRICING_PATH, auth=False)
    return parse_price_range_body(body)


def model_price_flow(config: ClientConfig, model: str) -> Flow[float | None]:
    body, _ = yield from call_flow(config, "GET", MODEL_PATH + quote(model, safe="/"))
    return parse_model_price_body(body)


def _made_by(item: GalleryItem, pending: Pending, skew: timedelta, taken: Container[str]) -> bool:
    return (
        item.url is not None
        and item.url not in taken
        and item.prompt == pending.request.prompt
        and item.model in (None, pending.request.model)
        and item.created_at is not None
        and item.created_at >= pending.sent_at - skew
    )


def recover_flow(
    config: ClientConfig, pending: Pending, taken: Container[str], policy: RecoveryPolicy
) -> Flow[ImageGenerationResult | None]:
    """Look in the gallery for the images ``pending`` made, not already ``taken`` by this client.

    Polls until all asked images are found or the looks run out (the service may still be
    finishing); returns what was found as a normal result, or None when nothing was.
    """
    wanted = pending.request.num_images
    found: list[GalleryItem] = []
    for look in range(max(1, policy.polls)):
        if look:
            yield Sleep(policy.every)
        found = []
        offset = 0
        while len(found) < wanted:
            page = yield from gallery_flow(config, limit=100, offset=offset)
            fresh = [item for item in page.items if _made_by(item, pending, policy.skew, taken)]
            found += fresh[: wanted - len(found)]
            # Newest first: once a page reaches past the send time, older pages cannot match.
            older = [i for i in page.items if i.created_at and i.created_at < pending.sent_at - policy.skew]
            if not page.has_more or older or not page.items:
                break
            offset += len(page.items)
        if len(found) >= wanted:
            break
    if not found:
        return None
    return ImageGenerationResult(images=[i.image for i in found], requested=wanted, model=pending.request.model)


def now() -> datetime:
    return datetime.now(timezone.utc)
