"""One run of the node: generate (the core fans out per source image), wait, read, stack.

Waiting polls ComfyUI's interrupt flag, so Cancel stops a request within
``POLL_SECONDS``; the in-flight HTTP requests are cancelled, not left running here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from milady_integrations import AsyncMiladyClient, GeneratedImage, MiladyError
from milady_integrations._config import RECOVER_FOR
from milady_integrations.request import field_problems, problems_error
from milady_integrations.wording import outcome_line, waiting_line

from ._comfy import NodeProgress, interrupt_requested, raise_interrupted
from ._settings import endpoint
from ._tensors import decode_and_stack, source_data_urls

logger = logging.getLogger("comfyui_nodes")

T = TypeVar("T")

#: How often the interrupt flag is looked at while waiting.
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Outputs:
    images: Any
    text: str
    urls: str
    masks: Any


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


async def _read_all(client: AsyncMiladyClient, images: list[GeneratedImage], progress: NodeProgress) -> list[Any]:
    async def one(image: GeneratedImage) -> bytes:
        data = await client.read_image(image)
        progress.advance()
        return data

    return list(await asyncio.gather(*(one(image) for image in images), return_exceptions=True))


async def run_node(options: Mapping[str, Any], source_image: Any, node_id: str | None) -> Outputs:
    """Generate, read and stack the images; raises MiladyError (or ComfyUI's interrupt)."""
    found = endpoint()
    # Every input is checked before anything else: a wired input may hold anything.
    problems = field_problems(options, check_source=False)
    if problems:
        raise problems_error(problems)
    # Encoding frames takes tens of ms per image: in a worker thread, so ComfyUI's event
    # loop (other async nodes, Cancel) stays free.
    sources = None if source_image is None else await asyncio.to_thread(source_data_urls, source_image)
    total = options["num_images"] * (len(sources) if sources else 1)
    progress = NodeProgress(node_id, total)
    started = time.monotonic()
    progress.text(f"Milady: {waiting_line(total, options['model'], 0)}")

    def tick(elapsed: float) -> None:
        if int(elapsed) != int(elapsed - POLL_SECONDS):  # about once a second
            progress.text(f"Milady: {waiting_line(total, options['model'], elapsed)}")

    # A request that may have run is looked up in the gallery before failing (never paid twice).
    settings: dict[str, Any] = {"recover_for": RECOVER_FOR, **found.options}
    async with AsyncMiladyClient(found.api_key, base_url=found.base_url, **settings) as client:
        result = await wait_interruptibly(
            client.generate_images(**options, source_images=sources, downscale_source=True), tick
        )
        progress.text(f"Milady: reading {len(result.images)} images")
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
    line = outcome_line(result, time.monotonic() - started)
    if unread:
        line += f"; {len(unread)} could not be read (their URLs are in urls): {unread[0]}"
    progress.text(f"Milady: {line}")
    return Outputs(images=stacked, text=result.text, urls="\n".join(result.urls), masks=masks)
