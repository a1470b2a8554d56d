"""One run of a node, for both node APIs: generate (the core fans out per source image), or load from the gallery.

Waiting asks ComfyUI's interrupt flag, so Cancel stops a request within a fraction of a
second: the HTTP requests are cancelled, not left running. ComfyUI's hooks are imported
when used and skipped when absent, so the nodes also run outside ComfyUI.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from typing import Any

from milady_integrations import AsyncMiladyClient, InvalidRequestError, MiladyError
from milady_integrations.calls import FACE_OPTIONS, read_what_came, unread_note
from milady_integrations.catalogue import ASPECT_RATIOS, nearest_aspect_ratio
from milady_integrations.config_file import resolve_endpoint
from milady_integrations.progress import WAIT_SHARE, Tick, interruptible, wait_with_progress
from milady_integrations.request import field_problems, problems_error
from milady_integrations.wording import CANCELLED_MAY_BILL, outcome_line, plural

from ._tensors import decode_and_stack, source_data_urls
from .errors import to_comfy_error
from .nodes import MATCH_SOURCE, NodeSpec, config_paths

logger = logging.getLogger("comfyui_nodes")
#: The bar's scale: waiting fills the first WAIT_STEPS, reading the images the rest.
BAR_STEPS = 100
WAIT_STEPS = round(BAR_STEPS * WAIT_SHARE)
#: Longest side of the picture shown on the bar (ComfyUI's default preview size).
PREVIEW_SIZE = 512


def interrupt() -> None:
    """Raise ComfyUI's own interrupt exception (it clears the flag) once the user pressed Cancel."""
    try:
        import comfy.model_management as mm
    except ImportError:
        return
    mm.throw_exception_if_processing_interrupted()


