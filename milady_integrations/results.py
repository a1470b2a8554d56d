"""What a generation returned, as plain data, and how the service's answers are read.

No I/O here: reading and saving images go through the client that made the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import MiladyError, UnexpectedResponseError

__all__ = ["GeneratedImage", "ImageGenerationResult", "merge_results", "parse_generation_body", "partial_note"]


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
        return {
            "url": self.url,
            "data_url": self.data_url,
            "mime_type": self.mime_type,
            "file_size": self.file_size,
            "text": self.text,
        }

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
    """What a generation returned. ``partial`` is true when fewer images came back than asked.

    ``errors`` holds the failures of requests that did not succeed when several were sent
    (``generate_images``): the images of the others stay usable. ``cost`` is what the
    service says it billed, when it says (None otherwise).
    """

    images: list[GeneratedImage]
    requested: int
    model: str | None = None
    cost: float | None = None
    request_ids: list[str] = field(default_factory=list)
    errors: list[MiladyError] = field(default_factory=list)

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
        return {
            "images": [image.to_dict() for image in self.images],
            "urls": self.urls,
            "requested": self.requested,
            "returned": self.returned,
            "partial": self.partial,
            "model": self.model,
            "cost": self.cost,
            "request_ids": list(self.request_ids),
            "text": self.text,
            "errors": [str(error) for error in self.errors],
        }


def merge_results(parts: Sequence[ImageGenerationResult | BaseException], requested: int) -> ImageGenerationResult:
    """One result from several requests; failed parts are kept as ``errors``.

    Raises the first error only when every part failed, so partial work is never lost.
    """
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
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _data_url(raw: object, mime_type: object) -> str | None:
    if not isinstance(raw, str) or not raw:
        return None
    if raw.startswith("data:"):
        return raw
    # The other deployed variant may send bare base64.
    return f"data:{_text(mime_type) or 'image/png'};base64,{raw}"


def _billed(cost: object) -> float | None:
    # The other variant's ``cost`` is an object whose ``totalCost`` is the amount billed.
    if isinstance(cost, dict):
        return _number(cost.get("totalCost"))
    return _number(cost)


def parse_generation_body(
    body: object, *, requested: int, model: str | None = None, request_id: str | None = None
) -> ImageGenerationResult:
    """Read either response shape the service has answered with.

    ``{"images": [...], "numImages": n}`` and ``{"success", "model", "images", "cost"}``.
    Items with neither ``url`` nor ``image`` are dropped (they count as not returned).
    """
    if not isinstance(body, dict) or not isinstance(body.get("images"), list):
        raise UnexpectedResponseError(
            "The service answered 200 without an 'images' list.", body=body, request_id=request_id
        )
    images: list[GeneratedImage] = []
    for item in body["images"]:
        if not isinstance(item, dict):
            continue
        url = _text(item.get("url"))
        data_url = _data_url(item.get("image"), item.get("mimeType"))
        if url is None and data_url is None:
            continue
        size = _number(item.get("fileSize"))
        images.append(
            GeneratedImage(
                url=url,
                data_url=data_url,
                text=_text(item.get("text")) or "",
                mime_type=_text(item.get("mimeType")),
                file_size=int(size) if size is not None else None,
            )
        )
    return ImageGenerationResult(
        images=images,
        requested=requested,
        model=_text(body.get("model")) or model,
        cost=_billed(body.get("cost")),
        request_ids=[request_id] if request_id else [],
    )
