"""A generation asked for by a web form (a page, or a program calling its API), from its raw values: every
field checked at once, in the core's words, and a source image only from the form's own uploads."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .client import AsyncMiladyClient
from .errors import InvalidRequestError, MiladyError
from .images import suffix_for, write_image
from .progress import WAIT_SHARE
from .request import GenerateImageRequest, problems_and_source
from .results import ImageGenerationResult
from .watched import WatchedRun
from .wording import plural

__all__ = ["form_errors", "form_request", "generate_for_page", "uploaded_source"]


def _whole(value: object) -> object:
    # Sliders and JSON clients send 3.0 for 3; anything else is left for the core to name.
    return int(value) if isinstance(value, float) and value.is_integer() else value


def uploaded_source(value: object, uploads: str | Path) -> str | None:
    """The source in a form's file value (a path, or ``{"path"|"url": ...}``): a file under ``uploads`` or a
    data URL, so a caller cannot make the server send one of its own files to the service."""
    if value is None or value == "":
        return None
    candidate = value.get("path") or value.get("url") if isinstance(value, Mapping) else value
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


class _CheckedUploads:
    """The data URLs of the last few uploads the form's check read (and shrank), so the generation that
    follows does not read and shrink the same file again. Keyed by path, size and modification time."""

    def __init__(self, keep: int = 4) -> None:
        self._keep, self._urls, self._lock = keep, OrderedDict[tuple[str, int, int], str](), threading.Lock()

    @staticmethod
    def _key(source: str) -> tuple[str, int, int] | None:
        try:
            stat = os.stat(source)
        except OSError:
            return None
        return source, stat.st_size, stat.st_mtime_ns

    def remember(self, source: str, data_url: str) -> None:
        if (key := self._key(source)) is not None:
            with self._lock:
                self._urls[key] = data_url
                while len(self._urls) > self._keep:
                    self._urls.popitem(last=False)

    def recall(self, source: str) -> str:
        """The upload's checked data URL when the check read it, else ``source`` itself."""
        key = self._key(source)
        with self._lock:
            return self._urls.get(key, source) if key is not None else source


_CHECKED = _CheckedUploads()


def form_errors(values: Mapping[str, object], *, uploads: str | Path) -> dict[str, str]:
    """Every invalid field and what the core says of it, so all problems show at once."""
    errors: dict[str, str] = {}
    try:
        source = uploaded_source(values.get("source_image"), uploads)
    except InvalidRequestError as err:
        errors["source_image"], source = str(err), None
    options = {**values, "num_images": _whole(values.get("num_images")), "source_image": source}
    problems, checked = problems_and_source(options)
    if source is not None and checked is not None and not source.startswith("data:"):
        _CHECKED.remember(source, checked)
    errors.update({p.field: p.text() for p in problems})
    return errors


def form_request(
    client: AsyncMiladyClient, values: Mapping[str, object], *, uploads: str | Path
) -> GenerateImageRequest:
    """The checked request for a form's raw values (blocking: it may read and shrink an image)."""
    options: dict[str, Any] = {**values, "num_images": _whole(values.get("num_images"))}
    source = uploaded_source(values.get("source_image"), uploads)
    options["source_image"] = source if source is None or source.startswith("data:") else _CHECKED.recall(source)
    # A photo from a phone may be larger than the service takes: shrink it rather than refuse.
    return client.build_request(**options, downscale_source=True)


def _store_image(data: bytes, folder: str | Path, index: int) -> Path:
    """Write image bytes under ``folder``, in a folder named by their hash (``index``: their place in the result)."""
    digest = hashlib.sha256(data).hexdigest()
    return write_image(Path(folder) / "milady" / digest / f"image-{index}{suffix_for(data)}", data)


async def generate_for_page(
    client: AsyncMiladyClient,
    request: GenerateImageRequest,
    *,
    folder: str | Path,
    bar: Callable[[float, str], object],
    paid: Callable[[int], None],
) -> tuple[list[str], ImageGenerationResult, list[MiladyError]]:
    """Send, wait, store the images in ``folder``: (their paths, the result, why some could not be read).

    ``paid`` hears what was billed before any image is read: unreadable ones were billed all the same.
    Files, not the service's URLs: the page serves them itself, so they show even when the URLs are
    unreachable for its visitors (loopback, private networks).
    """

    def answered(result: ImageGenerationResult) -> None:
        paid(result.returned)
        bar(WAIT_SHARE, f"Fetching {plural(result.returned, 'image')}")

    result, datas, unread = await WatchedRun().generate(
        client,
        lambda: client.send(request),
        images=request.num_images,
        model=request.model,
        show=lambda tick: bar(tick.fraction * WAIT_SHARE, tick.text),
        on_answer=answered,
    )
    # Hashing and writing megabytes: in a worker thread, off the event loop other visitors share.
    paths = await asyncio.to_thread(lambda: [str(_store_image(d, folder, i)) for i, d in enumerate(datas, start=1)])
    bar(1.0, "Done")
    return paths, result, unread
