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

from ._choices import DEFAULTS, FIELDS

#: Called with a fraction (0..1) and a description, like ``gr.Progress``.
ProgressFn = Callable[..., Any]

# The bar creeps towards this fraction while the service works (the wait has no known length).
_WAIT_CEILING = 0.9
_WAIT_TIME_CONSTANT = 12.0
_TICK_SECONDS = 0.5


def _whole(value: object) -> object:
    # Sliders and JSON clients send 3.0 for 3; anything else is left for the validator to name.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _refuse_source(value: object) -> InvalidRequestError:
    shown = str(value)[:200]
    return InvalidRequestError(
        f"source_image={shown!r} is not allowed: upload the image (or send a data:image/... URL); "
        "files already on the server cannot be named",
        field="source_image",
        value=shown,
        allowed="an uploaded image or a data URL",
    )


def source_of(payload: object, uploads: str | Path) -> str | None:
    """The uploaded image in a raw ``gr.Image`` payload: its file path, or a data URL.

    Only files in Gradio's upload folder are read: a caller of the API must not be able
    to make the server send one of its own files to the service.
    """
    if payload is None or payload == "":
        return None
    candidate: object = payload
    if isinstance(payload, Mapping):
        candidate = payload.get("path") or payload.get("url")
    if isinstance(candidate, str) and candidate.startswith("data:"):
        return candidate
    if isinstance(candidate, str) and candidate:
        path = Path(candidate).resolve()
        if path.is_relative_to(Path(uploads).resolve()):
            return str(path)
    raise _refuse_source(candidate)


def build_request(
    client: AsyncMiladyClient, values: Mapping[str, object], *, uploads: str | Path
) -> GenerateImageRequest:
    """The checked request for the block's raw input values (keys: ``FIELDS``)."""
    source = source_of(values.get("source_image"), uploads)
    return client.build_request(
        values["prompt"],  # type: ignore[arg-type]
        model=values["model"],  # type: ignore[arg-type]
        aspect_ratio=values["aspect_ratio"],  # type: ignore[arg-type]
        num_images=_whole(values["num_images"]),  # type: ignore[arg-type]
        style_preset=values["style_preset"],  # type: ignore[arg-type]
        source_image=source,
        # A photo from a phone may be larger than the service takes: shrink it rather than refuse.
        downscale_source=True,
    )


def field_errors(
    client: AsyncMiladyClient, values: Mapping[str, object], *, uploads: str | Path
) -> dict[str, InvalidRequestError]:
    """Every invalid field with the core's own message, so all problems show at once."""
    errors: dict[str, InvalidRequestError] = {}
    for field in FIELDS:
        # Each field alone, beside known-good values, through the core's validators.
        probe: dict[str, object] = {"prompt": "x", "source_image": None, **DEFAULTS}
        probe[field] = values.get(field)
        try:
            build_request(client, probe, uploads=uploads)
        except InvalidRequestError as err:
            errors[field] = err
    return errors


async def _creep(progress: ProgressFn, label: str, started: float) -> None:
    while True:
        waited = time.monotonic() - started
        fraction = _WAIT_CEILING * (1 - math.exp(-waited / _WAIT_TIME_CONSTANT))
        progress(fraction, desc=f"{label} ({waited:.0f} s)")
        await asyncio.sleep(_TICK_SECONDS)


def store_image(data: bytes, folder: str | Path, index: int) -> Path:
    """Write image bytes where Gradio serves them from; same bytes, same path."""
    digest = hashlib.sha256(data).hexdigest()
    return write_image(Path(folder) / "milady" / digest / f"image-{index}{suffix_for(data)}", data)


async def generate(
    client: AsyncMiladyClient,
    request: GenerateImageRequest,
    *,
    folder: str | Path,
    progress: ProgressFn,
) -> tuple[list[str], str, int]:
    """Send, wait with a progress bar, fetch the images into ``folder``.

    Returns (file paths, the service's text, how many were asked for). Local files, not
    the service's URLs: Gradio serves them itself, so browsers and ``gradio_client`` get
    the images even when the URLs are unreachable for them (loopback, private networks).
    Cancelling the task cancels the HTTP request.
    """
    count = request.num_images
    label = f"Generating {count} image{'s' if count > 1 else ''}"
    started = time.monotonic()
    progress(0.0, desc=label)
    ticker = asyncio.create_task(_creep(progress, label, started))
    try:
        result = await client.send(request)
        progress(_WAIT_CEILING, desc="Fetching images")
        datas = await client.read_images(result)
    finally:
        ticker.cancel()
    # Hashing and writing megabytes: in a worker thread, off the event loop other users share.
    paths = await asyncio.to_thread(
        lambda: [str(store_image(data, folder, index)) for index, data in enumerate(datas, start=1)]
    )
    progress(1.0, desc="Done")
    return paths, result.text, result.requested
