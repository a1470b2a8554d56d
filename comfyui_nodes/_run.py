"""One run of a node: generate (the core fans out per source image), wait, read, stack; or load from the gallery.

Waiting polls ComfyUI's interrupt flag, so Cancel stops a request within
``POLL_SECONDS``; the in-flight HTTP requests are cancelled, not left running here.
Both node APIs (classic and V3) call these functions.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from milady_integrations import AsyncMiladyClient, GeneratedImage, InvalidRequestError, MiladyError
from milady_integrations._config import RECOVER_FOR
from milady_integrations.catalogue import ASPECT_RATIOS, nearest_aspect_ratio
from milady_integrations.durations import RecentDurations
from milady_integrations.request import field_problems, problems_error
from milady_integrations.wording import outcome_line, plural, waiting_line

from ._comfy import PREVIEW_SIZE, NodeProgress, interrupt_requested, raise_interrupted
from ._inputs import MATCH_SOURCE
from ._settings import endpoint
from ._tensors import decode_and_stack, source_data_urls

logger = logging.getLogger("comfyui_nodes")

T = TypeVar("T")

#: How often the interrupt flag is looked at while waiting.
POLL_SECONDS = 0.1
#: The longest the price look-up may take; the run never waits for it.
PRICE_TIMEOUT = 5.0

#: How long each model took lately (this ComfyUI process): the "~8 s left" and the bar's pace.
RECENT = RecentDurations()


@dataclass(frozen=True)
class Outputs:
    images: Any
    text: str
    urls: str
    masks: Any


@dataclass(frozen=True)
class GalleryOutputs:
    image: Any
    prompt: str
    url: str


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


def resolve_aspect_ratio(aspect_ratio: str, source_image: Any) -> str:
    """The ratio to send: "match source" becomes the nearest of the service's ratios to the first source's shape."""
    if aspect_ratio != MATCH_SOURCE:
        return aspect_ratio
    if source_image is None:
        raise InvalidRequestError(
            f"aspect_ratio={MATCH_SOURCE!r} needs a source image: wire one into source_image, "
            f"or choose one of {', '.join(ASPECT_RATIOS)}",
            field="aspect_ratio",
            value=aspect_ratio,
            allowed=ASPECT_RATIOS,
        )
    shape = tuple(source_image.shape)  # [B, H, W, C] or [H, W, C]
    return nearest_aspect_ratio(int(shape[-2]), int(shape[-3]))


def _credits(amount: float) -> str:
    return f"{round(amount, 4):g} credits"


async def estimated_cost(client: AsyncMiladyClient, model: str, images: int) -> str | None:
    """ "estimated 0.096 credits" (the model's price) or "estimated 0.02-0.1 credits" (the service's range).

    None when the service says nothing or is slow to say it: the estimate never holds up a run.
    """
    per_model = getattr(client, "estimated_price", None)
    price_range = getattr(client, "price_range", None)
    try:
        if per_model is not None:
            price = await asyncio.wait_for(per_model(model), PRICE_TIMEOUT)
            if price is not None:
                return f"estimated {_credits(price * images)}"
        if price_range is not None:
            span = await asyncio.wait_for(price_range(), PRICE_TIMEOUT)
            if span is not None:
                low, high = round(span.min * images, 4), round(span.max * images, 4)
                return f"estimated {low:g}-{_credits(high)}"
    except (MiladyError, asyncio.TimeoutError) as exc:
        logger.debug("Milady: no price estimate: %s", exc)
    return None


def _finished(task: asyncio.Future[str | None]) -> str | None:
    if not task.done() or task.cancelled() or task.exception() is not None:
        return None
    return task.result()


def _thumbnail(data: bytes) -> Any:
    """A small RGB picture for the progress bar; None if it does not decode (stacking reports that)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.draft("RGB", (PREVIEW_SIZE, PREVIEW_SIZE))
            small = picture.convert("RGB")
    except Exception:  # a preview is best effort
        return None
    small.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
    return small


async def _read_all(client: AsyncMiladyClient, images: list[GeneratedImage], progress: NodeProgress) -> list[Any]:
    async def one(image: GeneratedImage) -> bytes:
        data = await client.read_image(image)
        progress.image_read(await asyncio.to_thread(_thumbnail, data))
        return data

    return list(await asyncio.gather(*(one(image) for image in images), return_exceptions=True))