def _thumbnail(data: bytes) -> Any:
    """A small RGB picture for the bar; None if it does not decode (stacking reports that)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.draft("RGB", (PREVIEW_SIZE, PREVIEW_SIZE))
            small = picture.convert("RGB")
    except Exception:  # a preview is best effort
        return None
    small.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
    return ("JPEG", small, PREVIEW_SIZE)


def say(node_id: str | None, message: str) -> None:
    """``message`` on the line under the node (skipped outside ComfyUI, and by one without progress text)."""
    try:
        from server import PromptServer
    except ImportError:
        return
    send = getattr(getattr(PromptServer, "instance", None), "send_progress_text", None)
    if node_id is not None and send is not None:
        send(f"Milady: {message}", node_id)


class Progress:
    """One run's bar (climbing while waiting, then per image read) and line of text.

    ``previews``: each image read also shows on the bar. Not for a node that shows its images
    itself: ComfyUI's page draws a node's last bar picture in preference to its outputs.
    """

    def __init__(self, node_id: str | None, images: int, *, previews: bool = True) -> None:
        self.node_id, self.images, self.read, self.bar, self.previews = node_id, images, 0, None, previews
        try:
            from comfy.utils import ProgressBar
        except ImportError:
            return
        try:
            self.bar = ProgressBar(BAR_STEPS, node_id=node_id)
        except TypeError:  # ComfyUI before progress bars knew their node
            self.bar = ProgressBar(BAR_STEPS)

    def waiting(self, tick: Tick) -> None:
        if self.bar is not None:
            self.bar.update_absolute(int(WAIT_STEPS * tick.fraction), BAR_STEPS)
        self.text(tick.text)

    async def image_read(self, data: bytes) -> None:
        preview = await asyncio.to_thread(_thumbnail, data) if self.previews else None
        self.read += 1
        if self.bar is not None:
            value = WAIT_STEPS + (BAR_STEPS - WAIT_STEPS) * self.read // max(self.images, 1)
            self.bar.update_absolute(value, BAR_STEPS, preview)

    def text(self, message: str) -> None:
        say(self.node_id, message)


async def run(node: NodeSpec, node_id: str | None, inputs: dict[str, Any], *, previews: bool = True) -> tuple[Any, ...]:
    """The node's outputs; a core error becomes what ComfyUI's dialog shows (Cancel stays ComfyUI's).

    After a failure or Cancel the line under the node says so: it must not go on saying "Generating".
    """
    started, stage = time.monotonic(), Stage()
    try:
        if node.function == "generate":
            return await generate(node_id, previews=previews, stage=stage, **inputs)
        return await load(node_id, **inputs)
    except MiladyError as err:
        say(node_id, f"failed after {time.monotonic() - started:.0f} s: {err}")
        raise to_comfy_error(err) from err
    except BaseException as exc:
        cancelled = type(exc).__name__ == "InterruptProcessingException" or isinstance(exc, asyncio.CancelledError)
        say(node_id, f"{'cancelled' if cancelled else 'stopped'} after {time.monotonic() - started:.0f} s{stage}")
        raise


class Stage:
    """How far a generation got, for the line after Cancel: what may have been billed, and where it is."""

    sent = answered = False

    def __str__(self) -> str:
        if self.answered:
            return "; the images were billed and are in your gallery (Milady Gallery loads them)"
        return f"; {CANCELLED_MAY_BILL} (Milady Gallery loads it)" if self.sent else ""


def _client(account: str | None) -> AsyncMiladyClient:
    """The key is the environment's or the config file's (an account name), never a widget's."""
    found = resolve_endpoint(config_paths(), account=account)
    options: dict[str, Any] = {**FACE_OPTIONS, **found.options}
    return AsyncMiladyClient(found.api_key, base_url=found.base_url, **options)


def _aspect_ratio(aspect_ratio: str, source_image: Any) -> str:
    """The ratio to send: "match source" becomes the nearest to the first source image's shape."""
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
    height, width = tuple(source_image.shape)[-3:-1]  # [B, H, W, C] or [H, W, C]
    return nearest_aspect_ratio(int(width), int(height))


async def generate(
    node_id: str | None,
    seed: int = 0,
    source_image: Any = None,
    account: str | None = None,
    *,
    previews: bool = True,
    stage: Stage | None = None,
    **options: Any,
) -> tuple[Any, ...]:
    stage = stage or Stage()
    del seed  # only makes ComfyUI run the node again: the service has no seed
    options["aspect_ratio"] = _aspect_ratio(options["aspect_ratio"], source_image)
    # Every input is checked before anything else: a wired input may hold anything.
    problems = field_problems(options, check_source=False)
    if problems:
        raise problems_error(problems)
    # Encoding takes tens of ms per image: in a thread, so ComfyUI's event loop (other nodes, Cancel) stays free.
    sources = None if source_image is None else await asyncio.to_thread(source_data_urls, source_image)
    total = options["num_images"] * (len(sources) if sources else 1)
    progress, started = Progress(node_id, total, previews=previews), time.monotonic()
    async with _client(account) as client:
        work = client.generate_images(**options, source_images=sources, downscale_source=True)
        interrupt()  # a Cancel already pressed stops here, before anything is sent
        stage.sent = True  # from here the request may reach the service
        result = await wait_with_progress(
            work, images=total, model=options["model"], show=progress.waiting, client=client, interrupt=interrupt
        )
        stage.answered = True
        progress.images = len(result.images)  # fewer than asked: the bar still ends full
        progress.text(f"reading {plural(len(result.images), 'image')}")
        # Paid for: the images that did arrive are kept, the others named.
        datas, unread = await interruptible(read_what_came(client, result, progress.image_read), interrupt)
    # Decoded on all cores straight into one batch, off the event loop; undecodable ones set aside.
    images, masks = await asyncio.to_thread(decode_and_stack, datas, failures=unread)
    text = outcome_line(result, time.monotonic() - started)
    if unread:
        text += f"; {unread_note(unread, where='urls')}"
        logger.warning("Milady: %s", text)
    progress.text(text)
    return images, result.text, "\n".join(result.urls), masks


async def load(node_id: str | None, index: int, account: str | None = None) -> tuple[Any, ...]:
    """Generation ``index`` of the gallery (0 = newest): no generation, no charge."""
    progress = Progress(node_id, 1)
    async with _client(account) as client:
        page = await interruptible(client.gallery(limit=1, offset=index), interrupt)
        if not page.items:
            raise InvalidRequestError(
                f"index={index}: your gallery has no generation there (0 is the newest; "
                "it lists what this key generated)",
                field="index",
                value=index,
            )
        item = page.items[0]
        data = await interruptible(client.read_image(item.image), interrupt)
    await progress.image_read(data)
    image, _mask = await asyncio.to_thread(decode_and_stack, [data])
    progress.text(f"generation {index} from your gallery ({item.model or 'model unknown'}), no charge")
    return image, item.prompt, item.url or ""
