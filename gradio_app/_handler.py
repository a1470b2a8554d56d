"""What happens when someone presses Generate: check the inputs, send, wait, store the images.

Kept free of component wiring so it can be tested on its own; ``block.py`` binds it
to the components.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from milady_integrations import AsyncMiladyClient, GenerateImageRequest, InvalidRequestError
from milady_integrations.images import suffix_for, write_image
from milady_integrations.request import field_problems
from milady_integrations.results import ImageGenerationResult
from milady_integrations.wording import waiting_line

#: Called with a fraction (0..1) and a description, like ``gr.Progress``.
ProgressFn = Callable[..., Any]

# The bar creeps towards this fraction while the service works (the wait has no known length).
_WAIT_CEILING = 0.9
_WAIT_TIME_CONSTANT = 12.0
_TICK_SECONDS = 0.5
_SOURCE_ALLOWED = "an uploaded image or a data URL"


def _whole(value: object) -> object:
    # Sliders and JSON clients send 3.0 for 3; anything else is left for the core to name.
    return int(value) if isinstance(value, float) and value.is_integer() else value


def source_of(payload: object, uploads: str | Path) -> str | None:
    """The uploaded image in a raw ``gr.Image`` payload: its file path, or a data URL.

    Only files in Gradio's upload folder are read: a caller of the API must not be able
    to make the server send one of its own files to the service.
    """
    if payload is None or payload == "":
        return None
    candidate = payload.get("path") or payload.get("url") if isinstance(payload, Mapping) else payload
    if isinstance(candidate, str) and candidate.startswith("data:"):
        return candidate
    if isinstance(candidate, str) and candidate and Path(candidate).resolve().is_relative_to(Path(uploads).resolve()):
        return str(Path(candidate).resolve())
    shown = str(candidate)[:200]
    raise InvalidRequestError(
        f"source_image={shown!r} is not allowed: upload the image (or send a data:image/... URL); "
        "files already on the server cannot be named",
        field="source_image",
        value=shown,
        allowed=_SOURCE_ALLOWED,
    )


def field_errors(values: Mapping[str, object], *, uploads: str | Path) -> dict[str, str]:
    """Every invalid field with the core's own words, so all problems show at once."""
    errors: dict[str, str] = {}
    try:
        source = source_of(values.get("source_image"), uploads)
    except InvalidRequestError as err:
        errors["source_image"], source = str(err), None
    options = {**values, "num_images": _whole(values.get("num_images")), "source_image": source}
    errors.update({p.field: p.text() for p in field_problems(options)})
    return errors


def build_request(
    client: AsyncMiladyClient, values: Mapping[str, object], *, uploads: str | Path
) -> GenerateImageRequest:
    """The checked request for the block's raw input values."""
    options: dict[str, Any] = {**values, "num_images": _whole(values.get("num_images"))}
    options["source_image"] = source_of(values.get("source_image"), uploads)
    # A photo from a phone may be larger than the service takes: shrink it rather than refuse.
    return client.build_request(**options, downscale_source=True)


async def _creep(progress: ProgressFn, label: Callable[[float], str], started: float) -> None:
    while True:
        waited = time.monotonic() - started
        progress(_WAIT_CEILING * (1 - math.exp(-waited / _WAIT_TIME_CONSTANT)), desc=label(waited))
        await asyncio.sleep(_TICK_SECONDS)


def store_image(data: bytes, folder: str | Path, index: int) -> Path:
    """Write image bytes where Gradio serves them from; same bytes, same path."""
    digest = hashlib.sha256(data).hexdigest()
    return write_image(Path(folder) / "milady" / digest / f"image-{index}{suffix_for(data)}", data)


async def generate(
    client: AsyncMiladyClient, request: GenerateImageRequest, *, folder: str | Path, progress: ProgressFn
) -> tuple[list[str], ImageGenerationResult]:
    """Send, wait with a progress bar, fetch the images into ``folder``; (file paths, result).

    Local files, not the service's URLs: Gradio serves them itself, so browsers and
    ``gradio_client`` get the images even when the URLs are unreachable for them
    (loopback, private networks). Cancelling the task cancels the HTTP request.
    """
    started = time.monotonic()
    progress(0.0, desc=waiting_line(request.num_images, request.model, 0))
    ticker = asyncio.create_task(
        _creep(progress, lambda s: waiting_line(request.num_images, request.model, s), started)
    )
    try:
        result = await client.send(request)
        progress(_WAIT_CEILING, desc="Fetching images")
        datas = await client.read_images(result)
    finally:
        ticker.cancel()
    # Hashing and writing megabytes: in a worker thread, off the event loop other users share.
    paths = await asyncio.to_thread(lambda: [str(store_image(d, folder, i)) for i, d in enumerate(datas, start=1)])
    progress(1.0, desc="Done")
    return paths, result