async def run_node(
    options: Mapping[str, Any], source_image: Any, node_id: str | None, account: str | None = None
) -> Outputs:
    """Generate, read and stack the images; raises MiladyError (or ComfyUI's interrupt)."""
    found = endpoint(account)
    options = {**options, "aspect_ratio": resolve_aspect_ratio(options["aspect_ratio"], source_image)}
    # Every input is checked before anything else: a wired input may hold anything.
    problems = field_problems(options, check_source=False)
    if problems:
        raise problems_error(problems)
    # Encoding frames takes tens of ms per image: in a worker thread, so ComfyUI's event
    # loop (other async nodes, Cancel) stays free.
    sources = None if source_image is None else await asyncio.to_thread(source_data_urls, source_image)
    total = options["num_images"] * (len(sources) if sources else 1)
    model = options["model"]
    progress = NodeProgress(node_id, total)
    expected = RECENT.expected(model)
    started = time.monotonic()

    # A request that may have run is looked up in the gallery before failing (never paid twice).
    settings: dict[str, Any] = {"recover_for": RECOVER_FOR, **found.options}
    async with AsyncMiladyClient(found.api_key, base_url=found.base_url, **settings) as client:
        estimate = asyncio.ensure_future(estimated_cost(client, model, total))

        def line(elapsed: float) -> str:
            text = f"Milady: {waiting_line(total, model, elapsed, expected)}"
            cost = _finished(estimate)
            return f"{text} · {cost}" if cost else text

        shown = [line(0)]
        progress.text(shown[0])

        def tick(elapsed: float) -> None:
            progress.waiting(elapsed, expected)
            text = line(elapsed)
            if text != shown[-1]:  # about once a second, and when the estimate arrives
                shown.append(text)
                progress.text(text)

        try:
            result = await wait_interruptibly(
                client.generate_images(**options, source_images=sources, downscale_source=True), tick
            )
        finally:
            estimate.cancel()
        RECENT.record(model, time.monotonic() - started)
        progress.text(f"Milady: reading {plural(len(result.images), 'image')}")
        parts = await wait_interruptibly(_read_all(client, result.images, progress), lambda _elapsed: None)
    datas = [p for p in parts if isinstance(p, bytes)]
    unread: list[Any] = [p for p in parts if isinstance(p, BaseException)]
    for failure in unread:
        if not isinstance(failure, MiladyError):
            raise failure
    if not datas:
        raise unread[0]
    # Decoded on all cores straight into one batch, off the event loop; undecodable ones set aside.
    stacked, masks = await asyncio.to_thread(decode_and_stack, datas, failures=unread)
    for failure in unread:
        logger.warning("Milady: an image could not be read (its URL is in urls): %s", failure)
    text = outcome_line(result, time.monotonic() - started)
    if unread:
        text += f"; {len(unread)} could not be read (their URLs are in urls): {unread[0]}"
    progress.text(f"Milady: {text}")
    return Outputs(images=stacked, text=result.text, urls="\n".join(result.urls), masks=masks)


async def run_gallery(index: int, node_id: str | None, account: str | None = None) -> GalleryOutputs:
    """Load generation ``index`` of the gallery (0 = newest): no generation, no charge."""
    found = endpoint(account)
    progress = NodeProgress(node_id, 1)
    async with AsyncMiladyClient(found.api_key, base_url=found.base_url, **found.options) as client:
        if not hasattr(client, "gallery"):
            raise MiladyError("This version of milady-integrations cannot read the gallery; update the pack")
        page = await wait_interruptibly(client.gallery(limit=1, offset=index), lambda _elapsed: None)
        if not page.items:
            raise InvalidRequestError(
                f"index={index}: your gallery has no generation there (0 is the newest; "
                "it lists what this key generated)",
                field="index",
                value=index,
            )
        item = page.items[0]
        data = await wait_interruptibly(client.read_image(item.image), lambda _elapsed: None)
    progress.image_read(await asyncio.to_thread(_thumbnail, data))
    image, _mask = await asyncio.to_thread(decode_and_stack, [data])
    progress.text(f"Milady: generation {index} from your gallery ({item.model or 'model unknown'}), no charge")
    return GalleryOutputs(image=image, prompt=item.prompt, url=item.url or "")
