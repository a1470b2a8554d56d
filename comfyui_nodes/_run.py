"""One run of the node: check, send (one request per source image), wait, read, stack.

Waiting polls ComfyUI's interrupt flag, so Cancel stops a request within
``POLL_SECONDS``; the in-flight HTTP request is cancelled, not left running here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from milady_integrations import DEFAULT_MAX_RETRIES, AsyncMiladyClient, ImageDownloadError, MiladyError
from milady_integrations.images import decode_image
from milady_integrations.schema import validate_num_images

from ._comfy import NodeProgress, interrupt_requested, raise_interrupted
from ._settings import resolve_endpoint
from ._tensors import source_data_urls, stack_pictures

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from milady_integrations import GeneratedImage, GenerateImageRequest, ImageGenerationResult

logger = logging.getLogger("comfyui_nodes")

T = TypeVar("T")

#: How often the interrupt flag is looked at while waiting.
POLL_SECONDS = 0.1
#: How often the elapsed time under the node is refreshed.
TEXT_EVERY_SECONDS = 1.0
#: Source images of one batch sent at the same time.
SOURCE_CONCURRENCY = 4
#: Retries of failures where nothing was generated or billed (429, 500, 502-504).
MAX_RETRIES = DEFAULT_MAX_RETRIES


@dataclass(frozen=True)
class Options:
    prompt: str
    model: str
    aspect_ratio: str
    style_preset: str
    num_images: int


@dataclass(frozen=True)
class Outputs:
    images: Any
    text: str
    urls: str
    masks: Any


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


async def wait_interruptibly(awaitable: Awaitable[T], on_tick: Callable[[float], None]) -> T:
    """Await ``awaitable``; on Cancel, cancel it and raise ComfyUI's interrupt exception."""
    task = asyncio.ensure_future(awaitable)
    started = time.monotonic()
    try:
        while True:
            if interrupt_requested():
                task.cancel()
                await asyncio.wait({task})
                raise_interrupted()
            done, _ = await asyncio.wait({task}, timeout=POLL_SECONDS)
            if done:
                return task.result()
            on_tick(time.monotonic() - started)
    finally:
        if not task.done():
            task.cancel()


class _Ticker:
    """Refreshes '<what>: 12 s' under the node about once a second."""

    def __init__(self, progress: NodeProgress, what: str) -> None:
        self.progress = progress
        self.what = what
        self.shown = 0  # "0 s" is shown before waiting starts

    def __call__(self, elapsed: float) -> None:
        second = int(elapsed / TEXT_EVERY_SECONDS)
        if second != self.shown:
            self.shown = second
            self.progress.text(f"{self.what}: {elapsed:.0f} s")


async def _gather_or_cancel(awaitables: Sequence[Awaitable[T]]) -> list[T | BaseException]:
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        return list(await asyncio.gather(*tasks, return_exceptions=True))
    finally:
        for task in tasks:
            task.cancel()


def _split(parts: Sequence[T | BaseException]) -> tuple[list[T], list[MiladyError]]:
    values: list[T] = []
    failures: list[MiladyError] = []
    for part in parts:
        if isinstance(part, MiladyError):
            failures.append(part)
        elif isinstance(part, BaseException):
            raise part
        else:
            values.append(part)
    return values, failures


async def _send_all(
    client: AsyncMiladyClient, requests: list[GenerateImageRequest]
) -> list[ImageGenerationResult | BaseException]:
    gate = asyncio.Semaphore(SOURCE_CONCURRENCY)

    async def one(request: GenerateImageRequest) -> ImageGenerationResult:
        async with gate:
            return await client.send(request)

    return await _gather_or_cancel([one(r) for r in requests])


async def _read_all(images: list[GeneratedImage], progress: NodeProgress) -> list[PILImage.Image | BaseException]:
    async def one(index: int, image: GeneratedImage) -> PILImage.Image:
        data = await image.aread()
        # Decoding a large image takes tens of ms: off the event loop, and in parallel.
        picture = await asyncio.to_thread(decode_image, data, what=f"image {index + 1}")
        progress.advance()
        return picture

    return await _gather_or_cancel([one(i, image) for i, image in enumerate(images)])


async def run_node(options: Options, source_image: Any, node_id: str | None) -> Outputs:
    """Generate, read and stack the images; raises MiladyError (or ComfyUI's interrupt)."""
    endpoint = resolve_endpoint()
    # Checked before ``total`` multiplies it: a wired input may hold anything.
    validate_num_images(options.num_images)
    # Encoding frames, checking requests and stacking take tens of ms per image: all of it
    # runs in worker threads, so ComfyUI's event loop (other async nodes, Cancel) stays free.
    sources: list[str | None] = (
        [None] if source_image is None else list(await asyncio.to_thread(source_data_urls, source_image))
    )
    if len(sources) > 1:
        logger.info("source batch of %d images: one request each", len(sources))
    total = options.num_images * len(sources)
    progress = NodeProgress(node_id, total)
    started = time.monotonic()

    async with AsyncMiladyClient(
        api_key=endpoint.api_key, base_url=endpoint.base_url, max_retries=MAX_RETRIES
    ) as client:
        # Every request is checked before the first is sent: bad input costs nothing.
        def build_all() -> list[GenerateImageRequest]:
            return [
                client.build_request(
                    options.prompt,
                    model=options.model,
                    aspect_ratio=options.aspect_ratio,
                    num_images=options.num_images,
                    style_preset=options.style_preset,
                    source_image=source,
                )
                for source in sources
            ]

        requests = await asyncio.to_thread(build_all)
        what = f"Milady: generating {_plural(total, 'image')} with {options.model}"
        progress.text(f"{what}: 0 s")
        results, failures = _split(await wait_interruptibly(_send_all(client, requests), _Ticker(progress, what)))
        if not results:
            raise failures[0]

        images = [image for result in results for image in result.images]
        progress.text(f"Milady: reading {_plural(len(images), 'image')}")
        pictures, unread = _split(await wait_interruptibly(_read_all(images, progress), lambda _elapsed: None))
        if not pictures:
            raise unread[0]

    stacked, masks = await asyncio.to_thread(stack_pictures, pictures)
    progress.text(_summary(results, failures, unread, len(pictures), total, time.monotonic() - started))
    return Outputs(
        images=stacked,
        text="\n".join(result.text for result in results if result.text),
        urls="\n".join(url for result in results for url in result.urls),
        masks=masks,
    )


def _summary(
    results: list[ImageGenerationResult],
    failures: list[MiladyError],
    unread: list[MiladyError],
    count: int,
    asked: int,
    elapsed: float,
) -> str:
    """The last line under the node: what came back, what it cost, what went wrong."""
    parts = [f"Milady: {_plural(count, 'image')} in {elapsed:.0f} s"]
    costs = [r.cost for r in results if r.cost is not None]
    if costs:
        parts.append(f"cost {sum(costs):g}")
    returned = sum(r.returned for r in results)
    if returned < asked:
        parts.append(f"{returned} of {asked} images returned")
    for failure in failures:
        parts.append(f"a source image failed: {failure}")
        logger.warning("Milady: a source image failed: %s", failure)
    for failure in unread:
        kind = "an image could not be read" if isinstance(failure, ImageDownloadError) else "read failed"
        parts.append(f"{kind} (its URL is in urls): {failure}")
        logger.warning("Milady: %s: %s", kind, failure)
    return "; ".join(parts)
