"""One run of a node, for both node APIs: a generation (the core fans out per source image) or a gallery load.

Waiting asks ComfyUI's interrupt flag, so Cancel stops a request within a fraction of a
second: the HTTP requests are cancelled, not left running. ComfyUI's hooks are imported
when used and skipped when absent, so the nodes also run outside ComfyUI.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

from milady_integrations import InvalidRequestError, MiladyError
from milady_integrations.calls import account_client
from milady_integrations.catalogue import ASPECT_RATIOS, nearest_aspect_ratio
from milady_integrations.progress import WAIT_SHARE, Tick, interruptible
from milady_integrations.request import field_problems, problems_error
from milady_integrations.results import ImageGenerationResult
from milady_integrations.watched import WatchedRun
from milady_integrations.wording import plural

from ._tensors import decode_and_stack, source_data_urls
from .errors import to_comfy_error
from .nodes import GALLERY, MATCH_SOURCE, NodeSpec, config_paths

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


class Progress:
    """The node's bar (climbing while waiting, then per image read) and the line of text under it.

    ``previews``: each image read also shows on the bar. Not for a node that shows its images
    itself: ComfyUI's page draws a node's last bar picture in preference to its outputs.
    """

    def __init__(self, node_id: str | None, *, previews: bool) -> None:
        self.node_id, self.previews, self.images, self.read, self.bar = node_id, previews, 1, 0, None
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

    def answered(self, result: ImageGenerationResult) -> None:
        self.images = len(result.images)  # fewer than asked: the bar still ends full
        self.text(f"reading {plural(self.images, 'image')}")

    async def image_read(self, data: bytes) -> None:
        preview = await asyncio.to_thread(_thumbnail, data) if self.previews else None
        self.read += 1
        if self.bar is not None:
            value = WAIT_STEPS + (BAR_STEPS - WAIT_STEPS) * self.read // max(self.images, 1)
            self.bar.update_absolute(value, BAR_STEPS, preview)

    def text(self, message: str) -> None:
        """``message`` under the node (skipped outside ComfyUI, and by one without progress text)."""
        try:
            from server import PromptServer
        except ImportError:
            return
        send = getattr(getattr(PromptServer, "instance", None), "send_progress_text", None)
        if self.node_id is not None and send is not None:
            send(f"Milady: {message}", self.node_id)


async def run(node: NodeSpec, node_id: str | None, inputs: dict[str, Any], *, previews: bool = True) -> tuple[Any, ...]:
    """The node's outputs; a core error becomes what ComfyUI's dialog shows (Cancel stays ComfyUI's).

    After a failure or Cancel the line under the node says so: it must not go on saying "Generating".
    """
    progress, watch = Progress(node_id, previews=previews), WatchedRun(gallery=GALLERY.display_name)
    try:
        if node is GALLERY:
            return await load(progress, **inputs)
        return await generate(watch, progress, **inputs)
    except MiladyError as err:
        progress.text(watch.failed_line(err))
        raise to_comfy_error(err) from err
    except BaseException as exc:
        cancelled = type(exc).__name__ == "InterruptProcessingException" or isinstance(exc, asyncio.CancelledError)
        progress.text(watch.stopped_line(cancelled))
        raise


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
    watch: WatchedRun,
    progress: Progress,
    seed: int = 0,
    source_image: Any = None,
    account: str | None = None,
    **options: Any,
) -> tuple[Any, ...]:
    del seed  # only makes ComfyUI run the node again: the service has no seed
    options["aspect_ratio"] = _aspect_ratio(options["aspect_ratio"], source_image)
    # Every input is checked before anything else: a wired input may hold anything.
    problems = field_problems(options, check_source=False)
    if problems:
        raise problems_error(problems)
    # Encoding takes tens of ms per image: in a thread, so ComfyUI's event loop (other nodes, Cancel) stays free.
    sources = None if source_image is None else await asyncio.to_thread(source_data_urls, source_image)
    progress.images = options["num_images"] * (len(sources) if sources else 1)
    async with account_client(config_paths(), account) as client:
        result, datas, unread = await watch.generate(
            client,
            lambda: client.generate_images(**options, source_images=sources, downscale_source=True),
            images=progress.images,
            model=options["model"],
            show=progress.waiting,
            interrupt=interrupt,
            on_answer=progress.answered,
            on_read=progress.image_read,
        )
    # Decoded on all cores straight into one batch, off the event loop; undecodable ones set aside.
    images, masks = await asyncio.to_thread(decode_and_stack, datas, failures=unread)
    text = watch.done_line(result, unread, where="urls")
    if unread:
        logger.warning("Milady: %s", text)
    progress.text(text)
    return images, result.text, "\n".join(result.urls), masks


async def load(progress: Progress, index: int, account: str | None = None) -> tuple[Any, ...]:
    """Generation ``index`` of the gallery (0 = newest): no generation, no charge."""
    async with account_client(config_paths(), account) as client:
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
