"""What Generate does, apart from the components: check the inputs, send, wait, store the images; and how
a library error reads on the page. ``block.py`` binds it to the components.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import gradio as gr

from milady_integrations import AsyncMiladyClient, GenerateImageRequest, InvalidRequestError, MiladyError
from milady_integrations.calls import read_what_came, unread_note
from milady_integrations.images import suffix_for, write_image
from milady_integrations.progress import WAIT_SHARE, wait_with_progress
from milady_integrations.request import FIELDS, field_problems
from milady_integrations.results import ImageGenerationResult
from milady_integrations.wording import choice_label, plural

#: A few prompts to start from.
EXAMPLE_PROMPTS: tuple[str, ...] = (
    "A red fox reading a book under a lantern, autumn forest at dusk",
    "A lighthouse on a cliff in a storm, waves crashing, moody sky",
    "A tiny robot watering a bonsai tree on a sunny windowsill",
    "A bowl of ramen seen from above, steam rising, warm light",
)


def choices(field: str) -> list[tuple[str, str]]:
    """(label, value) pairs for a dropdown: ``16:9 · Wide landscape``."""
    return [(choice_label(field, value), value) for value in FIELDS[field].choices or ()]


def to_gradio_error(err: BaseException) -> gr.Error:
    """A ``gr.Error`` whose body is ``str(err)``, the line the core wrote for people.

    Gradio 6 heads every toast with "Error" and shows the message below it, so the whole
    text goes in ``message``; ``title`` names the kind of failure, from the class name
    (InsufficientCreditsError -> "Insufficient credits"), so the face adds no words of its own.
    """
    if isinstance(err, gr.Error):
        return err
    name = type(err).__name__.removeprefix("Milady").removesuffix("Error") or "Error"
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)
    title = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    message = str(err) if isinstance(err, MiladyError) else (str(err) or type(err).__name__)
    return gr.Error(message=message, title=title[:1].upper() + title[1:], duration=None, print_exception=False)


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
        allowed="an uploaded image or a data URL",
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


def store_image(data: bytes, folder: str | Path, index: int) -> Path:
    """Write image bytes where Gradio serves them from; same bytes, same path."""
    digest = hashlib.sha256(data).hexdigest()
    return write_image(Path(folder) / "milady" / digest / f"image-{index}{suffix_for(data)}", data)


async def generate(
    client: AsyncMiladyClient,
    request: GenerateImageRequest,
    *,
    folder: str | Path,
    progress: Callable[..., Any],
    paid: Callable[[int], None],
) -> tuple[list[str], ImageGenerationResult]:
    """Send, wait with a progress bar, fetch the images into ``folder``; (file paths, result).

    ``paid`` hears how many images were billed as soon as the service says, before any is read:
    images that cannot be read were billed all the same.

    Local files, not the service's URLs: Gradio serves them itself, so browsers and
    ``gradio_client`` get the images even when the URLs are unreachable for them
    (loopback, private networks). Cancelling the task cancels the HTTP request.
    """
    result = await wait_with_progress(
        client.send(request),
        images=request.num_images,
        model=request.model,
        client=client,
        show=lambda tick: progress(tick.fraction * WAIT_SHARE, desc=tick.text),
    )
    paid(result.returned)
    progress(WAIT_SHARE, desc=f"Fetching {plural(result.returned, 'image')}")
    datas, unread = await read_what_came(client, result)
    if unread:
        gr.Warning(unread_note(unread))
    # Hashing and writing megabytes: in a worker thread, off the event loop other users share.
    paths = await asyncio.to_thread(lambda: [str(store_image(d, folder, i)) for i, d in enumerate(datas, start=1)])
    progress(1.0, desc="Done")
    return paths, result
