"""What a generation returned, as plain data, and how the service's answers are read.

No I/O here: reading and saving images go through the client that made the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .errors import MiladyError, UnexpectedResponseError

__all__ = [
    "GalleryItem", "GalleryPage", "GeneratedImage", "ImageGenerationResult", "ModelStatus", "PriceRange",
    "merge_results", "parse_generation_body", "partial_note",
]  # fmt: skip


@dataclass(frozen=True)
class GeneratedImage:
    """One generated image: a permanent ``url``, or a ``data_url`` when the service could not store it."""

    url: str | None = None
    data_url: str | None = None
    text: str = ""
    mime_type: str | None = None
    file_size: int | None = None

    @property
    def source(self) -> str:
        """Where the bytes come from: the URL, or the data URL when there is no URL."""
        return self.url or self.data_url or ""

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ("url", "data_url", "mime_type", "file_size", "text")}

    def __repr__(self) -> str:
        data = self.data_url
        if data is not None and len(data) > 64:
            data = f"{data[:30]}...<{len(data)} chars>"
        return f"GeneratedImage(url={self.url!r}, data_url={data!r}, mime_type={self.mime_type!r})"


def partial_note(requested: int, returned: int) -> str:
    """What a person reads when fewer images came back than asked ("" otherwise)."""
    if returned >= requested:
        return ""
    return f"Asked for {requested} images, the service returned {returned} (billed only for those)."


@dataclass
class ImageGenerationResult:
    """What a generation returned. ``partial``: fewer images came back than asked. ``errors``: the
    failed requests when several were sent (the others' images stay usable). ``cost``: what the
    service says it billed, when it says."""

    images: list[GeneratedImage]
    requested: int
    model: str | None = None
    cost: float | None = None
    request_ids: list[str] = field(default_factory=list)
    errors: list[MiladyError] = field(default_factory=list)
    #: What a person should know besides the images (a retired or unavailable model, a recovery).
    notes: list[str] = field(default_factory=list)

    @property
    def returned(self) -> int:
        return len(self.images)

    @property
    def partial(self) -> bool:
        return self.returned < self.requested

    @property
    def partial_note(self) -> str:
        """The one line every face shows for partial success ("" when all came back)."""
        return partial_note(self.requested, self.returned)

    @property
    def urls(self) -> list[str]:
        return [image.url for image in self.images if image.url]

    @property
    def text(self) -> str:
        """The service's text for the images, one line each, without repeats."""
        return "\n".join(dict.fromkeys(image.text for image in self.images if image.text))

    def to_dict(self) -> dict[str, Any]:
        """Everything about the result as plain JSON-able data (tool artifacts, structured content)."""
        names = ("urls", "requested", "returned", "partial", "model", "cost", "request_ids", "text", "errors", "notes")
        return {
            "images": [image.to_dict() for image in self.images],
            **{name: getattr(self, name) for name in names},
            "request_ids": list(self.request_ids),
            "errors": [str(error) for error in self.errors],
            "notes": list(self.notes),
        }


def merge_results(parts: Sequence[ImageGenerationResult | BaseException], requested: int) -> ImageGenerationResult:
    """One result from several requests; failed parts are kept as ``errors`` (raised only when all failed)."""
    results = [p for p in parts if isinstance(p, ImageGenerationResult)]
    errors = [p for p in parts if isinstance(p, BaseException)]
    for error in errors:
        if not isinstance(error, MiladyError):
            raise error
    if not results:
        raise errors[0]
    costs = [r.cost for r in results if r.cost is not None]
    return ImageGenerationResult(
        images=[image for r in results for image in r.images],
        requested=requested,
        model=results[0].model,
        cost=sum(costs) if len(costs) == len(results) else None,
        request_ids=[rid for r in results for rid in r.request_ids],
        errors=[e for e in errors if isinstance(e, MiladyError)] + [e for r in results for e in r.errors],
        notes=list(dict.fromkeys(note for r in results for note in r.notes)),
    )


# ---------------------------------------------------------------- reading the service's answers


def _dig(value: object, *keys: str) -> Any:
    """``value[k1][k2]...``, or None where a step is not an object."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _int(value: object, digits: bool = False) -> int | None:
    # The gallery sends ``fileSize`` as a string of digits.
    number = _number(float(value) if digits and isinstance(value, str) and value.strip().isdigit() else value)
    return int(number) if number is not None else None


def _items(body: object, key: str, message: str, request_id: str | None) -> list[dict[str, Any]]:
    """The objects of ``body[key]``, which must be a list: else the answer is not the contract."""
    if not isinstance(_dig(body, key), list):
        raise UnexpectedResponseError(message, body=body, request_id=request_id)
    return [item for item in _dig(body, key) if isinstance(item, dict)]


def parse_generation_body(
    body: object, *, requested: int, model: str | None = None, request_id: str | None = None
) -> ImageGenerationResult:
    """Read either answer shape, ``{"images", "numImages"}`` or ``{"success", "model", "images", "cost"}``;
    items with neither ``url`` nor ``image`` are dropped (they count as not returned)."""
    images: list[GeneratedImage] = []
    for item in _items(body, "images", "The service answered 200 without an 'images' list.", request_id):
        raw, mime_type = item.get("image"), _text(item.get("mimeType"))
        # The other deployed variant may send bare base64.
        data_url = None
        if isinstance(raw, str) and raw:
            data_url = raw if raw.startswith("data:") else f"data:{mime_type or 'image/png'};base64,{raw}"
        url = _text(item.get("url"))
        if url or data_url:
            text = _text(item.get("text")) or ""
            images.append(GeneratedImage(url, data_url, text, mime_type, _int(item.get("fileSize"))))
    # The other variant's ``cost`` is an object whose ``totalCost`` is the amount billed.
    cost = _dig(body, "cost")
    return ImageGenerationResult(
        images=images,
        requested=requested,
        model=_text(_dig(body, "model")) or model,
        cost=_number(cost.get("totalCost") if isinstance(cost, dict) else cost),
        request_ids=[request_id] if request_id else [],
    )


# ---------------------------------------------------------------- the account's other answers


@dataclass(frozen=True)
class GalleryItem:
    """One past generation, as ``GET /api/v1/gallery`` lists it (the caller's own prompt, not the enhanced one)."""

    id: str
    url: str | None
    prompt: str
    model: str | None = None
    created_at: datetime | None = None
    mime_type: str | None = None
    file_size: int | None = None
    status: str | None = None
    dimensions: dict[str, Any] | None = None

    @property
    def image(self) -> GeneratedImage:
        """The item as an image a client can read or save."""
        return GeneratedImage(url=self.url, mime_type=self.mime_type, file_size=self.file_size)


@dataclass(frozen=True)
class GalleryPage:
    items: list[GalleryItem]
    has_more: bool
    offset: int
    limit: int


@dataclass(frozen=True)
class ModelStatus:
    """Whether the service can generate with a model now, and why not."""

    available: bool
    reason: str | None = None


@dataclass(frozen=True)
class PriceRange:
    """The service's price range of one image across its image models, in credits."""

    min: float
    max: float


def _when(value: object) -> datetime | None:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        return None
    return when if when is None or when.tzinfo else when.replace(tzinfo=timezone.utc)


def parse_gallery_body(body: object, *, request_id: str | None = None) -> GalleryPage:
    """``{items, count, offset, limit, hasMore}``."""
    items = [
        GalleryItem(
            id=str(raw["id"]),
            url=_text(raw.get("url")),
            prompt=raw["prompt"] if isinstance(raw.get("prompt"), str) else "",
            model=_text(raw.get("model")),
            created_at=_when(raw.get("createdAt")),
            mime_type=_text(raw.get("mimeType")),
            file_size=_int(raw.get("fileSize"), digits=True),
            status=_text(raw.get("status")),
            dimensions=raw["dimensions"] if isinstance(raw.get("dimensions"), dict) else None,
        )
        for raw in _items(body, "items", "The gallery answer has no 'items' list", request_id)
        if isinstance(raw.get("id"), (str, int))
    ]
    limit = _int(_dig(body, "limit"))
    return GalleryPage(
        items=items,
        has_more=_dig(body, "hasMore") is True,
        offset=_int(_dig(body, "offset")) or 0,
        limit=len(items) if limit is None else limit,
    )


def parse_model_status_body(body: object, *, request_id: str | None = None) -> dict[str, ModelStatus]:
    models = _items(body, "models", "The models/status answer has no 'models' list", request_id)
    return {
        m["modelId"]: ModelStatus(available=m.get("available") is True, reason=_text(m.get("reason")))
        for m in models
        if isinstance(m.get("modelId"), str)
    }


def parse_price_range_body(body: object) -> PriceRange | None:
    span = _dig(body, "pricing", "generate-image", "estimatedRange")
    low, high = _number(_dig(span, "min")), _number(_dig(span, "max"))
    return PriceRange(low, high) if low is not None and high is not None else None


#: The platform's markup on the catalogue price of an image.
PLATFORM_MARKUP = 1.2


def parse_model_price_body(body: object) -> float | None:
    """The estimated price of one image from a catalogue entry: its price x the markup, 6 decimals."""
    pricing = _dig(body, "pricing")
    candidates = [pricing.get("image"), *pricing.values()] if isinstance(pricing, dict) else [pricing]
    price = next((p for p in map(_number, candidates) if p is not None), None)
    return round(price * PLATFORM_MARKUP, 6) if price is not None else None
